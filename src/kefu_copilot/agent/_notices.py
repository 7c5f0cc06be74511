"""Customer-facing text composed from the shop's own data — never invented.

* replies to look-ups (:func:`compose`, :func:`describe`, :func:`cite`): order, shipment, stock
  and coupon results framed in the shop persona, every fact and amount taken from the data;
* proactive notices (:func:`draft_notices`): for an event (a delay and its reason, a stock-out,
  a price drop within the 价保 period; pre-sales: an order not paid, a customer long gone — see
  :mod:`kefu_copilot.presales._proactive`) one personalised message per affected order, with what
  the customer can do, amounts computed from the orders and compensation capped at ``shop.yaml``
  limits. Notices are drafts for review (``needs_review=True``); nothing here sends anything.

The words and templates are the ``notices`` rule set (``data/notices.yaml``): notices and
look-up replies use the shop's merged set (``shop.rule_set("notices")``, passed as ``rules``; the
router and the intent flow pass it), the packaged set when none is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from .._data import packaged_rules
from .._errors import InputError, ShopError
from .._models import Citation, Decision
from ..config._shop import ShopConfig
from ..presales._proactive import CartAbandonmentEvent, LapsedCustomerEvent, proactive_draft
from ..text._normalize import normalize
from ._tools import Coupon, Order, Shipment, StockLevel, ToolResult

__all__ = [
    "DelayEvent",
    "Notice",
    "NoticeBatch",
    "NoticeEvent",
    "PriceDropEvent",
    "StockOutEvent",
    "action_texts",
    "cite",
    "compose",
    "describe",
    "draft_notices",
]


Rules = Mapping[str, Any]


def _label(kind: str, name: str, rules: Rules | None = None) -> str:
    """The word for a state or tool name in ``rules`` (a shop's merged ``notices`` set; default
    the packaged one), else the name."""
    rules = packaged_rules("notices") if rules is None else rules
    return str(rules[kind].get(name, name))


def status_label(status: str, rules: Rules | None = None) -> str:
    return _label("order_status", status, rules)


def md(value: date) -> str:
    return f"{value.month}月{value.day}日"


def when(value: datetime) -> str:
    return f"{md(value)} {value:%H:%M}"


def day(value: date, today: date) -> str:
    return {0: "今天", 1: "明天", 2: "后天"}.get((value - today).days) or md(value)


def yuan(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def items_text(order: Order) -> str:
    names = []
    for item in order.items[:2]:
        spec = " ".join(x for x in (item.color, item.size) if x)
        names.append(f"{item.title}（{spec}）" if spec else item.title)
    more = f"等{len(order.items)}件商品" if len(order.items) > 2 else ""
    return "、".join(names) + more


# -- replies to look-ups -----------------------------------------------------------------------
@dataclass
class Reply:
    text: str
    decision: Decision = "auto"
    problems: list[str] = field(default_factory=list)


def _order(order: Order, rules: Rules | None = None) -> str:
    paid = f"于 {when(order.paid_at)} 付款，" if order.paid_at else ""
    status = status_label(order.status, rules)
    return f"订单 {order.order_id}（{items_text(order)}）{paid}当前状态：{status}"


def _shipment(s: Shipment, today: date, problems: list[str]) -> str:
    who = f"订单 {s.order_id} 的包裹" if s.order_id else "您的包裹"
    carrier = f"（{s.carrier} {s.tracking_no}）" if s.carrier else f"（运单号 {s.tracking_no}）"
    if s.status == "exception":
        problems.append("the shipment shows an exception: a human checks")
    if not s.events:
        return f"{who}{carrier}已生成运单，快递暂时还没有揽收记录"
    last = s.events[-1]
    where = "" if not last.place or last.place in last.description else f" {last.place}"
    text = f"{who}{carrier}最新物流：{when(last.time)}{where} {last.description}"
    if s.status != "delivered" and s.estimated_delivery:
        text += f"，预计{day(s.estimated_delivery, today)}送达"
    return text


def _mentions_size(norm: str, size: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(size.lower())}(?![a-z0-9])", norm) is not None


def _mentions_color(text: str, color: str) -> bool:
    short = color[:-1] if color.endswith("色") and len(color) >= 3 else color
    return color in text or short in text


def _stock(s: StockLevel, text: str) -> str:
    norm, name = normalize(text), s.title or s.sku
    colors = {v.color for v in s.variants if v.color and _mentions_color(text, v.color)}
    sizes = {v.size for v in s.variants if v.size and _mentions_size(norm, v.size)}
    picked = [
        v
        for v in s.variants
        if (colors or sizes)
        and (not colors or v.color in colors)
        and (not sizes or v.size in sizes)
    ]
    restock = f"，预计{md(s.restock_date)}补货" if s.restock_date else ""
    if picked:
        spec = lambda v: " ".join(x for x in (v.color, v.size and f"{v.size}码") if x)  # noqa: E731
        have = [spec(v) for v in picked if v.available > 0]
        lacking = [spec(v) for v in picked if v.available <= 0]
        if len(picked) == 1 and have:
            few = picked[0].available <= 5
            left = f"仅剩 {picked[0].available} 件" if few else "有现货"
            return f"这款{name}的{have[0]}目前{left}"
        parts = [f"{'、'.join(have)}有现货"] if have else []
        parts += [f"{'、'.join(lacking)}暂时缺货{restock}"] if lacking else []
        return f"这款{name}：" + "；".join(parts)
    if s.available <= 0:
        return f"这款{name}暂时缺货{restock}"
    lacking = [" ".join(x for x in (v.color, v.size) if x) for v in s.variants if v.available <= 0]
    out = f"（{'、'.join(lacking[:4])}暂时缺货{restock}）" if lacking else ""
    return f"这款{name}目前有现货{out}"


def _coupons(coupons: list[Coupon], order: Order | None, now: datetime, problems: list[str]) -> str:
    if not coupons:
        return "您的账户里暂时没有查到优惠券"
    parts: list[str] = []
    for c in coupons:
        label = f"「{c.title}」"
        if order is None:
            if c.status == "used":
                parts.append(f"{label}已使用")
            elif c.status == "expired" or c.valid_until < now:
                parts.append(f"{label}已于 {md(c.valid_until)} 过期")
            else:
                need = f"满{yuan(c.min_spend_yuan)}元可用，" if c.min_spend_yuan else ""
                parts.append(f"{label}{need}{md(c.valid_until)}前有效")
            continue
        if c.coupon_id == order.coupon_id:
            parts.append(f"这笔订单已经使用了{label}，优惠 {yuan(c.amount_yuan)} 元")
        elif c.status == "used":
            continue
        elif c.status == "expired" or c.valid_until < (order.paid_at or now):
            parts.append(f"{label}在下单前已于 {md(c.valid_until)} 过期，所以用不了")
        elif c.skus and not any(i.sku in c.skus for i in order.items):
            parts.append(f"{label}只适用于指定商品，不适用于这笔订单里的商品")
        elif c.min_spend_yuan > order.goods_yuan:
            gap = yuan(c.min_spend_yuan - order.goods_yuan)
            parts.append(
                f"{label}需要商品金额满 {yuan(c.min_spend_yuan)} 元才能使用，这笔订单商品金额"
                f" {yuan(order.goods_yuan)} 元，还差 {gap} 元，所以没能抵扣"
            )
        else:
            parts.append(f"{label}这笔订单是可以使用的，但下单时没有选用")
            problems.append(f"coupon {c.coupon_id} was usable but not applied: a human decides")
    return "帮您查了一下：" + "；".join(parts or ["这笔订单没有可用的优惠券"])


def compose(
    intent: str | None,
    results: list[ToolResult],
    text: str,
    now: datetime,
    rules: Rules | None = None,
) -> Reply:
    """The reply to ``text`` from the tool results (the successful ones), in the shop persona.
    ``rules``: the shop's merged ``notices`` set (its labels); default the packaged one."""
    values = [r.value for r in results if r.ok and r.value is not None]
    order = next((v for v in values if isinstance(v, Order)), None)
    shipment = next((v for v in values if isinstance(v, Shipment)), None)
    stock = next((v for v in values if isinstance(v, StockLevel)), None)
    coupons = next((v for v in values if isinstance(v, list)), None)
    problems: list[str] = []
    parts: list[str] = []
    if intent == "refund_status" and order is not None:
        refund = order.refund
        if refund is None:
            parts.append(f"订单 {order.order_id} 目前没有退款记录")
            problems.append("no refund on record for the order: a human checks")
        else:
            by = f"，预计 {md(refund.expected_by)} 前到账" if refund.expected_by else ""
            parts.append(
                f"订单 {order.order_id} 的退款 {yuan(refund.amount_yuan)} 元"
                f"{_label('refund_status', refund.status, rules)}（更新于 {when(refund.updated_at)}）{by}"
            )
            if refund.status == "rejected":
                problems.append("the refund was rejected: a human explains why")
    elif intent == "coupon_problem" and coupons is not None:
        parts.append(_coupons([c for c in coupons if isinstance(c, Coupon)], order, now, problems))
    else:
        tracked = shipment is not None and bool(shipment.events)
        if order is not None and not (tracked and intent == "shipping_tracking"):
            parts.append(_order(order, rules))
        if shipment is not None and (tracked or order is None):
            parts.append(_shipment(shipment, now.date(), problems))
        if stock is not None:
            parts.append(_stock(stock, text))
        if coupons is not None:
            parts.append(
                _coupons([c for c in coupons if isinstance(c, Coupon)], None, now, problems)
            )
    if not parts:
        return Reply("", "handoff", ["the tools returned nothing to answer with"])
    body = "。".join(parts)
    return Reply(f"亲，{body}哦～", "draft" if problems else "auto", problems)


