"""Claims of a reply and whether the cited knowledge entails them — one checker for LLM answers,
reply drafts (``suggest_reply``) and the reply lint's ``unsupported_fact``.

A reply is split into clauses; each clause is a :class:`Claim`: its quantities, normalised by
:func:`kefu_copilot.text._numbers.measures` (九五折 = 95折, 一周 = 7天, 下午四点 = 16:00), its
polarity (可以/不可以, 支持/不支持, 包邮/不包邮, 需要/不需要, 免费/自费 — ``data/claims.yaml``), the
subject it is about (a member tier, a region, a mode, a product code, inherited from the clauses
before it and from the question when the clause names none) and whether it is an offer (送, 保证,
赔偿 ...).

Entailment is pluggable (:class:`Entailment`): :class:`RuleEntailment` (the default) reads the
cited passages as units (lines, sentences, table rows) and, for each quantity, looks for a unit
stating a compatible value about the same subject; a unit about the claim's subject stating
another value, or the value found only on a sibling subject (金卡 where the claim says 银卡), is a
contradiction. A polar clause is compared with the passage clause that shares most of its words.
:class:`LLMEntailment` asks an LLM for a second opinion, which may only make verdicts stricter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import cached_property, lru_cache
from typing import Any, Literal, Protocol, TypeVar, cast

from .._data import compiled, packaged_rules
from ..config._shop import ShopConfig
from ..text._numbers import Measure, fold, measures, numbers_in

_T = TypeVar("_T")

__all__ = [
    "Claim",
    "ClaimCheck",
    "ClaimChecker",
    "ClaimVerdict",
    "Entailment",
    "LLMEntailment",
    "RuleEntailment",
    "Verdict",
    "claim_rules",
    "focused",
    "money_beyond_limits",
]

Verdict = Literal["entailed", "contradicted", "unsupported", "neutral"]
_STRICTNESS: dict[str, int] = {"entailed": 0, "neutral": 1, "unsupported": 2, "contradicted": 3}

#: a tilde ends a clause ("好的亲~"), unless it joins the ends of a range (0.5~1cm)
_TILDE = r"(?<![\d.])[~～]+|[~～]+(?![\d.])"
#: the marks that end a clause (and a sentence)
_CLAUSE_MARKS = r"[，,；;。！!？?\n]"
_CLAUSE = re.compile(rf"{_CLAUSE_MARKS}+|{_TILDE}|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_UNIT = re.compile(r"[。！!？?；;\n]+")
#: a parenthesis within a clause (补差价¥15（偏远地区不支持顺丰）)
_ASIDE = re.compile(r"[（(]([^（()）]+)[)）]?")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
#: A run of code characters, from its first letter or digit (group 1): a product code or model
#: name is such a run with a digit and a letter (K87, 16A, 41mm). The run is found once and then
#: checked, not checked from each of its characters: a lookahead at every start made a run of
#: "1-1-1-…" quadratic (0.7 s of a 4,000-character draft's lint).
_CODE_RUN = re.compile(r"(?<![a-z0-9.-])[.-]*([a-z0-9][a-z0-9.-]*)")
_HAS_DIGIT, _HAS_LETTER = re.compile(r"[0-9]"), re.compile(r"[a-z]")


def _code_matches(text: str) -> list[re.Match[str]]:
    """The runs of ``text`` naming a code (group 1: the code), in order."""
    return [
        m
        for m in _CODE_RUN.finditer(text)
        if _HAS_DIGIT.search(m.group(1)) and _HAS_LETTER.search(m.group(1))
    ]


_STOP_CHARS = set(
    "的了吗呢哦啊呀吧哈啦亲您你我他她它们是在也都就还和与及或等很最更个这那有要可以能"
)
_STOP_CHARS |= set("一二两三四五六七八九十百千万零半几每")


@dataclass(frozen=True)
class Claim:
    """One clause of a reply and what it states.

    ``subjects``: subject keys (``tier:金卡``, ``region:新疆``, ``code:41mm``, ``mode:降噪:on``)
    the clause is about (its own, else inherited); ``words``: its content bigrams, to align it
    with the knowledge; ``polarity``: (family, positive?) pairs; ``offer``: it promises
    something (a gift, a guarantee, compensation)."""

    text: str
    span: tuple[int, int]
    measures: tuple[Measure, ...] = ()
    polarity: tuple[tuple[str, bool], ...] = ()
    subjects: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    codes: tuple[str, ...] = ()
    numbers: tuple[float, ...] = ()  # bare numbers, without a unit
    offer: bool = False
    #: the subjects the reply itself names (not only the question): a reply naming 童鞋 on a
    #: 运动鞋 page states another product's value; a question's word (口红 on a 唇膏 page, 外套
    #: on a 羽绒服 page) is the customer's name for the page's product
    stated: tuple[str, ...] = ()
    #: what a clause with (almost) no words of its own is about: the words of its sentence's
    #: clauses before it and the question's ("5楼一共50元" after "无电梯每层10元")
    topic: frozenset[str] = frozenset()
    #: the question's content words: what every clause of the reply answers ("新疆运费多少":
    #: 不满收8元运费 is about 新疆's fee)
    asked: frozenset[str] = frozenset()
    #: options of a choice it names (手洗, 顺丰, 电子发票 — ``alternatives``)
    options: tuple[str, ...] = ()
    #: the words of the clauses before it in its sentence that state a condition and no yes or
    #: no of their own: the case its yes or no is said of ("如果签收1年内出现严重钻绒，不可以申请
    #: 免费维修")
    frame: frozenset[str] = frozenset()
    #: its folded text with the standard of an equality masked (充电线＿＿＿＿＿保修1年 of
    #: 充电线和主机一样保修1年): the names it says its values of; empty when it has none
    own: str = ""

    @cached_property
    def values(self) -> frozenset[tuple[str, float, float]]:
        """The values it states, as (dimension, low, high): read once a claim, not once per
        value checked (a clause of 2,000 amounts made the check quadratic)."""
        return frozenset((m.dim, m.low, m.high) for m in self.measures)

    @cached_property
    def dims(self) -> frozenset[str]:
        """The dimensions of the values it states."""
        return frozenset(m.dim for m in self.measures)

    @property
    def only_options(self) -> bool:
        """Whether all it states the knowledge could judge is an option it names (顺丰冷运…)."""
        return bool(self.options) and not (
            self.measures or self.polarity or self.codes or self.numbers or self.offer
        )

    @property
    def checkable(self) -> bool:
        """Whether the clause states something the knowledge can confirm or refute."""
        return bool(
            self.measures
            or self.polarity
            or self.codes
            or self.numbers
            or self.offer
            or self.options
        )


@dataclass(frozen=True)
class ClaimVerdict:
    claim: Claim
    verdict: Verdict
    reason: str = ""


def _word_share(claims: Sequence[Claim], passages: Sequence[str]) -> float:
    """The share of the claims' words (character pairs) ``passages`` say too (0 without any)."""
    said = frozenset().union(*(c.words for c in claims))
    known = frozenset().union(*(_bigrams(fold(p)) for p in passages))
    return len(said & known) / len(said) if said else 0.0


@dataclass
class ClaimCheck:
    """The verdicts on a reply's claims, whether it answers at all, and money beyond limits."""

    verdicts: list[ClaimVerdict] = field(default_factory=list)
    answers: bool = True
    non_answer: str = ""  # why the reply is not an answer
    over_limit: list[str] = field(default_factory=list)
    #: with no verdict at all: the share of the reply's words the cited knowledge says too (a
    #: sentence of the knowledge restated says what it says; "稍等，我去问问同事" says nothing of it)
    worded: float = 1.0
    #: the reply's clauses (checkable or not), for the decision model's measures
    claims: list[Claim] = field(default_factory=list)
    #: the share of the question's content words the reply says (0 with none asked)
    asked: float = 0.0
    #: the passages the reply was judged against (as read): :attr:`said` is counted on them
    passages: list[str] = field(default_factory=list, repr=False)
    _said: float | None = field(default=None, repr=False, compare=False)

    @property
    def said(self) -> float:
        """The share of the reply's words the cited knowledge says too, whatever the verdicts:
        counted when first read (the decision model's measure; ``worded`` without verdicts)."""
        if self._said is None:
            self._said = _word_share(self.claims, self.passages)
        return self._said

    def of(self, verdict: Verdict) -> list[ClaimVerdict]:
        return [v for v in self.verdicts if v.verdict == verdict]

    @property
    def contradicted(self) -> list[ClaimVerdict]:
        return self.of("contradicted")

    @property
    def unsupported(self) -> list[ClaimVerdict]:
        return self.of("unsupported")

    @property
    def entailed(self) -> list[ClaimVerdict]:
        return self.of("entailed")

    @property
    def grounded(self) -> bool:
        """Every checkable claim entailed, at least one of them, an answer, nothing over limit."""
        return (
            self.answers
            and not self.over_limit
            and bool(self.entailed)
            and all(v.verdict in ("entailed", "neutral") for v in self.verdicts)
        )


# ------------------------------------------------------------------------------ the rules
@dataclass(frozen=True)
class _YesNo:
    ask: re.Pattern[str]  # a key asking yes or no; group "what": what it asks (是否「有售」)
    yes: frozenset[str]
    no: frozenset[str]
    #: the asking words themselves, anywhere (能否报销请咨询…: whether, not a yes)
    asking: re.Pattern[str] | None = None


@dataclass(frozen=True)
class _Choices:
    """Options of one choice (``alternatives``: 手洗 / 机洗 / 干洗) and what restricts a choice to
    the options it names (``restrict``: 仅限手洗, 建议干洗)."""

    names: Mapping[str, tuple[str, str]]  # a name → (its choice, its option's first name)
    options: Mapping[str, tuple[str, ...]]  # a choice → its options' first names
    mention: re.Pattern[str]  # any option's name
    only: re.Pattern[str] | None  # a hard restriction right before an option (仅限, 只能走)
    advised: re.Pattern[str] | None  # a recommendation right before an option (建议)
    denied: re.Pattern[str]  # a no right before an option (不可机洗, 请勿用洗衣机)


@dataclass(frozen=True)
class _Rules:
    negative: tuple[tuple[str, re.Pattern[str]], ...]
    positive: tuple[tuple[str, re.Pattern[str]], ...]
    not_negator: re.Pattern[str]
    not_cue: re.Pattern[str]
    subjects: tuple[tuple[str, re.Pattern[str]], ...]
    mode: re.Pattern[str]
    mode_on: frozenset[str]
    filler: re.Pattern[str]
    uncertain: re.Pattern[str]
    asks: tuple[tuple[str, re.Pattern[str]], ...]
    answer_dims: Mapping[str, frozenset[str]]
    answer_labels: Mapping[str, re.Pattern[str]]
    offer: re.Pattern[str]
    cue_words: re.Pattern[str]
    strong_cue: re.Pattern[str]  # cues of two characters or more (支持, 不可以), not 能 / 可
    negated_before: re.Pattern[str]  # a negator and what may stand before the word it negates
    label_keys: frozenset[str]
    exclusion: re.Pattern[str] | None  # what a clause excludes (除偏远地区外)
    value_cell: re.Pattern[str] | None  # a cell whose key gives a bare number's unit
    value_dims: Mapping[str, str]  # key → dimension
    arithmetic: Mapping[str, re.Pattern[str]]  # operation → what says a clause performs it
    same: Mapping[str, str]  # a subject's other name → the name its group is known by
    comparison: Mapping[str, re.Pattern[str]]  # "more" / "less": which way a comparison goes
    short_of: re.Pattern[str] | None  # a threshold not reached (不满99元)
    yes_no: _YesNo | None = None  # cells answering a yes-no key (是否有售：否)
    choices: _Choices | None = None  # options of one choice (手洗 / 机洗) and what restricts it
    payer: re.Pattern[str] | None = None  # who pays (店铺承担, 买家自己承担): a yes or no of free
    #: the words a polarity word is about besides its own (包邮 → 运费), with what names them
    cue_objects: tuple[tuple[str, re.Pattern[str]], ...] = ()
    #: a hard restriction (仅限, 只能): a sentence restricting to subjects it lists ("仅限杭州、上海、
    #: 苏州市区") says nothing for their siblings it leaves out
    only: re.Pattern[str] | None = None
    #: the one-character modals that may stand between a negator and its verb (不会显示)
    modals: str = ""
    #: verbs of taking part that pass a negator on to what follows (不享受会员折扣)
    takes_part: frozenset[str] = frozenset()
    #: verbs of having (具备, 有): a negator before one says no to its object
    having: frozenset[str] = frozenset()
    #: verbs of undertaking an act (负责, 帮): a negator before one says the act is not done
    undertakes: frozenset[str] = frozenset()
    #: verbs of suspending an act (暂停): like a negator, one says the act after it is not done
    suspends: frozenset[str] = frozenset()
    #: a parenthesis stating an exception ("定金不退（因商家原因无法发货除外）"): its yes or no
    #: is the other case's, not the clause's
    exception: re.Pattern[str] | None = None
    #: the words that end such a parenthesis (除外, 例外): not what the exception is about
    exception_words: tuple[str, ...] = ()
    #: what makes a clause a condition of the clauses after it (如果…, …的情况下)
    condition: re.Pattern[str] | None = None
    #: a sentence ending in a question particle without a question mark (an FAQ's "上了牌还能
    #: 退吗"): a question, like one ending in ？
    question_end: re.Pattern[str] | None = None
    #: kinds of offer (``offer_kinds``: gift, money, refund, discount, service, promise), in
    #: order, each with the words that make one
    offer_kinds: tuple[tuple[str, re.Pattern[str]], ...] = ()
    #: what marks a head of an enumeration as a frame (下单后, 满, 超过) rather than a subject
    not_head: re.Pattern[str] | None = None
    #: what sends the reader to another text (详见, 见《): a clause doing so outside a
    #: parenthesis (可配送地区见《配送说明》) states no yes or no of its own
    reference: re.Pattern[str] | None = None
    #: the standard of an equality (充电线和主机一样保修1年: 和主机一样): what the clause says is
    #: said of its own subject, the standard names no subject of it
    equal_to: re.Pattern[str] | None = None
    #: terms of an unbounded value (终身, 永久) a clause states with no digits: the knowledge must
    #: state the term itself, of what the clause is about
    unbounded: re.Pattern[str] | None = None
    #: (reading, text) → what the reading gives (:func:`_remembered`), per rule set: a checker
    #: reads each cited clause's polarity and its words said not done once per claim of a
    #: reply (a recommendation of three products' facts: dozens of claims, the same clauses)
    readings: dict[tuple[str, str], Any] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


#: a case a clause says is not its own (不是质量问题的话, 非人为损坏, 不属于质量问题)
_NOT_THE_CASE = re.compile(r"(?:不是|不属于|并非|非)([\u4e00-\u9fff]{2,8})")
#: what negates the word after it (未拆封, 不可以, 没有洗过)
_NEGATOR = "没有|不|没|未|无|别|非"


def _alternation(items: Iterable[Any]) -> str:
    return "|".join(sorted((str(i) for i in items), key=len, reverse=True))


def _payer_cues(spec: Mapping[str, Any] | None) -> dict[bool, list[str]]:
    """The ``free`` family's cues the ``payers`` classes give: a payer of the shop's side (yes,
    free) or of the customer's (no) with a paying verb — one that needs what is paid after it
    (``pays_ending``) only where that follows or the clause ends."""
    out: dict[bool, list[str]] = {True: [], False: []}
    if not spec:
        return out
    between = _alternation(spec.get("between") or [])
    bridge = f"(?:{between})?" if between else ""
    paid = _alternation(spec.get("paid") or [])
    verbs = [_alternation(spec["pays"])] if spec.get("pays") else []
    if spec.get("pays_ending"):
        after = f"(?:{paid})|" if paid else ""
        verbs.append(f"(?:{_alternation(spec['pays_ending'])})(?={after}[^\u4e00-\u9fffa-z0-9]|$)")
    if not verbs:
        return out
    verb = "|".join(f"(?:{v})" for v in verbs)
    # a party after a word marking whom an act is for (给您报销, 为您承担) is not the payer
    marks = "".join(re.escape(m) for m in spec.get("beneficiary") or [] if len(m) == 1)
    not_for = f"(?<![{marks}])" if marks else ""
    for side, key in ((True, "shop"), (False, "customer")):
        if spec.get(key):
            out[side].append(f"{not_for}(?:{_alternation(spec[key])}){bridge}(?:{verb})")
    return out


