"""What a shopper wants, read from their own words: a budget (text/_numbers.py ``budget``), who
it is for (a group: women, men, kids, elderly), how many at home, the features and uses said in
everyday words (mapped to the words product facts use), the remaining content words, and which
kind of pre-sales message it is (a wish to buy, a comparison, a price objection, a cross-sell
question). The words are the ``presales`` rule set (``data/presales.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from .._data import compiled
from ..text._normalize import normalize
from ..text._numbers import budget, budget_about, measures, people_ranges
from ._ages import age_of

__all__ = [
    "KIND_ORDER", "Amount", "Extreme", "Kind", "Needs", "dimension", "read_needs", "read_said",
    "with_content",
]  # fmt: skip

Kind = Literal["recommend", "compare", "objection", "crosssell"]
#: The order a message's kinds are answered in (the first that answers it wins).
KIND_ORDER: tuple[Kind, ...] = ("objection", "crosssell", "compare", "recommend")
CLAUSE_CHARS = 100  # the longest clause a quantity needed is read from
_CLAUSE = re.compile(r"[\s，,。；;！!？?]+")


class Extreme(BaseModel):
    """A preference for the most (``most``) or least of a measured quantity ("大容量", "小一点"):
    the first of ``dims`` (``measures()`` dimensions, or ``price``) the products state with
    different figures decides."""

    said: str
    most: bool
    dims: list[str]


class Amount(BaseModel):
    """A quantity the shopper needs ("零下20度", "四个"): ``low``–``high`` in the base unit of
    ``dim`` (a ``measures()`` dimension; ``count`` for any measure word)."""

    said: str
    dim: str
    low: float
    high: float


def dimension(dim: str) -> str:
    """A ``measures()`` dimension as the advisor matches it: 4个 and 4只装 are both ``count``."""
    return "count" if dim.startswith("count:") else dim


class Needs(BaseModel):
    """A shopper's needs as read (shown in ``explain=True`` traces)."""

    text: str
    budget: tuple[float, float] | None = None
    # the figure of a budget said approximately ("300左右": 300; ``budget`` allows a fifth more)
    about: float | None = None
    groups: list[str] = Field(default_factory=list)
    household: int | None = None
    age: float | None = None  # how old the one it is for is, in years ("1岁半" → 1.5)
    features: list[str] = Field(default_factory=list)  # the products' words for what is wanted
    words: list[str] = Field(default_factory=list)  # other content words
    # the shopper's own phrases the segmenter split into characters (备孕, 水光感, 晒伤): matched
    # to each product's text by character pairs (see _text.py), never to a lexicon
    phrases: list[str] = Field(default_factory=list)
    # what the shopper does not want ("不想天天倒尘盒" → 倒尘盒): never looked for as a need; a
    # version whose own row states it is not picked
    avoid: list[str] = Field(default_factory=list)
    extremes: list[Extreme] = Field(default_factory=list)  # the most / least of a quantity
    amounts: list[Amount] = Field(default_factory=list)  # quantities needed
    recipient: str = ""  # someone it is bought for, as said ("给爸妈买"), in a group or not
    # product source → (label, chunk) of its size chart's rows the shopper's body measures fall
    # in ("她身高130" → 36寸 of a 125-145 row): the versions to pick, the size to say (set by
    # the advisor, which reads the catalogue's charts)
    sized: dict[str, list[tuple[str, int]]] = Field(default_factory=dict)
    cues: dict[str, list[str]] = Field(default_factory=dict)  # cue kind → the cues found
    aliases: dict[str, list[str]] = Field(default_factory=dict)  # word → its synonyms

    @property
    def constrained(self) -> bool:
        """Says anything to rank by (beyond a wish)."""
        return bool(
            self.budget or self.groups or self.household or self.age is not None
            or self.features or self.words
            or self.extremes or self.amounts
        )  # fmt: skip

    def kinds(self) -> list[Kind]:
        return [k for k in KIND_ORDER if self.cues.get(k)]


def _normalised(words: Sequence[Any]) -> tuple[str, ...]:
    """``words`` normalised, de-duplicated, empty ones dropped (in their order)."""
    return tuple(w for w in dict.fromkeys(normalize(str(w)) for w in words) if w)