def describe(result: ToolResult, rules: Rules | None = None) -> str:
    """A short quote of what a tool returned (a citation's snippet); ``rules`` as for
    :func:`compose`."""
    value = result.value
    if isinstance(value, Order):
        return _order(value, rules)
    if isinstance(value, Shipment):
        last = value.events[-1] if value.events else None
        latest = f"；最新：{when(last.time)} {last.place} {last.description}" if last else ""
        eta = f"；预计 {md(value.estimated_delivery)} 送达" if value.estimated_delivery else ""
        return f"{value.carrier} {value.tracking_no}：{_label('shipment_status', value.status, rules)}{latest}{eta}".strip()
    if isinstance(value, StockLevel):
        rows = [f"{v.color or ''}{v.size or ''}:{v.available}" for v in value.variants[:8]]
        return f"{value.sku} {value.title} 可售 {value.available} 件 " + " ".join(rows)
    if isinstance(value, list) and all(isinstance(c, Coupon) for c in value):
        return "；".join(f"{c.title}（{c.status}，{md(c.valid_until)}止）" for c in value) or "无"
    data = TypeAdapter(Any).dump_python(value, mode="json")
    return json.dumps(data, ensure_ascii=False)[:300]


def cite(result: ToolResult, rules: Rules | None = None) -> Citation:
    label = _label("tool_labels", result.name, rules)
    return Citation(
        source=f"tool:{result.name}",
        locator=f"{label}，查询于 {result.at:%H:%M}",
        snippet=describe(result, rules)[:300],
        score=1.0,
    )