def _gap(rules: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    """What ``negator_gap`` lets stand between a negator and its verb: the one-character modals
    of its character class (不会显示) and its verbs of taking part (不享受会员折扣)."""
    gap = str(rules.get("negator_gap") or "")
    modals = re.findall(r"\[([^\]]*)\]", gap)
    verbs = re.findall(r"[\u4e00-\u9fff]{2,}", re.sub(r"\[[^\]]*\]", "", gap))
    return (modals[0] if modals else ""), frozenset(verbs)


def _build(rules: Mapping[str, Any]) -> _Rules:
    negative, positive, cues = [], [], []
    value_dims = {
        str(key).lower(): str(dim)
        for dim, keys in (rules.get("value_keys") or {}).items()
        for key in keys or []
    }
    payers = _payer_cues(rules.get("payers"))
    modals, takes_part = _gap(rules)
    only = (rules.get("restrict") or {}).get("only")
    for family, sides in rules["polarity"].items():
        no = [*(sides.get("negative") or []), *(payers[False] if family == "free" else [])]
        yes = [*(sides.get("positive") or []), *(payers[True] if family == "free" else [])]
        negative.append((family, re.compile(_alternation(no))))
        positive.append((family, re.compile(_alternation(yes))))
        cues += [*no, *yes]
    subjects = rules["subjects"]
    kinds = [
        (kind, re.compile(rf"(?:{_alternation(words)})", re.I))
        for kind, words in subjects.items()
        if kind not in ("mode_on", "mode_off") and words
    ]
    on, off = (
        _alternation(subjects.get("mode_on") or []),
        _alternation(subjects.get("mode_off") or []),
    )
    mode = re.compile(
        rf"(?P<a>{on}|{off})(?P<x>[\u4e00-\u9fff]{{2}})|(?P<y>[\u4e00-\u9fff]{{2}})(?P<b>{on}|{off})"
    )
    return _Rules(
        negative=tuple(negative),
        positive=tuple(positive),
        not_negator=re.compile(_alternation(rules["not_negators"])),
        not_cue=re.compile(_alternation(rules["not_cues"])),
        subjects=tuple(kinds),
        mode=mode,
        mode_on=frozenset(str(w) for w in subjects.get("mode_on") or []),
        filler=re.compile(rf"(?:{_alternation(rules['filler'])})"),
        uncertain=re.compile(_alternation(rules["uncertain"])),
        asks=tuple((dim, re.compile(_alternation(cues_))) for dim, cues_ in rules["asks"].items()),
        answer_dims={
            dim: frozenset([dim, *map(str, also)]) for dim, also in rules["answer_dims"].items()
        },
        answer_labels={dim: re.compile(str(p)) for dim, p in rules["answer_labels"].items()},
        offer=re.compile(_alternation(rules["offer_cues"])),
        cue_words=re.compile(_alternation(cues)),
        strong_cue=re.compile(_alternation(c for c in cues if len(str(c)) >= 2)),
        negated_before=re.compile(
            rf"(?:{_NEGATOR}){rules.get('negator_gap') or ''}"
            + (f"(?:{_alternation(rules['undertakes'])})?" if rules.get("undertakes") else "")
            + "$"
        ),
        label_keys=frozenset(str(k).lower() for k in rules.get("label_keys") or []),
        exclusion=(
            re.compile("|".join(map(str, rules["exclusions"]))) if rules.get("exclusions") else None
        ),
        value_cell=(
            re.compile(
                rf"(?<![\u4e00-\u9fffa-z])(?P<key>{_alternation(value_dims)})\s*[:：]\s*"
                r"[¥￥]?\s*(?P<n>\d+(?:\.\d+)?)(?![\d.a-z%\u4e00-\u9fff])"
            )
            if value_dims
            else None
        ),
        value_dims=value_dims,
        same={
            str(word).lower(): str(group[0]).lower()
            for group in rules.get("same_subject") or []
            for word in group
        },
        short_of=(
            re.compile(rf"(?:{_alternation(rules['short_of'])})\s*$")
            if rules.get("short_of")
            else None
        ),
        comparison={
            str(way): re.compile(_alternation(words))
            for way, words in (rules.get("comparison") or {}).items()
            if words
        },
        arithmetic={
            str(op): re.compile(_alternation(cues))
            for op, cues in (rules.get("arithmetic") or {}).items()
            if cues
        },
        yes_no=_yes_no(rules.get("yes_no")),
        payer=(
            re.compile("|".join(payers[True] + payers[False]))
            if payers[True] or payers[False]
            else None
        ),
        cue_objects=tuple(
            (str(word), re.compile(_alternation(names)))
            for word, names in (rules.get("cue_objects") or {}).items()
            if names
        ),
        modals=modals,
        takes_part=takes_part,
        having=frozenset(str(v) for v in rules.get("having") or ()),
        undertakes=frozenset(str(v) for v in rules.get("undertakes") or ()),
        suspends=frozenset(str(v) for v in rules.get("suspends") or ()),
        only=re.compile(_alternation(only)) if only else None,
        exception=(
            re.compile(rf"[（(][^（()）]*(?:{_alternation(rules['exceptions'])})[)）]")
            if rules.get("exceptions")
            else None
        ),
        exception_words=tuple(str(w) for w in rules.get("exceptions") or []),
        condition=(
            re.compile(_alternation(rules["conditions"])) if rules.get("conditions") else None
        ),
        question_end=(
            re.compile(rf"(?:{_alternation(rules['question_particles'])})\s*$")
            if rules.get("question_particles")
            else None
        ),
        offer_kinds=tuple(
            (str(kind), re.compile(_alternation(words)))
            for kind, words in (rules.get("offer_kinds") or {}).items()
            if words
        ),
        not_head=(re.compile(_alternation(rules["not_heads"])) if rules.get("not_heads") else None),
        reference=(
            re.compile(_alternation(rules["references"])) if rules.get("references") else None
        ),
        equal_to=(re.compile(_alternation(rules["equal_to"])) if rules.get("equal_to") else None),
        unbounded=(
            re.compile(_alternation(rules["unbounded"])) if rules.get("unbounded") else None
        ),
        choices=_choices(
            rules.get("alternatives"),
            rules.get("restrict"),
            [c for sides in rules["polarity"].values() for c in sides.get("negative") or []],
        ),
    )


#: what may stand between a restriction and the option it restricts (建议30℃以下冷水手洗, 只能走陆运):
#: no word of its own but a measure's, a verb of sending or using, or another choice's option
_RESTRICT_GAP = r"(?:[^，,。；;、！!？?\n\u4e00-\u9fff]|以下|以内|走|用|发|寄|开|开具|使用|选|选择|{names}){{0,6}}$"


def _choices(
    groups: Mapping[str, Any] | None, restrict: Mapping[str, Any] | None, no: Sequence[str]
) -> _Choices | None:
    if not groups:
        return None
    names: dict[str, tuple[str, str]] = {}
    options: dict[str, tuple[str, ...]] = {}
    for choice, items in groups.items():
        firsts = []
        for option in items or []:
            spelled = [str(n).lower() for n in (option if isinstance(option, list) else [option])]
            firsts.append(spelled[0])
            for name in spelled:
                names[name] = (str(choice), spelled[0])
        options[str(choice)] = tuple(firsts)
    every = _alternation(re.escape(n) for n in names)
    gap = _RESTRICT_GAP.format(names=every)

    def before(key: str) -> re.Pattern[str] | None:
        cues = (restrict or {}).get(key) or []
        return re.compile(f"(?:{_alternation(cues)}){gap}") if cues else None

    denied = re.compile(
        rf"(?:{_alternation(no)}|{_NEGATOR})[能可以再也都会得还要用]{{0,3}}$"
        if no
        else rf"(?:{_NEGATOR})$"
    )
    return _Choices(names, options, re.compile(every), before("only"), before("advised"), denied)


def _yes_no(spec: Mapping[str, Any] | None) -> _YesNo | None:
    if not spec or not spec.get("ask"):
        return None
    return _YesNo(
        ask=re.compile(
            rf"(?:{_alternation(spec['ask'])})(?P<what>[\u4e00-\u9fffa-z]{{1,10}}?)(?=\s*[：:]|[，,]|$)"
        ),
        yes=frozenset(str(w).lower() for w in spec.get("says_yes") or []),
        no=frozenset(str(w).lower() for w in spec.get("says_no") or []),
        asking=re.compile(_alternation(spec["ask"])),
    )


def claim_rules(shop: ShopConfig | None = None) -> _Rules:
    """The compiled ``claims`` rule set (packaged, with the shop's extension)."""
    rules = shop.rule_set("claims") if shop is not None else packaged_rules("claims")
    return compiled(rules, _build)


#: where a clause ends: what a restriction's "no" to the options left out is written after
_CLAUSE_END = re.compile(_CLAUSE_MARKS)


@dataclass(frozen=True)
class _Mention:
    """An option of a choice a text names: denied (不可机洗), restricted to (仅限手洗: "only";
    建议干洗: "advised") or neither."""

    choice: str
    option: str
    end: int
    denied: bool
    restricted: str | None


def _mentions(rules: _Rules, text: str) -> list[_Mention]:
    """The options of a choice ``text`` (folded) names, each with what stands before it."""
    choices = rules.choices
    if choices is None:
        return []
    out = []
    for m in choices.mention.finditer(text):
        choice, option = choices.names[m.group()]
        start = max((text.rfind(ch, 0, m.start()) for ch in "，,；;。！!？?\n、"), default=-1)
        before = text[max(start + 1, m.start() - 12) : m.start()]
        restricted = next(
            (
                kind
                for kind, pattern in (("only", choices.only), ("advised", choices.advised))
                if pattern is not None and pattern.search(before)
            ),
            None,
        )
        out.append(
            _Mention(choice, option, m.end(), bool(choices.denied.search(before)), restricted)
        )
    return out


def _restrictions_written(rules: _Rules, sentence: str) -> str:
    """A sentence restricting a choice, with its "no" to the options it leaves out written after
    the clause restricting it: "洗涤：仅限手洗" → "洗涤：仅限手洗，不可机洗，不可干洗", "建议干洗或手洗" →
    "…，不建议机洗" — so that a reply's 可以机洗 meets the no the knowledge says in other words."""
    found = _mentions(rules, sentence)
    if rules.choices is None or not any(m.restricted and not m.denied for m in found):
        return sentence
    named = {(m.choice, m.option) for m in found}
    inserts: dict[int, list[str]] = {}
    for m in found:
        if m.denied or m.restricted is None:
            continue
        cue = "不可" if m.restricted == "only" else "不建议"
        end = _CLAUSE_END.search(sentence, m.end)
        at = end.start() if end else len(sentence)
        for option in rules.choices.options[m.choice]:
            if (m.choice, option) not in named:
                named.add((m.choice, option))
                inserts.setdefault(at, []).append(f"，{cue}{option}")
    for at in sorted(inserts, reverse=True):
        sentence = sentence[:at] + "".join(inserts[at]) + sentence[at:]
    return sentence


# ------------------------------------------------------------------------------ reading text
#: a code whose parts a hyphen joins, one of them with a digit (HK-B30, KF-T-03). It starts
#: where a run of letters and digits starts: tried from inside a run too, a long run with no
#: hyphen ("aaaa…", a pasted log) costs its length squared — and no match starts there that
#: would not have started at the run's start (tests/test_fuzz.py, LONG_RUNS)
_HYPHENATED_CODE = re.compile(r"(?<![a-z0-9])[a-z0-9]+(?:-[a-z0-9]+)+")


def _blank_code(m: re.Match[str]) -> str:
    return " " if _HAS_DIGIT.search(m.group()) else m.group()


#: a model code starting with a letter (HU-4L, KF-T-03): no quantity is written inside it
_LETTERED_CODE = re.compile(r"(?<![a-z0-9])[a-z][a-z0-9]*(?:-[a-z0-9]+)+", re.I)


def _outside_codes(text: str, found: list[Measure]) -> list[Measure]:
    """The quantities of ``text`` but those read inside a model code (the -4L of HU-4L)."""
    if "-" not in text or not found:
        return found
    codes = [m.span() for m in _LETTERED_CODE.finditer(text)]
    return [q for q in found if not any(a <= q.span[0] and q.span[1] <= b for a, b in codes)]


def _bigrams(text: str) -> frozenset[str]:
    """Content bigrams of the Chinese runs and ASCII words (siri, homekit) of ``text`` — not the
    parts of a code (K87, and HK-B30's HK: a code names its subject, it says no word)."""
    out = {
        w
        for w in re.findall(r"[a-z][a-z0-9]+", _HYPHENATED_CODE.sub(_blank_code, text.lower()))
        if not re.search(r"\d", w)
    }
    for run in _CJK.findall(text):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair[0] not in _STOP_CHARS and pair[1] not in _STOP_CHARS:
                out.add(pair)
    return frozenset(out)


def _objects(rules: _Rules, text: str) -> frozenset[str]:
    """The words ``text``'s polarity words are about besides their own (包邮 → 运费)."""
    return frozenset(
        pair for word, names in rules.cue_objects if names.search(text) for pair in _bigrams(word)
    )


def _strip_measures(text: str) -> str:
    for m in measures(text):
        text = text.replace(m.text, " ")
    return text


def _strip_cues(rules: _Rules, text: str) -> str:
    """The text without its polarity words (可以, 不支持 ...), keeping what they are about; who
    pays (买家自己承担) is the polarity itself, whatever its length."""
    if rules.payer is not None:
        text = rules.payer.sub(" ", text)
    return rules.cue_words.sub(lambda m: " " if len(m.group()) <= 4 else m.group(), text)


def _mode_keys(rules: _Rules, text: str) -> list[str]:
    keys = []
    for m in rules.mode.finditer(text):
        switch, thing = (
            (m.group("a"), m.group("x")) if m.group("a") else (m.group("b"), m.group("y"))
        )
        keys.append(f"mode:{thing}:{'on' if switch in rules.mode_on else 'off'}")
    return keys


@dataclass(frozen=True)
class _Labels:
    """The knowledge's own subject labels: values of the ``label_keys`` cells (规格：大果) that
    take two or more values across the passages, each with its key (siblings share a key)."""

    keys: Mapping[str, str] = field(default_factory=dict)  # label → key
    pattern: re.Pattern[str] | None = None

    def find(self, text: str) -> list[str]:
        if self.pattern is None:
            return []
        return [
            f"{self.keys[m.group()]}:{m.group()}"
            for m in self.pattern.finditer(text)
            if m.group() in self.keys
        ]

    def composed(self, subjects: Iterable[str], clause: str) -> list[str]:
        """The labels a clause names by the part it adds to a subject in force: 袖带 after
        血压计 is the 血压计袖带 row's (a label holding the subject's name and, besides it, two
        or more characters the clause says)."""
        out = []
        for subject in subjects:
            key, _, name = subject.partition(":")
            for label, owner in self.keys.items():
                rest = label.replace(name, "", 1) if name and name in label else ""
                if (
                    owner == key
                    and label != name
                    and len(rest) >= 2
                    and _CJK.search(rest)
                    and rest in clause
                ):
                    out.append(f"{owner}:{label}")
        return list(dict.fromkeys(out))


_NO_LABELS = _Labels()
_LABEL_VALUE = re.compile(r"[^，,；;。！!？?\n：:（(）)]{2,12}")


def _knowledge_labels(rules: _Rules, passages: Iterable[str]) -> _Labels:
    """The labels the knowledge's cells give (规格：中果 / 大果 / 特大果 — where values sit)."""
    if not rules.label_keys:
        return _NO_LABELS
    keys = _alternation(rules.label_keys)
    cell = re.compile(rf"(?<![\u4e00-\u9fffa-z])({keys})\s*[：:]\s*({_LABEL_VALUE.pattern})")
    first = re.compile(rf"^\s*([^，,；;。：:\s]{{1,12}})\s*[：:]\s*({_LABEL_VALUE.pattern})")
    values: dict[str, set[str]] = {}
    cells = [m for passage in passages for m in cell.finditer(fold(passage))]
    for m in cells + _label_column(passages, first):
        value = m.group(2).strip()
        # "name：充电版 奶白": each word is a label of its own, siblings by position
        words = value.split()
        for at, word in enumerate(words):
            # a label may hold a count (两件装, 5斤装) but is more than a measure
            if _CJK.search(_strip_measures(word)) and len(word) >= 2:
                key = m.group(1) if len(words) == 1 else f"{m.group(1)}#{at}"
                values.setdefault(key, set()).add(word)
    owner: dict[str, str] = {}
    for key, found in values.items():
        if len(found) >= 2:
            for value in found:
                owner.setdefault(value, key)
    for item in _member_labels(rules, passages):
        owner.setdefault(item, MEMBER)
    if not owner:
        return _NO_LABELS
    # the labels are the knowledge's text, not patterns: "豆腐砂+" or "(大)" must match as written
    return _Labels(owner, re.compile(_alternation(re.escape(label) for label in owner)))


#: the key of the labels the knowledge's lists of a kind's members give (冷链商品（车厘子、草莓）)
MEMBER = "member"
#: what a kind's name may end in besides its stem (大件商品 is named 大件 too)
_KIND_SUFFIX = re.compile(r"(?:商品|产品|货品|类)$")


#: what marks a state or a condition rather than a thing (未拆封, 不含运费险, 无法充电)
_STATE = re.compile(_NEGATOR)


def _member_names(item: str) -> list[str]:
    """The names a listed member goes by: itself, and each name of two written together with
    one head (筒灯射灯: 筒灯, 射灯 — both end in the last character, each two or more long)."""
    out = [item]
    head = item[-1]
    for cut in range(2, len(item) - 1):
        first, second = item[:cut], item[cut:]
        if first.endswith(head) and len(second) >= 2:
            out += [first, second]
            break
    return out


def _member_labels(rules: _Rules, passages: Iterable[str]) -> list[str]:
    """The items the knowledge lists as members of a kind in parentheses (冷链商品（车厘子、
    草莓、蓝莓）, 小件（台灯、筒灯射灯）) that no rule names as a subject: labels of one key, so
    a value the knowledge gives one of them (or its kind) is not another's. Regions, tiers and
    the like listed so are subjects already."""
    out: list[str] = []
    for item, kinds in _memberships(passages).items():
        # a parenthesis spelling out a state or a condition (礼盒未拆封（罐口封膜完好、外盒齐全）,
        # 质量问题（无法充电、不开机）) lists no things: a negator or a yes or no in it says so
        if any(_STATE.search(text) or rules.cue_words.search(text) for text in (item, *kinds)):
            continue
        if _subjects(rules, item):
            continue
        out += _member_names(item)
    return list(dict.fromkeys(out))


def _kind_named(kind: str, clause: str) -> bool:
    """Whether ``clause`` names the kind (大件商品 also as 大件)."""
    stem = _KIND_SUFFIX.sub("", kind)
    return kind in clause or (len(stem) >= 2 and stem in clause)


def _label_column(passages: Iterable[str], first: re.Pattern[str]) -> list[re.Match[str]]:
    """The first cells of table rows that label their row, whatever their key (清扫模式：标准,
    厚度：春秋被): rows of three cells or more sharing their first key, whose other columns
    each hold values of one dimension (吸力 in Pa in every row). A first column naming
    attributes (项目：最大承重，基础款：120kg / 项目：最高速度，基础款：16km/h) holds values of
    several dimensions under one column: its names are attributes, not subjects."""
    rows: dict[str, list[tuple[re.Match[str], str]]] = {}
    for passage in passages:
        for line in fold(passage).split("\n"):
            row = first.match(line)
            if row and len(_CELL_KEY.findall(line)) >= 3:
                rows.setdefault(row.group(1), []).append((row, line))
    out: list[re.Match[str]] = []
    for found in rows.values():
        dims: dict[str, set[str]] = {}
        for _, line in found:
            for part in re.split(r"[，,](?=[^，,：:]{1,12}[：:])", line)[1:]:
                key, _, value = part.replace("：", ":").partition(":")
                dims.setdefault(key.strip(), set()).update(m.dim for m in measures(value)[:1])
        if any(dims.values()) and all(len(d) <= 1 for d in dims.values()):
            out += [m for m, _ in found]
    return out


#: a size written as a fraction (1/2, 3/4, 4/4 of a violin or a guitar): sizes are siblings
_FRACTION_SIZE = re.compile(r"(?<![\d/.])(?:1|3|4)/(?:2|4|8|16)(?![\d/])")


def _subjects(
    rules: _Rules, text: str, labels: _Labels = _NO_LABELS, values: Iterable[str] = ()
) -> list[str]:
    """The subjects ``text`` names; ``values``: codes that are the text's values (218g of
    "重量：约218g"), not what it is about."""
    found = []
    for kind, pattern in rules.subjects:
        found += [
            f"{kind}:{rules.same.get(m.group().lower(), m.group().lower())}"
            for m in pattern.finditer(text)
        ]
    named = [s.split(":", 1)[1] for s in found]
    # a label holding a subject the rules know (等级：金卡会员) is that subject
    found += [s for s in labels.find(text) if not any(n in s for n in named)]
    skip = set(values)
    found += [f"code:{c}" for c in _codes(text, keep_measures=True) if c not in skip]
    found += [f"size:{m.group()}" for m in _FRACTION_SIZE.finditer(text)]
    found += _mode_keys(rules, text)
    return list(dict.fromkeys(found))


def _value_codes(rules: _Rules, clause: str, label_cell: bool) -> set[str]:
    """The sizes written in Latin letters (218g, 55db, 270cm) that are what ``clause`` (folded)
    states rather than what it is about. In a table cell (重量：约218g) every such size is the
    cell's value, unless the cell labels its row (its key is a label, or it is the row's first
    cell: 尺寸：1.2×2.0m, 款式：46mm 运动款). Elsewhere a size is a value when it is the
    clause's last quantity and does not open it (短款M码约110g, 35W 双C的重量是218g) — one opening it
    (46mm 约80分钟充满), followed by a colon (8cm厚：¥399) or what a yes or no is said of (不支持
    华为 66W — not 净含量是500g: a copula or a colon stands between) names a variant."""
    key = _CELL_KEY.match(clause)
    body = clause[key.end() :] if key else clause
    text = _DIMENSION.sub(lambda m: " " + re.sub(r"[\s×*＊]+", "x", m.group()) + " ", body)
    spans = [
        m
        for m in _code_matches(text)
        if m.group(1)[0].isdigit() and len(m.group(1)) >= 2 and measures(m.group(1))
    ]
    if not spans:
        return set()
    if key:
        return set() if label_cell else {m.group(1) for m in spans}
    last = spans[-1]
    after, before = text[last.end(1) :], text[: last.start(1)]
    if rules.cue_words.search(before) and not _COPULA.search(before):
        return set()  # the object of a yes or no
    if before.strip() and not re.match(r"\s*[：:]", after) and not measures(after):
        return {last.group(1)}
    return set()


#: what states the value after it of the words before it (净含量是500g, 重量约218g)
_COPULA = re.compile(r"(?:[是约：:]|大概|大约)\s*$")


_DIMENSION = re.compile(r"(?<![\d.])\d+(?:\.\d+)?\s*(?:[×x*＊]\s*\d+(?:\.\d+)?\s*)+[a-z]*")


#: a range of sizes (90-100cm, 1.5-2kg, M-3XL): numbers or letter sizes joined by hyphens, the
#: last with its unit — not a model code, whose hyphen joins a series to a model (HK-B30,
#: WC-18, KF-T-03)
_SIZE_END = r"(?:\d+(?:\.\d+)?|\d?x*[sml])"
_RANGE = re.compile(rf"{_SIZE_END}(?:-+{_SIZE_END})+[a-z]*")


def _codes(text: str, *, keep_measures: bool = False) -> list[str]:
    """Product codes and model names with digits (K87, 16A, HK-B30); with ``keep_measures``,
    also sizes written in Latin letters that name a model (41mm / 46mm), but not ranges
    (90-100cm)."""
    text = fold(text) if keep_measures else _strip_measures(fold(text))
    if keep_measures:
        # a dimension (200×230cm) names a size as a whole, not by its last side (230cm)
        text = _DIMENSION.sub(lambda m: " " + re.sub(r"[\s×*＊]+", "x", m.group()) + " ", text)
        codes = [m.group(1).strip(".-") for m in _code_matches(text)]
        return [c for c in codes if len(c) >= 2 and not _RANGE.fullmatch(c)]
    return [c.strip(".-") for m in _code_matches(text) if len(c := m.group(1).strip(".-")) >= 2]


def _raw(q: Measure) -> float:
    """The number as written ("180公斤" → 180), for knowledge giving it without its unit."""
    found = re.search(r"\d+(?:\.\d+)?", q.text)
    return float(found.group()) if found else q.low


@lru_cache(maxsize=4096)  # pure; asked for every pair of a claim's and a clause's subjects
def _shape(code: str) -> str:
    """What two codes of one series share: a hyphenated code's series (the part before its
    first hyphen: HK-B30 and HK-N50 are both HK's models, WC-18 and WC-12 both WC's), else the
    code with its numbers left out (41mm / 46mm, K87 / K85 — not 16A / 41mm)."""
    name = code.split(":", 1)[1]
    series, hyphen, _ = name.partition("-")
    if hyphen and series and not series[0].isdigit():
        return f"{series}-"
    return re.sub(r"\d+(?:\.\d+)?", "#", name)


@lru_cache(maxsize=16384)
def _siblings(a: str, b: str) -> bool:
    """Two different subjects of the same kind (金卡/银卡, 41mm/46mm, 降噪 on/off)."""
    if a == b:
        return False
    ka, kb = a.split(":", 1)[0], b.split(":", 1)[0]
    if ka != kb:
        return False
    if ka == "code":
        return _shape(a) == _shape(b)
    if ka == "mode":
        return a.rsplit(":", 1)[0] == b.rsplit(":", 1)[0]
    return True


_LIST = re.compile(r"[、/]")
#: Knowledge writes these with their unit; a bare number does not state them.
_ALWAYS_WITH_UNIT = frozenset({"time", "workday", "money", "discount", "percent", "clock"})
#: Values stated exactly: 29.9元 is not 30元, 9.5折 not 9.4折 (durations keep the slack of their
#: conversions: 半年 is 180 or 182.5 days).
_EXACT = frozenset({"money", "discount", "percent"})


def _states(m: Measure, q: Measure) -> bool:
    """Whether the knowledge's quantity ``m`` states the claim's ``q``."""
    return q.within(m, 1e-9 if q.dim in _EXACT else 0.02)


def _derived(claims: Sequence[Claim], units: Sequence[_Unit]) -> dict[str, frozenset[float]]:
    """Amounts a reply may work out from its own amounts the knowledge states, by operation:
    their differences and sums (贵100元 of 499元 and 399元) and their shares by a count the reply
    states (平均每件63元 of 三件装189元). A clause may state one only when it says it works it out
    (``arithmetic`` cues of ``data/claims.yaml``): 运费100元 or 到手91元 is no difference."""
    stated = {
        q.low
        for c in claims
        for q in c.measures
        if q.dim == "money"
        and q.low == q.high
        and any(_states(m, q) for u in units for m in u.measures)
    }
    counts = {
        q.low for c in claims for q in c.measures if q.dim.startswith("count:") and q.low >= 2
    }
    return {
        "difference": frozenset(round(abs(a - b), 2) for a in stated for b in stated if a != b),
        "sum": frozenset(round(a + b, 2) for a in stated for b in stated if a != b),
        "share": frozenset(
            v for a in stated for n in counts for v in (round(a / n, 2), float(round(a / n)))
        ),
    }


_FOCUS_KINDS = ("tier", "region", "coupon")  # alternatives a list gives one value each


def focused(text: str, question: str, shop: ShopConfig | None = None) -> str:
    """``text`` without the clauses stating a value for another member of a kind the question
    names one of ("金卡打几折": not 银卡95折 and 黑卡85折 in a list of every tier's discount;
    member tiers, regions and coupon kinds — a list naming several jointly stays). The text
    as it is when the question names no such subject, or no clause is about the one it names."""
    rules = claim_rules(shop)
    asked = [s for s in _subjects(rules, fold(question)) if s.split(":", 1)[0] in _FOCUS_KINDS]
    if not asked:
        return text
    text = _aligned(rules, text, asked)
    folded = fold(text)
    drop: list[tuple[int, int]] = []
    kept_about = False
    for start, part, about, values in _bound_clauses(rules, folded):
        if any(a in about for a in asked):
            kept_about = True
        elif values and any(_siblings(a, s) for a in asked for s in about):
            drop.append((start, start + len(part)))
    if not drop or not kept_about:
        return text
    out, at = [], 0
    for a, b in drop:
        out.append(text[at:a])
        at = b
        while at < len(text) and text[at] in "，,、/ ":
            at += 1  # the separator after a dropped clause goes with it
    out.append(text[at:])
    joined = re.sub(r"[，,、/；;]+(?=[。；;！!？?]|$)", "", "".join(out))
    return re.sub(r"([。！!？?])[。；;，,]+", r"\1", joined)


_CELL = re.compile(r"(?<![^，,：:；;。])([^，,：:；;。]+[：:])([^，,；;。]+)")


def _aligned(rules: _Rules, text: str, asked: Sequence[str]) -> str:
    """A row whose cells list parallel values ("面额：30元 / 50元，获取方式：金卡 / 黑卡"): every
    such cell reduced to the position of the subject asked (30元 … 金卡), when one cell names
    it at exactly one position; else ``text`` as it is."""
    cells = [(m.start(2), m.end(2), m.group(2).split(" / ")) for m in _CELL.finditer(text)]
    lists = [c for c in cells if len(c[2]) >= 2]
    if len(lists) < 2 or len({len(c[2]) for c in lists}) != 1:
        return text
    at = None
    for _, _, items in lists:
        named = [
            i for i, item in enumerate(items) if set(asked) & set(_subjects(rules, fold(item)))
        ]
        if len(named) == 1:
            at = named[0]
            break
    if at is None:
        return text
    out, pos = [], 0
    for start, end, items in lists:
        out += [text[pos:start], items[at].strip()]
        pos = end
    return "".join(out) + text[pos:]


#: a slash separating items (S/M, 顺丰/京东) — not one between digits, a fraction (1/2 尺寸, 3/4)
_LIST_SLASH = r"(?<!\d)/+|/+(?!\d)"


def _bound_clauses(
    rules: _Rules, text: str, seed: Sequence[str] = (), labels: _Labels = _NO_LABELS
) -> list[tuple[int, str, list[str], list[Measure]]]:
    """Clauses of ``text`` (folded) with the subjects each is about and its quantities.

    A clause naming no subject is about the subjects in force (those of the clauses before it,
    else ``seed``); subjects listed in clauses that state no value yet add up ("羽绒服、大衣类享受
    15天" is about both), a clause naming a subject after a value starts anew ("银卡95折、金卡9折")."""
    out: list[tuple[int, str, list[str], list[Measure]]] = []
    current: list[str] = []
    listing = True
    pos = 0
    asides = _value_asides(text)
    host: list[str] | None = None  # the subjects in force before a value aside opened
    row: list[str] | None = None  # the subjects of a table row's first cell
    labelling = False  # in a table row's first cell
    for part in re.split(
        rf"([，,；;。！!？?\n、]+|{_LIST_SLASH}|{_TILDE}|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff]))",
        text,
    ):
        start, pos = pos, pos + len(part)
        if not part or not part.strip() or re.fullmatch(r"[，,；;。！!？?\n~～、/\s]+", part):
            if part and re.search(r"[。！!？?\n；;]", part):
                current, listing = [], True  # a new sentence
            continue
        # a value aside ("7天内（羽绒服、大衣为15天）") is about its own subjects, not its host's
        # (one whose value is in a clause of its own: the host states one before it, and it
        # reaches past the host's clause)
        opens = next(
            (o for o, c in asides if start <= o < pos < c and measures(part[: o - start])),
            None,
        )
        about = part[: opens - start] if opens is not None else part
        # what it excludes (除偏远地区外, （偏远地区除外）) is not what it is about
        for excluding in (rules.exclusion, rules.exception):
            about = about if excluding is None else excluding.sub(" ", about)
        cell = _CELL_KEY.match(part)
        opening = not out or bool(_UNIT.search(text[out[-1][0] : start]))
        label_cell = cell is not None and (opening or _is_label_key(rules, labels, cell.group()))
        own = _subjects(rules, about, labels, _value_codes(rules, about, label_cell))
        if not own and not cell:
            own = labels.composed(current or seed, about)
        if opening:
            # a table row: its first cell (地区：新疆、西藏) labels every cell after it
            row, labelling = None, bool(cell)
        elif cell and row is not None:
            # another cell of the row: about the row's subjects and its own (8cm厚：¥599 of the
            # 1.2×2.0m row), never about the cell before it
            current, listing, labelling = list(dict.fromkeys(row + own)), False, False
            own = []
        if own:
            # the words of a row's first cell label it together (规格：原箱27个 单果约120g: the
            # 原箱27个 row of 单果约120g), whatever values they hold
            keep = listing or (labelling and not cell)
            current = list(dict.fromkeys(current + own)) if keep else own
        if labelling:
            row = list(current)
        found = _outside_codes(part, measures(part))
        # the question's subjects hold for the kinds the clause does not name: "全天候模式30小时"
        # asked of the 51mm version is about the 51mm version's 全天候 mode
        kinds = {s.split(":", 1)[0] for s in current}
        inherited = [s for s in seed if s.split(":", 1)[0] not in kinds]
        out.append((start, part, current + inherited if current else list(seed), found))
        listing = not found
        if opens is not None:
            host, current, listing = current, _subjects(rules, part[opens - start :], labels), True
        elif host is not None and not any(o < pos < c for o, c in asides):
            current, host, listing = host, None, False  # the aside closed
    return out


def _is_label_key(rules: _Rules, labels: _Labels, cell: str) -> bool:
    """Whether a cell's key (with its colon) names a row's label (规格：, 清扫模式：)."""
    key = cell.strip().rstrip("：:").strip().lower()
    known = rules.label_keys | {k.split("#", 1)[0] for k in labels.keys.values()}
    return any(key == k or key.endswith(k) for k in known)


def _value_asides(text: str) -> list[tuple[int, int]]:
    """Spans (open, close) of the parentheses of ``text`` that state a value ("签收次日起7天内
    （羽绒服、大衣为15天）"): the value of other subjects than their host's. A parenthesis
    stating none lists members or examples (大件商品（床垫、书架）) and is left to its host."""
    out = []
    for m in re.finditer(r"[（(]([^（()）]*)(?:[)）]|$)", text):
        if measures(m.group(1)):
            out.append((m.start(), m.end()))
    return out


def _excepted(
    rules: _Rules,
    at: int,
    clause: str,
    sentence: str,
    labels: _Labels,
    asides: Sequence[tuple[int, int]],
) -> frozenset[str]:
    """The subjects a value aside opened in ``clause`` (at ``at`` of ``sentence``; ``asides``:
    the sentence's :func:`_value_asides`) gives another value (羽绒服, 大衣 of
    "签收次日起7天内（羽绒服、大衣为15天）"): the host's value is not theirs."""
    for o, c in asides:
        if at <= o < at + len(clause) < c and measures(sentence[at:o]):
            return frozenset(_subjects(rules, sentence[o:c], labels))
    return frozenset()


def _inner_aside(
    rules: _Rules,
    at: int,
    clause: str,
    sentence: str,
    labels: _Labels,
    asides: Sequence[tuple[int, int]],
) -> tuple[int, int, list[str]] | None:
    """A value aside that opens after a value of ``clause`` (at ``at`` of ``sentence``) and
    closes in it, naming subjects of its own ("每天16:00前付款当天发货（草莓以14:00为截止时间）"):
    where it opens and closes in ``sentence``, and the aside's subjects — else None."""
    end = at + len(clause)
    for o, c in asides:
        closed = sentence[c - 1 : c] in ("）", ")")
        if at <= o and c <= end and closed and measures(sentence[at:o]):
            aside = sentence[o:c]
            # a size it states (内增高约2cm) is its value, not a model it is about
            sizes = {c for c in _codes(aside, keep_measures=True) if measures(c)}
            own = _subjects(rules, aside, labels, sizes)
            if own:
                return o, c, own
    return None


_READINGS_KEPT = 8192  # (reading, text) pairs a rule set remembers


def _remembered(rules: _Rules, reading: str, text: str, read: Callable[[], _T]) -> _T:
    """What ``read()`` gives for ``text`` under the reading named ``reading``, remembered per
    rule set (bounded): for readings that depend on the rules and the text alone."""
    memo = rules.readings
    key = (reading, text)
    found = memo.get(key, _UNREAD)
    if found is _UNREAD:
        found = read()
        if len(memo) >= _READINGS_KEPT:
            memo.clear()  # bounded: start afresh (a racing store is merely lost)
        memo[key] = found
    return cast(_T, found)


_UNREAD = object()


def _polarity(rules: _Rules, text: str) -> list[tuple[str, bool]]:
    """(family, positive?) of each polarity family ``text`` uses, negative cues first (not
    those of a parenthesis stating an exception: they are the other case's). Remembered per
    rule set (a fresh list each call)."""
    return list(_remembered(rules, "polarity", text, lambda: tuple(_read_polarity(rules, text))))


def _read_polarity(rules: _Rules, text: str) -> list[tuple[str, bool]]:
    if rules.exception is not None:
        text = rules.exception.sub(lambda m: "＿" * len(m.group()), text)
    text = rules.not_negator.sub(lambda m: "＿" * len(m.group()), text)
    text = rules.not_cue.sub(
        lambda m: "＿" * len(m.group()) if m.group() != "免费" else "免费", text
    )
    out: list[tuple[str, bool, int, int]] = []
    masked = text
    for family, pattern in rules.negative:
        found = pattern.search(masked) if pattern.pattern else None
        if found:
            out.append((family, False, found.start(), found.end()))
            masked = pattern.sub(lambda m: "＿" * len(m.group()), masked)
    for family, pattern in rules.positive:
        if not pattern.pattern or any(f == family for f, *_ in out):
            continue
        for m in pattern.finditer(masked):
            # "不叠加", and "不能再叠加" (the 不能 masked as an ability cue already)
            negated = rules.negated_before.search(text[max(0, m.start() - 6) : m.start()])
            out.append((family, negated is None, m.start(), m.end()))
            break
    # a modal right before another family's word qualifies it (不能再叠加 says 不叠加, 可以免费换
    # says 免费): it is not a claim of its own; a modal's no says no to it (不可以申请免费维修
    # says 不免费: what cannot be had is not had free)
    modals = [(end, sign) for f, sign, _, end in out if f in _MODAL]
    denied = {
        start
        for f, sign, start, _ in out
        if f not in _MODAL and sign and any(0 <= start - e <= 3 and not s for e, s in modals)
    }
    verbs = [(start, sign or start in denied) for f, sign, start, _ in out if f not in _MODAL]
    return [
        (f, sign and start not in denied)
        for f, sign, start, end in out
        if f not in _MODAL
        or not any(0 <= at - end <= 3 and (s == sign or at in denied) for at, s in verbs)
    ]


_MODAL = frozenset({"ability"})
_ACT_SPAN = 6  # characters after a yes of ability read as the act it allows
#: how well a clause saying yes or no must align with a claim to decide it (a contradiction,
#: a confirmation), and by how much a no must outscore the best yes to contradict
_SURE = 2.0
_NO_MARGIN = 0.5
#: how well a no must align with a yes or no of the reply, with none agreeing, to leave it
#: unconfirmed (a contradiction needs ``_SURE``)
_WEAK_NO = 1.5
#: by how much a clause stating another value must outalign every clause stating the claim's
#: value for the value to be unconfirmed (stated about something else)
_RIVAL_MARGIN = 2.0
#: families that mostly qualify another's word (需要您承担, 可以免费换): no weak no of their own
_QUALIFIERS = frozenset({"ability", "need"})
#: what a word of the question, not of the claim, weighs in placing a yes or no: less than a
#: word of the claim's own, enough to tell apart two clauses the claim shares words with alike
_FOCUS_WEIGHT = 0.75
#: families whose yes presupposes that the thing is done at all (免费搬走, 送安装): the
#: knowledge's "not possible / not offered" about it says no to them too
_PRESUPPOSE = frozenset({"free", "include"})


#: a kind and the items the knowledge lists in it: 冷链商品（荔枝、草莓）; and a cell listing them
#: (偏远地区：新疆、西藏 — also 适用电器：空调、电热水器, so only subjects are taken from these)
_MEMBERS = re.compile(r"([\u4e00-\u9fff]{2,6})[（(]([^（）()]{4,60})[)）]")
_LISTED = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,6})[：:](?=([^，,；;。：:（）()]{4,60}))"
)


