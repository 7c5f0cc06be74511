"""What a shopper's complaint is about — its topic class (a late parcel, a broken item, a return,
an invoice, a coupon...) — and which policy passages are about that topic.

Retrieval ranks a shop's knowledge by all the words of the turn, where the product's name weighs
most: "充电宝一周还没到" finds the power bank's page (its battery warning) before the delivery
rules, "被套起球了" the bedding's page before the after-sales terms. The policy for a complaint
is chosen by its topic first: the turn is classified by the topic classes of
``data/reply_topics.yaml`` (a shop adds its own), the passages whose heading (document title and
section, an FAQ's question) or text use the policy's words for that topic are preferred, and only
then does the product or its class narrow the choice (see :mod:`._topic`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._data import RuleCompiler, compiled, packaged_rules
from ._models import fold
from ._phrases import check_entry, unit_number

if TYPE_CHECKING:
    from ..config._shop import ShopConfig

__all__ = ["ComplaintTopic", "ComplaintTopics", "complaint_topics", "heading_of"]

RULE_SET = "reply_topics"
_FIELDS = (
    "complaint",
    "policy",
    "names",
    "unless",
    "secondary",
    "offer",
    "order",
    "tiers",
    "refines",
)
_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class ComplaintTopic:
    """One topic class: the shopper's words for it, the policy's words for it (in a passage's
    heading or text) and the policy's names for it (searched for with the turn)."""

    name: str
    complaint: re.Pattern[str]
    policy: re.Pattern[str]
    names: str = ""
    #: a turn matching this is not of the topic (asks whether it *would* happen: "会起球吗")
    unless: re.Pattern[str] = _NEVER
    #: a topic that narrows the complaint's rather than naming one (compensation: the late
    #: dispatch's compensation rule, not its dispatch times)
    secondary: bool = False
    #: an offer of compensation in the agent's draft brings this (secondary) topic in
    offer: bool = False
    #: the agent follows it up on the shopper's own order (where the parcel is, when it was
    #: sent): without an order number in the conversation, the reply asks for it
    order: bool = False
    #: the shopper asks for a lower price: an amount they state is answered with the
    #: discount tier it reaches (``tier`` of data/reply.yaml)
    tiers: bool = False
    #: the broader topics this one narrows: a turn of both is of this one only ("退货寄回去好几天
    #: 了 钱呢" asks when the refund arrives, not whether it may be returned; "快递箱子压扁了"
    #: is the damage in transit, not the item's quality)
    refines: tuple[str, ...] = ()

    def said_in(self, folded: str) -> bool:
        """Whether a (folded) customer turn complains of this topic."""
        return bool(self.complaint.search(folded)) and not self.unless.search(folded)


@dataclass(frozen=True)
class ComplaintTopics:
    """A shop's topic classes, compiled (``data/reply_topics.yaml`` with its ``shop.yaml``
    ``rules.reply_topics``)."""

    topics: tuple[ComplaintTopic, ...]
    weight: float = 0.5
    text_weight: float = 0.5
    subject_weight: float = 0.3
    narrow_weight: float = 1.0

    def of(self, turns: Iterable[str]) -> list[ComplaintTopic]:
        """The topic classes of the first of ``turns`` (the customer's, latest first) that names
        any: a short follow-up ("就一句抱歉？") is about what was complained of before it."""
        return self.read(turns)[0]

    def symptoms(self, turns: Iterable[str]) -> list[str]:
        """The shopper's own words for the complaint (what the topic classes matched in the
        first turn naming any: "缩水", "一周还没到"), two characters or more."""
        return self.read(turns)[1]

    def read(self, turns: Iterable[str]) -> tuple[list[ComplaintTopic], list[str]]:
        """:meth:`of` and :meth:`symptoms` of ``turns`` in one pass (secondary topics left out:
        "赔我100" after "少了两个地钉" is about the missing part)."""
        for turn in turns:
            folded = fold(turn)
            found = [t for t in self.topics if not t.secondary and t.said_in(folded)]
            narrower = {name for t in found for name in t.refines}
            found = [t for t in found if t.name not in narrower]
            if found:
                words = [m.group() for t in found for m in t.complaint.finditer(folded)]
                return found, [w for w in dict.fromkeys(words) if len(w.strip()) > 1]
        return [], []

    def narrowing(self, turns: Iterable[str], offered: bool) -> list[ComplaintTopic]:
        """The secondary topics of the conversation: those any of the customer's ``turns``
        names ("赔我30块") and, when the agent's draft ``offered`` compensation, those an offer
        brings in."""
        folded = [fold(t) for t in turns]
        return [
            t
            for t in self.topics
            if t.secondary and ((offered and t.offer) or any(t.said_in(f) for f in folded))
        ]

    def fit(
        self,
        topics: Iterable[ComplaintTopic],
        heading: str,
        text: str,
        symptoms: Iterable[str] = (),
    ) -> float:
        """How much a passage is about one of ``topics``: 1 when its heading uses the policy's
        words for one of them, ``text_weight`` when only its text does or when it states the
        shopper's own words for the complaint (``symptoms``: the product page on "缩水"), else
        0."""
        head, body, best = fold(heading), fold(text), 0.0
        for topic in topics:
            if topic.policy.search(head):
                return 1.0
            if topic.policy.search(body):
                best = self.text_weight
        if any(s in body for s in symptoms):
            best = self.text_weight
        return best