@dataclass(frozen=True)
class ActionTexts:
    summary: str  # for the agent who approves
    pending: str  # to the customer while it waits
    done: str  # to the customer once executed


def action_texts(name: str, args: Mapping[str, Any]) -> ActionTexts:
    oid, amount = args.get("order_id", ""), args.get("amount_yuan")
    if name == "change_address":
        addr = args.get("address", "")
        return ActionTexts(
            f"修改订单 {oid} 的收货地址为：{addr}",
            f"亲，已为您提交修改订单 {oid} 收货地址的申请（新地址：{addr}），同事确认后马上为您修改，请稍等哦～",
            f"亲，订单 {oid} 的收货地址已修改为：{addr}，请留意物流信息哦～",
        )
    if name == "cancel_order":
        return ActionTexts(
            f"取消订单 {oid}（顾客原话：{str(args.get('reason', ''))[:40]}）",
            f"亲，已为您提交取消订单 {oid} 的申请，同事确认后会尽快为您处理，请稍等哦～",
            f"亲，订单 {oid} 已为您取消～",
        )
    if name == "issue_coupon" and amount is not None:
        return ActionTexts(
            f"给顾客 {args.get('customer_id', '')} 发放 {yuan(float(amount))} 元优惠券",
            f"亲，为您申请的 {yuan(float(amount))} 元优惠券已提交，同事确认后会发放到您的账户，请稍等哦～",
            f"亲，已为您发放一张 {yuan(float(amount))} 元优惠券～",
        )
    if name == "create_ticket":
        return ActionTexts(
            f"创建工单：{args.get('summary', '')}",
            "亲，您的问题已经记录下来，同事确认后会尽快跟进处理～",
            "亲，您的问题已登记，同事会尽快跟进处理～",
        )
    shown = json.dumps(dict(args), ensure_ascii=False, default=str)[:120]
    return ActionTexts(
        f"{name} {shown}", "亲，您的申请已提交，同事确认后会尽快为您处理～", "亲，已为您处理好了～"
    )


# -- proactive notices -------------------------------------------------------------------------
class DelayEvent(BaseModel):
    kind: Literal["delay"] = "delay"
    reason: str = Field(description="e.g. 暴雪导致转运中心停运")
    new_eta: date | None = None
    coupon_yuan: float = Field(0, ge=0, description="a goodwill coupon; capped at shop limits")