def _memberships(passages: Iterable[str], *, cells: bool = False) -> dict[str, frozenset[str]]:
    """Items the knowledge lists as members of a kind — "冷链商品（荔枝、草莓、流心奶黄月饼）",
    with ``cells`` also "偏远地区：新疆、西藏、青海" — each with its kinds (several add up)."""
    out: dict[str, frozenset[str]] = {}
    for passage in passages:
        folded = fold(passage)
        for pattern in (_MEMBERS, _LISTED) if cells else (_MEMBERS,):
            for m in pattern.finditer(folded):
                items = [i.strip() for i in m.group(2).split("、")]
                if len(items) < 2 or not all(_CJK.fullmatch(i) and 2 <= len(i) <= 8 for i in items):
                    continue
                for item in items:
                    out[item] = out.get(item, frozenset()) | {m.group(1)}
    return out


def _qualifiers(text: str, subjects: Iterable[str]) -> dict[str, frozenset[str]]:
    """The two characters qualifying each product kind ``text`` names (月饼礼盒 → 月饼)."""
    out: dict[str, frozenset[str]] = {}
    for subject in subjects:
        if not subject.startswith("product:"):
            continue
        name = subject.split(":", 1)[1]
        found = {
            text[m.start() - 2 : m.start()]
            for m in re.finditer(re.escape(name), text)
            if m.start() >= 2
            and _CJK.fullmatch(text[m.start() - 2 : m.start()])
            and not set(text[m.start() - 2 : m.start()]) & _STOP_CHARS
        }
        if found:
            out[subject] = frozenset(found)
    return out


# ------------------------------------------------------------------------------ entailment
class Entailment(Protocol):
    """Judges claims against the cited passages (the question gives context)."""

    def judge(
        self, claims: Sequence[Claim], passages: Sequence[str], *, question: str = ""
    ) -> list[ClaimVerdict]: ...


@dataclass(frozen=True)
class _Unit:
    text: str  # a clause of the knowledge
    measures: tuple[Measure, ...]
    subjects: frozenset[str]
    words: frozenset[str]  # of its sentence
    sentence: str
    bare: frozenset[float]  # numbers it states without a unit ("腰围：69")
    #: what its passage's heading names (a product page's title): aligns, never conflicts
    page: frozenset[str] = frozenset()
    #: its passage's heading's words: the same on every unit of a page, so they place a polar
    #: clause (卸妆油 … 不建议) but never pick out which of the page's values a claim states
    heading: frozenset[str] = frozenset()
    #: the words that say what this clause's value is about: its own, those of the clauses
    #: before it since its sentence's last value ("中型犬，每天100克" after "小型犬每天50克"), and
    #: its sentence's leading clauses that state none (a table row's label: "地区：新疆，…，运费：20元")
    scope: frozenset[str] = frozenset()
    #: ``scope`` and the clauses stating no value after it (what is said of the value:
    #: "15天内，同款降价，可退差价"), up to the next value or table cell
    reach: frozenset[str] = frozenset()
    #: the subjects an aside of it gives another value ("7天内（羽绒服、大衣为15天）"): its
    #: value is not theirs
    excepted: frozenset[str] = frozenset()
    #: the line introducing the list this clause's sentence is an item of, when it says yes or
    #: no ("以下情况不支持价保："): written after the item in ``sentence``, its no is the item's
    lead: str = ""

    @property
    def context(self) -> frozenset[str]:
        return self.words | self.heading

    @property
    def named(self) -> frozenset[str]:
        return self.subjects | self.page


