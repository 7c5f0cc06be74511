"""Proactive pre-sales drafts, for review on the :func:`~kefu_copilot.agent._notices.draft_notices`
path (never sent by themselves): a follow-up of an order placed and not paid (cart abandonment,
催付) and a care message to a customer whose last order is long past (lapsed customer).

Each event drafts one message per order from the order's own items and the ``presales`` texts
(``texts.cart_abandonment``, ``texts.lapsed_customer``); nothing is offered — no coupon, no
discount — so nothing can exceed the ``shop.yaml`` compensation limits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["CartAbandonmentEvent", "LapsedCustomerEvent", "proactive_draft"]


class CartAbandonmentEvent(BaseModel):
    """Orders placed and not paid: a friendly follow-up (no discount)."""

    kind: Literal["cart_abandonment"] = "cart_abandonment"


class LapsedCustomerEvent(BaseModel):
    """Customers whose last order was paid at least ``days`` ago: a care message."""

    kind: Literal["lapsed_customer"] = "lapsed_customer"
    days: int = Field(90, ge=1)


def proactive_draft(
    order: Any,
    event: CartAbandonmentEvent | LapsedCustomerEvent,
    rules: Mapping[str, Any],
    now: datetime,
) -> tuple[str, dict[str, Any], list[str]] | str:
    """(text, facts, review notes) of the draft for ``order`` (an agent ``Order``), or why it
    is skipped."""
    items = list(getattr(order, "items", None) or [])
    if not items:
        return "the order has no items"
    item = items[0]
    texts = rules["texts"]
    facts: dict[str, Any] = {"title": item.title, "sku": item.sku}
    notes = ["a proactive pre-sales message: send only if the customer welcomes contact"]
    if isinstance(event, CartAbandonmentEvent):
        if order.status != "pending_payment":
            return f"order is {order.status}: not waiting for payment"
        facts["unit_price"] = item.unit_price
        text = str(texts["cart_abandonment"]).format(title=item.title, price=f"{item.unit_price:g}")
        return text, facts, notes
    paid = getattr(order, "paid_at", None)
    if order.status not in ("delivered", "completed") or paid is None:
        return f"order is {order.status}: not a finished purchase"
    age = now - paid.replace(tzinfo=None) if paid.tzinfo else now - paid
    if age < timedelta(days=event.days):
        return f"paid {age.days} days ago, within {event.days} days"
    facts["days_since"] = age.days
    return str(texts["lapsed_customer"]).format(title=item.title), facts, notes
