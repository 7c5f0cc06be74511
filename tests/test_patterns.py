"""The one source of chat-text patterns (kefu_copilot.text._patterns) and the rule sets that
extend them: every module reads an order id, tracking number, SKU or phone number the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import ShopError, load_shop_config
from kefu_copilot._models import Message
from kefu_copilot.agent._conversation import Conversation
from kefu_copilot.agent._intents import _slots, detect_intent, extract_slots
from kefu_copilot.answer._rules import (
    courtesy_reply,
    handoff_reasons,
    medical_question,
    order_question,
)
from kefu_copilot.config._shop import ShopConfig
from kefu_copilot.text._patterns import (
    compiled_rules,
    is_phone,
    order_ids,
    order_references,
    replied_order_id,
    skus,
    tracking_numbers,
)
from kefu_copilot.text._pii import redact


@pytest.mark.parametrize(
    ("text", "orders", "tracking"),
    [
        ("[ORDERID_10086] 到哪了", ["[ORDERID_10086]"], []),
        ("订单号 1234567", ["1234567"], []),  # 6+ digits after a label, everywhere
        ("订单号是 12345678 还没发", ["12345678"], []),
        ("order no: dd1234567", ["DD1234567"], []),
        ("订单２０２４０３１２００１", ["20240312001"], []),  # full-width digits
        ("123456789012 怎么还没发", ["123456789012"], []),  # a bare 12–24 digit number
        ("订单号 12345", [], []),
        ("满99元包邮，身高175，手机13812345678", [], []),
        ("订单号是[数字x]", ["[数字x]"], []),
        ("运单号 773012345678901 查一下", [], ["773012345678901"]),
        ("单号SF1234567890", [], ["SF1234567890"]),  # a courier prefix: a tracking number
    ],
)
def test_order_ids_and_tracking_numbers(text: str, orders: list[str], tracking: list[str]) -> None:
    assert order_ids(text) == orders
    assert tracking_numbers(text) == tracking
    # what the order system looks up: not the anonymised "[数字x]", which stands for any number
    assert order_references(text) == [o for o in orders if o != "[数字x]"] + tracking


def test_a_labelled_order_id_is_read_the_same_everywhere() -> None:
    text = "订单号 1234567 还没发货"
    assert extract_slots(text).order_ids == ["1234567"]
    assert Conversation.of(text).order_ids() == ["1234567"]
    assert "needs a look-up in the shop's order system" in handoff_reasons(text, ShopConfig())
    assert redact(text).text == text


def test_order_question_by_cue_or_number() -> None:
    assert order_question("我的快递到哪了")
    assert order_question("单号SF1234567890")
    assert order_question("1234567890123")  # a long bare number: something of theirs
    # A phone number is personal data, masked before matching: not an order reference.
    assert not order_question("手机13812345678，卫衣会起球吗")
    assert not order_question("卫衣会起球吗")
    assert not order_question("[数字x]")


@pytest.mark.parametrize(
    "text",
    [
        "优惠券怎么还没到账",  # something expected that did not happen to them
        "我是银卡 为什么结账没打折",
        "签收了但是我没收到",
        "下单五天了还不发",  # waiting for a stated time
        "我都等了一个星期了",
        "退了两周了 钱呢",
        "配送员一直没来",
        "之前那个客服答应给我换新的",  # an earlier agent's word: a human checks
        "积分怎么无缘无故少了300",  # their account's balance changed or spent
        "我这个月的免费升级顺丰用过了没",
        "我还有多少积分",
        "预约的安装，师傅到现在没打电话",
    ],
)
def test_this_customers_own_state_is_a_look_up(text: str) -> None:
    assert order_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "为什么没有黑色",
        "已经穿了一周了 还能退吗",
        "那价钱呢",
        "会员打几折",
        "能便宜点吗",
        "积分怎么抵现",  # the policy of points, not this customer's balance
        "退货的话积分会扣掉吗",
        "积分什么时候会清零",
    ],
)
def test_policy_and_product_questions_are_not_look_ups(text: str) -> None:
    assert not order_question(text)
    assert handoff_reasons(text, ShopConfig()) == []


def test_a_named_counter_offer_goes_to_an_agent() -> None:
    for text in ("两件一起给我打个九折吧", "给我减20我就拍", "送我一张10元券我就下单"):
        assert "a counter-offer on price: an agent decides" in handoff_reasons(text, ShopConfig())
    assert handoff_reasons("有没有便宜点的买法", ShopConfig()) == []


def test_an_unlabelled_id_only_in_reply_to_a_question() -> None:
    asked = Message(role="bot", text="亲，麻烦提供一下订单号，我马上帮您查～")
    assert replied_order_id("dd1234567") == "DD1234567"
    assert replied_order_id("13812345678") is None  # a phone number
    assert _slots("1234567", asked).order_ids == ["1234567"]
    assert _slots("1234567", None).order_ids == []


def test_skus_and_phones() -> None:
    assert skus("mm-ts-001还有货吗，ＭＭ－ＨＤ－００３呢") == ["MM-TS-001", "MM-HD-003"]
    assert skus("abcde-ts-001, mm-ts-001234, 尺码S-M-L") == []
    assert is_phone("13812345678") and is_phone("+86 138 1234 5678")
    assert not is_phone("12812345678") and not is_phone("138123456789")


def test_rules_are_compiled_once_per_rule_set() -> None:
    calls: list[int] = []

    def build(rules: object) -> int:
        calls.append(1)
        return len(calls)

    rules = {"x": 1}
    assert compiled_rules("intents", rules, build) == compiled_rules("intents", rules, build) == 1
    assert compiled_rules("intents", {"x": 1}, build) == 1  # equal content: compiled once
    assert compiled_rules("intents", {"x": 2}, build) == 2  # another (shop's) rule set


# -- a shop extends the rule sets ------------------------------------------------------------------
def _shop(tmp_path: Path, text: str) -> ShopConfig:
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    return load_shop_config(tmp_path)


def test_a_shop_adds_a_courtesy_phrase(tmp_path: Path) -> None:
    shop = _shop(
        tmp_path, "rules:\n  message_rules:\n    courtesy:\n      thanks:\n        words: [感恩]\n"
    )
    assert courtesy_reply("感恩！") is None
    assert courtesy_reply("感恩！", shop.rule_set("message_rules")) == courtesy_reply("谢谢")


def test_a_shop_adds_a_human_request(tmp_path: Path) -> None:
    # (叫你们老板来 is a packaged request since round 15: a word no packaged rule reads)
    shop = _shop(tmp_path, "rules:\n  message_rules:\n    human_requests: [让店长来]\n")
    assert "customer asks for a human agent" not in handoff_reasons("让店长来", ShopConfig())
    assert "customer asks for a human agent" in handoff_reasons("让店长来", shop)


def test_a_shop_adds_an_intent_cue(tmp_path: Path) -> None:
    shop = _shop(tmp_path, "rules:\n  intents:\n    cues:\n      stock_check: [还能买到]\n")
    assert detect_intent("这款还能买到吗") is None
    assert detect_intent("这款还能买到吗", shop.rule_set("intents")) == "stock_check"


def test_an_intent_without_tools_is_a_shop_error(tmp_path: Path) -> None:
    shop = _shop(tmp_path, "rules:\n  intents:\n    cues:\n      invoice: [开发票]\n")
    with pytest.raises(ShopError, match=r"rules\.intents\.cues\.invoice"):
        detect_intent("帮我开发票", shop.rule_set("intents"))


def test_a_reaction_after_use_goes_to_a_human() -> None:
    reason = "a reaction of the body after use: a possible harm, a human now"
    for text in ("戴了两天耳朵后面红肿", "孩子把干燥剂吞下去了怎么办", "喝完以后一直拉肚子"):
        assert reason in handoff_reasons(text, ShopConfig())
    assert handoff_reasons("我对芒果过敏 里面有芒果吗", ShopConfig()) == []


def test_health_suitability_is_never_sent_as_is() -> None:
    assert medical_question("哺乳期可以用这个面膜吗")
    assert medical_question("有湿疹能穿羊毛吗")
    assert not medical_question("宝宝身高90穿什么码")