#: A line ending in a colon introduces the lines after it (a list of cases)
_LEAD_IN = re.compile(r"[：:]\s*$")
#: A heading is one short line that states nothing: a page title or an FAQ's question.
_HEADING_MAX = 48
_STATEMENT_END = re.compile(r"[。；;!！]")


def _is_heading(line: str) -> bool:
    """Whether a passage's first line reads as its heading rather than its first sentence
    (knowledge joined line by line — lint's citations — starts with a whole policy clause)."""
    line = line.strip()
    return 0 < len(line) <= _HEADING_MAX and not _STATEMENT_END.search(line)


#: a table cell: a short key and a colon ("获取方式：金卡")
#: (not tried from inside a run of spaces: a match there starts at the run's start anyway,
#: and a long run would cost its length squared)
_CELL_KEY = re.compile(r"(?<!\s)\s*[^，,；;。：:\s]{1,12}\s*[：:]")


def _answered_cells(rules: _Rules, sentence: str) -> str:
    """A row whose cells answer a yes-no key, written out: "本店是否有售：否" says 没有售, and
    "项目：是否支持调坡，基础款：否，升级款：是" says 不支持调坡 of 基础款 and 支持调坡 of 升级款. The
    asking key is masked (是否支持 is no yes)."""
    yes_no = rules.yes_no
    if yes_no is None:
        return sentence
    ask = yes_no.ask.search(sentence)
    if ask is None:
        return sentence
    what = ask.group("what")
    no = ("没" if what.startswith("有") else "不") + what

    def answer(m: re.Match[str]) -> str:
        said = m.group("value").strip().lower()
        if said in yes_no.yes:
            return m.group("key") + what
        if said in yes_no.no:
            return m.group("key") + no
        return m.group()

    rest = sentence[: ask.start()] + "＿" * len(ask.group()) + sentence[ask.end() :]
    return _YES_NO_CELL.sub(answer, rest)


#: a cell and its value (基础款：否)
_YES_NO_CELL = re.compile(  # a key starts a cell (or follows a colon): tried inside one, a
    # long cell with no colon would cost its length squared, and match nothing more
    r"(?<![^，,；;。：:])(?P<key>[^，,；;。：:]*[：:]\s*)(?P<value>[^，,；;。：:]{1,4})(?=[，,；;。]|$)"
)


def _verdict_keys(rules: _Rules, sentence: str) -> list[str]:
    """The keys of a row's cells whose value is a bare yes or no (基础款：不支持)."""
    out = []
    for cell in _CLAUSE.split(sentence):
        key, colon, value = cell.replace("：", ":").partition(":")
        if (
            colon
            and _polarity(rules, value)
            and not _bigrams(_strip_cues(rules, value))
            and not re.search(r"\d", value)
        ):
            out.append(key)
    return out


#: a parenthesis of a clause, closed or running to the clause's end
_PAREN_ASIDE = re.compile(r"[（(][^）)]*(?:[）)]|$)")
_NAME_BEFORE = re.compile(r"[\u4e00-\u9fff]{1,5}$")


def _renamed(claim: Claim, unit: _Unit, units: Sequence[_Unit]) -> tuple[str, str] | None:
    """The name the claim puts where the knowledge's clause stating its value names another
    thing: the two share the words after it ("无人机锂电池保修3个月" and "遥控越野车锂电池保修3个月":
    锂电池保修), the claim's name is nowhere in the clause's sentence or heading but named
    elsewhere in the knowledge, and the clause's name is nowhere in the claim or the question.
    The value is the other thing's: (the claim's name, the clause's name), else None."""
    mine = fold(claim.text)
    match = SequenceMatcher(None, mine, unit.text, autojunk=False).find_longest_match(
        0, len(mine), 0, len(unit.text)
    )
    shared = _CJK.match(mine, match.a, match.a + match.size)
    if shared is None or len(shared.group()) < 3:
        return None
    this = _NAME_BEFORE.search(mine[: match.a])
    that = _NAME_BEFORE.search(unit.text[: match.b])
    if this is None or that is None or len(this.group()) < 2 or len(that.group()) < 2:
        return None
    ours, theirs = _bigrams(this.group()), _bigrams(that.group())
    if ours & unit.context or theirs & (claim.words | claim.asked | claim.topic):
        return None
    elsewhere = any(ours & u.context for u in units if u.sentence != unit.sentence)
    return (this.group(), that.group()) if elsewhere else None


def _said_alone(name: str, text: str) -> bool:
    """Whether ``text`` says ``name`` not as part of a longer code or number (jj级 in jjj级,
    9成新 in 99成新)."""
    return any(
        not re.match(r"[a-z0-9]", text[m.start() - 1 : m.start()] or " ")
        for m in re.finditer(re.escape(name), text)
    )


def _row_key(sentence: str) -> str:
    """The key of a table row's first cell ("地区" of "地区：新疆，运费：20元"), or ""."""
    m = _CELL_KEY.match(sentence)
    return m.group().strip().rstrip("：:").strip() if m else ""


def _cell_values(rules: _Rules, clause: str) -> list[Measure]:
    """Bare numbers whose cell key gives their unit (price：69 → 69元, 尺码：100 → 100码)."""
    if rules.value_cell is None:
        return []
    out = []
    for m in rules.value_cell.finditer(clause):
        value = float(m.group("n"))
        dim = rules.value_dims[m.group("key")]
        out.append(Measure(dim, value, value, m.span("n"), m.group("n")))
    return out


@dataclass(frozen=True)
class _Entry:
    """One member of an enumeration: the names of its head and the value given them."""

    names: tuple[str, ...]  # 制氧机, 轮椅 of "制氧机、轮椅每单需补运费60元"
    value: Measure
    text: str  # where the knowledge gives it (a clause, a list item, a table row)


@dataclass(frozen=True)
class _Enumerations:
    """The knowledge's enumerations: heads given values of one dimension side by side — the
    clauses of a sentence (主机1年，充电线6个月; S/M托盘3元，L/XL/XXL托盘6元), the items of a list
    (耗材：签收后7天内 / 打印机：签收后15天内), the rows of a table under one column (等级：金卡 …
    商品折扣：95折 / 等级：黑金卡 … 92折). Each is a tuple of entries; ``shared``: whether its
    heads were found by what their clauses say alike (每单需补运费) — a reply saying it and naming
    no head says it of the head its question names. Indexed by dimension."""

    by_dim: Mapping[str, tuple[tuple[tuple[_Entry, ...], str], ...]] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None  # every head's name


_NO_ENUMERATIONS = _Enumerations()
#: table rows: a row (its sentence) → its first key and each cell's (key, value)
_Rows = dict[str, tuple[str, list[tuple[str, Measure]]]]
#: a row → the (column, name) of each name its cells give in words
_RowNames = dict[str, list[tuple[str, str]]]
#: a list item or a table cell: its key, the colon, its value
_ITEM = re.compile(r"^[\s\-*•·]*([^：:，,。；;]{1,30})[：:](.+)$")
_HEAD_SPLIT = re.compile(r"[、/]")
_LETTER_SIZE = re.compile(r"\d?x*[sml]")


def _head_names(rules: _Rules, head: str) -> tuple[str, ...]:
    """The names a head gives (制氧机、轮椅 → 制氧机, 轮椅; s/m → s, m; 配件（充电线、耳机） →
    配件, 充电线, 耳机 — the members its aside lists, when each is a name): each two
    characters or more with one Chinese character, or a letter size; none when one is a frame
    (下单后)."""

    def valid(name: str) -> bool:
        if _LETTER_SIZE.fullmatch(name):
            return True
        if not (2 <= len(name) <= 8 and _CJK.search(name)) or _strip_measures(name) != name:
            return False
        if rules.strong_cue.search(name) or _STATE.search(name):
            return False
        return rules.not_head is None or not rules.not_head.search(name)

    names = [n.strip() for n in _HEAD_SPLIT.split(_PAREN_ASIDE.sub("", head).strip(" ：:（）()的"))]
    if not all(valid(n) for n in names):
        return ()
    for aside in _ASIDE.findall(head):
        members = [n.strip() for n in _HEAD_SPLIT.split(aside)]
        # an aside saying what is in it (含收纳盒) or what is done names no member
        if all(valid(n) and not rules.cue_words.search(n) for n in members):
            names += members
    return tuple(dict.fromkeys(names))


def _affix(texts: Sequence[str]) -> tuple[int, int]:
    """The lengths of the prefix and the suffix all ``texts`` share."""
    first = texts[0]
    pre = 0
    while pre < len(first) and all(len(t) > pre and t[pre] == first[pre] for t in texts):
        pre += 1
    suf = 0
    while suf < len(first) - pre and all(
        len(t) - pre > suf and t[-1 - suf] == first[-1 - suf] for t in texts
    ):
        suf += 1
    return pre, suf


def _enumeration(
    rules: _Rules, items: Sequence[tuple[str, Measure, str]], *, said: bool = False
) -> tuple[tuple[_Entry, ...], str] | None:
    """An enumeration of (head, value, its text) side by side; with ``said``, the heads are
    what the parts before the values do not share (小件商品 / 制氧机、轮椅 of …每单需补运费).
    None unless two or more heads, all names different, give two or more values."""
    if len(items) < 2:
        return None
    heads = [h for h, _, _ in items]
    pre, suf = _affix(heads) if said else (0, 0)
    entries = []
    for head, value, text in items:
        names = _head_names(rules, head[pre : len(head) - suf])
        if names:
            entries.append(_Entry(names, value, text))
    seen = [n for e in entries for n in e.names]
    if (
        len(entries) < 2
        or len(set(seen)) < len(seen)
        or len({(e.value.low, e.value.high) for e in entries}) < 2
    ):
        return None
    return tuple(entries), heads[0][len(heads[0]) - suf :] if suf else ""


def _enumerations(rules: _Rules, passages: Iterable[str]) -> _Enumerations:
    """The enumerations of the passages (folded): clauses of one sentence each giving one value
    (the head is what follows a cell's colon), items of one list (the head is the item's key),
    rows of one table sharing their first key (the head is that cell's value, per column)."""
    found: list[tuple[tuple[_Entry, ...], str]] = []
    columns: dict[tuple[str, str], list[tuple[str, Measure, str]]] = {}
    for passage in passages:
        folded = fold(passage)
        listed: dict[str, list[tuple[str, Measure, str]]] = {}
        for line in folded.split("\n"):
            cells = re.split(r"[，,](?=[^，,：:]{1,12}[：:])", line)
            if len(cells) >= 2 and all(_ITEM.match(c) for c in cells):  # a table row
                key, label = _ITEM.match(cells[0]).groups()  # type: ignore[union-attr]
                for cell in cells[1:]:
                    column, value = _ITEM.match(cell).groups()  # type: ignore[union-attr]
                    values = measures(value) or _cell_values(rules, cell)
                    if len(values) == 1:
                        columns.setdefault((key.strip(), column.strip()), []).append(
                            (label, values[0], line)
                        )
            item = _ITEM.match(line)
            if item:
                first = re.split(r"[，,；;。]", item.group(2), maxsplit=1)[0]
                values = measures(first)
                if len(values) == 1:
                    listed.setdefault(values[0].dim, []).append((item.group(1), values[0], line))
        # a sentence goes on past a line ending in a comma or a semicolon (a chunk's lines)
        for sentence in re.split(r"[。！!？?]|\n(?<![，,；;]\n)", folded):
            by_dim: dict[str, list[tuple[str, Measure, str]]] = {}
            for part in re.split(r"[，,；;\n]", sentence):
                # 儿童电话手表主机1年、充电线6个月: a clause of two values lists two heads
                many = len(measures(part)) > 1
                for clause in part.split("、") if many else [part]:
                    values = measures(clause)
                    if len(values) == 1:
                        before = re.split(r"[：:]", clause[: values[0].span[0]])[-1]
                        by_dim.setdefault(values[0].dim, []).append((before, values[0], clause))
            found += [
                e for items in by_dim.values() if (e := _enumeration(rules, items, said=True))
            ]
        found += [e for items in listed.values() if (e := _enumeration(rules, items))]
    # a column holding values of several dimensions (参数：桌面承重 / 净重 / 桌面，说明：…) is
    # one of attributes, not of subjects
    columns = {k: v for k, v in columns.items() if len({m.dim for _, m, _ in v}) == 1}
    found += [e for items in columns.values() if (e := _enumeration(rules, items))]
    if not found:
        return _NO_ENUMERATIONS
    grouped: dict[str, list[tuple[tuple[_Entry, ...], str]]] = {}
    for entries, common in found:
        grouped.setdefault(entries[0].value.dim, []).append((entries, common))
    names = {n for entries, _ in found for e in entries for n in e.names}
    pattern = re.compile(
        "|".join(
            rf"(?<![a-z0-9.]){re.escape(n)}(?![a-z0-9])"
            for n in sorted(names, key=len, reverse=True)
        )
    )
    return _Enumerations({d: tuple(v) for d, v in grouped.items()}, pattern)


#: kinds of subject a reply must find named in the knowledge it cites to state their values
_NAMED_KINDS = frozenset({*_FOCUS_KINDS, "code"})


class _Named:
    """What the cited knowledge names: a claim about a member tier, a region, a coupon kind or
    a model (46mm, K87) it never names is about none of its clauses."""

    def __init__(self, cited: str) -> None:
        self.text = cited
        self.codes = frozenset(_codes(cited, keep_measures=True)) | frozenset(_codes(cited))
        self.values: list[Measure] | None = None  # read when a size is first looked for

    def absent(self, claim: Claim, asked: Sequence[Measure] = (), question: str = "") -> list[str]:
        out = []
        for subject in claim.stated:
            kind, name = subject.split(":", 1)
            if kind not in _NAMED_KINDS:
                continue
            found = name in self.codes or name in self.text if kind == "code" else name in self.text
            if not found and not (kind == "code" and self._a_quantity(name, asked, question)):
                out.append(name)
        return out

    def _a_quantity(self, code: str, asked: Sequence[Measure], question: str) -> bool:
        """A size written in Latin letters (120L, 58cm) that is the question's quantity (120升,
        头围58) or a value or a range's end the knowledge states (125-145cm): a quantity
        the reply reasons with, not a model it names."""
        found = measures(code)
        if len(found) != 1 or found[0].span != (0, len(code)):
            return False
        m = found[0]
        if any(m.within(a, 0.0) for a in asked) or m.low in numbers_in(question):
            return True
        if self.values is None:
            self.values = measures(self.text)
        return any(k.dim == m.dim and m.low in (k.low, k.high) for k in self.values)


_SENTENCE_WITH_END = re.compile(r"([^。！!？?；;\n]*)([。！!？?；;\n]+|$)")
_ASKING_END = re.compile(r"[？?]")


def _asks(rules: _Rules, sentence: str, end: str) -> bool:
    """Whether a sentence (with the marks that end it) is a question: a question mark, or a
    question particle ending it without one."""
    return bool(_ASKING_END.search(end)) or (
        rules.question_end is not None and rules.question_end.search(sentence) is not None
    )


def _asserted(rules: _Rules, text: str) -> list[str]:
    """The sentences of ``text`` as what they assert. A question (an FAQ's "可以开专票吗？", or
    without its mark: "上了牌还能退吗")
    says what its answer says of it: a bare yes or no opening the answer (可以的 / 是的 / 暂不
    支持哦, nothing else in its first clause) says yes, or no, to the question as asked
    (支持货到付款吗？暂不支持 → 不支持货到付款); an answer saying the opposite of the question's
    yes or no about its words (暂不支持增值税专用发票), not only of a member tier, region or
    coupon, leaves the question's polarity words unread; else the question stands for its
    answer. Its other words and values stay (they place the answer)."""
    pieces = [(m.group(1), m.group(2)) for m in _SENTENCE_WITH_END.finditer(text) if m.group()]
    out = []
    for i, (sentence, end) in enumerate(pieces):
        if _asks(rules, sentence, end):
            after = pieces[i + 1 :]
            answer = _bare_answer(rules, after)
            asked = _polarity(rules, sentence)
            cue = rules.cue_words.search(sentence)
            if answer is False and cue and asked and all(sign for _, sign in asked):
                sentence = sentence[: cue.start()] + "不" + sentence[cue.start() :]
            elif answer is None and asked and _answer_denies(rules, sentence, asked, after):
                sentence = rules.cue_words.sub(lambda m: "＿" * len(m.group()), sentence)
        else:
            sentence = _whether(rules, sentence)
        out.append(sentence)
    return out


def _whether(rules: _Rules, statement: str) -> str:
    """A statement with its asking words masked where they say whether (能否报销请咨询医保部门,
    是否支持以页面为准): no yes of their own. A cell asking (是否支持调坡：否) or asked (项目：是否
    支持调坡，基础款：否) keeps its words."""
    asking = rules.yes_no.asking if rules.yes_no is not None else None
    if asking is None:
        return statement
    return re.sub(
        rf"(?<![：:\s])(?:{asking.pattern})(?=[^，,；;：:]*(?:[，,；;]|$))",
        lambda m: "＿" * len(m.group()),
        statement,
    )


def _answer_denies(
    rules: _Rules,
    question: str,
    asked: Sequence[tuple[str, bool]],
    after: Sequence[tuple[str, str]],
) -> bool:
    """The answer (up to the next question) says the opposite of the question's yes or no
    about a word of it, of no member tier, region or coupon — and never says it the question's
    way (外层可以机洗，内胆不可机洗 answers both ways: the question stands)."""
    words = _bigrams(_strip_cues(rules, _strip_measures(question)))
    denies = False
    asking = rules.yes_no.asking if rules.yes_no is not None else None
    for sentence, end in after:
        for clause in _CLAUSE.split(sentence):
            # an asking word in the answer (能否报销请咨询医保部门) says whether, not yes
            unasked = (
                clause if asking is None else asking.sub(lambda m: "＿" * len(m.group()), clause)
            )
            read = _polarity(rules, unasked)
            if not words & _bigrams(clause):
                continue
            if any((f, sign) in read for f, sign in asked):
                return False
            if not any((f, not sign) in read for f, sign in asked):
                continue
            if any(s.split(":", 1)[0] in _FOCUS_KINDS for s in _subjects(rules, clause)):
                continue  # 偏远地区不支持顺丰: an exception, not the answer's no
            denies = True
        if _asks(rules, sentence, end):
            break
    return denies


def _bare_answer(rules: _Rules, after: Sequence[tuple[str, str]]) -> bool | None:
    """Whether the next sentence's first clause (greetings aside) is a bare yes (True) or no
    (False) that says nothing else — a no may name its verb (不能混用); None when it says more
    or neither."""
    nxt = next((s for s, _ in after if s.strip()), "")
    for clause in _CLAUSE.split(nxt):
        rest = rules.filler.sub("", clause).strip()
        if not rest:
            continue
        read = _polarity(rules, rest)
        signs = {sign for _, sign in read}
        words = _bigrams(_strip_cues(rules, rest))
        if len(signs) == 1 and not words:
            return signs.pop()
        if signs == {False} and len(words) == 1:
            # a no with a verb of its own leads the answer (能通用吗？不能混用): it says no to
            # the question; a yes naming its own word (能机洗吗？可以手洗) may answer another one
            return False
        said = rest.rstrip("的啊呀哦呢")
        if rules.yes_no is not None and said in rules.yes_no.yes:
            return True
        if rules.yes_no is not None and said in rules.yes_no.no:
            return False
        return None
    return None


