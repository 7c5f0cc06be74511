"""What the customer wants from the shop's systems, by Chinese intent and slot rules (no LLM).

:func:`analyse` finds the intent (``order_status``, ``shipping_tracking``, ``address_change``,
``stock_check``, ``coupon_problem``, ``cancel_order``, ``refund_status``) and its slots (order
ids incl. ``[ORDERID_x]``/``[数字x]`` placeholders, courier tracking numbers, SKUs, a new address),
remembering a request the bot already asked a missing detail for. :func:`resolve` turns it into
tool calls — a generator yielding :class:`CallTool` steps, so sync and async drivers share it —
and ends in an :class:`Outcome`: a reply composed from the tool results, one clarifying
question, a write action waiting for approval, or a handoff with the reason. With an LLM the
router lets it pick the tools instead, via :func:`complete_with_tools` (OpenAI ``tools=[...]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .._errors import LLMError
from .._models import Decision, Message, Usage
from ..config._shop import ShopConfig
from ..text._normalize import normalize
from ._notices import action_texts, compose, status_label
from ._tools import Order, PendingAction, ToolError, ToolRegistry, ToolResult, approval_needed

__all__ = ["INTENTS", "CallLLM", "CallTool", "Context", "Outcome", "Request", "Slots", "ToolCall"]
__all__ += ["ToolCompletion", "analyse", "clarify", "complete_with_tools", "detect_intent"]
__all__ += ["extract_slots", "resolve", "write_action"]

Intent = str  # a key of INTENTS
Slot = Literal["order_id", "sku", "address"]
ORDER_LOOKUP_REASON = "needs a look-up in the shop's order system"
_S = r"[^。？！?!，,]"  # within one clause
_PATTERNS: dict[Intent, str] = {  # first match wins
    "address_change": rf"(改|修改|更改|换|变更)(一下|个)?(收货|收件|配送|寄送)?(地址|收件人|电话|手机号)|(地址|收件人|手机号)(要|想|能|可以)?(改|修改|更改|换|变更)|地址{_S}{{0,3}}(写错|填错|错了|不对)|(改|换)(寄|送)到",
    "cancel_order": rf"(取消|撤销|撤回)(一下|掉)?(我的|这个|那个)?(订单|这单|那单|这笔)|(订单|这单|那单){_S}{{0,12}}(取消|撤销)|(帮我|给我|麻烦){_S}{{0,6}}取消",
    "refund_status": rf"(退款|退的钱|退货的钱|钱){_S}{{0,8}}(到哪|进度|什么时候到|怎么还没|还没到|还没退|到账了没|没到账|没收到)|(查|看)(一下|下)?(我的)?退款|退款(状态|进度)",
    "coupon_problem": rf"(优惠券|券|红包|满减){_S}{{0,10}}(用不了|没用上|用不上|不能用|无法使用|没法用|没抵扣|没减|没有减|没生效|不生效|失效|没扣|没抵)",
    "stock_check": rf"(有货|有没有货|还有货|没货|缺货|断货|库存|补货|现货|卖完|售罄|有没有{_S}{{0,6}}(码|号|色)的?$)",
    "shipping_tracking": rf"(物流|快递|包裹|运单|单号){_S}{{0,24}}(到哪|在哪|查|信息|进度|更新|动态|到了没|什么时候到|多久到|还没到)|(查|看)(一下|下)?(物流|快递|包裹)|到哪(了|里|儿)|(什么时候|啥时候|哪天)(能)?(到|送到|送达)|还没(到|收到|送到)",
    "order_status": rf"(订单|单子|这单|那单){_S}{{0,24}}(状态|怎么样|进度|发货|发了|处理|漏单|什么情况)|发货了(吗|没)|发了(吗|没)|还没发|什么时候发|漏单|(查|看)(一下|下)?(我的)?订单",
}
INTENTS = {intent: re.compile(pattern) for intent, pattern in _PATTERNS.items()}
# The tools an intent needs.
NEEDS: dict[Intent, tuple[str, ...]] = {"address_change": ("get_order", "change_address")}
NEEDS |= {"cancel_order": ("get_order", "cancel_order"), "refund_status": ("get_order",)}
NEEDS |= {"coupon_problem": ("get_coupons",), "stock_check": ("check_stock",)}
NEEDS |= {"shipping_tracking": ("track_shipment",), "order_status": ("get_order",)}
_COURIER = r"(?:sf|jdv?|jt|yt|zt|zto|yto|sto|ems|yd|dpk|db|kye)"
_TRACKING = re.compile(
    rf"(?:运单|快递单|物流单|退货单|快递|物流)号?\s*(?:是|为)?\s*[:：#]?\s*([a-z]{{0,4}}\d{{8,24}})|(?<![a-z0-9]){_COURIER}\d{{9,20}}(?!\d)"
)
_ORDER_ID = re.compile(
    r"\[orderid_\w+\]|(?:订单编?号?|单号|order\s*(?:id|no)?)\s*(?:是|为)?\s*[:：#]?\s*(\[数字\w?\]|[a-z]{0,3}\d{6,24})"
    r"|(?<![\d.a-z])(\d{12,24})(?![\d.])"
)
_PLACEHOLDER = re.compile(r"^\W*\[数字\w?\]\W*$")
_SKU = re.compile(r"(?<![a-z0-9])[a-z]{2,4}-[a-z0-9]{2,6}-\d{2,5}(?![a-z0-9])")
_ADDRESS_LEAD = re.compile(
    r"(?:改成|改为|换成|改到|寄到|送到|新地址(?:是|为)?|收货地址(?:是|为|改成|改为)?)\s*[:：]?\s*"
)
_PLACE = re.compile(r"(省|市|区|县|镇|乡|村|路|街|道|巷|号|栋|幢|楼|室|小区|大厦)")
_REPLIED_ID = re.compile(r"(?<![\d.a-z])(?!1[3-9]\d{9}(?!\d))[a-z]{0,3}\d{6,24}(?![\d.])")
_DIRECT_STOCK = re.compile(r"^[^，,。]{0,6}有(没有)?(现)?货(吗|没|不|嘛|么|呢)?[?？!！。~～]*$")
_ASKED = re.compile(
    rf"(提供|告诉我|发一下|发给我|麻烦|核对){_S}{{0,14}}(订单号|单号|商品编号|商品链接|收货地址)"
)


@dataclass
class Slots:
    order_ids: list[str] = field(default_factory=list)
    tracking_nos: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    address: str | None = None

    @property
    def order_id(self) -> str | None:
        return self.order_ids[0] if self.order_ids else None

    def __bool__(self) -> bool:
        return bool(self.order_ids or self.tracking_nos or self.skus or self.address)

    def merged(self, earlier: Slots) -> Slots:
        """These slots, with what only ``earlier`` has filled in."""
        return Slots(
            self.order_ids or earlier.order_ids,
            self.tracking_nos or earlier.tracking_nos,
            self.skus or earlier.skus,
            self.address or earlier.address,
        )


def _canon(value: str) -> str:
    return "[数字x]" if value.startswith("[数字") else value.upper()


def extract_slots(text: str) -> Slots:
    """Order ids, tracking numbers, SKUs and a new address in a (Chinese) message."""
    norm = normalize(text[:2000])
    tracking = [_canon(m.group(1) or m.group(0)) for m in _TRACKING.finditer(norm)]
    orders: list[str] = []
    for m in _ORDER_ID.finditer(norm):
        value = _canon(m.group(1) or m.group(2) or m.group(0))
        if value not in tracking and not re.fullmatch(_COURIER + r"\d+", value.lower()):
            orders.append(value)
    if not orders and _PLACEHOLDER.match(norm):
        orders.append("[数字x]")
    skus = [m.group().upper() for m in _SKU.finditer(norm)]
    address = None
    lead = _ADDRESS_LEAD.search(text)
    tail = text[lead.end() :] if lead else text
    candidate = re.split(r"[。！？!?\n]", tail.strip())[0].strip(" ，,：:")
    if len(candidate) >= 6 and len(_PLACE.findall(candidate)) >= 2:
        address = candidate[:120]
    unique = lambda values: list(dict.fromkeys(values))  # noqa: E731
    return Slots(unique(orders), unique(tracking), unique(skus), address)


def detect_intent(text: str) -> Intent | None:
    norm = normalize(text[:2000])
    for intent, pattern in INTENTS.items():
        if pattern.search(norm):
            return intent
    return None


# -- the request -------------------------------------------------------------------------------
@dataclass
class Context:
    """What :func:`analyse` and :func:`resolve` know about the message."""

    text: str
    history: list[Message]
    shop: ShopConfig
    registry: ToolRegistry
    rules: list[str]
    now: datetime
    customer_id: str | None = None
    conversation_id: str | None = None
    products: Callable[[str], list[tuple[str, str]]] = lambda text: []  # (sku, title) mentioned


@dataclass
class Request:
    intent: Intent
    slots: Slots
    asked: Slot | None = None  # the bot already asked the customer for this


def _asked(message: Message) -> Slot | None:
    """The detail a bot/agent message asks the customer for, if it is a clarifying question."""
    if message.role == "customer" or not _ASKED.search(message.text):
        return None
    return "address" if "地址" in message.text else "sku" if "商品" in message.text else "order_id"


def _slots(text: str, previous: Message | None) -> Slots:
    """Slots of a customer message; right after "麻烦提供一下订单号" a bare number will do."""
    slots = extract_slots(text)
    if not slots.order_ids and previous is not None and _asked(previous) == "order_id":
        reply = _REPLIED_ID.search(normalize(text))
        slots.order_ids = [reply.group().upper()] if reply else []
    return slots


def _pending(history: list[Message]) -> Request | None:
    """The request the bot's last message asked a missing detail for (from the history)."""
    asked = _asked(history[-1]) if history else None
    if asked is None:
        return None
    slots, intent = Slots(), None
    for i in range(len(history) - 2, max(-1, len(history) - 8), -1):
        if history[i].role == "customer":
            slots = slots.merged(_slots(history[i].text, history[i - 1] if i else None))
            intent = intent or detect_intent(history[i].text)
    return Request(intent or "order_status", slots, asked)