#: the cue lists of a rule set :func:`read_needs` looks for: Needs.cues kind → its rule key
_CUE_KEYS = {
    "recommend": "want_cues",
    "compare": "compare_cues",
    "objection": "objection_cues",
    "crosssell": "crosssell_cues",
    "wish": "weak_want_cues",
    "bargain": "bargain_cues",
    "question": "question_cues",
    "bought": "bought_cues",
}
#: the cue kinds a negation right before a cue undoes ("不想要了", "别太贵" is a wish)
_NEGATABLE = {"recommend", "objection", "wish"}


class _Static:
    """What :func:`read_needs` reads from a rule set for every question, prepared once per
    rule set (through ``_data.compiled``): its word lists normalised and de-duplicated."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self.negations = [str(n) for n in rules["cue_negations"]]
        self.cues = {kind: _normalised(rules[key]) for kind, key in _CUE_KEYS.items()}
        self.groups = [(name, _normalised(spec["cues"])) for name, spec in rules["groups"].items()]
        self.magnitudes = [
            (word, [(direction, [str(d) for d in dims]) for direction, dims in spec.items()])
            for phrase, spec in rules["magnitudes"].items()
            if (word := normalize(str(phrase)))
        ]
        self.households = [
            (normalize(str(w)), int(n))
            for w, n in sorted(rules["households"].items(), key=lambda x: -len(x[0]))
        ]
        self.features = [
            (normalize(str(feature)), _normalised(said))
            for feature, said in rules["features"].items()
        ]
        said = {w for spec in rules["groups"].values() for w in spec["cues"]}
        said |= {str(w) for w in rules["magnitudes"]} | set(rules["households"])
        said |= {w for phrases in rules["features"].values() for w in phrases}
        #: the rule phrases taken out of a question before its content words are read
        self.said = {p for w in said if (p := normalize(str(w)))}
        self.filler = {normalize(w) for w in rules["filler"]}
        self.measured = {str(d) for d in rules["measured_needs"]}


def _found(norm: str, words: Sequence[str], negations: Sequence[str] = ()) -> list[str]:
    """The ``words`` (normalised) said in ``norm``, but not right after a negation ("不想要了")."""
    out = []
    for w in words:
        if w not in norm:
            continue
        at = norm.find(w)  # every occurrence, overlapping ones too
        while at >= 0:
            if not (at and norm[at - 1] in negations):
                out.append(w)
                break
            at = norm.find(w, at + 1)
    return out


_CLAUSE_END = re.compile(r"[，,。！？!?；;\s]")


def _heads(norm: str, said: Sequence[tuple[str, list[str]]]) -> list[str]:
    """The groups said in ``norm`` (``said``: each group's cues found), less those naming only
    the owner of the one it is for: in "爸妈那边的孙子" the grandchild is the one, the parents
    only whose grandchild — a group whose every cue comes before a 的 that another group's cue
    follows in the same clause is not the one it is for."""

    def spans(words: Sequence[str]) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for w in words for m in re.finditer(re.escape(w), norm)]

    def owner(end: int, others: Sequence[tuple[int, int]]) -> bool:
        return any(
            start >= end and "的" in norm[end:start] and not _CLAUSE_END.search(norm[end:start])
            for start, _ in others
        )

    found = [(name, spans(words)) for name, words in said if words]
    out = []
    for name, own in found:
        others = [s for other, sp in found if other != name for s in sp]
        if not own or not all(owner(end, others) for _, end in own):
            out.append(name)
    return out


def _names_person(norm: str, cue: str, people: Sequence[str]) -> bool:
    """Whether every occurrence of ``cue`` in ``norm`` runs into a person's word ("给我" of
    "给我爸": 我爸 starts inside or right after it)."""
    spans = [m.start() for m in re.finditer(re.escape(cue), norm)]
    return bool(spans) and all(
        any(norm.startswith(w, j) for w in people for j in range(i + 1, i + len(cue) + 1))
        for i in spans
    )


_A_NOT_A = re.compile(r"(\w)\w?不\1")  # 要不要, 需不需要, 买不买: a yes-no question


def _unwanted(text: str, negations: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` without the spans a shopper's negation governs (from 不想 / 不要 / 别 to the end
    of its clause), and those spans."""
    keep: list[str] = []
    spans: list[str] = []
    ordered = sorted((normalize(n) for n in negations if n), key=len, reverse=True)
    for clause in re.split(r"([\s，,。；;！!？?]+)", text):
        # a question asked as "X不X" ("要不要配滤芯", "需不需要") negates nothing
        clause_read = _A_NOT_A.sub(lambda m: " " * len(m.group(0)), clause)
        at = min(((clause_read.find(n), n) for n in ordered if n in clause_read), default=None)
        if at is None:
            keep.append(clause)
            continue
        keep.append(clause[: at[0]] + " ")
        spans.append(clause[at[0] + len(at[1]) :])
    return "".join(keep), [s for s in spans if s.strip()]


