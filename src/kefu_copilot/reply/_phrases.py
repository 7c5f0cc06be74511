"""The phrase lists of reply drafting and the reply-style lint (``data/reply.yaml``), compiled.

The phrases and patterns are data: the packaged ``reply`` rule set, or a shop's merged one
(``ShopConfig.rule_set("reply")``: ``shop.yaml`` ``rules: {reply: {...}}``). :func:`phrases`
compiles a rule set into :class:`Phrases` once per distinct rule set; :func:`shop_phrases` is
the one of a shop. Patterns are matched on text folded by :func:`kefu_copilot.reply._models.fold`
(full-width → half-width, lower case, same length), so ``，`` is ``,`` and ``！`` is ``!``.

The upper-case module attributes of earlier versions (``ph.EMPATHY``, ``ph.POLICY_TERMS``...) still
read the packaged rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .._data import RuleCompiler, compiled, packaged_rules

if TYPE_CHECKING:
    from ..config._shop import ShopConfig

__all__ = ["CLAUSE_CLASSES", "Alternative", "PhraseRule", "Phrases", "phrases", "shop_phrases"]

_PHRASE_CODES = ("cold_phrase", "blame_shifting")
#: The clause classes a shop may list cues for, in the order they are tried.
CLAUSE_CLASSES = ("blame", "dismissal", "refusal", "filler", "answer", "action")


@dataclass(frozen=True)
class PhraseRule:
    """A cold or blaming phrase.

    ``pattern`` may name a group ``w``: only that part is replaced in a rewrite (so facts matched
    by a wildcard survive). ``soft`` replaces the phrase inside a clause that has other content;
    a clause with nothing else is dropped. ``not_before`` is searched in the clause before the
    match (a conditional "如果不行的话" is not a refusal); ``questions`` = also flag in questions.
    """

    code: str
    name: str
    pattern: str
    message: str
    suggestion: str = ""
    soft: str = ""
    not_before: str = ""
    not_after: str = ""
    questions: bool = True
    drop: bool = False


@dataclass(frozen=True)
class Alternative:
    """Something the shop allows an agent to offer, found in the knowledge by ``query``.

    Offered when ``trigger`` matches the customer's turn (or ``draft_trigger`` the agent's
    draft), unless ``covered`` already matches the reply.
    """

    name: str
    trigger: str
    query: str
    lead: str
    covered: str
    draft_trigger: str = ""


@dataclass(frozen=True, eq=False)
class Phrases:
    """One ``reply`` rule set, compiled (see ``data/reply.yaml`` for what each entry is)."""

    phrase_rules: tuple[PhraseRule, ...]
    empathy: re.Pattern[str]
    angry_cues: re.Pattern[str]
    anxious_cues: re.Pattern[str]
    closing_cues: re.Pattern[str]
    sign_off: re.Pattern[str]
    question: re.Pattern[str]
    question_end: re.Pattern[str]
    offer_end: re.Pattern[str]
    trailing_noise: re.Pattern[str]
    not_an_offer: re.Pattern[str]
    compensation_cues: re.Pattern[str]
    cash_cues: re.Pattern[str]
    multiple_promise: re.Pattern[str]
    refusal: re.Pattern[str]
    fault: re.Pattern[str]
    policy_terms: tuple[str, ...]
    promise_terms: tuple[tuple[str, ...], ...]
    openers: Mapping[str, tuple[str, ...]]
    closers: Mapping[str, tuple[str, ...]]
    alternatives: tuple[Alternative, ...]
    coupon_offer: tuple[str, ...]
    order_id: re.Pattern[str]
    date: re.Pattern[str]
    slot_placeholders: Mapping[str, re.Pattern[str]]
    #: clause class → cue name → pattern, in the order classes are tried (see data/reply.yaml)
    clause_classes: Mapping[str, Mapping[str, re.Pattern[str]]]
    address_words: re.Pattern[str]
    goodwill_coupon: bool
    quick_min_score: float
    quick_relative: float
    greeting: re.Pattern[str]
    coupon_cues: re.Pattern[str]
    bare_money: re.Pattern[str]
    conditional: re.Pattern[str]
    class_facts: tuple[str, ...] = ()
    policy_choice: str = "retrieval"
    prohibition: re.Pattern[str] = re.compile(r"(?!)")
    #: how a policy bounds a span of time: ``between``, ``within``, ``beyond`` (data/reply.yaml)
    spans: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    #: a reference to another document by name without 《》 (group ``title``: "见保修政策")
    reference: re.Pattern[str] = re.compile(r"(?!)")
    manner: re.Pattern[str] = re.compile(r"(?!)")
    negation: re.Pattern[str] = re.compile(r"(?!)")
    #: policy words → the customer's words for that topic (see data/reply.yaml topic_names)
    topic_names: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    #: how a draft addresses the shopper informally (你), and the polite form said instead (您)
    informal_you: re.Pattern[str] = re.compile(r"(?!)")
    polite_you: str = "您"
    #: a bare refusal ("No.", "不可能") said in these words when no policy states the reason
    bare_refusal: str = "很抱歉，这个情况暂时无法办理，我帮您再确认一下有没有其他办法。"
    #: a fact clause of a refusing or dismissing draft of at most this many content words, with
    #: no number, policy term or Latin letters, is a bare reason ("过保了", "系统设置的") the
    #: policy says instead
    bare_reason_words: int = 2
    #: a threshold tier of a discount ("满299减20": group ``min``) and how the tier an amount
    #: the shopper states reaches is said ({amount}, {tier})
    tier: re.Pattern[str] = re.compile(r"(?!)")
    tier_reached: str = ""
    #: a customer turn asking for a quantity (多少钱, 几天, 多久): a draft stating no number
    #: does not answer it
    asks_quantity: re.Pattern[str] = re.compile(r"(?!)")
    #: structural features of a clause read by the fitted clause model (name → pattern)
    clause_features: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    #: whom a blaming clause names: the fitted model's blame needs one (see data/reply.yaml)
    blamed: re.Pattern[str] = re.compile(r"(?!)")


def phrases(rules: Mapping[str, Any] | None = None) -> Phrases:
    """The compiled reply phrases: of ``rules`` (a shop's merged ``reply`` rule set) or the
    packaged ones. Compiled once per distinct rule set; ``ShopError`` names a bad key."""
    return compiled(packaged_rules("reply") if rules is None else rules, _compile)


def shop_phrases(shop: ShopConfig | None) -> Phrases:
    """The reply phrases of ``shop`` (its ``rules.reply`` applied), or the packaged ones."""
    return phrases(shop.rule_set("reply") if shop is not None else None)


_LEGACY = {f.name.upper(): f.name for f in fields(Phrases)}


def __getattr__(name: str) -> Any:
    """``ph.EMPATHY``, ``ph.POLICY_TERMS``...: the packaged rules, as before they were data."""
    if name in _LEGACY:
        return getattr(phrases(), _LEGACY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------- compiling
# Mappings whose keys the code reads by name: a shop may change their values, not their keys.
_KEYED = ("openers", "closers", "slot_placeholders", "clause_features", "spans")
_PATTERNS = (
    "empathy",
    "angry_cues",
    "anxious_cues",
    "closing_cues",
    "sign_off",
    "question",
    "question_end",
    "offer_end",
    "trailing_noise",
    "not_an_offer",
    "compensation_cues",
    "cash_cues",
    "multiple_promise",
    "refusal",
    "fault",
    "greeting",
    "coupon_cues",
    "bare_money",
    "conditional",
)


class _Compiler(RuleCompiler):
    """The reply rule set's patterns, and its lists of records (phrase rules, alternatives)."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        super().__init__("reply", rules)

    def records(self, key: str, kind: type[Any], patterns: tuple[str, ...]) -> list[Any]:
        """Entries of a list of mappings as ``kind``; unknown or missing fields name the entry."""
        known = {f.name: f for f in fields(kind)}
        required = [n for n, f in known.items() if f.default is MISSING]
        out = []
        for n, entry in enumerate(self.rules[key]):
            where = f"{key}[{n}]"
            check_entry(self, where, entry, known, required)
            values = {
                name: self.text(f"{where}.{name}", value)
                if name in patterns
                else value
                if isinstance(value, bool)
                else str(value)
                for name, value in entry.items()
            }
            out.append(kind(**values))
        return out


def check_entry(
    c: RuleCompiler, where: str, entry: Any, known: Iterable[str], required: Iterable[str]
) -> None:
    """One record of a rule set (a mapping): only ``known`` keys, every ``required`` one set;
    the error names ``where``."""
    known = list(known)
    if not isinstance(entry, Mapping):
        raise c.error(where, f"expected a mapping of {', '.join(known)}")
    for name in entry:
        if name not in known:
            raise c.error(f"{where}.{name}", f"unknown key; known: {', '.join(known)}")
    for name in required:
        if name not in entry:
            raise c.error(where, f"{name!r} is missing")


def unit_number(c: RuleCompiler, key: str, default: float | None = None) -> float:
    """The rule set's number ``key``, from 0 to 1 (``default`` when it is not set)."""
    value = c.rules.get(key, default) if default is not None else c.rules[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise c.error(key, f"expected a number from 0 to 1, not {value!r}")
    return float(value)


def _count(c: RuleCompiler, key: str, default: int) -> int:
    """The rule set's whole number ``key`` (0 or more; ``default`` when it is not set)."""
    value = c.rules.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise c.error(key, f"expected a whole number of 0 or more, not {value!r}")
    return value


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _compile(rules: Mapping[str, Any]) -> Phrases:
    c = _Compiler(rules)
    c.same_names(_KEYED)
    phrase_rules = c.records("phrase_rules", PhraseRule, ("pattern", "not_before", "not_after"))
    for n, rule in enumerate(phrase_rules):
        if rule.code not in _PHRASE_CODES:
            use = ", ".join(_PHRASE_CODES)
            raise c.error(f"phrase_rules[{n}].code", f"{rule.code!r}; use one of {use}")
    alternatives = c.records("alternatives", Alternative, ("trigger", "covered", "draft_trigger"))
    # read by ShopConfig.address (the one reader of a persona's form of address); compiled here
    # so that a shop's bad pattern is a ShopError naming its key when the rules are loaded
    c.key("persona_address")
    return Phrases(
        phrase_rules=tuple(phrase_rules),
        **{key: c.key(key) for key in _PATTERNS},
        policy_terms=_strings(rules["policy_terms"]),
        promise_terms=tuple(
            (str(group),) if isinstance(group, str) else _strings(group)
            for group in rules["promise_terms"]
        ),
        openers={str(k): _strings(v) for k, v in rules["openers"].items()},
        closers={str(k): _strings(v) for k, v in rules["closers"].items()},
        alternatives=tuple(alternatives),
        coupon_offer=_strings(rules["coupon_offer"]),
        order_id=c.key("order_id", re.I),
        date=c.key("date"),
        slot_placeholders={
            str(name): c.regex(f"slot_placeholders.{name}", p)
            for name, p in rules["slot_placeholders"].items()
        },
        clause_classes=_clause_classes(c),
        address_words=c.regex("address_words", _address(rules["address_words"])),
        goodwill_coupon=_flag(c, "goodwill_coupon"),
        quick_min_score=unit_number(c, "quick_min_score"),
        quick_relative=unit_number(c, "quick_relative"),
        class_facts=_strings(rules.get("class_facts", ())),
        policy_choice=_choice(c, "policy_choice", ("retrieval", "topic")),
        prohibition=c.key("prohibition"),
        reference=c.key("reference") if rules.get("reference") else Phrases.reference,
        spans={
            str(name): c.regex(f"spans.{name}", p) for name, p in (rules.get("spans") or {}).items()
        },
        manner=c.key("manner"),
        negation=c.key("negation"),
        topic_names={
            str(name): c.regex(f"topic_names.{name}", p)
            for name, p in (rules.get("topic_names") or {}).items()
        },
        bare_refusal=str(rules.get("bare_refusal") or Phrases.bare_refusal),
        bare_reason_words=_count(c, "bare_reason_words", Phrases.bare_reason_words),
        informal_you=c.key("informal_you") if rules.get("informal_you") else Phrases.informal_you,
        polite_you=str(rules.get("polite_you") or Phrases.polite_you),
        tier=c.key("tier") if rules.get("tier") else Phrases.tier,
        tier_reached=str(rules.get("tier_reached") or ""),
        asks_quantity=c.key("asks_quantity")
        if rules.get("asks_quantity")
        else Phrases.asks_quantity,
        blamed=c.regex("blamed", rules["blamed"], wrap=True)
        if rules.get("blamed")
        else Phrases.blamed,
        clause_features={
            str(name): c.regex(f"clause_features.{name}", p, wrap=True)
            for name, p in (rules.get("clause_features") or {}).items()
        },
    )


def _clause_classes(c: _Compiler) -> dict[str, dict[str, re.Pattern[str]]]:
    """``clause_classes``: known classes only, each a mapping of cue name → pattern(s)."""
    classes = c.rules["clause_classes"]
    if not isinstance(classes, Mapping):
        raise c.error("clause_classes", "expected a mapping of class → {cue name: pattern}")
    out: dict[str, dict[str, re.Pattern[str]]] = {}
    for kind in classes:
        if kind not in CLAUSE_CLASSES:
            raise c.error(
                f"clause_classes.{kind}", f"unknown class; known: {', '.join(CLAUSE_CLASSES)}"
            )
    for kind in CLAUSE_CLASSES:
        cues = classes.get(kind) or {}
        if not isinstance(cues, Mapping):
            raise c.error(f"clause_classes.{kind}", "expected a mapping of cue name → pattern(s)")
        out[kind] = {
            str(name): c.regex(f"clause_classes.{kind}.{name}", pattern, wrap=True)
            for name, pattern in cues.items()
        }
    return out


def _address(words: Any) -> str:
    """Address words at the start of a text, with the punctuation after them."""
    alternatives = "|".join(re.escape(str(w)) for w in words)
    return rf"^\s*(?:(?:{alternatives})(?:[\s,，!！~～]+|$))+"


def _choice(c: _Compiler, key: str, known: tuple[str, ...]) -> str:
    value = c.rules.get(key, known[0])
    if value not in known:
        raise c.error(key, f"expected one of {', '.join(known)}, not {value!r}")
    return str(value)


def _flag(c: _Compiler, key: str) -> bool:
    value = c.rules[key]
    if not isinstance(value, bool):
        raise c.error(key, f"expected true or false, not {value!r}")
    return value