class RuleEntailment:
    """The rule-based entailment: values, subjects and polarity, no model."""

    def __init__(self, shop: ShopConfig | None = None) -> None:
        self.rules = claim_rules(shop)
        #: the units of the check under way and their table rows (:meth:`_tables`)
        self._tables_of: tuple[Sequence[_Unit], tuple[_Rows, _RowNames]] | None = None

    def labels(self, passages: Sequence[str]) -> _Labels:
        """The subject labels the passages' cells give (规格：大果 / 特大果)."""
        return _knowledge_labels(self.rules, passages)

    def units(self, passages: Sequence[str], labels: _Labels | None = None) -> list[_Unit]:
        """The passages' clauses, each with its subjects and its sentence's words.

        A passage's first line, when more follow, is its heading (a page title, an FAQ's
        question): its words are every sentence's context, but the subjects it lists (a title
        naming 中果/大果/特大果) bind none of its rows."""
        labels = self.labels(passages) if labels is None else labels
        # a clause about a kind (偏远地区5-10天) is about the items listed in it (新疆)
        members: dict[str, set[str]] = {}
        for item, kinds in _memberships(passages, cells=True).items():
            names = [s for name in _member_names(item) for s in _subjects(self.rules, name, labels)]
            for subject in dict.fromkeys(names):
                for kind in kinds:
                    members.setdefault(kind, set()).add(subject)
        # ... also one naming a kind whose members are the knowledge's labels (小件加收20元 is
        # about 台灯 and 筒灯射灯), not only a kind that is itself a subject (偏远地区)
        listed = {
            kind: {s for s in subjects if s.startswith(f"{MEMBER}:")}
            for kind, subjects in members.items()
        }
        listed = {kind: subjects for kind, subjects in listed.items() if subjects}
        out = []
        for passage in passages:
            folded = fold(passage)
            head, _, body = folded.partition("\n")
            if not (body.strip() and _is_heading(head)):
                head = ""  # passages joined line by line: the first is a passage, not a title
            heading = _bigrams(head) if head else frozenset()
            page = frozenset(_subjects(self.rules, head)) if head else frozenset()
            lead = ""  # a line introducing a list ("以下情况…不支持7天无理由：")
            for sentence in _asserted(self.rules, folded):
                if not sentence.strip():
                    continue
                sentence = _restrictions_written(self.rules, _answered_cells(self.rules, sentence))
                # each item of a list says what its lead-in says of it: "跑鞋：户外穿着过的"
                # under "以下情况不支持7天无理由：" is a no for 跑鞋
                scope = f"{sentence}，{lead}" if lead else sentence
                words = _bigrams(scope)
                item_of = lead
                if _LEAD_IN.search(sentence):
                    lead = sentence.strip().rstrip("：:") if _polarity(self.rules, sentence) else ""
                clauses = []
                excepted = []
                asides = _value_asides(sentence)
                for at, clause, subjects, found in _bound_clauses(
                    self.rules, sentence, labels=labels
                ):
                    excepted.append(_excepted(self.rules, at, clause, sentence, labels, asides))
                    bare = frozenset(numbers_in(_strip_measures(clause)))
                    found = found + _cell_values(self.rules, clause)
                    subjects = subjects + [
                        item
                        for s in subjects
                        for item in members.get(s.split(":", 1)[1], ())
                        if item not in subjects
                    ]
                    subjects = subjects + [
                        item
                        for kind, items in listed.items()
                        if _kind_named(kind, clause)
                        for item in sorted(items)
                        if item not in subjects
                    ]
                    inner = _inner_aside(self.rules, at, clause, sentence, labels, asides)
                    if inner is not None:
                        # a value aside closing in its host's clause ("每天16:00前发货（草莓以
                        # 14:00为截止时间）"): the host's value is not its subjects', the
                        # aside's value is theirs only
                        o, c, own = inner
                        host, aside = sentence[at:o] + sentence[c : at + len(clause)], sentence[o:c]
                        excepted[-1] = frozenset(own)
                        clauses.append((host, subjects, measures(host), bare))
                        excepted.append(frozenset())
                        clauses.append((aside, own, measures(aside), bare))
                        continue
                    clauses.append((clause, subjects, found, bare))
                for (clause, subjects, found, bare, (back, reach)), other in zip(
                    self._reaches(clauses), excepted, strict=True
                ):
                    out.append(
                        _Unit(
                            clause,
                            tuple(found),
                            frozenset(subjects),
                            words,
                            scope,
                            bare,
                            page,
                            heading,
                            back,
                            reach,
                            other,
                            item_of,
                        )
                    )
        return out

    def _reaches(
        self, clauses: Sequence[tuple[str, list[str], list[Measure], frozenset[float]]]
    ) -> list[
        tuple[
            str, list[str], list[Measure], frozenset[float], tuple[frozenset[str], frozenset[str]]
        ]
    ]:
        """Each clause of a sentence with the words its value is about (a subject comes before
        its value): its own, those of the clauses stating no value back to the last value, and
        the sentence's leading clauses that state none (a table row's label); then also what
        is said of it: the clauses stating no value after it, up to the next value or table cell
        ("自付款之日起15天内，同款降价，可退差价"). A neighbour stating a value is a sibling."""
        own = [_bigrams(_strip_cues(self.rules, _strip_measures(c))) for c, *_ in clauses]
        states = [bool(found or bare) for _, _, found, bare in clauses]
        label: frozenset[str] = frozenset()
        for words, valued in zip(own, states, strict=True):
            if valued:
                break
            label |= words
        out = []
        for i, (clause, subjects, found, bare) in enumerate(clauses):
            reach = label | own[i]
            j = i - 1
            while j >= 0 and not states[j]:
                reach |= own[j]
                j -= 1
            back, j = reach, i + 1
            while states[i] and j < len(clauses) and not states[j]:
                if _CELL_KEY.match(clauses[j][0]):
                    break  # another cell of the row: about the row, not this value
                reach |= own[j]
                j += 1
            out.append((clause, subjects, found, bare, (back, reach)))
        return out

    def judge(
        self, claims: Sequence[Claim], passages: Sequence[str], *, question: str = ""
    ) -> list[ClaimVerdict]:
        units = self.units(passages)
        asked = list(measures(question))
        context = fold(question + "\n" + "\n".join(passages))
        derived = _derived(claims, units)
        kinds = _memberships(passages)
        prices = self._amounts_by_subject(claims, units)
        labels = self.labels(passages)
        named = _Named(fold("\n".join(passages)))
        enumerated = _enumerations(self.rules, passages)
        in_force: set[str] = set()  # the heads the reply named last
        out = []
        for claim in claims:
            verdict = self._judge(
                claim,
                units,
                asked,
                context,
                self._worked_out(claim, derived, prices, labels),
                kinds,
                named,
            )
            swapped = self._enumerated(claim, units, enumerated, fold(question), in_force)
            if enumerated.pattern is not None:
                in_force = {
                    m.group() for m in enumerated.pattern.finditer(fold(claim.text))
                } or in_force
            if swapped is not None and _STRICTNESS[swapped.verdict] > _STRICTNESS[verdict.verdict]:
                verdict = swapped
            out.append(verdict)
        return out

    @staticmethod
    def _enumerated(
        claim: Claim,
        units: Sequence[_Unit],
        enumerated: _Enumerations,
        question: str,
        in_force: set[str] | frozenset[str] = frozenset(),
    ) -> ClaimVerdict | None:
        """A value the knowledge enumerates for one head said of another head of the same
        enumeration (充电线保修1年 where it says 主机1年，充电线6个月; XL的托盘3元 where S/M托盘3元，
        L/XL/XXL托盘6元; 金卡享92折 where the 黑金卡 row says 92折): contradicted where the reply
        names the head, unsupported where it names none — the head an earlier clause of the
        reply named (``in_force``: 整车（电机…）保修6个月 is the 整车's), else the question's where
        the reply says what the enumeration says of every head (每单补运费10元 asked of 制氧机).
        Only where every clause
        stating the value is such an entry: a value stated of the named head anywhere stands."""
        if enumerated.pattern is None or not claim.measures:
            return None
        text = claim.own or fold(claim.text)
        said = {m.group() for m in enumerated.pattern.finditer(text)}
        asked = {m.group() for m in enumerated.pattern.finditer(question)} if question else set()
        for q in claim.measures:
            stating = [u for u in units if any(_states(m, q) for m in u.measures)]
            if not stating:
                continue
            swaps: list[tuple[bool, str, str]] = []  # (sure, of whom, named)
            for entries, common in enumerated.by_dim.get(q.dim, ()):
                of_q = [e for e in entries if _states(e.value, q)]
                if not of_q:
                    continue
                heads = {n for e in entries for n in e.names}
                named, sure = said & heads, True
                if not named and in_force & heads:
                    named, sure = set(in_force) & heads, False
                elif not named and common and _bigrams(common) & _bigrams(text):
                    named, sure = asked & heads, False
                owners = {n for e in of_q for n in e.names}
                if not named or named & owners:
                    continue
                if not sure and any(_bigrams(n) & _bigrams(text) for n in owners):
                    continue  # the reply names part of the head stating it (滚轮 of 足浴盆滚轮)
                swaps.append((sure, "、".join(of_q[0].names), "、".join(sorted(named))))
                covered = [e.text for e in of_q]
                stating = [u for u in stating if not any(u.text.strip() in c for c in covered)]
            if swaps and not stating:
                sure, owner, other = swaps[0]
                sure = all(s for s, _, _ in swaps)
                return ClaimVerdict(
                    claim,
                    "contradicted" if sure else "unsupported",
                    f"{q.text} is what the knowledge gives {owner}, not {other}",
                )
        return None

    @staticmethod
    def _amounts_by_subject(
        claims: Sequence[Claim], units: Sequence[_Unit]
    ) -> dict[str, set[float]]:
        """The one amount each of the reply's clauses states the knowledge supports, by the
        subjects the clause is about (短款399元 → 规格:短款: 399)."""
        out: dict[str, set[float]] = {}
        for claim in claims:
            money = [q for q in claim.measures if q.dim == "money" and q.low == q.high]
            if len(money) != 1 or not any(_states(m, money[0]) for u in units for m in u.measures):
                continue
            for subject in claim.subjects:
                out.setdefault(subject, set()).add(money[0].low)
        return out

    def _direction(
        self, text: str, prices: Mapping[str, set[float]], labels: _Labels
    ) -> frozenset[float] | None:
        """The difference a comparison (长款比短款贵100元) may state, when the reply gives both
        sides' amounts: the first's minus the second's if it says more (贵), the other way round
        if it says less (便宜) — else None (the unsigned differences hold)."""
        left, found, right = text.partition("比")
        sides = [
            {a for s in _subjects(self.rules, part, labels) for a in prices.get(s, ())}
            for part in (left, right)
        ]
        more, less = self.rules.comparison.get("more"), self.rules.comparison.get("less")
        if not found or not all(sides) or more is None or less is None:
            return None
        ups, downs = more.search(right), less.search(right)
        if bool(ups) == bool(downs):
            return None
        sign = 1 if ups else -1
        return frozenset(
            round(sign * (a - b), 2) for a in sides[0] for b in sides[1] if sign * (a - b) > 0
        )

    def _worked_out(
        self,
        claim: Claim,
        derived: Mapping[str, frozenset[float]],
        prices: Mapping[str, set[float]] | None = None,
        labels: _Labels = _NO_LABELS,
    ) -> frozenset[float]:
        """The derived amounts of the operations the claim says it performs (比…贵 a difference,
        一共 a sum, 平均每件 a share); a comparison's difference only in its own direction."""
        text = fold(claim.text)
        out: set[float] = set()
        for op, values in derived.items():
            cue = self.rules.arithmetic.get(op)
            if cue is None or not cue.search(text):
                continue
            if op == "difference":
                signed = self._direction(text, prices or {}, labels)
                values = values if signed is None else signed
            out |= values
        return frozenset(out)

    def _judge(
        self,
        claim: Claim,
        units: list[_Unit],
        asked: list[Measure],
        context: str,
        derived: frozenset[float] = frozenset(),
        kinds: Mapping[str, frozenset[str]] | None = None,
        named: _Named | None = None,
    ) -> ClaimVerdict:
        verdicts: list[ClaimVerdict] = []
        renamed: dict[int, tuple[str, str] | None] = {}  # per unit: the same for every value
        for q in claim.measures:
            verdicts.append(self._quantity(claim, q, units, asked, derived, renamed))
        absent = named.absent(claim, asked, context.split("\n", 1)[0]) if named is not None else []
        if absent and (claim.measures or claim.polarity):
            # a value or a yes about a subject the knowledge never names is not confirmed by
            # what it says of the others (新疆 where it lists 青海、甘肃)
            verdicts.append(
                ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the cited knowledge does not name {'、'.join(absent)}",
                )
            )
        # a bare number restating a quantity of the question in another unit (1米6 → 160)
        known = numbers_in(context) | {v for m in asked for v in (m.low, m.high, _raw(m))}
        for n in claim.numbers:
            if n not in known:
                verdicts.append(
                    ClaimVerdict(claim, "unsupported", f"{n:g} not found in the cited knowledge")
                )
        for code in claim.codes:
            if code not in context:
                verdicts.append(
                    ClaimVerdict(claim, "unsupported", f"“{code}” not found in the cited knowledge")
                )
        for family, positive in claim.polarity:
            polar = self._polar(claim, family, positive, units, kinds or {})
            if polar.verdict == "neutral" and claim.measures:
                polar = self._polar_at_value(claim, family, positive, units) or polar
            if polar.verdict == "neutral" and self._unmentioned(claim, units):
                # a yes or no about what the cited knowledge never mentions is not its
                polar = ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the cited knowledge says nothing about this: {claim.text}",
                )
            verdicts.append(polar)
        mixed = self._rows_mixed(claim, units)
        if mixed is not None:
            verdicts.append(mixed)
        bare = self._bare_no_said(claim, units) or self._bare_no(claim, units)
        if bare is not None:
            verdicts.append(bare)
        if claim.offer:
            verdicts.append(self._offer(claim, units))
        if claim.options:
            verdicts += self._choice(claim, units)
        if not verdicts:
            return ClaimVerdict(claim, "neutral")
        worst = max(verdicts, key=lambda v: _STRICTNESS[v.verdict])
        if worst.verdict == "neutral" and any(v.verdict == "entailed" for v in verdicts):
            return next(v for v in verdicts if v.verdict == "entailed")
        return worst

    @staticmethod
    def _unmentioned(claim: Claim, units: Sequence[_Unit]) -> bool:
        """The claim states no value, and none of its own words (two or more) is in the cited
        knowledge, its headings included."""
        return (
            not claim.measures
            and len(claim.words) >= 2
            and not any(claim.words & u.context for u in units)
        )

    def _rows_mixed(self, claim: Claim, units: Sequence[_Unit]) -> ClaimVerdict | None:
        """A value of a table row said of another row: the claim names rows by a value some of
        a table's rows state in a cell and others do not (券面：10元, 规格：50ml, 数量：50只 of
        the 红樱桃虾 rows) and states a value only other rows of the same table give (使用门槛：
        999元 of the 80元 row, 价格(元)：29 of the 20只 row) — the rows it names never state it.
        A row's values are read as its units read them (price：168 is 168元)."""
        if not claim.measures:
            return None
        rows, names = self._tables(units)
        if len(rows) < 2:
            return None

        def columns(q: Measure, row: str) -> set[str]:
            return {c for c, m in rows[row][1] if _states(m, q)}

        # what names rows: a value the claim states that some rows state in a cell, or a name
        # a cell gives in words that the claim says (9成新 of 9成新手机 against the 99新 row)
        said = fold(claim.text)
        namers: list[tuple[Measure | None, list[str], set[str]]] = []
        for value in claim.measures if len(claim.measures) >= 2 else ():
            named = [s for s in rows if columns(value, s)]
            namers.append((value, named, set().union(*(columns(value, s) for s in named))))
        spoken = {n for cells in names.values() for _, n in cells if n in said}
        # a name inside another the claim says is not said (j级 in jj级)
        spoken = {n for n in spoken if not any(n != m and n in m for m in spoken)}
        for name in sorted(n for n in spoken if _said_alone(n, said)):
            named = [s for s in rows if any(n == name for _, n in names.get(s, ()))]
            by = {c for s in named for c, n in names.get(s, ()) if n == name}
            namers.append((None, named, by))
        for label, named, by in namers:
            keys = {rows[s][0] for s in named}
            if not named or all(s in named for s in rows if rows[s][0] in keys):
                continue  # a value every row of the table states names none of them
            for q in claim.measures:
                if q is label or any(columns(q, s) for s in named):
                    continue
                others = [s for s in rows if rows[s][0] in keys and s not in named]
                found = set().union(*(columns(q, s) for s in others)) if others else set()
                # two values of one column name two rows (小于280mm或大于420mm, 98折或95折):
                # a list of rows, not one row's value said of another
                if label is None:
                    # rows named in words hold a value of their own in the column (店铺质保：6个月
                    # of the 9成新 row): not a column of attributes (参数：桌面 … 说明：15mm)
                    found &= {c for s in named for c, m in rows[s][1] if m.dim == q.dim}
                if found and not found & by:
                    which = label.text if label is not None else "、".join(sorted(by))
                    return ClaimVerdict(
                        claim,
                        "unsupported",
                        f"{q.text} is what another row states, not the {which} row",
                    )
        return None

    def _tables(self, units: Sequence[_Unit]) -> tuple[_Rows, _RowNames]:
        """The table rows of ``units``: a row (its sentence) → its first key, and each cell's
        key with its values; and the names its cells give in words (成色：9成新, 99新、95新), by
        column. Read once per check (every claim of a reply is judged against the same units)."""
        cached = self._tables_of  # one read: another thread may be checking another reply
        if cached is not None and cached[0] is units:
            return cached[1]
        rows: _Rows = {}
        names: _RowNames = {}
        for u in units:
            key = _row_key(u.sentence)
            if key:
                cell = _CELL_KEY.match(u.text)
                column = cell.group().strip().rstrip("：:").strip() if cell else ""
                row = rows.setdefault(u.sentence, (key, []))[1]
                row.extend((column, m) for m in u.measures)
                if cell and not u.measures:
                    names.setdefault(u.sentence, []).extend(
                        (column, n) for n in self._cell_names(u.text[cell.end() :])
                    )
        self._tables_of = (units, (rows, names))
        return rows, names

    def _cell_names(self, value: str) -> list[str]:
        """The names a cell's value gives in words (99新、95新 → 99新, 95新): each two to eight
        characters with a Chinese one, holding no yes or no (支持, 不含) — none where the value
        is a sentence."""
        out = []
        for name in _HEAD_SPLIT.split(fold(value).strip()):
            name = name.strip()
            if not (2 <= len(name) <= 8 and _CJK.search(name)):
                return []
            if not (self.rules.cue_words.search(name) or _STATE.search(name)):
                out.append(name)
        return out

    def _conflicts(self, claim: Claim, unit: _Unit) -> bool:
        """The unit is about a sibling of the claim's subject and not about the subject.

        A clause naming no subject of a kind is about what its page's title names of that kind:
        a 运动鞋 page's 保修6个月 is not the 童鞋's when the reply names 童鞋. A title naming the
        claim's subject, or a subject only the question names (the customer's word for the
        page's product), never conflicts — it only aligns."""
        excepted = [s for s in claim.subjects if s in unit.excepted]
        if (
            unit.measures
            and excepted
            and len(excepted)
            == len(
                [
                    s
                    for s in claim.subjects
                    if s.split(":", 1)[0] in {e.split(":", 1)[0] for e in excepted}
                ]
            )
        ):
            # 7天 of "7天内（羽绒服、大衣为15天）" is not the 羽绒服's — though it is still the value of
            # a list naming others besides them (车厘子、草莓、蓝莓 of 16:00 (草莓以14:00…))
            return True
        for s in claim.subjects:
            if s in unit.subjects:
                continue
            kind = s.split(":", 1)[0]
            own = [u for u in unit.subjects if u.split(":", 1)[0] == kind]
            if own and any(_siblings(s, u) for u in own):
                return True
            if (
                not own
                and s in claim.stated
                and s not in unit.page
                and any(_siblings(s, u) for u in unit.page)
            ):
                return True
        return False

    def _quantity(
        self,
        claim: Claim,
        q: Measure,
        units: list[_Unit],
        asked: list[Measure],
        derived: frozenset[float] = frozenset(),
        renamed_by: dict[int, tuple[str, str] | None] | None = None,
    ) -> ClaimVerdict:
        """The verdict on the claim's value ``q``. ``renamed_by``: :func:`_renamed` of the
        claim and each unit (by ``id``) so far — a clause of many values (a price list, a
        pasted table) reads each unit once, not once per value."""
        if any(q.within(a, 0.0) for a in asked):
            return ClaimVerdict(claim, "neutral", f"{q.text} repeats the question")
        same = [u for u in units if any(m.dim == q.dim for m in u.measures)]
        match = [u for u in same if any(_states(m, q) for m in u.measures)]
        if not match and q.low == q.high and q.dim not in _ALWAYS_WITH_UNIT:
            # the number without its unit, in a clause that shares the claim's words
            match = [u for u in units if q.low in u.bare or _raw(q) in u.bare]
            match = [u for u in match if len(claim.words & u.words) >= 1]
        other = [u for u in same if u not in match]
        ok = [u for u in match if not self._conflicts(claim, u)]
        named = set(claim.subjects)
        if (
            match
            and not ok
            and len(named) >= 2
            and all((named & u.named) - u.excepted for u in match)
        ):
            # the value is stated of one of the subjects the claim lists (DP-500's 3年 for
            # "DP-300、DP-500 保修3年"): unconfirmed for the others — contradicted where the
            # knowledge gives one of them another value
            left = named - set().union(*(u.named for u in match))
            if any(left & u.named for u in other):
                return ClaimVerdict(
                    claim, "contradicted", f"{q.text} is not what the knowledge says of all of them"
                )
            return ClaimVerdict(
                claim, "unsupported", f"{q.text} is stated of only some of what the reply names"
            )
        if match and not ok:
            subject = "、".join(s.split(":", 1)[1] for s in claim.subjects)
            return ClaimVerdict(
                claim,
                "contradicted",
                f"{q.text} is what the knowledge says of another subject than {subject}",
            )
        rivals = [u for u in other if not self._conflicts(claim, u)]
        best_other = max((self._overlap(claim, u) for u in rivals), default=0.0)
        if not match and q.low == q.high and q.low in derived:
            # 长款比短款贵100元 (499元 − 399元), 平均每件63元 (189元 ÷ 三件)
            return ClaimVerdict(claim, "entailed", f"{q.text} follows from the reply's own values")
        if not match:
            if any(self._about(claim, u) for u in rivals):
                return ClaimVerdict(
                    claim,
                    "contradicted",
                    f"{q.text} not found in the cited knowledge, which states another value for it",
                )
            return ClaimVerdict(claim, "unsupported", f"{q.text} not found in the cited knowledge")
        memo = {} if renamed_by is None else renamed_by
        renamed = [
            memo[id(u)] if id(u) in memo else memo.setdefault(id(u), _renamed(claim, u, units))
            for u in ok
        ]
        if all(renamed):
            this, that = renamed[0] or ("", "")
            return ClaimVerdict(
                claim,
                "unsupported",
                f"{q.text} is what the knowledge says of {that}, not of {this}",
            )
        best_ok = max(self._overlap(claim, u) for u in ok)
        swapped = self._swapped(claim, ok, rivals)
        if swapped is not None:
            rival, sure = swapped
            return ClaimVerdict(
                claim,
                "contradicted" if sure else "unsupported",
                f"{q.text} is stated of something else; where the knowledge is about what the "
                f"reply is about, it says: {rival.text}",
            )
        ruled = [s for s in claim.subjects if not s.startswith("product:")]
        if ruled and not any(set(ruled) & u.subjects for u in ok):
            # a rule naming the subject (偏远地区包括新疆…运费15元) outranks the general one
            specific = [u for u in rivals if set(ruled) & u.subjects and self._shares(claim, u)]
            if specific:
                return ClaimVerdict(
                    claim,
                    "contradicted",
                    f"{q.text} not found in the cited knowledge, which states another value for this subject",
                )
        for listed in (s for s in claim.subjects if s.startswith(f"{MEMBER}:")):
            # a value the knowledge gives the kind the claim's item is listed in (冷链商品需补邮费
            # 25元 for 车厘子) outranks the one it gives without naming the kind (需补邮费15元)
            if any(listed in u.subjects and self._says(claim, u) for u in ok):
                continue
            if any(listed in u.subjects and self._says(claim, u) for u in rivals):
                return ClaimVerdict(
                    claim,
                    "contradicted",
                    f"{q.text} is not what the cited knowledge states for "
                    f"{listed.split(':', 1)[1]}, which it states another value for",
                )
        if self._row_bound(claim, q, ok, rivals, units):
            return ClaimVerdict(claim, "entailed", q.text)
        if (
            best_ok == 0
            # an amount (money, a discount) is about a thing; a duration or a count recurs
            # across rules and names (超过7天, 四件套)
            and q.dim in _EXACT
            and claim.topic
            and not any(claim.topic & u.context for u in ok)
        ):
            # the value is stated only about something its sentence is not about (the ¥50 of a
            # birthday coupon for "5楼一共50元" in a reply about delivery upstairs)
            return ClaimVerdict(
                claim,
                "unsupported",
                f"{q.text} not found in the cited knowledge about this (it is stated about something else)",
            )
        if best_ok == 0 and len(claim.words) >= 3:
            return ClaimVerdict(
                claim,
                "unsupported",
                f"{q.text} not found in the cited knowledge about this (it is stated about something else)",
            )
        if best_other >= best_ok + _RIVAL_MARGIN:
            return ClaimVerdict(
                claim,
                "unsupported",
                f"{q.text} not found in the cited knowledge about this (it is stated about something else)",
            )
        return ClaimVerdict(claim, "entailed", q.text)

    def _row_bound(
        self,
        claim: Claim,
        q: Measure,
        ok: Sequence[_Unit],
        rivals: Sequence[_Unit],
        units: Sequence[_Unit],
    ) -> bool:
        """The claim's values of other kinds (80厘米 of "80厘米的软萌霸王龙169元") all stated in the
        sentence of a clause stating its value ``q`` (the 80cm row's 价格：169) and in no rival's:
        that row is what the claim is about, however many more words a rival shares (the page's
        summary row naming the product, 价格：59元)."""
        if claim.dims <= {q.dim}:
            return False
        others = [m for m in claim.measures if m.dim != q.dim]

        def states_all(unit: _Unit) -> bool:
            found = _remembered(
                self.rules, "measures", unit.sentence, lambda: tuple(measures(unit.sentence))
            )
            # or as a bare number of a cell whose unit its key gives ("尺寸(站立高度cm)：80")
            bare = {n for u in units if u.sentence == unit.sentence for n in u.bare}
            return all(
                any(_states(m, o) for m in found)
                or (o.dim not in _ALWAYS_WITH_UNIT and o.low == o.high and _raw(o) in bare)
                for o in others
            )

        return any(states_all(u) for u in ok) and not any(states_all(u) for u in rivals)

    @staticmethod
    def _swapped(
        claim: Claim, ok: Sequence[_Unit], rivals: Sequence[_Unit]
    ) -> tuple[_Unit, bool] | None:
        """A clause stating another value of the claim's dimension that is about what the claim
        (and the question) is about, where no clause stating the claim's value is: a sibling of
        one of them (a clause of the same sentence, a row of the same table) whose scope — its
        label, the clauses leading to its value — holds a word of the claim the scopes stating
        the claim's value lack, and more of its words than any of them. The value belongs to
        another row, variant or clause (小型犬50克 for 中型犬, the 青海 row's 15元 for 新疆): a
        subject swap, sure (contradicted) when the claim's own words bind it, not only the
        question's."""
        stated = frozenset().union(*(u.reach for u in ok))
        others = frozenset().union(*(u.scope for u in rivals)) if rivals else frozenset()
        # the claim's own words say what it is about; the question's only when they bind to
        # no clause stating its value, or to every clause alike ("每天喂50克" answering
        # 中型犬每天喂多少; "不满收8元运费" answering 新疆运费多少)
        generic = not (claim.words & stated) or claim.words <= (stated & others)
        key = claim.words | claim.asked if generic else claim.words
        if not key:
            return None
        mine = max(len(key & u.reach) for u in ok)
        own = claim.values
        listed = {s for s in claim.subjects if s.startswith(f"{MEMBER}:")}
        for rival in rivals:
            if {(m.dim, m.low, m.high) for m in rival.measures} & own:
                continue  # the claim's other value (满199元 … 运费15元)
            binding = (key & rival.scope) - stated
            if not binding or len(key & rival.scope) <= mine:
                continue
            if any(not (u.scope - rival.scope - key) for u in ok):
                continue  # a clause stating the value is labelled nothing else than the claim
            if any(listed & u.subjects - rival.subjects for u in ok):
                continue  # one stating it names the kind the claim's item is listed in

            # siblings of one list: clauses of one sentence, or rows of one table (their
            # first cells share a key); what another part of the page says is no rival
            row = _row_key(rival.sentence)
            if any(
                u.sentence == rival.sentence or (row and _row_key(u.sentence) == row) for u in ok
            ):
                return rival, bool(binding & claim.words)
        return None

    @staticmethod
    def _says(claim: Claim, unit: _Unit) -> bool:
        """The clause says something the claim says (a bigram of its text but its values and
        subjects' names, its polarity cues included: 每单加收运费 and 小件加收运费20元)."""
        names = {s.split(":", 1)[1].split(":")[0] for s in claim.subjects}
        said = {
            w
            for w in _bigrams(_strip_measures(fold(claim.text)))
            if not any(w in n or n in w for n in names)
        }
        return bool(said & _bigrams(_strip_measures(unit.text)))

    @staticmethod
    def _shares(claim: Claim, unit: _Unit) -> bool:
        """The clause shares a word with the claim besides the subject's name."""
        names = {s.split(":", 1)[1].split(":")[0] for s in claim.subjects}
        own = {w for w in claim.words if not any(w in n or n in w for n in names)}
        return bool(own & _bigrams(unit.text))

    @classmethod
    def _about(cls, claim: Claim, unit: _Unit) -> bool:
        """The clause is about the claim's subject — a tier, region, mode or model it names (a
        product page names its product everywhere, so that does not count) — and shares a word
        with the claim besides that name."""
        ruled = {s for s in claim.subjects if not s.startswith("product:")}
        return bool(ruled & unit.subjects) and cls._shares(claim, unit)

    @staticmethod
    def _overlap(claim: Claim, unit: _Unit) -> float:
        """How much a clause of the knowledge is about what the claim says: shared words, and
        more when it names the claim's subject."""
        shared = len(claim.words & _bigrams(unit.text)) + len(claim.words & unit.words)
        return shared + (2.0 if set(claim.subjects) & unit.named else 0.0)

    def _polar(
        self,
        claim: Claim,
        family: str,
        positive: bool,
        units: list[_Unit],
        kinds: Mapping[str, frozenset[str]],
    ) -> ClaimVerdict:
        """Compare with the knowledge's clauses that say yes or no in the same family: the best
        aligned one decides, when it is clearly better aligned than any saying the opposite.
        Alignment counts the words shared besides the subject's name (a product page names its
        product everywhere); Latin words (HomeKit, Siri) count double."""
        # clauses naming the claim's subject outrank general rules (袜子拆封后不退不换 over
        # 本店商品支持7天无理由退换)
        scores = {(named, sign): 0.0 for named in (True, False) for sign in (True, False)}
        aligned: dict[tuple[bool, bool], frozenset[str]] = {}
        names = {s.split(":", 1)[1].split(":")[0] for s in claim.subjects}
        own = frozenset(w for w in claim.words if not any(w in n or n in w for n in names))
        # a clause whose words all name its subjects (无门槛券可以和店铺券同时使用) is about them
        own = own or claim.words
        own |= _objects(self.rules, fold(claim.text))  # 包邮 is about the 运费
        # what the claim's items are kinds of (荔枝 → 冷链商品): a rule about the kind is about it
        for member, kind in kinds.items():
            if _bigrams(member) <= claim.words:
                own |= frozenset().union(*map(_bigrams, kind))
        focus = claim.asked - own - frozenset().union(*map(_bigrams, names))
        seen: set[str] = set()
        # the claim's own case: its words but those of an exception it states itself and those
        # it says are not the case (不是质量问题的话)
        folded = fold(claim.text)
        denied = frozenset().union(*(_bigrams(m.group(1)) for m in _NOT_THE_CASE.finditer(folded)))
        case = (
            own
            - denied
            - frozenset().union(*(_bigrams(m.group()) for m in self._exceptions(folded)))
        )
        said, unsaid = self._conditions(claim)
        qualified = _qualifiers(fold(claim.text), claim.subjects)
        # what the claim says can be done (可以开增值税专用发票, 可以正常配送): a clause negating
        # that act by a negator before the verb itself (暂不开具…, 暂不配送, 不报销) says no to it
        acts = self._acts(folded) if family == "ability" and positive else ()
        # what a clause says only of a member tier, a region or a coupon the claim does not name
        # (黑金会员免费送货上楼) is not what holds without it: it neither confirms the claim nor
        # contradicts it — at most it leaves it unconfirmed
        claimed = {s.split(":", 1)[0] for s in claim.subjects}
        restricted_no = 0.0
        restricted_said: frozenset[str] = frozenset()  # ... the claim's words its sentence says
        # the claim's own words (not the objects of its cue: 包邮 → 运费) each sentence saying
        # yes or no says (not its heading: a page on 国行 / 港行 names both in every clause's
        # context)
        sentence_said: dict[tuple[bool, bool], frozenset[str]] = {}
        # a clause says the claim's own words, with the claim's sign (True) or the other
        verbatim = {True: False, False: False}
        # the words of the sentences saying the claim's yes or no, and the claim's words each
        # clause saying the opposite names itself: what only the opposite names is its own
        agreeing: set[str] = set()
        named_by_no: set[str] = set()
        for unit in units:
            if unit.sentence in seen or self._conflicts(claim, unit):
                continue
            seen.add(unit.sentence)
            leading = self._restricting(unit.subjects, claimed)  # the sentence's first clause's
            # 仅限杭州、上海、苏州市区 read for 北京: restricted to siblings of the claim's subject
            others = self._only_others(claim, unit.sentence, units)
            named = bool(self._same_subject(claim, unit, qualified))
            opposite = False  # the condition in force is the opposite of the claim's (未拆封)
            # the act the claim allows, negated (不报销), is the no itself, not a condition
            stated = said - frozenset(self._undone_acts(unit.sentence, acts)) if acts else said
            conditions = stated & self._negated(unit.sentence)
            parts = []
            for whole in _CLAUSE.split(unit.sentence):
                opposite = self._condition(whole, stated, unsaid, conditions, opposite)
                for clause, restricted in self._asides(whole, claimed, leading):
                    parts.append((clause, restricted, opposite))
            pieces = []
            for clause, restricted, opposite in parts:
                clause, excepted = self._excepting(clause, case, denied)
                opposite = opposite if excepted is None else excepted
                # a parenthesis beside a yes or no of the clause's own ("可免费寄回打磨（寄来运费
                # 自理") says its own of something else: each is read apart
                aside = _PAREN_ASIDE.search(clause)
                outside = _PAREN_ASIDE.sub("", clause)
                if (
                    aside
                    and _polarity(self.rules, outside)
                    and _polarity(self.rules, aside.group())
                ):
                    pieces += [
                        (outside, restricted, opposite),
                        (aside.group(), restricted, opposite),
                    ]
                else:
                    pieces.append((clause, restricted, opposite))
            for clause, restricted, opposite in pieces:
                if self._of_a_sibling(claim, clause):
                    continue  # "3/4和4/4另送肩托" of a sentence also about 1/2: not 1/2's
                if self._refers(clause):
                    continue  # "可配送地区见《配送说明》" names a topic and sends you elsewhere
                read = _polarity(self.rules, clause)
                signs = [p for f, p in read if f == family]
                if (
                    positive
                    and family in _PRESUPPOSE
                    and ("ability", False) in read
                    and self._denied_of(clause, claim.words)
                ):
                    # 不提供旧床垫搬走 says no to 免费帮您搬走: what is not done is neither free
                    # nor included
                    signs = [False]
                undone = self._undone_acts(clause, acts) if acts and not signs else ()
                if undone:
                    signs = [False]
                if not signs:
                    continue
                said_of = _bigrams(clause) | _objects(self.rules, clause)
                item = unit.sentence[: -len(unit.lead)] if unit.lead else ""
                if (
                    item
                    and not opposite
                    and clause.strip()
                    and clause.strip() in unit.lead
                    and not _polarity(self.rules, item)
                ):
                    # the lead-in's yes or no is said of the item it introduces (预售商品 under
                    # 以下情况不支持价保：): the item's words are its own — unless the item is a
                    # condition the claim's case is the opposite of (未使用 for 用过了) or says
                    # yes or no itself (定制商品：非质量问题不退不换 is judged by its own)
                    said_of |= _bigrams(item)
                shared = sum(2 if w.isascii() else 1 for w in own & said_of)
                # the act negated is the claim's own verb: an alignment of its own, besides the
                # words the clause shares (配送, hidden from the claim's words as a cue's host)
                shared += 1 if undone else 0
                _, colon, value = clause.replace("：", ":").partition(":")
                if (
                    not shared
                    and colon
                    # the verdict is the cell's value (内容：不建议), not a lead-in's ("…，但不支持
                    # 7天无理由：" introduces a list, its no is about what it names)
                    and _polarity(self.rules, value)
                    and not _bigrams(_strip_cues(self.rules, value))
                    and not re.search(r"\d", value)  # 20元（满200可用）: a condition, no verdict
                ):
                    # a bare verdict cell (项目：嫁接睫毛，内容：不建议) is about its row — unless
                    # the row's verdicts stand under several keys (项目：蓝牙，基础款：不支持，
                    # 升级款：支持): then each is its key's, and the claim names another key
                    keys = _verdict_keys(self.rules, unit.sentence)
                    mine = claim.words & _bigrams(clause.replace("：", ":").partition(":")[0])
                    if len(keys) >= 2 and not mine and any(claim.words & _bigrams(k) for k in keys):
                        continue  # another variant's verdict
                    shared = sum(2 if w.isascii() else 1 for w in own & _bigrams(unit.sentence))
                    if len(keys) >= 2 and shared:
                        shared += len(mine)  # its key names the claim's variant
                if (
                    not opposite
                    and not restricted
                    and claim.words
                    and _bigrams(_strip_cues(self.rules, _strip_measures(clause))) == claim.words
                ):
                    # the clause says the claim's very words (不可漂白 for 可漂白 or 不可漂白):
                    # however little it shares, it is about the same thing
                    verbatim[signs[0] == positive] = True
                if not shared:
                    continue
                # the clause itself names the claim's subject (基础款：不支持调坡 in a row of
                # variants), though the sentence it opens does not
                names_it = named or bool((claim.words - own) & _bigrams(clause))
                # the case the reply's sentence frames it in places it too
                placed = (own | claim.frame) & unit.context
                score = shared + len(placed) / 2 + (1.0 if names_it else 0.0)
                # the clause saying it of what the question asks about (外层 of 外层能机洗吗 in
                # "内胆可以机洗，外层不可机洗"): the part of the knowledge that answers
                # (not its page's product, named in its title: that is every clause's)
                score += _FOCUS_WEIGHT * len((focus - unit.heading) & _bigrams(clause))
                key = (named, signs[0] != opposite)
                if restricted:
                    if key[1] != positive and not opposite and score > restricted_no:
                        restricted_no = score
                        restricted_said = claim.words & _bigrams(unit.sentence)
                    continue
                if others and key[1] == positive:
                    continue  # what holds only for the subjects listed confirms nothing else
                if opposite and key[1] == positive:
                    # what holds under the other condition (凭发票可以保修) tells against the
                    # claim's yes, but never confirms its no (没有发票不能保修 is not said)
                    continue
                if key[1] == positive:
                    agreeing |= unit.context
                elif not opposite:
                    named_by_no |= own & claim.asked & _bigrams(clause)
                if score > scores[key]:
                    scores[key], aligned[key] = score, own & unit.context
                    sentence_said[key] = claim.words & _bigrams(unit.sentence)
        level = any(scores[(True, sign)] for sign in (True, False))
        best = {sign: scores[(level, sign)] for sign in (True, False)}
        agree, oppose = best[positive], best[not positive]
        if oppose >= _SURE and oppose > agree + _NO_MARGIN:
            return ClaimVerdict(
                claim, "contradicted", f"the knowledge says the opposite: {claim.text}"
            )
        if agree >= _SURE and oppose >= _SURE:
            # yes and no about as clearly: what sets the two apart decides — the claim's words
            # only the sentence saying no shares (定制礼盒 … 可退 against 月饼礼盒 可退 and
            # 定制商品 不可退) leave the claim unconfirmed
            yes = aligned.get((level, positive), frozenset())
            no = aligned.get((level, not positive), frozenset())
            if (no - yes) and not (yes - no):
                return ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the knowledge says yes and no, and no where it is about this: {claim.text}",
                )
        if positive and oppose >= 1 and named_by_no - agreeing:
            # 县城 of 县城能上门装书架吗 only in "县城及乡镇暂不提供", 床架 only in "不提供床架安装": the
            # clause saying yes is about the general case, the one saying no about this one
            return ClaimVerdict(
                claim,
                "unsupported",
                f"the knowledge says no about {'、'.join(sorted(named_by_no - agreeing))}, "
                f"and yes only where it is not named: {claim.text}",
            )
        if verbatim[True] != verbatim[False]:
            # a yes or no in the claim's very words outranks the other in more words (仅支持查看，
            # 不支持回复 against 安卓可快捷回复, for 支持回复)
            if verbatim[True]:
                return ClaimVerdict(claim, "entailed", claim.text)
            return ClaimVerdict(
                claim,
                "unsupported",
                f"the knowledge says the opposite in these words: {claim.text}",
            )
        if agree >= _SURE and restricted_no >= agree:
            # a no said of a region, tier or coupon the claim does not name (不享受内地…联保) as
            # clearly as the yes, in a sentence saying a word of the claim's the yes's does not
            # (港行为香港行货，不享受内地品牌官方全国联保 against 国行商品享受…): the yes is another
            # subject's
            yes = sentence_said.get((level, positive), frozenset())
            if (restricted_said - yes) and not (yes - restricted_said):
                return ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the knowledge says no where it names {'、'.join(sorted(restricted_said - yes))}"
                    f": {claim.text}",
                )
        if agree >= _SURE and agree >= oppose:
            return ClaimVerdict(claim, "entailed", claim.text)
        if restricted_no >= _SURE:
            return ClaimVerdict(
                claim,
                "unsupported",
                f"the knowledge says otherwise for a member tier, region or coupon: {claim.text}",
            )
        if (
            oppose >= _WEAK_NO
            and not agree
            and family not in _QUALIFIERS
            # words of its own, not only the question's ("两档不叠加": 两档 is no content word)
            and _bigrams(_strip_cues(self.rules, _strip_measures(fold(claim.text))))
        ):
            # only a no aligned with it, if loosely: not enough to contradict, too much to pass
            return ClaimVerdict(
                claim, "unsupported", f"the knowledge says no where it touches this: {claim.text}"
            )
        return ClaimVerdict(claim, "neutral")

    def _refers(self, clause: str) -> bool:
        """Whether ``clause``, outside its parentheses, sends the reader to another text
        (发货时间和可配送地区见《配送说明》) — not one saying yes with a reference aside
        (支持7天无理由（详见退换货政策）)."""
        pattern = self.rules.reference
        return pattern is not None and bool(pattern.search(_PAREN_ASIDE.sub("", clause)))

    def _acts(self, text: str) -> tuple[str, ...]:
        """What ``text`` says can be done: the few characters after each yes of ability not
        negated (可以正常配送 → 正常配送, 可以开增值税… → 开增值税…), up to the clause's end."""
        pattern = next((p for f, p in self.rules.positive if f == "ability"), None)
        if pattern is None or not pattern.pattern:
            return ()
        out = []
        for m in pattern.finditer(text):
            if self.rules.negated_before.search(text[max(0, m.start() - 6) : m.start()]):
                continue
            act = re.split(_CLAUSE_MARKS, text[m.end() : m.end() + _ACT_SPAN], maxsplit=1)[0]
            if len(act) >= 2:
                out.append(act)
        return tuple(out)

    def _undone_acts(self, clause: str, acts: Sequence[str]) -> tuple[str, ...]:
        """The words ``clause`` says are not done (:meth:`_not_done`) that are one of ``acts``:
        the word inside the act (配送 of 正常配送), or the act's verb it opens with the act's
        object in the clause too (开具 of 开增值税专用发票 against 暂不开具增值税专用发票 — not 发
        of 器材是可以发的 against 不发活体)."""
        said = _bigrams(clause)
        return tuple(
            w
            for w in sorted(self._not_done(clause))
            if any(w in act or (w[0] == act[0] and _bigrams(act[1:]) & said) for act in acts)
        )

    def _of_a_sibling(self, claim: Claim, clause: str) -> bool:
        """The clause names a model code or a size that is a sibling of one the claim names,
        and not that one: what it says is the sibling's (a sentence's clauses can each be about
        another of them — "3/4和4/4另送肩托，1/8至1/2送海绵垫")."""
        mine = [s for s in claim.subjects if s.split(":", 1)[0] in ("code", "size")]
        if not mine:
            return False
        theirs = [
            s for s in _subjects(self.rules, clause) if s.split(":", 1)[0] in ("code", "size")
        ]
        return any(s not in theirs and any(_siblings(s, t) for t in theirs) for s in mine)

    def _denied_of(self, clause: str, words: frozenset[str]) -> bool:
        """Whether the clause's no of ability is said of the claim's thing: what follows the no
        (不提供旧床垫搬走 for 免费帮您搬走) shares a word with the claim, or nothing follows it (上门
        安装：不支持) — not a no to another act (楼层费不予退还 is no 不收楼层费)."""
        pattern = next((p for f, p in self.rules.negative if f == "ability"), None)
        found = pattern.search(clause) if pattern is not None and pattern.pattern else None
        if found is None:
            return True
        rest = re.split(r"[，,。；;！!？?（(]", clause[found.end() :], maxsplit=1)[0]
        after = {rest[i : i + 2] for i in range(len(rest) - 1)}
        return not _CJK.search(rest) or bool(after & words)

    def _excepting(
        self, clause: str, own: frozenset[str], denied: frozenset[str] = frozenset()
    ) -> tuple[str, bool | None]:
        """A clause stating an exception in a parenthesis ("不支持7天无理由退货（质量问题除外）"),
        read for a claim with words ``own``, and whether its yes or no holds the other way round
        for the claim (None: as its condition reads): about the excepted case (质量问题 in the
        claim) it does; about anything else the exception's words do not align
        the claim with it (they name the case it does not cover) — unless the claim says its
        case is not the excepted one (``denied``: 不是质量问题的话), which is the clause's own."""
        found = self._exceptions(clause)
        if not found:
            return clause, None
        excepted = frozenset().union(*(_bigrams(m.group()) for m in found))
        excepted -= _bigrams("".join(self.rules.exception_words))
        if own & excepted:
            return clause, True
        if denied & excepted:
            return clause, False
        for m in reversed(found):
            clause = clause[: m.start()] + " " + clause[m.end() :]
        return clause, None

    def _exceptions(self, text: str) -> list[re.Match[str]]:
        """The parentheses of ``text`` stating an exception (（质量问题除外）)."""
        pattern = self.rules.exception
        return list(pattern.finditer(text)) if pattern is not None else []

    def _bare_no(self, claim: Claim, units: list[_Unit]) -> ClaimVerdict | None:
        """A no said with no polarity word, by a negator before the verb itself ("面单和包裹内都
        不显示价格", "周日不配送"), against a claim stating that verb without one ("会显示价格的"):
        not confirmed. Only a clause with no polarity word of its own counts — where it has one
        (非质量问题不退), the negated word is a condition, judged with the polarity."""
        if any(not positive for _, positive in claim.polarity):
            return None  # the claim says no itself (没法补发)
        text = fold(claim.text)
        undone = self._not_done(text)  # the claim says no to it too (暂停发活体)
        for unit in units:
            if self._conflicts(claim, unit) or _polarity(self.rules, unit.text) or unit.measures:
                continue  # a no at a value (超过180天不再补开) is read with the value
            hits = {
                w
                for w in claim.words & self._not_done(unit.text)
                # the claim says no to it too (不会显示价格)
                if w not in undone
                and not any(
                    self.rules.negated_before.search(text[max(0, m.start() - 6) : m.start()])
                    for m in re.finditer(re.escape(w), text)
                )
            }
            rest = claim.words - hits
            if hits and (rest & _bigrams(unit.sentence)):
                return ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the knowledge says no to {'、'.join(sorted(hits))}: {unit.text}",
                )
            # a no passed on to the object of a verb of taking part or having (不具备GPS定位,
            # 不参与会员折扣): the claim naming that object, about what the clause or its page
            # names, says the yes (有GPS定位, 电钢琴也享受9折)
            if not self._affirms_having(text):
                continue
            # a no passed on to the object of a verb of taking part or having (不具备GPS定位,
            # 不参与会员折扣), said of what the claim names (琴类和电钢琴, or the page's product:
            # 本机 on the 小飞侠's page): the claim having or taking part in it says the yes
            whose, had = self._not_had(unit.text)
            passed = claim.words & had
            if passed and ((claim.words - passed) & (whose | unit.heading)):
                return ClaimVerdict(
                    claim,
                    "unsupported",
                    f"the knowledge says no to {'、'.join(sorted(passed))}: {unit.text}",
                )
        return None

    def _bare_no_said(self, claim: Claim, units: list[_Unit]) -> ClaimVerdict | None:
        """A claim saying no to an act with no polarity word — a negator or a verb of
        suspending right before the verb (全年都不发活体, 暂停发活体) — confirmed where the knowledge
        says no to the same act the same way, in a sentence sharing another word of the claim's
        own, and names every tier, region or coupon the claim is about: not by a no said of
        other subjects, nor of none (周四至周日不发活体 says nothing of 辽宁)."""
        if claim.polarity or claim.measures:
            return None
        mine = self._not_done(fold(claim.text)) & claim.words
        if not mine:
            return None
        about = [s for s in claim.subjects if s.split(":", 1)[0] in _FOCUS_KINDS]
        names = frozenset().union(*(_bigrams(s.split(":", 1)[1]) for s in about))
        negators = {"不", *"".join(self.rules.suspends)}
        rest = {w for w in claim.words - mine - names if not negators & set(w)}
        for i, unit in enumerate(units):
            if _polarity(self.rules, unit.text) or unit.measures:
                continue
            if not mine & self._not_done(unit.text) or not rest & _bigrams(unit.sentence):
                continue
            # the no heads a list of what it is said of (全年不发活体：新疆、西藏、青海): the
            # bare items after it in its sentence are its subjects too
            subjects = set(unit.subjects)
            for item in units[i + 1 :]:
                if item.sentence != unit.sentence or _bigrams(self._unnamed(item)):
                    break
                subjects |= item.subjects
            listed = replace(unit, subjects=frozenset(subjects))
            if not self._conflicts(claim, listed) and all(s in listed.named for s in about):
                return ClaimVerdict(claim, "entailed", claim.text)
        return None

    def _unnamed(self, unit: _Unit) -> str:
        """A clause's text without the subjects it names and the words joining them (及, 和)."""
        text = unit.text
        for s in sorted(unit.subjects, key=len, reverse=True):
            text = text.replace(s.split(":", 1)[1], "")
        return re.sub(r"[及和与或等]", "", text)

    def _having_verbs(self) -> str:
        return _alternation(self.rules.takes_part | self.rules.having)

    def _affirms_having(self, text: str) -> bool:
        """Whether ``text`` has or takes part in something: a verb of having or taking part
        with no negator right before it (有GPS定位, 可以享受9折 — not 不享受, 没有)."""
        verbs = self._having_verbs()
        if not verbs:
            return False
        return any(
            not self.rules.negated_before.search(text[max(0, m.start() - 6) : m.start()])
            and not re.search(rf"(?:{_NEGATOR})$", text[: m.start()])
            for m in re.finditer(verbs, text)
        )

    def _not_had(self, text: str) -> tuple[frozenset[str], frozenset[str]]:
        """What ``text`` says does not have or take part in what: the words before a negated
        verb of having or taking part, and those of its object (琴类和电钢琴 不参与 会员折扣, 本机
        不具备 自动返航功能)."""
        verbs = self._having_verbs()
        if not verbs:
            return frozenset(), frozenset()
        masked = self.rules.not_negator.sub(lambda m: "＿" * len(m.group()), text)
        whose: set[str] = set()
        had: set[str] = set()
        for m in re.finditer(rf"(?:{_NEGATOR})[{self.rules.modals}]{{0,2}}(?:{verbs})", masked):
            obj = re.match(r"[^，,。；;！!？?（(]{1,16}", masked[m.end() :])
            if obj:
                had |= _bigrams(obj.group())
                whose |= _bigrams(masked[: m.start()])
        return frozenset(whose), frozenset(had)

    def _asides(self, clause: str, claimed: set[str], leading: bool) -> list[tuple[str, bool]]:
        """The clause, and apart from it each parenthesis naming a tier, region or coupon of
        its own (补10元差价（黑金会员顺丰免差价）), each with whether it is restricted to a
        subject the claim does not name (the clause: by its own such subjects, else by its
        sentence's first clause's)."""
        main, out = clause, []
        for m in _ASIDE.finditer(clause):
            inner = _subjects(self.rules, m.group(1))
            if any(s.split(":", 1)[0] in _FOCUS_KINDS for s in inner):
                main = main.replace(m.group(), " ")
                out.append((m.group(1), self._restricting(inner, claimed)))
        about = self.rules.exclusion.sub(" ", main) if self.rules.exclusion else main
        own = [s for s in _subjects(self.rules, about) if s.split(":", 1)[0] in _FOCUS_KINDS]
        return [(main, self._restricting(own, claimed) if own else leading), *out]

    def _only_others(self, claim: Claim, sentence: str, units: Sequence[_Unit]) -> bool:
        """Whether ``sentence`` restricts what it says (仅限, 只能) to subjects it lists of the
        kind of a subject of the claim, leaving the claim's out: 北京 against "免费上门测量：仅限杭州、
        上海、苏州三地市区". What it says then holds only for those: its yes cannot confirm the
        claim; its no still counts as the knowledge saying no."""
        if self.rules.only is None or not self.rules.only.search(sentence):
            return False
        listed = frozenset().union(*(u.subjects for u in units if u.sentence == sentence))
        return any(
            s not in listed
            and s.split(":", 1)[0] in _FOCUS_KINDS
            and any(_siblings(s, u) for u in listed)
            for s in claim.subjects
        )

    @staticmethod
    def _restricting(subjects: Iterable[str], claimed: set[str]) -> bool:
        """Whether ``subjects`` restrict a clause to a tier, region or coupon of a kind the
        claim names none of."""
        return any(
            s.split(":", 1)[0] in _FOCUS_KINDS and s.split(":", 1)[0] not in claimed
            for s in subjects
        )

    def _polar_at_value(
        self, claim: Claim, family: str, positive: bool, units: list[_Unit]
    ) -> ClaimVerdict | None:
        """A yes or no the words alone do not place, read where the knowledge states the
        claim's value: when the clauses stating it that share most of the claim's words (不满99元
        收运费 for 不满99元也包邮) all say the opposite, the claim contradicts them."""
        best, signs = -1, set[bool]()
        for unit in units:
            if self._conflicts(claim, unit):
                continue
            pairs = [(q, m) for q in claim.measures for m in unit.measures if _states(m, q)]
            if not pairs:
                continue
            q, m = pairs[0]
            if self._short_of(fold(claim.text), q) != self._short_of(fold(unit.text), m):
                continue  # 满99元 is not 不满99元: the other side of the threshold
            found = [p for f, p in _polarity(self.rules, unit.text) if f == family]
            shared = len(claim.words & _bigrams(unit.text))
            if not found or shared < best or (claim.words and not shared):
                continue  # a claim with words of its own is read only where they are
            if shared > best:
                best, signs = shared, set()
            signs.add(found[0])
        if signs == {not positive}:
            return ClaimVerdict(
                claim,
                "contradicted",
                f"where the knowledge states it, it says the opposite: {claim.text}",
            )
        return None

    def _short_of(self, text: str, m: Measure) -> bool:
        """Whether ``text`` states ``m`` as a threshold not reached (不满99元, 不足3件)."""
        at = text.find(fold(m.text))
        return (
            self.rules.short_of is not None
            and at >= 0
            and bool(self.rules.short_of.search(text[max(0, at - 4) : at]))
        )

    @staticmethod
    def _same_subject(
        claim: Claim, unit: _Unit, qualified: Mapping[str, frozenset[str]]
    ) -> set[str]:
        """The claim's subjects the clause names — a product kind only when the sentence does
        not qualify it otherwise than the claim does (定制礼盒 is not 月饼礼盒)."""
        same = set(claim.subjects) & unit.named
        out = set()
        for subject in same:
            mine = qualified.get(subject)
            if mine and subject.startswith("product:"):
                theirs = _qualifiers(unit.sentence, [subject]).get(subject)
                if theirs and not (theirs & mine):
                    continue
            out.add(subject)
        return out

    def _not_done(self, text: str) -> frozenset[str]:
        """The words ``text`` says are not done: 不 and at most modals (不显示, 不会显示) right
        before them — not 无/未/非, which mark a state or a condition (无折扣, 未拆封), nor what
        follows a verb of taking part (不享受会员折扣: said of the thing, with the polarity)."""
        return _remembered(self.rules, "not_done", text, lambda: self._read_not_done(text))

    def _read_not_done(self, text: str) -> frozenset[str]:
        # a verb of undertaking passes the no on to the act (不负责搬运上楼: 搬运 is not done)
        undertaking = f"(?:{_alternation(self.rules.undertakes)})?" if self.rules.undertakes else ""
        # a verb of suspending says the act after it is not done (暂停发活体), as 不 does
        negator = _alternation(["不", *self.rules.suspends])
        return frozenset(
            after
            for _, _, after in self._after_negators(
                text, rf"(?:{negator})[{self.rules.modals}]{{0,2}}{undertaking}"
            )
            if after not in self.rules.takes_part
        )

    def _negated(self, text: str) -> frozenset[str]:
        """The words ``text`` negates (未拆封 → 拆封, 非质量问题 → 质量), not through a cue or a
        word that only looks negated (不影响, 无理由)."""
        return frozenset(
            after
            for masked, m, after in self._after_negators(text, _NEGATOR)
            # the negator opens a polarity word (不发货): the no itself, not a condition
            if not self.rules.cue_words.match(masked, m.start())
        )

    def _after_negators(self, text: str, negator: str) -> Iterator[tuple[str, re.Match[str], str]]:
        """Each match of ``negator`` in ``text`` (words that only look negated masked: 不影响,
        无理由) with the two characters after it, when they are a word and not a polarity cue;
        with the masked text the match indexes."""
        masked = self.rules.not_negator.sub(lambda m: "＿" * len(m.group()), text)
        for m in re.finditer(negator, masked):
            after = masked[m.end() : m.end() + 2]
            if len(after) == 2 and _CJK.fullmatch(after) and not self.rules.cue_words.match(after):
                yield masked, m, after

    def _conditions(self, claim: Claim) -> tuple[frozenset[str], frozenset[str]]:
        """The words a claim states (``said``) and those it negates (``unsaid``)."""
        folded = fold(claim.text)
        # 不是质量问题 says the case is not 质量问题: a negated condition over the whole word
        # (its first two characters, as :meth:`_negated` reads 非质量问题 → 质量)
        unsaid = self._negated(folded) | frozenset(
            m.group(1)[:2] for m in _NOT_THE_CASE.finditer(folded)
        )
        return claim.words - unsaid, unsaid

    def _condition(
        self,
        clause: str,
        said: frozenset[str],
        unsaid: frozenset[str],
        conditions: frozenset[str],
        opposite: bool,
    ) -> bool:
        """Whether the knowledge's clause, and those after it in its sentence, hold under the
        opposite of the claim's condition: it negates a word the claim states (商品未拆封 … 可退
        against 拆封了也可以退) or states one the claim negates. A clause naming the condition
        the claim's way ends that."""
        negated = self._negated(clause)
        plain = _bigrams(clause) - negated
        if (said & negated) or (unsaid & plain):
            return True
        if (unsaid & negated) or (conditions & plain):
            return False  # 已拆封 after 未拆封: the claim's condition again
        return opposite

    def _choice(self, claim: Claim, units: list[_Unit]) -> list[ClaimVerdict]:
        """The options of a choice the claim affirms, against those the knowledge names (about
        no sibling of the claim's subject): one it only denies (请勿机洗, 仅限手洗 leaving 机洗
        out) contradicts it; one it never names where it affirms others (中通 where it says
        顺丰) is not supported, nor a restriction (只能手洗) where it affirms another option."""
        affirmed: set[tuple[str, str]] = set()
        denied: set[tuple[str, str]] = set()
        seen: set[str] = set()
        for unit in units:
            if unit.sentence in seen or self._conflicts(claim, unit):
                continue
            seen.add(unit.sentence)
            for m in _mentions(self.rules, unit.sentence):
                (denied if m.denied else affirmed).add((m.choice, m.option))
        out = []
        for m in _mentions(self.rules, fold(claim.text)):
            if m.denied:
                continue  # a no of the claim's own: the polarity check reads it
            mine = (m.choice, m.option)
            others = {a for a in affirmed if a[0] == m.choice and a != mine}
            if mine in affirmed:
                if m.restricted == "only" and others:
                    out.append(
                        ClaimVerdict(
                            claim,
                            "unsupported",
                            f"the knowledge also allows {'、'.join(sorted(o for _, o in others))}: {claim.text}",
                        )
                    )
            elif mine in denied:
                out.append(
                    ClaimVerdict(
                        claim, "contradicted", f"the knowledge says no to {m.option}: {claim.text}"
                    )
                )
            elif others:
                out.append(
                    ClaimVerdict(
                        claim,
                        "unsupported",
                        f"the knowledge names {'、'.join(sorted(o for _, o in others))}, not {m.option}: {claim.text}",
                    )
                )
        return out

    def _offer(self, claim: Claim, units: list[_Unit]) -> ClaimVerdict:
        """An offer is made by the knowledge where a cited clause makes an offer of each of its
        kinds (a gift, money, a refund, a discount, a free service, a promise — not denied) of
        what it offers (the words after its offer cue, found after the clause's word of that
        kind): 饵料参加第二件半价 (a discount) makes no gift of 饵料, 门锁含一次上门安装 no gift of
        a 门锁. An offer of no known kind is made by a clause with any cue sharing its words."""
        words = claim.words
        kinds = self._offer_kinds(claim.text, offers_only=True)
        offered = self._offered(claim.text)
        for unit in units:
            if not words or len(words & unit.words) < max(1, len(words) // 2):
                continue
            if kinds:
                made = self._offers_made(unit.text)
                if all(k in made and (not offered or offered & made[k]) for k in kinds):
                    return ClaimVerdict(claim, "entailed", claim.text)
            elif self.rules.offer.search(unit.text) or self.rules.cue_words.search(unit.text):
                return ClaimVerdict(claim, "entailed", claim.text)
        return ClaimVerdict(
            claim, "unsupported", f"an offer the knowledge does not make: {claim.text}"
        )

    def _offered(self, text: str) -> frozenset[str]:
        """What a reply's clause offers: the words after its first offer cue not denied."""
        folded = fold(text)
        for m in self.rules.offer.finditer(folded):
            if not self.rules.negated_before.search(folded[max(0, m.start() - 6) : m.start()]):
                return _bigrams(_strip_measures(folded[m.end() :]))
        return frozenset()

    def _offer_kinds(self, text: str, *, offers_only: bool = False) -> frozenset[str]:
        """The kinds of offer ``text`` makes: each word of a kind not denied (不送, 不参与优惠)
        and not another sense (送货, 配送). ``offers_only``: read within the words that make the
        text an offer (``offer_cues``), each of the first kind it names (免费送 is a gift)."""
        if offers_only:
            return _remembered(
                self.rules, "offer_kinds", text, lambda: self._read_offer_kinds(text)
            )
        return frozenset(self._offers_made(text))

    def _masked(self, text: str) -> str:
        """``text`` folded, with the words that only look like a cue masked (送货, 配送)."""
        return self.rules.not_cue.sub(
            lambda m: "＿" * len(m.group()) if m.group() != "免费" else "免费", fold(text)
        )

    def _read_offer_kinds(self, text: str) -> frozenset[str]:
        out = set()
        for m in self.rules.offer.finditer(self._masked(text)):
            for kind, pattern in self.rules.offer_kinds:
                if pattern.search(m.group()):
                    out.add(kind)
                    break
        return frozenset(out)

    def _offers_made(self, text: str) -> dict[str, frozenset[str]]:
        """The kinds of offer a clause of the knowledge makes, each with the words after its
        word of that kind up to the clause's end (what is offered)."""
        return _remembered(self.rules, "offers_made", text, lambda: self._read_offers_made(text))

    def _read_offers_made(self, text: str) -> dict[str, frozenset[str]]:
        masked = self._masked(text)
        out: dict[str, frozenset[str]] = {}
        for kind, pattern in self.rules.offer_kinds:
            for m in pattern.finditer(masked):
                if self.rules.negated_before.search(masked[max(0, m.start() - 6) : m.start()]):
                    continue
                rest = _CLAUSE.split(masked[m.end() :], maxsplit=1)[0]
                out[kind] = out.get(kind, frozenset()) | _bigrams(_strip_measures(rest))
        return out


class LLMEntailment:
    """A second opinion from an LLM on top of a base entailment (rules by default).

    The LLM gets the numbered claims and the passages and answers JSON
    ``{"verdicts": ["entailed" | "contradicted" | "unsupported", ...]}``; a verdict can only get
    stricter than the base one. Any LLM failure leaves the base verdicts."""

    PROMPT = (
        "你是事实核查员。只根据<knowledge>中的资料判断每条陈述：资料支持为 entailed，"
        "与资料矛盾（数值、对象、是否可以/是否免费等相反）为 contradicted，资料没有提到为 unsupported。"
        '只输出 JSON：{"verdicts": ["...", ...]}，顺序与陈述编号一致。'
    )

    def __init__(self, llm: Any, base: Entailment | None = None) -> None:
        self.llm = llm
        self.base: Entailment = base or RuleEntailment()

    def judge(
        self, claims: Sequence[Claim], passages: Sequence[str], *, question: str = ""
    ) -> list[ClaimVerdict]:
        verdicts = self.base.judge(claims, passages, question=question)
        if not claims:
            return verdicts
        listing = "\n".join(f"{n}. {c.text}" for n, c in enumerate(claims, start=1))
        knowledge = "\n\n".join(passages)
        messages = [
            {"role": "system", "content": self.PROMPT},
            {
                "role": "user",
                "content": f"<knowledge>\n{knowledge}\n</knowledge>\n问题：{question}\n陈述：\n{listing}",
            },
        ]
        try:
            completion = self.llm.complete(messages, json_mode=True)
            text = completion.text
            data = json.loads(text[text.find("{") : text.rfind("}") + 1])
            opinions = [str(v) for v in data.get("verdicts", [])]
        except Exception:
            return verdicts
        out = []
        for n, verdict in enumerate(verdicts):
            opinion = opinions[n] if n < len(opinions) else ""
            if opinion in _STRICTNESS and _STRICTNESS[opinion] > _STRICTNESS[verdict.verdict]:
                out.append(ClaimVerdict(verdict.claim, opinion, f"LLM second opinion: {opinion}"))  # type: ignore[arg-type]
            else:
                out.append(verdict)
        return out


# ------------------------------------------------------------------------------ the checker
def _offer_amounts(shop: ShopConfig, text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """Money a text offers as compensation (the ``reply`` rule set's cues), with its kind."""
    rules = shop.rule_set("reply")
    comp = re.compile(_alternation(rules["compensation_cues"]))
    not_offer = re.compile(_alternation(rules["not_an_offer"]))
    cash = re.compile(_alternation(rules["cash_cues"]))
    folded, out = fold(text), []
    for sentence in _UNIT.split(folded):
        if not comp.search(sentence):
            continue
        for clause in _CLAUSE.split(sentence):
            if not_offer.search(clause):
                continue
            for m in measures(clause):
                if m.dim == "money":
                    kind = "cash" if cash.search(clause) else "coupon" if "券" in clause else "any"
                    start = folded.find(clause)
                    out.append((m.high, kind, (start + m.span[0], start + m.span[1])))
    return out


def money_beyond_limits(text: str, shop: ShopConfig) -> list[str]:
    """Promises of money beyond ``shop.yaml`` compensation limits, or without any bound (双倍赔偿,
    赔偿损失): why ``text`` — generated or quoted knowledge — must not go out automatically."""
    comp = shop.compensation
    limits = {"coupon": comp.max_coupon_yuan, "cash": comp.max_cash_yuan}
    problems = []
    for amount, kind, _ in _offer_amounts(shop, text):
        limit = limits.get(kind, comp.max_any_yuan)
        if amount > limit:
            problems.append(
                f"promises {amount:g} 元 ({kind}), above the shop's limit of {limit:g} 元"
            )
    multiple = re.compile(_alternation(shop.rule_set("reply")["multiple_promise"]))
    for m in multiple.finditer(fold(text)):
        clause_start = max(fold(text).rfind(ch, 0, m.start()) for ch in "，,。；;！!？?\n")
        before = fold(text)[clause_start + 1 : m.start()]
        if not re.search(r"不|无法|没法|没有|超出|超过", before):
            problems.append(f"promises compensation beyond any policy: {m.group()}")
    return problems


#: a table cell whose key gives its values' unit in parentheses (头围(cm)：57-60, 价格(元)：239)
_HEADER_UNIT = re.compile(
    r"(?<![^，,；;\n\s/])([^，,：:；;\n（(]{1,12})[（(]([^（()）\d]{1,6})[)）](\s*[：:])([^，,；;。\n]*)"
)
_BARE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?(?:\s*[-~～到至]\s*\d+(?:\.\d+)?)?)(?![\d.]|\s*[a-z%\u4e00-\u9fff])",
    re.I,
)


