"""Message-level rules that decide a handoff before any retrieval.

Each rule returns a human-readable reason or ``None``. They are deliberately conservative: an
order lookup, a counter-offer on price, a compensation demand beyond the shop's limit, a complaint threat or an attempt to
instruct the assistant always goes to a human. The words and cues are the ``message_rules`` rule
set (``data/message_rules.yaml``, extended by a shop's ``rules.message_rules``); order ids,
tracking numbers and amounts of money are the patterns of :mod:`kefu_copilot.text._patterns`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config._shop import ShopConfig
from ..emotion._flag import incident_risks
from ..text._injection import find_injection
from ..text._normalize import normalize
from ..text._numbers import money_amounts
from ..text._patterns import LONG_NUMBER, compiled_rules, order_references
from ..text._pii import redact

__all__ = [
    "RULE_CLASSES",
    "MessageRead",
    "advice_topic",
    "courtesy_reply",
    "deferred",
    "handoff_reasons",
    "human_section",
    "medical_question",
    "money_amounts",
    "order_question",
    "payment_question",
    "rule_classes",
    "unquoted_term",
]

ORDER_LOOKUP = "needs a look-up in the shop's order system"


def _any(cues: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(cues))


class _AnyOf:
    """Whether any of several cue patterns is said, each compiled on its own: one alternation of
    a long list is tried branch by branch at every position of the text, while a cue alone is
    scanned for by its first characters (``order_questions``, ~40 patterns: 12 → 4 µs a
    question). :meth:`search` gives the match of the first cue said, not the leftmost."""

    def __init__(self, cues: list[str]) -> None:
        self.patterns = tuple(re.compile(str(c)) for c in cues)

    def search(self, text: str) -> re.Match[str] | None:
        for pattern in self.patterns:
            found = pattern.search(text)
            if found is not None:
                return found
        return None


def _words(words: list[str]) -> str:
    return "|".join(re.escape(re.sub(r"\s+", "", normalize(w))) for w in words)


@dataclass(frozen=True)
class _Rules:
    """The ``message_rules`` rule set, compiled."""

    escalation: tuple[str, ...]
    human: re.Pattern[str]
    order: _AnyOf
    bargaining: re.Pattern[str]
    concessions: re.Pattern[str]
    forecasts: re.Pattern[str]
    comparisons: re.Pattern[str]
    harm: re.Pattern[str]
    payment: re.Pattern[str]
    medical: re.Pattern[str]
    advice: tuple[tuple[str, re.Pattern[str]], ...]
    human_sections: re.Pattern[str]
    deferrals: re.Pattern[str]
    demand: re.Pattern[str]
    beyond_policy: re.Pattern[str]
    insistence: re.Pattern[str]
    #: the terms a question turns on (``quoted_terms``): one pattern per entry of the lists named
    quoted_terms: tuple[re.Pattern[str], ...]
    courtesy: tuple[tuple[re.Pattern[str], str], ...]


def _courtesy(group: Mapping[str, Any]) -> tuple[re.Pattern[str], str]:
    particles = _words(group.get("particles") or [])
    marks = "".join(re.escape(ch) for ch in group.get("marks") or "")
    pattern = f"^(?:{_words(group['words'])})+"
    pattern += f"(?:{particles})*" if particles else ""
    pattern += f"[{marks}]*$" if marks else "$"
    return re.compile(pattern), str(group["reply"])


def _compile(rules: Mapping[str, Any]) -> _Rules:
    return _Rules(
        escalation=tuple(str(w) for w in rules["escalation_words"]),
        human=_any(rules["human_requests"]),
        order=_AnyOf(rules["order_questions"]),
        bargaining=_any(rules["bargaining"]),
        concessions=_any(rules["concessions"]),
        forecasts=_any(rules["price_forecasts"]),
        comparisons=_any(rules["comparisons"]),
        harm=_any(rules["harm_reports"]),
        payment=_any(rules["payment_terms"]),
        medical=_any(rules["medical_questions"]),
        advice=tuple(
            (str(topic), _any(cues)) for topic, cues in rules["advice_questions"].items() if cues
        ),
        human_sections=_any(rules["human_sections"]),
        deferrals=_any(rules["deferrals"]),
        demand=re.compile(_words(rules["demand_words"])),
        beyond_policy=re.compile(_words(rules["beyond_policy_words"])),
        insistence=_any(rules["insistence"]),
        quoted_terms=tuple(
            re.compile(str(cue)) for name in rules["quoted_terms"] for cue in rules[name]
        ),
        courtesy=tuple(_courtesy(group) for group in rules["courtesy"].values()),
    )


def _rules(rules: Mapping[str, Any] | None) -> _Rules:
    return compiled_rules("message_rules", rules, _compile)


def courtesy_reply(text: str, rules: Mapping[str, Any] | None = None) -> str | None:
    """A reply to a pure greeting, thanks or acknowledgement (nothing to look up), else None.
    ``rules``: a shop's merged ``message_rules`` (default: the packaged ones)."""
    norm = re.sub(r"\s+", "", normalize(text))
    for pattern, reply in _rules(rules).courtesy:
        if pattern.match(norm):
            return reply
    return None