def analyse(ctx: Context) -> Request | None:
    """The tool request in this message, or None when the shop's tools cannot serve it."""
    if any(not r.startswith(ORDER_LOOKUP_REASON) for r in ctx.rules):
        return None  # complaints, anger, money demands, injections: a human decides
    slots = _slots(ctx.text, ctx.history[-1] if ctx.history else None)
    intent, pending = detect_intent(ctx.text), _pending(ctx.history)
    if pending is not None and (intent is None or intent == pending.intent):
        request = Request(pending.intent, slots.merged(pending.slots), pending.asked)
    elif intent is None:
        return None
    else:
        request = Request(intent, slots)
    if any(name not in ctx.registry for name in NEEDS[request.intent]):
        return None
    ids = slots.order_ids or slots.tracking_nos or slots.skus
    if request.intent == "stock_check":
        direct = _DIRECT_STOCK.search(normalize(ctx.text)) or ctx.products(ctx.text)
        return request if ids or pending or direct else None  # not "没货了怎么办"
    if not (ctx.rules or ids or pending) and request.intent != "coupon_problem":
        return None  # a general question ("退款多久到账") is for the knowledge base
    return request


# -- resolving ---------------------------------------------------------------------------------
@dataclass
class CallTool:
    """A step of :func:`resolve`: run this tool and send back its :class:`ToolResult`."""

    name: str
    arguments: dict[str, Any]


