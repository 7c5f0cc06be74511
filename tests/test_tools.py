"""Shop-system tools: the registry, routing with the example backend, approvals, failures, the
clarifying question, and LLM function calling through the loopback server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest

from kefu_copilot import Conversation, InputError, Router, ShopConfig
from kefu_copilot.agent._intents import detect_intent, extract_slots
from kefu_copilot.agent._tools import Order, ToolError, ToolRegistry, approval_needed, tool
from kefu_copilot.testing import LoopbackLLMServer

from .conftest import KNOWLEDGE, ROOT

NOW = datetime(2025, 11, 26, 10, 32)


def load_backend() -> ModuleType:
    if "shop_backend" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "shop_backend", ROOT / "examples" / "shop_backend.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["shop_backend"] = module
        spec.loader.exec_module(module)
    return sys.modules["shop_backend"]


@pytest.fixture
def backend() -> Any:
    return load_backend().ShopBackend(NOW)


@pytest.fixture
def registry(backend) -> ToolRegistry:
    registry = ToolRegistry(timeout=2.0)
    load_backend().register(registry, backend)
    return registry


def wired(copilot, tools: ToolRegistry | None, *, llm=None, shop: ShopConfig | None = None):
    """What Copilot.router() does once the tools are wired in (see the wiring notes)."""
    _, answerer, copilot_shop = copilot._current()
    return Router(
        copilot,
        shop or copilot_shop,
        products=answerer.products,
        clock=lambda: NOW,
        tools=tools,
        llm=llm,
    )


def handle(router: Router, *messages: str | dict[str, str], customer_id: str | None = None):
    items = [m if isinstance(m, dict) else {"role": "customer", "text": m} for m in messages]
    return router.handle(Conversation.of(items, customer_id=customer_id))


# -- the registry ----------------------------------------------------------------------------------
def test_schemas_come_from_type_hints(registry) -> None:
    get_order = registry.get("get_order")
    assert not get_order.writes and "订单" in get_order.description
    assert get_order.parameters["required"] == ["order_id"]
    assert get_order.parameters["properties"]["order_id"]["type"] == "string"
    track = registry.get("track_shipment").openai_schema()["function"]
    assert track["name"] == "track_shipment" and "required" not in track["parameters"]
    assert registry.get("change_address").writes and registry.get("issue_coupon").writes
    names = {s["function"]["name"] for s in registry.schemas()}
    assert names >= {"get_order", "check_stock", "get_coupons", "cancel_order", "create_ticket"}


def test_register_plain_functions_and_bad_ones() -> None:
    registry = ToolRegistry()

    def lookup(order_id: str, verbose: bool = False) -> dict[str, Any]:
        """Look an order up."""
        return {"id": order_id, "verbose": verbose}

    spec = registry.register(lookup, name="lookup_order", writes=True, timeout=1)
    assert spec.writes and spec.timeout == 1 and spec.description == "Look an order up."
    result = registry.call("lookup_order", {"order_id": 7})  # coerced to the declared str
    assert result.ok and result.value == {"id": "7", "verbose": False}
    assert not registry.call("lookup_order", {}).ok  # missing argument: contained

    def untyped(order_id):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ToolError):
        registry.register(untyped)
    with pytest.raises(ToolError):
        registry.register(lookup, name="查订单")

    @tool(name="ping", description="health check")
    async def ping() -> str:
        return "pong"

    assert registry.register(ping).is_async and registry.call("ping").value == "pong"


def test_results_are_validated_and_failures_contained(registry, backend) -> None:
    result = registry.call("get_order", {"order_id": "123456789012"})
    assert result.ok and isinstance(result.value, Order) and result.value.status == "shipped"
    assert registry.call("get_order", {"order_id": "nope"}).value is None
    broken = ToolRegistry()

    def get_order(order_id: str) -> Order | None:
        return {"order_id": order_id}  # type: ignore[return-value]  # not a valid Order

    broken.register(get_order)
    bad = broken.call("get_order", {"order_id": "1"})
    assert not bad.ok and "invalid" in (bad.error or "")
    unknown = registry.call("no_such_tool", {})
    assert not unknown.ok and "no_such_tool" in (unknown.error or "")


def test_timeouts_sync_and_async() -> None:
    registry = ToolRegistry(timeout=0.2)

    def slow(order_id: str) -> str:
        time.sleep(3)
        return "late"

    async def aslow(order_id: str) -> str:
        await asyncio.sleep(3)
        return "late"

    registry.register(slow)
    registry.register(aslow)
    start = time.monotonic()
    for name in ("slow", "aslow"):
        result = registry.call(name, {"order_id": "1"})
        assert not result.ok and result.timed_out and "timed out after 0.2 s" in result.problem()
    for name in ("slow", "aslow"):
        result = asyncio.run(registry.acall(name, {"order_id": "1"}))
        assert result.timed_out
    assert time.monotonic() - start < 2.5


def test_approval_rules_follow_shop_yaml(registry) -> None:
    coupon, cancel = registry.get("issue_coupon"), registry.get("cancel_order")
    plain = ShopConfig(compensation={"max_coupon_yuan": 10, "max_cash_yuan": 5})
    allowed = ShopConfig.model_validate(
        {"compensation": {"max_coupon_yuan": 10}, "auto_actions": ["issue_coupon"]}
    )
    assert approval_needed(registry.get("get_order"), {"order_id": "1"}, plain) is None
    assert "auto_actions" in (approval_needed(coupon, {"amount_yuan": 5}, plain) or "")
    assert approval_needed(coupon, {"customer_id": "C1", "amount_yuan": 10}, allowed) is None
    assert "above the shop's limit of 10" in (
        approval_needed(coupon, {"amount_yuan": 50}, allowed) or ""
    )
    assert approval_needed(cancel, {"order_id": "1"}, allowed) is not None


# -- routing with the example backend ------------------------------------------------------------
HELD_OUT = [
    ("我的订单123456789012到哪了", "track_shipment", ["杭州转运中心", "明天"]),
    ("帮我查下物流，单号SF1234567890", "track_shipment", ["SF1234567890", "14:02"]),
    ("我的订单123456789到哪了", "track_shipment", ["已签收"]),
    ("我订单20240312001昨天买的到现在还没发货，帮我看看是不是漏单了", "get_order", ["待发货"]),
    ("订单20240301555的退款到哪了", "get_order", ["199 元", "11月29日"]),
    ("[ORDERID_10086] 发货了吗", "get_order", ["待发货"]),
    ("我的订单１２３４５６７８９０１２到哪了", "track_shipment", ["杭州转运中心"]),
]


@pytest.mark.parametrize(("question", "source", "contains"), HELD_OUT)
def test_order_questions_answered_from_the_tools(
    sample_copilot, registry, question, source, contains
) -> None:
    assert sample_copilot.handle(question).decision == "handoff"  # no tools: a human looks it up
    turn = handle(wired(sample_copilot, registry), question)
    assert turn.decision == "auto", turn.reasons
    assert all(s in turn.text for s in contains), turn.text
    assert not any("order system" in r for r in turn.reasons)
    citation = next(c for c in turn.answer.citations if c.source == f"tool:{source}")
    assert citation.score == 1.0 and "查询于" in citation.locator and citation.snippet
    assert turn.tool_results and all(r.ok for r in turn.tool_results)


def test_stock_questions(sample_copilot, registry) -> None:
    router = wired(sample_copilot, registry)
    turn = handle(router, "MM-TS-001 白色 XL 还有货吗")
    assert turn.decision == "auto" and "白色 XL码暂时缺货" in turn.text
    assert turn.answer.citations[0].source == "tool:check_stock"
    assert "仅剩 3 件" in handle(router, "纯棉圆领T恤黑色L码还有货吗").text  # by title, not SKU
    assert "12月3日补货" in handle(router, "羽绒服米白M码有货吗").text
    assert "暂时缺货" in handle(router, "瑜伽裤有货吗").text  # an HTML product page
    assert handle(router, "还有货吗").asked_for == "sku"


def test_coupon_problem_explained_from_the_data(sample_copilot, registry) -> None:
    turn = handle(wired(sample_copilot, registry), "订单20240320777的优惠券为什么用不了")
    assert turn.decision == "auto" and turn.intent == "coupon_problem"
    assert "还差 1 元" in turn.text and "过期" in turn.text
    assert {c.source for c in turn.answer.citations} == {"tool:get_order", "tool:get_coupons"}


def test_general_questions_still_use_the_knowledge(sample_copilot, registry) -> None:
    router = wired(sample_copilot, registry)
    for question in ("几天能发货？", "退款多久到账"):
        turn = handle(router, question)
        assert turn.intent is None and not turn.tool_results
        assert turn.answer.citations[0].source.startswith("faq/")


def test_other_handoff_reasons_still_apply(sample_copilot, registry) -> None:
    turn = handle(wired(sample_copilot, registry), "我的订单123456789012到哪了，再不到我就投诉")
    assert turn.decision == "handoff" and not turn.tool_results
    assert any("投诉" in r for r in turn.reasons)


def test_missing_order_id_is_asked_for_once(sample_copilot, registry) -> None:
    router = wired(sample_copilot, registry)
    first = handle(router, "我的快递到哪了")
    assert first.decision == "auto" and first.asked_for == "order_id" and "订单号" in first.text
    asked = [{"role": "customer", "text": "我的快递到哪了"}, {"role": "bot", "text": first.text}]
    second = handle(router, *asked, "123456789012")
    assert second.decision == "auto" and second.intent == "shipping_tracking"
    assert "杭州转运中心" in second.text and second.asked_for is None
    still = handle(router, *asked, "我也不知道是哪个")
    assert still.decision == "handoff" and any("once; still missing" in r for r in still.reasons)


def test_address_change_over_three_turns(sample_copilot, registry) -> None:
    router, conversation = wired(sample_copilot, registry), Conversation()
    expected = [("order_id", "auto"), ("address", "auto"), (None, "draft")]
    messages = ["这单能改地址吗", "20240312001", "浙江省杭州市西湖区文三路100号 张三"]
    for text, (asked, decision) in zip(messages, expected, strict=True):
        conversation = conversation.add("customer", text)
        turn = router.handle(conversation)
        assert (turn.asked_for, turn.decision) == (asked, decision), turn.reasons
        conversation = conversation.add("bot", turn.text)
    (action,) = turn.pending_actions  # the 11-digit bare reply was taken as the order id
    assert action.arguments == {"order_id": "20240312001", "address": messages[2]}


def test_unknown_order_is_checked_once_then_handed_off(sample_copilot, registry) -> None:
    router = wired(sample_copilot, registry)
    first = handle(router, "我的订单999999999999到哪了")
    assert first.decision == "auto" and "没有查到订单号 999999999999" in first.text
    again = handle(router, "我的订单999999999999到哪了", {"role": "bot", "text": first.text},
                   "999999999999")  # fmt: skip
    assert again.decision == "handoff"


def test_address_change_waits_for_approval(sample_copilot, registry, backend) -> None:
    router = wired(sample_copilot, registry)
    turn = handle(router, "订单[ORDERID_10086]的收货地址改成上海市浦东新区世纪大道100号 赵先生")
    assert turn.decision == "draft" and turn.intent == "address_change"
    (action,) = turn.pending_actions
    assert action.tool == "change_address" and action.status == "pending"
    assert backend.orders["[ORDERID_10086]"].address.startswith("北京")  # not yet
    assert registry.pending() == [action]
    done = registry.approve(action.id, by="agent-7")
    assert done.status == "executed" and done.result is not None and done.result.ok
    assert backend.orders["[ORDERID_10086]"].address == "上海市浦东新区世纪大道100号 赵先生"
    assert "已修改为" in done.reply_on_success and registry.pending() == []
    backend.orders["[ORDERID_10086]"].address = "changed again by the shop"
    again = registry.approve(action.id, by="agent-8")  # a retried approve: the recorded result
    assert again.status == "executed" and again.decided_by == "agent-7"
    assert backend.orders["[ORDERID_10086]"].address == "changed again by the shop"  # not rerun
    shipped = handle(router, "订单123456789012能改地址吗")
    assert shipped.decision == "handoff" and any("already 已发货" in r for r in shipped.reasons)


def test_rejected_action_never_runs(sample_copilot, registry, backend) -> None:
    turn = handle(wired(sample_copilot, registry), "帮我把订单20240311986取消掉")
    (action,) = turn.pending_actions
    assert turn.decision == "draft" and action.tool == "cancel_order"
    rejected = registry.reject(action.id, "顾客已改主意", by="agent-7")
    assert rejected.status == "rejected" and backend.orders["20240311986"].status == "paid"
    with pytest.raises(InputError):
        registry.approve(action.id)


def test_shop_may_allow_an_action_within_limits(sample_copilot, registry, backend) -> None:
    shop = sample_copilot.shop.model_copy(update={"auto_actions": ["cancel_order"]})
    shop = ShopConfig.model_validate(shop.model_dump())
    turn = handle(wired(sample_copilot, registry, shop=shop), "帮我把订单20240311986取消掉")
    assert turn.decision == "auto" and not turn.pending_actions and "已为您取消" in turn.text
    assert backend.orders["20240311986"].status == "cancelled"


def test_a_failing_or_slow_tool_hands_off_with_the_reason(sample_copilot) -> None:
    registry = ToolRegistry(timeout=0.2)

    def get_order(order_id: str) -> Order | None:
        raise ConnectionError("order DB unreachable")

    def track_shipment(order_id: str | None = None, tracking_no: str | None = None) -> None:
        time.sleep(2)

    registry.register(get_order)
    registry.register(track_shipment)
    router = wired(sample_copilot, registry)
    failed = handle(router, "订单20240312001什么状态")
    assert failed.decision == "handoff" and failed.handoff is not None
    assert any(
        "get_order failed: ConnectionError: order DB unreachable" in r for r in failed.reasons
    )
    slow = handle(router, "我的订单123456789012到哪了")
    assert slow.decision == "handoff" and any("timed out after 0.2 s" in r for r in slow.reasons)


def test_order_of_another_customer_is_not_shown(sample_copilot, registry) -> None:
    turn = handle(wired(sample_copilot, registry), "订单20240311986什么状态", customer_id="C1001")
    assert turn.decision == "handoff" and any("another customer" in r for r in turn.reasons)


async def test_ahandle_with_async_tools(sample_copilot, backend) -> None:
    registry = ToolRegistry()

    async def track_shipment(order_id: str | None = None, tracking_no: str | None = None) -> Any:
        await asyncio.sleep(0.01)
        return backend.track_shipment(order_id, tracking_no)

    registry.register(track_shipment, description="查询物流")
    turn = await wired(sample_copilot, registry).ahandle(
        Conversation.of("帮我查下物流，单号SF1234567890")
    )
    assert turn.decision == "auto" and "杭州转运中心" in turn.text


@pytest.mark.parametrize(
    ("text", "orders", "tracking", "skus"),
    [
        ("订单号：[ORDERID_123] 到哪了", ["[ORDERID_123]"], [], []),
        ("订单号是[数字x]", ["[数字x]"], [], []),
        ("单号SF1234567890", [], ["SF1234567890"], []),
        ("运单号 773012345678901 查一下", [], ["773012345678901"], []),
        ("mm-ts-001还有货吗", [], [], ["MM-TS-001"]),
        ("订单２０２４０３１２００１", ["20240312001"], [], []),
        ("满99元包邮，身高175，手机13812345678", [], [], []),
    ],
)
def test_slots(text, orders, tracking, skus) -> None:
    slots = extract_slots(text)
    assert (slots.order_ids, slots.tracking_nos, slots.skus) == (orders, tracking, skus)


def test_intents() -> None:
    assert detect_intent("这单能改地址吗") == "address_change"
    assert detect_intent("我的快递到哪了") == "shipping_tracking"
    assert detect_intent("还有货吗") == "stock_check"
    assert detect_intent("优惠券怎么没用上") == "coupon_problem"
    assert detect_intent("帮我把订单取消掉") == "cancel_order"
    assert detect_intent("我的退款怎么还没到账") == "refund_status"
    assert detect_intent("订单什么状态") == "order_status"
    assert detect_intent("卫衣会起球吗") is None


# -- LLM function calling -----------------------------------------------------------------------
@pytest.fixture
def server():
    with LoopbackLLMServer() as srv:
        yield srv


def llm_router(sample_copilot, server, registry, shop: ShopConfig | None = None) -> Router:
    from kefu_copilot import Copilot

    copilot = Copilot(
        KNOWLEDGE,
        index_dir=sample_copilot.index_dir,
        embed_model="none",
        llm_base_url=server.base_url,
        llm_api_key="test",
        llm_model="loopback",
        llm_timeout=5.0,
        llm_max_retries=0,
    )
    return wired(copilot, registry, llm=copilot.llm, shop=shop)


def test_llm_calls_a_tool_then_answers(sample_copilot, server, registry) -> None:
    server.tool_call("track_shipment", {"order_id": "123456789012"})
    server.reply("亲，您的订单已于11月25日 14:02从杭州转运中心发出，预计明天送达哦～")
    turn = handle(llm_router(sample_copilot, server, registry), "我的订单123456789012到哪了")
    assert turn.decision == "auto" and turn.answer.mode == "llm", turn.reasons
    assert turn.text.startswith("亲，您的订单已于11月25日") and turn.answer.usage.total_tokens
    assert turn.answer.citations[0].source == "tool:track_shipment"
    first, second = server.requests
    assert {t["function"]["name"] for t in first.get("tools")} >= {"get_order", "track_shipment"}
    tool_message = second.messages[-1]
    assert tool_message["role"] == "tool" and "杭州转运中心" in tool_message["content"]


def test_ungrounded_llm_reply_is_replaced_by_the_tool_data(
    sample_copilot, server, registry
) -> None:
    server.tool_call("track_shipment", {"tracking_no": "SF1234567890"})
    server.reply("亲，包裹3天后到，我再补偿您50元红包～")
    turn = handle(llm_router(sample_copilot, server, registry), "帮我查下物流，单号SF1234567890")
    assert "50" not in turn.text and "杭州转运中心" in turn.text
    assert any("LLM reply not used" in r for r in turn.reasons)


def test_llm_writes_follow_the_approval_rules(sample_copilot, server, registry, backend) -> None:
    shop = ShopConfig.model_validate(
        {"compensation": {"max_coupon_yuan": 10}, "auto_actions": ["issue_coupon"]}
    )
    router = llm_router(sample_copilot, server, registry, shop)
    server.tool_call("issue_coupon", {"customer_id": "C1001", "amount_yuan": 5})
    server.reply("亲，已为您发放一张5元优惠券～")
    small = handle(router, "订单20240312001还没发货，能补个券吗", customer_id="C1001")
    assert small.decision == "auto" and not small.pending_actions, small.reasons
    assert backend.coupons[-1].amount_yuan == 5

    server.tool_call("issue_coupon", {"customer_id": "C1001", "amount_yuan": 50})
    server.reply("亲，已为您提交50元优惠券的申请，同事确认后发放～")
    big = handle(router, "订单20240312001还没发货，能补个券吗", customer_id="C1001")
    (action,) = big.pending_actions
    assert big.decision == "draft" and action.arguments["amount_yuan"] == 50
    assert "above the shop's limit of 10" in action.reason and len(backend.coupons) == 4

    server.tool_call("change_address", {"order_id": "20240312001", "address": "[地址]"})
    server.reply("亲，已为您修改好了")  # claims it is done: not sent
    turn = handle(router, "订单20240312001的地址改成杭州市西湖区文三路100号")
    assert turn.decision == "draft" and "同事确认" in turn.text
    assert turn.pending_actions[0].arguments["address"] == "杭州市西湖区文三路100号"
    # personal data never reached the LLM
    assert all("文三路100号" not in json.dumps(r.json, ensure_ascii=False) for r in server.requests)


def test_llm_cannot_invent_order_ids(sample_copilot, server, registry) -> None:
    server.tool_call("get_order", {"order_id": "20240311986"})  # another customer's order
    server.reply("亲，您的订单已付款")
    turn = handle(llm_router(sample_copilot, server, registry), "我的订单123456789012到哪了")
    assert "was not given by the customer" in server.requests[1].messages[-1]["content"]
    assert turn.decision == "auto" and "杭州转运中心" in turn.text  # the rules did the look-up
    assert any("called no tool" in r for r in turn.reasons)


def test_llm_failure_falls_back_to_the_rules(sample_copilot, server, registry) -> None:
    server.fail(500)
    turn = handle(llm_router(sample_copilot, server, registry), "我的订单123456789012到哪了")
    assert turn.decision == "auto" and "杭州转运中心" in turn.text
    assert any("LLM function calling failed" in r for r in turn.reasons)


def test_llm_tool_failure_hands_off(sample_copilot, server) -> None:
    registry = ToolRegistry(timeout=0.2)

    def track_shipment(order_id: str | None = None, tracking_no: str | None = None) -> None:
        raise RuntimeError("carrier API down")

    registry.register(track_shipment)
    server.tool_call("track_shipment", {"order_id": "123456789012"})
    turn = handle(llm_router(sample_copilot, server, registry), "我的订单123456789012到哪了")
    assert turn.decision == "handoff" and any("carrier API down" in r for r in turn.reasons)
