"""What the customer wants from the shop's systems, by Chinese intent and slot rules (no LLM).

:func:`analyse` finds the intent (``order_status``, ``shipping_tracking``, ``address_change``,
``stock_check``, ``coupon_problem``, ``cancel_order``, ``refund_status``) and its slots (order
ids incl. ``[ORDERID_x]``/``[数字x]`` placeholders, courier tracking numbers, SKUs, a new address),
remembering a request the bot already asked a missing detail for. :func:`resolve` turns it into
tool calls — a generator yielding :class:`CallTool` steps, so sync and async drivers share it —
and ends in an :class:`Outcome`: a reply composed from the tool results, one clarifying
question, a write action waiting for approval, or a handoff with the reason. With an LLM the
router lets it pick the tools instead, via :func:`complete_with_tools` (OpenAI ``tools=[...]``).

The intent cues and slot words are the ``intents`` rule set (``data/intents.yaml``, extended by a
shop's ``rules.intents``); order ids, tracking numbers and SKUs are :mod:`kefu_copilot.text._patterns`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .._errors import LLMError, ShopError
from .._models import Decision, Message, Usage
from ..answer._rules import ORDER_LOOKUP as ORDER_LOOKUP_REASON
from ..config._shop import ShopConfig
from ..text._normalize import normalize
from ..text._patterns import compiled_rules, order_ids, replied_order_id, skus, tracking_numbers
from ._notices import action_texts, compose, status_label
from ._tools import Order, PendingAction, ToolError, ToolRegistry, ToolResult, approval_needed

__all__ = [
    "ORDER_LOOKUP_REASON",
    "CallLLM",
    "CallTool",
    "Context",
    "Outcome",
    "Request",
    "Slots",
    "ToolCall",
]
__all__ += ["ToolCompletion", "analyse", "clarify", "complete_with_tools", "detect_intent"]
__all__ += ["extract_slots", "resolve", "write_action"]

Intent = str  # a key of NEEDS: the intents of data/intents.yaml `cues`
Slot = Literal["order_id", "sku", "address"]
# The tools an intent needs.
NEEDS: dict[Intent, tuple[str, ...]] = {"address_change": ("get_order", "change_address")}
NEEDS |= {"cancel_order": ("get_order", "cancel_order"), "refund_status": ("get_order",)}
NEEDS |= {"coupon_problem": ("get_coupons",), "stock_check": ("check_stock",)}
NEEDS |= {"shipping_tracking": ("track_shipment",), "order_status": ("get_order",)}


@dataclass(frozen=True)
class _Rules:
    """The ``intents`` rule set, compiled."""

    intents: dict[Intent, re.Pattern[str]]  # first match wins
    stock_question: re.Pattern[str]
    asked: re.Pattern[str]
    address_lead: re.Pattern[str]
    place: re.Pattern[str]


def _compile(rules: Mapping[str, Any]) -> _Rules:
    clause = str(rules["clause"])

    def cues(values: list[str]) -> str:
        return "|".join(str(v).replace("{clause}", clause) for v in values)

    unknown = [name for name in rules["cues"] if name not in NEEDS]
    if unknown:
        raise ShopError(
            f"shop.yaml: rules.intents.cues.{unknown[0]}: unknown intent; "
            f"known: {', '.join(NEEDS)} (each intent needs its tools)"
        )
    asked = rules["asked"]
    return _Rules(
        intents={name: re.compile(cues(values)) for name, values in rules["cues"].items()},
        stock_question=re.compile(cues(rules["stock_questions"])),
        asked=re.compile(f"({cues(asked['verbs'])}){clause}{{0,14}}({cues(asked['details'])})"),
        address_lead=re.compile(rf"(?:{cues(rules['address_leads'])})\s*[:：]?\s*"),
        place=re.compile(f"(?:{cues(rules['address_places'])})"),
    )


def _rules(rules: Mapping[str, Any] | None) -> _Rules:
    return compiled_rules("intents", rules, _compile)


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


def extract_slots(text: str, rules: Mapping[str, Any] | None = None) -> Slots:
    """Order ids, tracking numbers, SKUs and a new address in a (Chinese) message. ``rules``: a
    shop's merged ``intents`` rule set (default: the packaged one)."""
    compiled = _rules(rules)
    address = None
    lead = compiled.address_lead.search(text)
    tail = text[lead.end() :] if lead else text
    candidate = re.split(r"[。！？!?\n]", tail.strip())[0].strip(" ，,：:")
    if len(candidate) >= 6 and len(compiled.place.findall(candidate)) >= 2:
        address = candidate[:120]
    return Slots(order_ids(text), tracking_numbers(text), skus(text[:2000]), address)


def detect_intent(text: str, rules: Mapping[str, Any] | None = None) -> Intent | None:
    """The first intent whose cues match the message (``rules``: a shop's merged ``intents``)."""
    norm = normalize(text[:2000])
    for intent, pattern in _rules(rules).intents.items():
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


def _asked(message: Message, rules: Mapping[str, Any] | None = None) -> Slot | None:
    """The detail a bot/agent message asks the customer for, if it is a clarifying question."""
    if message.role == "customer" or not _rules(rules).asked.search(message.text):
        return None
    return "address" if "地址" in message.text else "sku" if "商品" in message.text else "order_id"


def _slots(text: str, previous: Message | None, rules: Mapping[str, Any] | None = None) -> Slots:
    """Slots of a customer message; right after "麻烦提供一下订单号" a bare number will do."""
    slots = extract_slots(text, rules)
    if not slots.order_ids and previous is not None and _asked(previous, rules) == "order_id":
        reply = replied_order_id(text)
        slots.order_ids = [reply] if reply else []
    return slots


def _pending(history: list[Message], rules: Mapping[str, Any] | None = None) -> Request | None:
    """The request the bot's last message asked a missing detail for (from the history)."""
    asked = _asked(history[-1], rules) if history else None
    if asked is None:
        return None
    slots, intent = Slots(), None
    for i in range(len(history) - 2, max(-1, len(history) - 8), -1):
        if history[i].role == "customer":
            slots = slots.merged(_slots(history[i].text, history[i - 1] if i else None, rules))
            intent = intent or detect_intent(history[i].text, rules)
    return Request(intent or "order_status", slots, asked)


def analyse(ctx: Context) -> Request | None:
    """The tool request in this message, or None when the shop's tools cannot serve it."""
    if any(not r.startswith(ORDER_LOOKUP_REASON) for r in ctx.rules):
        return None  # complaints, anger, money demands, injections: a human decides
    rules = ctx.shop.rule_set("intents")
    slots = _slots(ctx.text, ctx.history[-1] if ctx.history else None, rules)
    intent, pending = detect_intent(ctx.text, rules), _pending(ctx.history, rules)
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
        direct = _rules(rules).stock_question.search(normalize(ctx.text)) or ctx.products(ctx.text)
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
        notices = self.ctx.shop.rule_set("notices")
        reply = compose(self.request.intent, self.results, self.ctx.text, self.ctx.now, notices)
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
            label = status_label(order.status, ctx.shop.rule_set("notices"))
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
        found = skus(text[:2000])
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