def order_question(text: str, rules: Mapping[str, Any] | None = None) -> bool:
    """Whether the message is about the customer's own order: a cue of ``order_questions``, an
    order id or tracking number, or a long number (10–20 digits).

    Personal data is masked first (:func:`~kefu_copilot.text._pii.redact`): a phone number
    given with a product question is not an order number, and does not by itself make the
    question a look-up (an order or waybill number keeps its label and is never masked)."""
    return _order_said(_rules(rules), normalize(redact(text).text))


def _order_said(compiled: _Rules, norm: str) -> bool:
    return bool(compiled.order.search(norm) or order_references(norm) or LONG_NUMBER.search(norm))


def payment_question(text: str, rules: Mapping[str, Any] | None = None) -> bool:
    """Whether ``text`` asks for a payment arrangement outside the checkout (分期, 货到付款):
    what the platform offers this customer at payment, so never sent as is — the knowledge
    still answers it for an agent, and a shop without it sees the gap in insights."""
    return bool(_rules(rules).payment.search(normalize(text)))


def medical_question(text: str, rules: Mapping[str, Any] | None = None) -> bool:
    """Whether the message asks if something suits a pregnancy or a medical condition (an
    answer to it is never sent as is). ``rules``: a shop's merged ``message_rules``."""
    return bool(_rules(rules).medical.search(normalize(text)))


def unquoted_term(question: str, quote: str, rules: Mapping[str, Any] | None = None) -> str | None:
    """The term of ``quoted_terms`` (a payment arrangement, a custom order…) the question turns
    on and ``quote`` does not say, or None: a quote without the term answers something else
    the question named, so an agent takes it. ``question`` in 简体; both are normalised here."""
    asked = normalize(question)
    said: str | None = None
    for pattern in _rules(rules).quoted_terms:
        found = pattern.search(asked)
        if found is None:
            continue
        said = normalize(quote) if said is None else said
        if pattern.search(said) is None:
            return found.group(0)
    return None


def advice_topic(text: str, rules: Mapping[str, Any] | None = None) -> str | None:
    """The topic of ``advice_questions`` (diagnosis, medication, treatment, legal…) the message
    asks a professional's advice on, or None: a human answers it, not the knowledge."""
    norm = normalize(text)
    return next((topic for topic, cues in _rules(rules).advice if cues.search(norm)), None)


def human_section(locator: str, rules: Mapping[str, Any] | None = None) -> bool:
    """Whether a chunk's ``locator`` places it under a heading of ``human_sections``: the
    knowledge's own list of questions its staff do not answer (not the chunk's label after
    ``·``, which is its position)."""
    headings = locator.rsplit(" · ", 1)[0]
    return bool(_rules(rules).human_sections.search(normalize(headings)))


def deferred(quote: str, rules: Mapping[str, Any] | None = None) -> bool:
    """Whether ``quote`` sends the shopper to ask a person (``deferrals``): what it leaves
    open is an agent's to answer."""
    return bool(_rules(rules).deferrals.search(normalize(quote)))


#: The ``message_rules`` classes :func:`rule_classes` names, in its order: the name of a
#: compiled pattern's field where it differs (escalation, quoted_term and advice are lists).
RULE_CLASSES = (
    "human",
    "bargaining",
    "concessions",
    "forecasts",
    "comparisons",
    "harm",
    "payment",
    "medical",
    "human_section",
    "deferral",
    "demand",
    "beyond_policy",
    "insistence",
    "escalation",
    "order",
    "quoted_term",
    "advice",
)
_FIELD = {"human_section": "human_sections", "deferral": "deferrals"}


def _said(compiled: _Rules, name: str, norm: str) -> bool:
    """Whether normalised ``norm`` says the cues of class ``name`` (of :data:`RULE_CLASSES`)."""
    if name == "escalation":
        return any(word and word in norm for word in compiled.escalation)
    if name == "quoted_term":
        return any(pattern.search(norm) for pattern in compiled.quoted_terms)
    if name == "advice":
        return any(cues.search(norm) for _, cues in compiled.advice)
    pattern: re.Pattern[str] | _AnyOf = getattr(compiled, _FIELD.get(name, name))
    return pattern.search(norm) is not None


def rule_classes(text: str, rules: Mapping[str, Any] | None = None) -> list[str]:
    """The names of the ``message_rules`` classes whose cues ``text`` says (``order``,
    ``bargaining``, ``medical``…), the hard handoffs and the softer holds alike: the prior
    features of the fitted handoff model (:mod:`._handoff_model`), not a decision."""
    norm = normalize(text)
    compiled = _rules(rules)
    return [name for name in RULE_CLASSES if _said(compiled, name, norm)]