@dataclass
class Outcome:
    decision: Decision
    text: str = ""
    intent: str | None = None
    reasons: list[str] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    actions: list[PendingAction] = field(default_factory=list)
    asked: Slot | None = None
    try_knowledge: bool = False  # a confident knowledge answer may replace this handoff
    usage: Usage | None = None  # set when an LLM chose the tools


def clarify(slot: Slot, intent: str | None = None) -> str:
    """The one clarifying question asking for ``slot``."""
    if slot == "address":
        return "亲，麻烦发一下新的收货地址（收件人、电话和详细地址），我帮您提交修改～"
    if slot == "sku":
        return "亲，麻烦告诉我是哪一款商品（商品编号或商品链接），我马上帮您查库存～"
    goal = "帮您看看优惠券为什么没用上" if intent == "coupon_problem" else "马上帮您查"
    return f"亲，麻烦提供一下订单号，我{goal}～"


class _Stop(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def resolve(ctx: Context, request: Request) -> Generator[CallTool, ToolResult, Outcome]:
    """Run the request's tool calls (yielded) and compose the outcome."""
    flow = _Flow(ctx, request)
    try:
        return (yield from flow.run())
    except _Stop as stop:
        stop.outcome.intent = request.intent
        stop.outcome.results = flow.results + stop.outcome.results
        return stop.outcome


class _Flow:
    def __init__(self, ctx: Context, request: Request) -> None:
        self.ctx, self.request, self.slots = ctx, request, request.slots
        self.results: list[ToolResult] = []

    def ask(self, slot: Slot, text: str | None = None) -> _Stop:
        if self.request.asked == slot:
            reason = f"asked the customer for the {slot.replace('_', ' ')} once; still missing"
            return _Stop(Outcome("handoff", reasons=[reason], try_knowledge=text is None))
        reason = f"asked the customer for the {slot.replace('_', ' ')}"
        question = text or clarify(slot, self.request.intent)
        return _Stop(Outcome("auto", question, reasons=[reason], asked=slot))

    def call(self, name: str, **arguments: Any) -> Generator[CallTool, ToolResult, Any]:
        result = yield CallTool(name, {k: v for k, v in arguments.items() if v is not None})
        self.results.append(result)
        if not result.ok:
            raise _Stop(Outcome("handoff", reasons=[result.problem()]))
        return result.value

    def order(self, order_id: str | None) -> Generator[CallTool, ToolResult, Order]:
        if order_id is None:
            raise self.ask("order_id")
        order = yield from self.call("get_order", order_id=order_id)
        if order is None:
            raise self.ask(
                "order_id", f"亲，没有查到订单号 {order_id} 的订单，麻烦核对一下订单号再发给我～"
            )
        if self.ctx.customer_id and order.customer_id != self.ctx.customer_id:
            reason = f"order {order_id} belongs to another customer account"
            raise _Stop(Outcome("handoff", reasons=[reason]))
        return order

    def done(self) -> Outcome:
        reply = compose(self.request.intent, self.results, self.ctx.text, self.ctx.now)
        reasons = [f"answered from the shop's systems ({self.request.intent})", *reply.problems]
        return Outcome(reply.decision, reply.text, self.request.intent, reasons, self.results)

    def run(self) -> Generator[CallTool, ToolResult, Outcome]:
        intent, slots = self.request.intent, self.slots
        has = self.ctx.registry.__contains__
        if intent == "stock_check":
            skus = slots.skus or _skus(self.ctx)
            if len(skus) != 1:
                raise self.ask("sku")
            stock = yield from self.call("check_stock", sku=skus[0])
            if stock is None:
                raise self.ask("sku", f"亲，没有查到商品编号 {skus[0]}，麻烦核对一下商品编号～")
            return self.done()
        if intent == "coupon_problem":
            customer = self.ctx.customer_id
            if slots.order_id or not customer:
                customer = (yield from self.order(slots.order_id)).customer_id
            yield from self.call("get_coupons", customer_id=customer)
            return self.done()
        if intent == "shipping_tracking" or (intent == "refund_status" and not slots.order_id):
            if not (slots.tracking_nos or slots.order_id):
                raise self.ask("order_id")
            tracking = slots.tracking_nos[0] if slots.tracking_nos else None
            shipment = None
            if has("track_shipment"):
                shipment = yield from self.call(
                    "track_shipment",
                    order_id=None if tracking else slots.order_id,
                    tracking_no=tracking,
                )
            if intent == "refund_status":
                slots.order_ids = [shipment.order_id] if shipment and shipment.order_id else []
            elif shipment is not None and shipment.events:
                return self.done()
            elif not slots.order_id or not has("get_order"):
                if shipment is not None:
                    return self.done()
                raise self.ask(
                    "order_id", f"亲，没有查到单号 {tracking} 的物流信息，麻烦核对一下单号～"
                )
        order = yield from self.order(slots.order_id)
        if intent in ("address_change", "cancel_order"):
            return (yield from self.write(order))
        tracked = any(r.name == "track_shipment" and r.value for r in self.results)
        if order.status in ("shipped", "delivered") and has("track_shipment") and not tracked:
            yield from self.call("track_shipment", order_id=order.order_id)
        return self.done()

    def write(self, order: Order) -> Generator[CallTool, ToolResult, Outcome]:
        ctx, intent = self.ctx, self.request.intent
        if order.status not in ("pending_payment", "paid"):
            label = status_label(order.status)
            verb = "changing the address" if intent == "address_change" else "cancelling"
            reason = f"order {order.order_id} is already {label}: {verb} needs a human"
            raise _Stop(Outcome("handoff", reasons=[reason]))
        args: dict[str, Any] = {"order_id": order.order_id}
        if intent == "address_change" and not self.slots.address:
            raise self.ask("address")
        if intent == "address_change":
            name, args["address"] = "change_address", self.slots.address
        else:
            name, args["reason"] = "cancel_order", ctx.text[:200]
        return (yield from write_action(ctx, name, args, intent, self.results))


def write_action(
    ctx: Context, name: str, args: dict[str, Any], intent: str | None, results: list[ToolResult]
) -> Generator[CallTool, ToolResult, Outcome]:
    """Run a write the shop allows the copilot, else queue it for a human's approval."""
    texts = action_texts(name, args)
    why = approval_needed(ctx.registry.get(name), args, ctx.shop)
    if why is None:
        result = yield CallTool(name, args)
        results = [*results, result]
        if not result.ok:
            return Outcome("handoff", intent=intent, reasons=[result.problem()], results=results)
        reason = f"{name} ran without approval (allowed by shop.yaml auto_actions)"
        return Outcome("auto", texts.done, intent, [reason], results)
    action = ctx.registry.queue(
        PendingAction(
            tool=name,
            arguments=args,
            summary=texts.summary,
            reason=why,
            reply_on_success=texts.done,
            conversation_id=ctx.conversation_id,
        )
    )
    reasons = [f"waiting for a human to approve {name} (action {action.id}): {why}"]
    return Outcome("draft", texts.pending, intent, reasons, results, [action])


def _skus(ctx: Context) -> list[str]:
    """SKUs of the product the message (or, failing that, the recent history) is about; of
    several candidates, those whose own title words the customer used ("T恤", not "短袖")."""
    texts = [ctx.text] + [m.text for m in reversed(ctx.history[-6:]) if m.role == "customer"]
    for text in texts:
        found = extract_slots(text).skus
        if found:
            return found
        candidates = dict(ctx.products(text))
        if len(candidates) == 1:
            return list(candidates)
        common = set.intersection(*(set(t.split()) for t in candidates.values() or [""]))
        words = {sku: [w for w in t.split() if w not in common] for sku, t in candidates.items()}
        norm = normalize(text)
        scores = {
            sku: max([_overlap(normalize(w), norm) for w in ws] or [0]) for sku, ws in words.items()
        }
        best = max(scores.values(), default=0)
        if best:
            return [sku for sku, score in scores.items() if score == best]
    return []


def _overlap(a: str, b: str) -> int:
    """Length of the longest common substring of ``a`` and ``b``."""
    best = 0
    for i in range(len(a)):
        while i + best < len(a) and a[i : i + best + 1] in b:
            best += 1
    return best


# -- LLM function calling over the OpenAI-compatible API -----------------------------------------
@dataclass
class CallLLM:
    """A step: one chat completion offering ``tools``; send back a :class:`ToolCompletion`."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = "{}"
    error: str | None = None  # the arguments were not a JSON object

    def message(self) -> dict[str, Any]:
        fn = {"name": self.name, "arguments": self.raw_arguments}
        return {"id": self.id, "type": "function", "function": fn}


@dataclass
class ToolCompletion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def _parse_completion(response: Any) -> ToolCompletion:
    from ..llm._chat import _usage

    choices = getattr(response, "choices", None)
    if not choices:
        raise LLMError("the LLM endpoint returned no choices")
    calls: list[ToolCall] = []
    for raw in getattr(choices[0].message, "tool_calls", None) or []:
        text = raw.function.arguments or "{}"
        try:
            args, error = json.loads(text), None
        except ValueError as exc:
            args, error = {}, f"arguments are not valid JSON ({exc})"
        if not isinstance(args, dict):
            args, error = {}, "arguments are not a JSON object"
        calls.append(ToolCall(raw.id, raw.function.name, args, text, error))
    usage = _usage(getattr(response, "usage", None))
    return ToolCompletion(choices[0].message.content or "", calls, usage)


def complete_with_tools(
    llm: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> ToolCompletion:
    """One chat completion offering ``tools`` (OpenAI ``tools=[...]``), through the provider's
    retry layer and overall deadline. Raises :class:`LLMError`, or :class:`ToolError` when the
    LLM is not an OpenAI-compatible model (no ``provider``)."""
    from ..llm._chat import _Deadline, _translate

    provider = getattr(llm, "provider", None)
    if provider is None or not hasattr(provider, "call") or not hasattr(llm, "model"):
        raise ToolError(f"{type(llm).__name__} does not support function calling")
    client, limit = provider.client(), float(getattr(llm, "timeout", provider.timeout))
    kwargs = {"model": llm.model, "messages": messages, "tools": tools, "tool_choice": "auto"}
    kwargs |= {"max_tokens": getattr(llm, "max_tokens", 600)}
    kwargs |= {"temperature": getattr(llm, "temperature", 0.2)}

    def attempt(remaining: float) -> Any:
        return client.chat.completions.create(**kwargs, timeout=min(remaining, limit))

    try:
        return _parse_completion(provider.call(attempt, _Deadline(limit)))
    except LLMError:
        raise
    except Exception as exc:
        raise _translate(exc) from exc
