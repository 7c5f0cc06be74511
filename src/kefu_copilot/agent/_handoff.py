"""The handoff packet: everything a human agent needs to take over without asking again.

Its rendering's line templates and labels are the ``handoff`` rule set (``data/handoff.yaml``): a
packet made by the router carries its shop's merged set (``shop.rule_set("handoff")``), so that
``str(packet)`` and ``packet.render()`` speak the shop's words wherever they are printed (console,
HTML transcript, a ticket). A packet built by hand, or read back from JSON, renders with the
packaged set unless ``render(rules)`` is given one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from .._data import packaged_rules
from .._models import Citation

__all__ = ["HandoffPacket"]

# The priority line when the rule set has no ``priority_labels`` (a shop's older handoff rules).
_PRIORITY = {"urgent": "【紧急·安全事件】优先处理"}


class HandoffPacket(BaseModel):
    """A short brief for the human agent who takes over a conversation."""

    conversation_id: str | None = None
    customer_wants: str = Field(description="what the customer is asking for, in their words")
    earlier_requests: list[str] = Field(default_factory=list)
    order_ids: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    already_answered: list[str] = Field(default_factory=list, description="replies already given")
    emotion: str = "neutral"
    intensity: float = 0.0
    risks: list[str] = Field(default_factory=list)
    priority: str = Field("normal", description="urgent (a safety incident), high or normal")
    reasons: list[str] = Field(default_factory=list, description="why a human is needed")
    citations: list[Citation] = Field(default_factory=list)
    suggested_next_step: str = ""
    transcript_tail: list[dict[str, Any]] = Field(default_factory=list)
    customer_history: list[str] = Field(
        default_factory=list, description="earlier contacts, from customer memory (redacted)"
    )
    #: The shop's merged ``handoff`` rule set (not serialised: a packet's data stays the same).
    _rules: Mapping[str, Any] | None = PrivateAttr(default=None)

    def with_rules(self, rules: Mapping[str, Any] | None) -> HandoffPacket:
        """This packet, rendering with ``rules`` (a shop's merged ``handoff`` set) from now on."""
        self._rules = rules
        return self

    def render(self, rules: Mapping[str, Any] | None = None) -> str:
        """Plain text for an agent console, ticket or chat note. ``rules``: a ``handoff`` rule
        set (a shop's merged one); default: the set of the shop that made the packet, else the
        packaged set."""
        rules = rules if rules is not None else self._rules
        rules = packaged_rules("handoff") if rules is None else rules
        line, risk = rules["lines"], rules["risk_labels"]
        lines = [line["title"].format(conversation_id=self.conversation_id or "").rstrip()]
        label = (rules.get("priority_labels") or _PRIORITY).get(self.priority)
        if label:  # first, so a queue shows it before anything else
            lines.insert(0, label)
        lines.append(line["customer_wants"].format(text=self.customer_wants))
        for key, sep in (("earlier_requests", "；"), ("order_ids", "、"), ("products", "、")):
            if getattr(self, key):
                lines.append(line[key].format(items=sep.join(getattr(self, key))))
        if self.already_answered:
            lines.append(line["already_answered"].format(items="；".join(self.already_answered)))
        mood = rules["emotion_labels"].get(self.emotion, self.emotion)
        risks = "、".join(risk.get(r, r) for r in self.risks)
        lines.append(
            line["emotion"].format(emotion=mood, intensity=self.intensity)
            + (line["risks"].format(items=risks) if self.risks else "")
        )
        if self.reasons:
            lines.append(line["reasons"].format(items="；".join(self.reasons)))
        for c in self.citations[:3]:
            lines.append(
                line["citation"].format(source=c.source, locator=c.locator, snippet=c.snippet[:60])
            )
        if self.customer_history:
            template = line.get("customer_history", "顾客历史：{items}")
            lines.append(template.format(items="；".join(self.customer_history)))
        if self.suggested_next_step:
            lines.append(line["suggested_next_step"].format(text=self.suggested_next_step))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def __rich__(self) -> Any:
        from ..present._console import handoff_panel

        return handoff_panel(self)

    def _repr_html_(self) -> str:
        from ..present._assist import handoff_html

        return handoff_html(self)