def _header_units(passage: str) -> str:
    """The passage with each bare value of a cell whose key gives its unit written with it:
    "头围(cm)：57-60" reads "头围：57-60cm", as a reply says it (a table's header unit)."""

    def unit(m: re.Match[str]) -> str:
        key, written, colon, value = m.groups()
        probe = measures(f"1{written}")
        if not probe or probe[0].span[0] != 0 or measures(value) or not _BARE.search(value):
            return m.group()
        return f"{key}{colon}{_BARE.sub(lambda n: n.group(1) + written, value)}"

    return _HEADER_UNIT.sub(unit, passage) if "(" in passage or "（" in passage else passage


#: a clause with fewer content words than this says what it is about only through its sentence
_TOPIC_MIN = 2


class ClaimChecker:
    """Splits a reply into claims and checks them against the cited knowledge.

    >>> checker = ClaimChecker(shop)                                  # doctest: +SKIP
    >>> check = checker.check("金卡会员享85折", ["等级：金卡会员，会员折扣：9折"], question="金卡几折")
    >>> [v.verdict for v in check.verdicts]                           # doctest: +SKIP
    ['contradicted']
    """

    def __init__(
        self, shop: ShopConfig | None = None, entailment: Entailment | None = None
    ) -> None:
        self.shop = shop
        self.rules = claim_rules(shop)
        self.entailment: Entailment = entailment or RuleEntailment(shop)
        self._values = (
            entailment if isinstance(entailment, RuleEntailment) else RuleEntailment(shop)
        )

    def facts(
        self, text: str, passages: Sequence[str], *, context: str = ""
    ) -> list[tuple[tuple[int, int], Measure, Verdict]]:
        """Each quantity of ``text`` (span in ``text``) with its verdict against ``passages``;
        quantities ``context`` (the conversation) states are fine. The reply lint's facts."""
        passages = [_header_units(p) for p in passages]
        labels = self._values.labels(list(passages))
        units = self._values.units(list(passages), labels)
        asked = measures(context)
        out: list[tuple[tuple[int, int], Measure, Verdict]] = []
        for claim in self.claims(text, context, labels=labels):
            renamed: dict[int, tuple[str, str] | None] = {}
            for m in claim.measures:
                verdict = self._values._quantity(claim, m, units, asked, renamed_by=renamed).verdict
                span = (claim.span[0] + m.span[0], claim.span[0] + m.span[1])
                out.append((span, m, verdict))
        return out

    def claims(
        self, text: str, question: str = "", *, labels: _Labels | None = None
    ) -> list[Claim]:
        """The clauses of ``text`` as claims, each bound to its subject (also to the labels
        the cited knowledge gives its rows: 规格：大果, when ``labels`` come from it)."""
        labels = _NO_LABELS if labels is None else labels
        folded = fold(text)
        if self.rules.equal_to is not None:
            # "充电线和主机一样保修1年": the value is said of 充电线; 和主机一样 binds nothing
            folded = self.rules.equal_to.sub(lambda m: "＿" * len(m.group()), folded)
        seed = _subjects(self.rules, fold(question), labels)
        stated = set(_subjects(self.rules, folded, labels))
        question_words = _bigrams(_strip_measures(fold(question)))
        question_topic = _bigrams(fold(question))  # with its measures' words (三件装)
        asked = _bigrams(_strip_cues(self.rules, _strip_measures(fold(question))))
        out = []
        topic: frozenset[str] = frozenset()  # the words of the sentence's clauses so far
        frame: frozenset[str] = frozenset()  # ... of those saying no yes or no
        last = 0
        for at, part, subjects, found in self._split_asides(
            _bound_clauses(self.rules, folded, seed, labels), labels
        ):
            if _UNIT.search(folded[last:at]):
                topic = frame = frozenset()  # a new sentence
            last = at + len(part)
            # "一张券", "一双袜子": an article, not a count
            found = [m for m in found if not (m.dim.startswith("count:") and m.text[0] == "一")]
            codes = _codes(part)
            rest = _strip_measures(part)
            for code in codes:
                rest = rest.replace(code, " ")
            numbers = tuple(sorted(numbers_in(re.sub(r"[^0-9.\s]", " ", rest))))
            polarity = _polarity(self.rules, part)
            if found and not self.rules.strong_cue.search(part):
                # "能听6小时", "可用3天": the quantity is what the clause claims
                polarity = [(f, p) for f, p in polarity if f not in ("ability", "need")]
            words = _bigrams(_strip_cues(self.rules, _strip_measures(part)))
            if polarity and not words:
                words = question_words  # "可以的": the answer to the question's predicate
            # "5楼一共50元" after "无电梯每层10元": a value whose clause has no words of its own
            # is about what its sentence and the question are about
            about = (
                topic | question_topic | _bigrams(part)
                if found and len(words) < _TOPIC_MIN
                else frozenset()
            )
            topic = topic | words
            conditional = self.rules.condition is not None and self.rules.condition.search(part)
            before, frame = frame, frame | words if conditional and not polarity else frame
            out.append(
                Claim(
                    text=text[at : at + len(part)],
                    span=(at, at + len(part)),
                    measures=tuple(found),
                    polarity=tuple(polarity),
                    subjects=tuple(subjects),
                    stated=tuple(s for s in subjects if s in stated),
                    words=words,
                    codes=tuple(codes),
                    numbers=numbers,
                    offer=self._offers(part),
                    topic=about,
                    asked=asked,
                    options=tuple(m.option for m in _mentions(self.rules, part)),
                    frame=before,
                    own=part if "＿" in part and part != fold(text[at : at + len(part)]) else "",
                )
            )
        return out

    def _unbounded(
        self, claims: Sequence[Claim], passages: Sequence[str], verdicts: list[ClaimVerdict]
    ) -> list[ClaimVerdict]:
        """Claims stating an unbounded term (终身保修, 永久免费) no cited sentence states of the
        same thing — the words after the term (终身免费|更换电池 makes 终身免费换电池, not 终身
        免费保修), or the clause's other words where none follow (保修是终身的): unsupported,
        whatever else their words matched (签收后1年内开胶免费维修 makes no 终身免费保修)."""
        pattern = self.rules.unbounded
        if pattern is None:
            return verdicts
        sentences: list[str] | None = None
        unsupported: dict[int, str] = {}
        for at, claim in enumerate(claims):
            clause = fold(claim.text)
            for m in pattern.finditer(clause):
                if self.rules.negated_before.search(
                    clause[max(0, m.start() - 6) : m.start()]
                ) or any(
                    n.start(1) <= m.start() < n.end(1) for n in _NOT_THE_CASE.finditer(clause)
                ):
                    continue  # 不是终身保修 offers nothing
                if sentences is None:
                    sentences = [u for p in passages for u in _UNIT.split(fold(p)) if u.strip()]
                term = m.group()
                after = _bigrams(_strip_cues(self.rules, _strip_measures(clause[m.end() :])))
                said = after or claim.words - _bigrams(term)
                if not any(
                    said & _bigrams(u[u.index(term) :] if after else u)
                    for u in sentences
                    if term in u
                ):
                    unsupported[at] = term
                    break
        if not unsupported:
            return verdicts
        by_claim = {id(c): at for at, c in enumerate(claims)}
        kept = [v for v in verdicts if by_claim.get(id(v.claim)) not in unsupported]
        added = [
            ClaimVerdict(
                claims[at], "unsupported", f"{term}: the cited knowledge states no such term"
            )
            for at, term in unsupported.items()
        ]
        return kept + added

    def _offers(self, clause: str) -> bool:
        """Whether a clause makes an offer: an offer cue not denied (我们不承诺出肉率, 不保证
        次日达 make none)."""
        return any(
            not self.rules.negated_before.search(clause[max(0, m.start() - 6) : m.start()])
            for m in self.rules.offer.finditer(clause)
        )

    def _split_asides(
        self, bound: Sequence[tuple[int, str, list[str], list[Measure]]], labels: _Labels
    ) -> list[tuple[int, str, list[str], list[Measure]]]:
        """The reply's clauses with each value aside closing in its clause read apart, as the
        knowledge's are: the host before it, the aside with its own subjects, the rest."""
        out: list[tuple[int, str, list[str], list[Measure]]] = []
        for at, part, subjects, found in bound:
            inner = _inner_aside(self.rules, 0, part, part, labels, _value_asides(part))
            if inner is None:
                out.append((at, part, subjects, found))
                continue
            o, c, own = inner
            out.append((at, part[:o], subjects, measures(part[:o])))
            out.append((at + o, part[o:c], own, measures(part[o:c])))
            if _CJK.search(part[c:]) or measures(part[c:]):
                out.append((at + c, part[c:], subjects, measures(part[c:])))
        return out

    def answers(self, text: str, question: str, claims: Sequence[Claim]) -> tuple[bool, str]:
        """Whether ``text`` answers ``question``: not only greetings, acknowledgements or "不确定",
        and states a value of the kind the question asks for."""
        folded = fold(text)
        if self.rules.uncertain.search(folded):
            return False, "the reply says it does not know"
        rest = self.rules.filler.sub("", folded)
        if self.shop is not None and self.shop.name:
            rest = rest.replace(fold(self.shop.name), "")
        if not _CJK.search(rest) and not re.search(r"[0-9a-z]", rest):
            return False, "the reply is only a greeting or an acknowledgement"
        q = fold(question)
        for dim, pattern in self.rules.asks:
            if not pattern.pattern or not pattern.search(q):
                continue
            dims = self.rules.answer_dims.get(dim, frozenset([dim]))
            label = self.rules.answer_labels.get(dim)
            if not any(m.dim in dims for c in claims for m in c.measures) and not (
                label is not None and label.search(folded)
            ):
                return False, f"the question asks for a {dim} and the reply states none"
        return True, ""

    def check(self, text: str, passages: Sequence[str], *, question: str = "") -> ClaimCheck:
        """Every claim of ``text`` judged against ``passages``; money beyond limits; an answer?"""
        passages = [_header_units(p) for p in passages]
        claims = self.claims(text, question, labels=self._values.labels(list(passages)))
        # a clause stating nothing checkable may still state what the knowledge negates
        # without a polarity word (会显示价格 against 不显示价格): it is judged, and dropped when
        # nothing holds against it
        checkable = [c for c in claims if c.checkable or c.words]
        verdicts = [
            v
            for v in self.entailment.judge(checkable, list(passages), question=question)
            # naming an option the knowledge names too confirms nothing by itself
            if not (v.verdict == "neutral" and (v.claim.only_options or not v.claim.checkable))
        ]
        verdicts = self._unbounded(claims, passages, verdicts)
        answers, why = self.answers(text, question, claims)
        said = frozenset().union(*(c.words for c in claims))
        asked = claims[0].asked if claims else frozenset()
        # the passages' words are read here only when no verdict decides (``worded``); with
        # verdicts, when the decision model asks (``said``)
        share = None if verdicts else _word_share(claims, passages)
        return ClaimCheck(
            verdicts=list(verdicts),
            answers=answers,
            non_answer=why,
            worded=1.0 if share is None else share,
            claims=claims,
            asked=len(asked & said) / len(asked) if asked else 0.0,
            passages=passages,
            _said=share,
            over_limit=money_beyond_limits(text, self.shop) if self.shop is not None else [],
        )