_CODE_SEPARATOR = re.compile(r"[-_.]")


def _codes_whole(tokens: Sequence[str]) -> list[str]:
    """``tokens`` without the pieces of a model code said whole: the segmenter splits a code
    at its hyphens and adds the code itself ("kf-t-03516" → kf, t, 03516 and the code), and
    a code is one name — its letters apart name nothing the shopper needs (a lone "t" would
    name every T恤)."""
    pieces = {
        piece
        for token in tokens
        if token.isascii() and _CODE_SEPARATOR.search(token)
        for piece in _CODE_SEPARATOR.split(token)
    }
    return [t for t in tokens if t not in pieces] if pieces else list(tokens)


def _joined(tokens: Sequence[str], said: str, filler: set[str]) -> list[str]:
    """Runs of single characters the segmenter split from one phrase it does not know ("备",
    "孕" → 备孕), joined back when the run stands so in ``said``; filler breaks a run."""
    out: list[str] = []
    run = ""
    for token in [*(normalize(t).strip() for t in tokens), ""]:
        if len(token) == 1 and token not in filler and not token.isascii() and run + token in said:
            run += token
            continue
        if len(run) > 1 and run not in out:
            out.append(run)
        run = token if len(token) == 1 and token not in filler and not token.isascii() else ""
    return out


def _named_counts(clause: str, said: str, names: Callable[[str], bool]) -> str:
    """The catalogue's word a count said opens ("四件" of 四件套, "两件" of 两件套): a count
    whose next characters make a kind of product the shop sells names that kind, it is no
    quantity needed; "" when it is a quantity."""
    end = clause.find(said) + len(said)
    if end < len(said):
        return ""
    for more in (1, 2):
        tail = clause[end : end + more]
        plain = not any(ch.isdigit() or ch.isspace() for ch in tail)
        if len(tail) == more and plain and names(said + tail):
            return said + tail
    return ""


def read_needs(
    text: str,
    rules: Mapping[str, Any],
    words: Callable[[str], list[str]] | None = None,
    synonyms: Callable[[str], list[str]] | None = None,
    names: Callable[[str], bool] | None = None,
) -> Needs:
    """The needs ``text`` says. ``words``: the shop's segmenter (content words, synonyms folded
    to their group's first word), if any; ``synonyms``: a word's other forms, to find it by;
    ``names``: whether a string names a kind of product the shop sells (its catalogue's
    :class:`~._match.KindIndex`), so that a set's name is not read as a quantity (四件套)."""
    return with_content(read_said(text, rules, names), rules, words, synonyms)