#: A line of a passage that is a heading: short, no sentence punctuation ("一、各品类保修期")
_HEADING_LINE = re.compile(r"^[^,.!?;:，。！？；：]{2,24}$")


def heading_of(chunk: Any) -> str:
    """What a passage's heading says it is about: its locator (document title / section, the
    part count "· 段1" left out), for an FAQ entry its question, and the heading lines inside
    its text (a plain-text policy's title and sections: "售后保修政策", "一、各品类保修期")."""
    locator = re.sub(r"\s*·\s*段\d+$", "", str(getattr(chunk, "locator", "") or ""))
    lines = str(getattr(chunk, "text", "") or "").splitlines()
    heads = [line.strip() for line in lines if _HEADING_LINE.match(line.strip())]
    return " ".join(p for p in [locator, getattr(chunk, "question", None) or "", *heads] if p)


def complaint_topics(shop: ShopConfig | None = None) -> ComplaintTopics:
    """The topic classes of ``shop`` (its ``rules.reply_topics`` applied), or the packaged ones."""
    rules = shop.rule_set(RULE_SET) if shop is not None else packaged_rules(RULE_SET)
    return compiled(rules, _compile)


def _flag(c: RuleCompiler, where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise c.error(where, f"expected true or false, not {value!r}")
    return value


def _names(c: RuleCompiler, where: str, value: Any, entries: Mapping[str, Any]) -> tuple[str, ...]:
    """A list of the rule set's topic names."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise c.error(where, f"expected a list of topic names, not {value!r}")
    unknown = [n for n in names if n not in entries]
    if unknown:
        raise c.error(where, f"unknown topic {unknown[0]!r}; known: {', '.join(entries)}")
    return tuple(names)


def _compile(rules: Mapping[str, Any]) -> ComplaintTopics:
    c = RuleCompiler(RULE_SET, rules)
    entries = rules.get("topics") or {}
    if not isinstance(entries, Mapping):
        raise c.error("topics", "expected a mapping of topic name → {complaint, policy, names}")
    topics = []
    for name, entry in entries.items():
        where = f"topics.{name}"
        check_entry(c, where, entry, _FIELDS, ("complaint", "policy"))
        topics.append(
            ComplaintTopic(
                name=str(name),
                complaint=c.regex(f"{where}.complaint", entry["complaint"]),
                policy=c.regex(f"{where}.policy", entry["policy"]),
                names=str(entry.get("names") or ""),
                unless=c.regex(f"{where}.unless", entry["unless"])
                if entry.get("unless")
                else _NEVER,
                secondary=_flag(c, f"{where}.secondary", entry.get("secondary", False)),
                offer=_flag(c, f"{where}.offer", entry.get("offer", False)),
                order=_flag(c, f"{where}.order", entry.get("order", False)),
                tiers=_flag(c, f"{where}.tiers", entry.get("tiers", False)),
                refines=_names(c, f"{where}.refines", entry.get("refines", []), entries),
            )
        )
    keys = ("weight", "text_weight", "subject_weight", "narrow_weight")
    weights = {k: unit_number(c, k, 0.5) for k in keys}
    return ComplaintTopics(tuple(topics), **weights)