class StockOutEvent(BaseModel):
    kind: Literal["stock_out"] = "stock_out"
    sku: str
    color: str | None = None
    size: str | None = None
    restock_date: date | None = None
    alternatives: list[str] = Field(default_factory=list, description="SKUs to suggest")


class PriceDropEvent(BaseModel):
    kind: Literal["price_drop"] = "price_drop"
    sku: str
    new_price: float = Field(ge=0)
    effective_at: datetime


NoticeEvent = Annotated[
    DelayEvent | StockOutEvent | PriceDropEvent | CartAbandonmentEvent | LapsedCustomerEvent,
    Field(discriminator="kind"),
]


class Notice(BaseModel):
    """One drafted message for one order; a human reviews it before anything is sent."""

    order_id: str
    customer_id: str
    kind: str
    text: str
    needs_review: bool = True
    facts: dict[str, Any] = Field(default_factory=dict, description="the numbers used")
    compensation_yuan: float = 0
    review_notes: list[str] = Field(default_factory=list)


class NoticeBatch(BaseModel):
    notices: list[Notice] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict, description="order id → why")


_OPEN = ("pending_payment", "paid", "shipped")


def _notice(
    order: Order, kind: str, text: str, facts: dict[str, Any], notes: list[str], coupon: float = 0
) -> Notice:
    return Notice(
        order_id=order.order_id,
        customer_id=order.customer_id,
        kind=kind,
        text=text,
        facts=facts,
        compensation_yuan=coupon,
        review_notes=notes,
    )


def draft_notices(
    orders: Iterable[Order],
    event: NoticeEvent | Mapping[str, Any],
    shop: ShopConfig,
    *,
    now: datetime | None = None,
    catalog: Mapping[str, StockLevel] | None = None,
    protection_days: int | None = None,
) -> NoticeBatch:
    """Draft one notice per affected order. ``catalog`` (SKU → StockLevel) names and checks
    stock-out alternatives; ``protection_days`` (else shop.yaml ``price_protection_days``) is the
    价保 period, required for price drops."""
    ev = TypeAdapter(NoticeEvent).validate_python(event) if isinstance(event, Mapping) else event
    now = now or datetime.now()
    days = protection_days or (shop.model_extra or {}).get("price_protection_days")
    if isinstance(ev, PriceDropEvent) and not days:
        raise InputError(
            "price-drop notices need the shop's 价保 period: pass protection_days= or set "
            "price_protection_days in shop.yaml"
        )
    batch = NoticeBatch()
    words = _Templates(shop.rule_set("notices"))
    sign = words.fill("signature", shop=shop.name)
    for order in orders:
        notice: Notice | str
        if isinstance(ev, CartAbandonmentEvent | LapsedCustomerEvent):
            drafted = proactive_draft(order, ev, shop.rule_set("presales"), now)
            notice = drafted if isinstance(drafted, str) else _notice(order, ev.kind, *drafted)
        elif isinstance(ev, DelayEvent):
            notice = _delay(order, ev, shop, words)
        elif isinstance(ev, StockOutEvent):
            notice = _stock_out(order, ev, catalog or {}, words)
        else:
            notice = _price_drop(order, ev, int(days or 0), now, shop, words)
        if isinstance(notice, str):
            batch.skipped[order.order_id] = notice
        else:
            notice.text = f"{notice.text}{sign}"
            batch.notices.append(notice)
    return batch