def read_said(
    text: str, rules: Mapping[str, Any], names: Callable[[str], bool] | None = None
) -> Needs:
    """What :func:`read_needs` reads of ``text`` by the rule set's cues, numbers and patterns
    alone — cues, groups, budget, household, age, features, extremes, amounts, recipient — and
    not its content words (``words`` holds only the catalogue's words a count opens: 四件套),
    which take the segmenter. Enough to tell whether a message says a wish to buy at all, so a
    plain product question does not pay for segmenting its rest (see :func:`with_content`)."""
    norm = normalize(text)
    static = compiled(rules, _Static)  # once per rule set
    negs = static.negations
    cues = {
        kind: _found(norm, words, negs if kind in _NEGATABLE else ())
        for kind, words in static.cues.items()
    }
    cues["exists"] = [
        hit.group(0)
        for p in rules["existence_patterns"]
        if (hit := re.search(str(p), norm.strip()))
    ]
    groups = _heads(norm, [(name, _found(norm, said)) for name, said in static.groups])
    recipient = next(
        (hit.group(0) for p in rules["recipient_patterns"] if (hit := re.search(str(p), norm))),
        "",
    )
    if recipient and cues["bargain"]:  # "给我妈买" names someone bought for: no haggling
        cues["bargain"] = _found(norm.replace(recipient, " "), static.cues["bargain"])
    if cues["bargain"]:  # "给我爸在家用": a person a group's word names follows — no haggling
        people = [w for _, said in static.groups for w in said]
        cues["bargain"] = [c for c in cues["bargain"] if not _names_person(norm, c, people)]
    household = next((n for w, n in static.households if w in norm), None)
    if household is None:  # else how many people, said as a number ("六个人", "三口人")
        counts = {low for low, high, _ in people_ranges(norm) if low == high}
        household = counts.pop() if len(counts) == 1 else None
    features = [
        feature for feature, said in static.features if feature in norm or _found(norm, said)
    ]
    extremes = [
        Extreme(said=phrase, most=direction == "max", dims=dims)
        for phrase, spec in static.magnitudes
        if _found(norm, [phrase], negs)
        for direction, dims in spec
    ]
    measured = static.measured
    amounts: list[Amount] = []
    kinds: list[str] = []  # the catalogue's words a count opens (四件套)
    for clause in _CLAUSE.split(text):
        if len(clause) > CLAUSE_CHARS:
            continue  # a need is said in a short clause (and measures() grows with its length)
        for m in measures(clause):
            amount = Amount(said=m.text, dim=dimension(m.dim), low=m.low, high=m.high)
            kind = _named_counts(normalize(clause), normalize(m.text), names) if (
                names is not None and amount.dim == "count"
            ) else ""  # fmt: skip
            if kind:
                if kind not in kinds:
                    kinds.append(kind)
                continue
            if amount.dim in measured and amount not in amounts:
                amounts.append(amount)
    budget_range = None if cues["objection"] else budget(text)
    return Needs(
        text=text,
        budget=budget_range,
        about=budget_about(text) if budget_range else None,
        groups=groups,
        household=household,
        age=age_of(text, rules["ages"]),
        features=features,
        words=kinds,
        extremes=extremes,
        amounts=amounts,
        recipient=recipient,
        cues={k: v for k, v in cues.items() if v},
    )


def with_content(
    said: Needs,
    rules: Mapping[str, Any],
    words: Callable[[str], list[str]] | None,
    synonyms: Callable[[str], list[str]] | None = None,
) -> Needs:
    """``said`` (see :func:`read_said`) with the content words, phrases and unwanted words of
    what the rule phrases leave of its text, segmented by ``words`` (none without it), and
    their synonyms."""
    static = compiled(rules, _Static)
    norm = normalize(said.text)
    kinds = said.words
    filler = static.filler
    content: list[str] = list(kinds)
    phrases: list[str] = []
    avoid: list[str] = []
    if words is not None:
        # The rule phrases said here (an existence question's pattern spans what it asks for,
        # so its cues are not taken out), longest first. A phrase absent from the question
        # cannot appear by taking others out (they become spaces).
        taken = {p for p in static.said if p in norm}
        taken |= {p for a in said.amounts if (p := normalize(a.said)) and p in norm}
        taken |= {k for k in kinds if k in norm}
        taken |= {
            p for kind, found in said.cues.items() if kind != "exists" for c in found
            if (p := normalize(c)) and p in norm
        }  # fmt: skip
        rest = norm
        # longest first, then leftmost: overlapping phrases of one length ("太贵"/"贵了") are
        # taken in the text's order, never in a set's (which varies from process to process)
        for phrase in sorted(taken, key=lambda p: (-len(p), norm.find(p), p)):
            rest = rest.replace(phrase, " ")
        rest, avoided = _unwanted(rest, [str(n) for n in rules["need_negations"]])
        for span in avoided:
            span_words = words(span)
            for word in span_words:
                w = normalize(word).strip()
                if len(w) > 1 and w not in filler and w not in avoid:
                    avoid.append(w)
            avoid.extend(p for p in _joined(span_words, span, filler) if p not in avoid)
        rest_words = _codes_whole(words(rest))
        for word in rest_words:
            w = normalize(word).strip()
            numeric = any(ch.isdigit() for ch in w) and not any(
                ch.isascii() and ch.isalpha() for ch in w
            )
            if w and w not in filler and w not in content and not numeric:
                content.append(w)
        phrases = _joined(rest_words, rest, filler)
    return said.model_copy(
        update={
            "words": content,
            "phrases": [p for p in phrases if p not in content],
            "avoid": avoid,
            "aliases": {w: found for w in content if synonyms and (found := synonyms(w))},
        }
    )