class MessageRead:
    """The message rules read over one message (in 简体) once: :attr:`reasons` (those of
    :func:`handoff_reasons`), and what the searches made for them found, kept for the fitted
    handoff model asked next (:meth:`classes`, :meth:`order_referenced`, :meth:`long_number`,
    :meth:`money`) — each the same as that reading made afresh, searched only when not made
    yet. ``rules``: the shop's merged ``message_rules`` the reading used."""

    __slots__ = (
        "_classes",
        "_compiled",
        "_found",
        "_said",
        "_said_again",
        "again",
        "norm",
        "reasons",
        "rules",
        "text",
    )

    def __init__(self, text: str, shop: ShopConfig) -> None:
        self.text = text
        self.norm = normalize(text)
        #: the normalised text normalised again: what :func:`rule_classes` and
        #: :func:`advice_topic` search (the same text: normalising is idempotent, checked)
        self.again = normalize(self.norm)
        self.rules = shop.rule_set("message_rules")
        self._compiled = _rules(self.rules)
        self._said: dict[str, bool] = {}
        self._said_again = self._said if self.again == self.norm else {}
        self._found: dict[str, bool] = {}
        self._classes: list[str] | None = None
        self.reasons = self._reasons(shop)

    def _said_in_again(self, name: str) -> bool:
        found = self._said_again.get(name)
        if found is None:
            found = self._said_again[name] = _said(self._compiled, name, self.again)
        return found

    def classes(self) -> list[str]:
        """:func:`rule_classes` of the message, from the searches made already."""
        if self._classes is None:
            self._classes = [name for name in RULE_CLASSES if self._said_in_again(name)]
        return self._classes

    def _once(self, key: str, search: Callable[[str], object]) -> bool:
        """Whether ``search`` finds something in the normalised message, searched once."""
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = bool(search(self.norm))
        return found

    def order_referenced(self) -> bool:
        """Whether the normalised message holds an order or waybill reference."""
        return self._once("references", order_references)

    def long_number(self) -> bool:
        """Whether the normalised message holds a long number (:data:`LONG_NUMBER`)."""
        return self._once("long", LONG_NUMBER.search)

    def money(self) -> bool:
        """Whether the message says an amount of money (:func:`money_amounts`)."""
        return self._once("money", money_amounts)

    def _order(self) -> bool:
        """:func:`order_question` of the normalised message, sharing its searches: the same
        text once personal data is masked (almost every message) is the text searched."""
        redacted = normalize(redact(self.norm).text)
        if redacted != self.norm:
            return _order_said(self._compiled, redacted)
        cue = self._said["order"] = self._compiled.order.search(redacted) is not None
        return cue or self.order_referenced() or self.long_number()

    def _reasons(self, shop: ShopConfig) -> list[str]:
        # each class searched once, its finding kept for classes() (said[...] = ...)
        text, norm, compiled, said = self.text, self.norm, self._compiled, self._said
        reasons: list[str] = []
        injected = find_injection(text, shop.rule_set("injection"))
        if injected:
            reasons.append(f"message tries to instruct the assistant ({injected[:30]}); declined")
        for word in (*compiled.escalation, *shop.escalation_keywords):
            if word and normalize(word) in norm:
                reasons.append(f"escalation keyword: {word}")
                break
        if said.setdefault("human", compiled.human.search(norm) is not None):
            reasons.append("customer asks for a human agent")
        if self._order():
            reasons.append(ORDER_LOOKUP)
        if said.setdefault("bargaining", compiled.bargaining.search(norm) is not None):
            reasons.append("a counter-offer on price: an agent decides")
        if said.setdefault("concessions", compiled.concessions.search(norm) is not None):
            reasons.append("asks for terms beyond the shop's policy: an agent decides")
        if said.setdefault("forecasts", compiled.forecasts.search(norm) is not None):
            reasons.append("asks about a price the shop has not set yet: an agent answers it")
        if said.setdefault("comparisons", compiled.comparisons.search(norm) is not None):
            reasons.append("compares the shop with another shop or brand: a person answers it")
        if said.setdefault("harm", compiled.harm.search(norm) is not None):
            reasons.append("a reaction of the body after use: a possible harm, a human now")
        else:
            risks = incident_risks(text, shop.rule_set("emotion"))
            if risks:
                reasons.append(f"{' and '.join(risks)} (emotion cues): a human now")
        # advice_topic's reading (of the text normalised again), the first topic said
        topic = next((t for t, cues in compiled.advice if cues.search(self.again)), None)
        self._said_again["advice"] = topic is not None
        if topic is not None:
            reasons.append(f"asks a professional's advice ({topic}): a human answers it")
        limit = shop.compensation.max_any_yuan
        if said.setdefault("beyond_policy", compiled.beyond_policy.search(norm) is not None):
            reasons.append("compensation demand beyond policy (multiple/loss compensation)")
        elif said.setdefault("demand", compiled.demand.search(norm) is not None):
            amounts = money_amounts(norm)
            self._found["money"] = bool(amounts)
            if any(a > limit for a in amounts):
                reasons.append(
                    f"money demand {max(amounts):g} 元 is above the shop's limit of {limit:g} 元"
                )
            elif said.setdefault("insistence", compiled.insistence.search(norm) is not None):
                reasons.append("compensation demand: a human decides")
        return reasons


def handoff_reasons(text: str, shop: ShopConfig) -> list[str]:
    """Why this message must go to a human right away (empty list: no rule fired)."""
    return MessageRead(text, shop).reasons