class _Templates:
    """A shop's merged ``notices`` rule set; :meth:`fill` formats one template by its path."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self.rules = rules

    def fill(self, path: str, **values: Any) -> str:
        node: Any = self.rules
        for key in path.split("."):
            node = node[key]
        try:
            return str(node).format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            names = ", ".join(f"{{{name}}}" for name in values) or "none"
            raise ShopError(
                f"shop.yaml: rules.notices.{path}: cannot fill {node!r} ({exc}); "
                f"the names it may use: {names}"
            ) from exc


def _delay(order: Order, ev: DelayEvent, shop: ShopConfig, words: _Templates) -> Notice | str:
    if order.status not in _OPEN:
        return f"order is {status_label(order.status, words.rules)}: not affected by a delay"
    notes: list[str] = []
    coupon = min(ev.coupon_yuan, shop.compensation.max_coupon_yuan)
    if coupon < ev.coupon_yuan:
        notes.append(
            f"coupon {yuan(ev.coupon_yuan)} 元 capped at the shop's limit {yuan(coupon)} 元"
        )
    eta = words.fill("delay.eta", date=md(ev.new_eta)) if ev.new_eta else words.fill("delay.no_eta")
    text = words.fill(
        "delay.text", reason=ev.reason, order_id=order.order_id, items=items_text(order), eta=eta
    )
    if coupon > 0:
        text += words.fill("delay.coupon", amount=yuan(coupon))
    text += words.fill("delay.closing")
    facts: dict[str, Any] = {"reason": ev.reason, "coupon_yuan": coupon}
    facts["new_eta"] = ev.new_eta.isoformat() if ev.new_eta else None
    return _notice(order, "delay", text, facts, notes, coupon)


def _stock_out(
    order: Order, ev: StockOutEvent, catalog: Mapping[str, StockLevel], words: _Templates
) -> Notice | str:
    items = [
        i
        for i in order.items
        if i.sku.upper() == ev.sku.upper()
        and (ev.color is None or i.color == ev.color)
        and (ev.size is None or i.size == ev.size)
    ]
    if not items:
        return "the order has no affected item"
    if order.status not in ("pending_payment", "paid"):
        return f"order is {status_label(order.status, words.rules)}: already on its way"
    item, notes = items[0], []
    spec = " ".join(x for x in (item.color, item.size and f"{item.size}码") if x)
    alts = []
    for sku in ev.alternatives:
        level = catalog.get(sku)
        if level is None or level.available <= 0:
            notes.append(f"alternative {sku} left out: not in stock or not in the catalog")
            continue
        price = "" if level.price is None else yuan(level.price)
        price = price and words.fill("stock_out.alternative_price", price=price)
        alts.append(
            words.fill("stock_out.alternative", title=level.title or sku, sku=sku, price=price)
        )
    paid = sum(i.unit_price * i.quantity for i in items)
    when_back = (
        words.fill("stock_out.restock", date=md(ev.restock_date))
        if ev.restock_date
        else words.fill("stock_out.no_restock")
    )
    options = [words.fill("stock_out.wait", restock=when_back)]
    if alts:
        joined = words.fill("stock_out.alternative_separator").join(alts)
        options.append(words.fill("stock_out.switch", alternatives=joined))
    options.append(words.fill("stock_out.cancel", amount=yuan(paid)))
    numbered = words.fill("stock_out.option_separator").join(
        words.fill("stock_out.option", n=n, option=o) for n, o in enumerate(options, 1)
    )
    text = words.fill(
        "stock_out.text",
        order_id=order.order_id,
        item=item.title,
        spec=words.fill("stock_out.spec", spec=spec) if spec else "",
        options=numbered,
    )
    facts: dict[str, Any] = {"sku": item.sku, "refund_yuan": paid}
    facts["restock_date"] = ev.restock_date.isoformat() if ev.restock_date else None
    return _notice(order, "stock_out", text, facts, notes)


def _price_drop(
    order: Order,
    ev: PriceDropEvent,
    days: int,
    now: datetime,
    shop: ShopConfig,
    words: _Templates,
) -> Notice | str:
    items = [i for i in order.items if i.sku.upper() == ev.sku.upper()]
    if not items or order.paid_at is None or order.status in ("cancelled", "pending_payment"):
        return "no paid item of this SKU in the order"
    deadline = order.paid_at + timedelta(days=days)
    if ev.effective_at > deadline:
        return f"the price dropped after the {days}-day 价保 period (ended {deadline:%Y-%m-%d})"
    if now > deadline:
        return f"the {days}-day 价保 period ended on {deadline:%Y-%m-%d}"
    gaps = [(i, round(i.unit_price - ev.new_price, 2)) for i in items]
    gaps = [(i, g) for i, g in gaps if g > 0]
    if not gaps:
        return "the customer paid no more than the new price"
    amount = round(sum(g * i.quantity for i, g in gaps), 2)
    item, gap = gaps[0]
    qty = words.fill("price_drop.quantity", quantity=item.quantity) if item.quantity > 1 else ""
    text = words.fill(
        "price_drop.text",
        paid_on=md(order.paid_at),
        item=item.title,
        paid=yuan(item.unit_price),
        price=yuan(ev.new_price),
        gap=yuan(gap),
        quantity=qty,
        amount=yuan(amount),
        deadline=md(deadline),
        order_id=order.order_id,
    )
    notes = ["check the order is not excluded from 价保 by the shop's policy"]
    if amount > shop.compensation.max_cash_yuan:
        notes.append(f"差价 {yuan(amount)} 元 is above the cash limit: a supervisor confirms")
    facts: dict[str, Any] = {"paid_unit": item.unit_price, "new_price": ev.new_price}
    facts |= {"refund_yuan": amount, "deadline": deadline.isoformat()}
    return _notice(order, "price_drop", text, facts, notes)
