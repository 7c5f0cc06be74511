"""Rank the catalogue against a shopper's needs (:func:`recommend`).

Hard constraints first: a product meant for another group (女款 for 老公) or with no variant in
stock within the budget does not fit. What the shopper names that some product's title or
category has (羽绒服, 耳机, 真丝) says *what* is wanted: a product must have one of those words,
and the products having more of them rank first. The features wanted (降噪, 静音) and the other
content words are then looked for on each page: stated, they add; denied ("不支持主动降噪"),
they count against and are reported as a miss.

The result is one pick with its deciding facts quoted and cited when one product clearly leads,
one clarifying question when nothing separates the products that fit (a wish with only a budget
and a recipient), and nothing (a handoff) when no product fits."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .._data import compiled
from .._models import Citation
from ..text._normalize import normalize
from ..text._numbers import body_measures, dimensions_cm, measures, people_ranges
from ._ages import for_age, held
from ._match import (
    CLAUSE,
    Found,
    KindIndex,
    category_segments,
    find_any,
    for_household,
    names_kind,
    serves,
    stated_anywhere,
    stem,
)
from ._models import Pick, Recommendation
from ._needs import Amount, Extreme, Needs, dimension
from ._objections import lead, selling_points
from ._profiles import Profile, Variant, is_stock
from ._quotes import candidate_lines, line_features, need_classes, quote_model
from ._text import ASCII_RUN, SENTENCE, bigrams, describe, shared_characters

__all__ = ["Scored", "fits_group", "marked_against", "rank", "recommend"]

TEXT = 1.0  # a phrase of the shopper's the page states whole (by its character pairs)
TEXT_LEAD = 0.3  # the share of the shopper's phrases the best states more than the others
HEAD = 2.0  # a word of what the product is (its title or category) weighs twice a fact's word
ALIAS = 0.75  # the share of that weight a synonym of the word earns
DENIED = -1.5  # a feature the page denies
#: What each kind of evidence a page has for a need weighs (:meth:`Scored.add`). Set by hand;
#: scripts/presales_rank_loo.py refits them leave-one-shop-out on the pre-sales suites (round 13:
#: no better than these — the first-ranked product is an expected one in 83 % of cases either way).
#: ``budget`` (round 17) was fitted on the design half of the dev shops (0.26–0.63 as the pull
#: towards the hand weights loosens): with 0.5 the first-ranked product is an expected one in
#: 424 of 558 check-half cases, against 420 without it.
WEIGHTS: dict[str, float] = {
    "kind": HEAD,  # a word of the shopper's naming what the product is
    "kind_alias": ALIAS * HEAD,  # a synonym of it
    "word_in_title": HEAD,  # a feature or word said, in the title
    "word_in_facts": 1.0,  # in a fact of the page
    "phrase": TEXT,  # the share of a phrase of the shopper's the page states
    "denied": DENIED,  # a feature, phrase, household or age the page denies
    "household": 1.0,  # the household size said, one the page serves
    "age": 1.0,  # the age said, one the page's range holds
    "extreme": 1.0,  # the most (least) of the quantity asked for
    "amount": 1.0,  # a figure covering the quantity needed
    "budget": 0.5,  # the share of the budget said its dearest version within it reaches
}
LEAD = 1.0  # the margin the best product needs over the next to be recommended alone
SUPPORT_LEAD = 0.02  # else, the margin of retrieval's support for its page
Cite = Callable[[int, float], Citation]
# a product → (label, chunk) of its size chart's rows the shopper's body measures fall in
Sizes = Callable[[Profile], list[tuple[str, int]]]


@dataclass
class Scored:
    profile: Profile
    score: float = 0.0
    heads: float = 0.0  # share of the product words said that it has
    found: list[Found] = field(default_factory=list)  # features and words the page states
    kinds: list[str] = field(default_factory=list)  # the product words its title has
    misses: list[str] = field(default_factory=list)
    support: float = 0.0  # how well retrieval matched the question to the page (a tie-break)
    text: float = 0.0  # how much of the shopper's own phrases the page states (a tie-break)
    partial: list[Found] = field(default_factory=list)  # phrases it states in part
    denials: list[tuple[int, str]] = field(default_factory=list)  # (chunk, clause) denying one
    prices: list[float] = field(default_factory=list)  # within the budget (else all)
    price_chunks: list[int] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)  # within the budget (none: no budget)
    # the evidence, by kind (see WEIGHTS): how much of each the page has; score is their sum
    # weighed
    parts: dict[str, float] = field(default_factory=dict)
    # the clause of the page retrieval matched best to the question (chunk, text), if it shares
    # words with it besides the product's name: a deciding fact though no need word names it
    passage: tuple[int, str] | None = None
    # the need's own words (content words, phrases, features): what a clause of the page
    # chosen is matched to when its deciding facts are quoted (see _asked_clause)
    asked: tuple[str, ...] = ()
    # the groups said that it fits only as no product of its kind is for them (see rank)
    waived: tuple[str, ...] = ()
    # the shopper's words and the need's classes (see _quotes.need_classes): what the line
    # ranker orders the page's lines by when the facts to quote are chosen
    question: str = ""
    classes: dict[str, float] = field(default_factory=dict)

    @property
    def named(self) -> float:
        """The score without the budget's price level: the evidence that the product is what
        the need names (a budget orders the products that fit; it says nothing of what fits)."""
        return self.score - WEIGHTS["budget"] * self.parts.get("budget", 0.0)

    def add(self, part: str, amount: float = 1.0) -> None:
        """``amount`` of the evidence ``part`` (a key of :data:`WEIGHTS`), weighed in."""
        self.parts[part] = self.parts.get(part, 0.0) + amount
        self.score += WEIGHTS[part] * amount


_SEGMENT = re.compile(r"[\s/／、，,|｜]+")


def _groups(profile: Profile, rules: Mapping[str, Any]) -> frozenset[str]:
    """The groups a product is marked for, segment by segment of its title and category: in a
    segment the kids' group wins over the adults' marks it shares a word with (男童女童 is for
    kids), and a product listing several ("学生宿舍/儿童/老人") is for each of them."""
    return compiled(rules, _GroupMarks).of(profile.marks)


class _GroupMarks:
    """A rule set's group marks, and the groups of the titles already read (a recommendation
    reads every product's, for each need said)."""

    _KEPT = 16_384

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self.marks = [
            (str(name), [str(m) for m in spec["marks"]]) for name, spec in rules["groups"].items()
        ]
        self._read: dict[str, frozenset[str]] = {}
        self._last: tuple[Sequence[Profile], int, frozenset[str]] | None = None

    def of(self, marks: str) -> frozenset[str]:
        found = self._read.get(marks)
        if found is None:
            out: set[str] = set()
            for segment in _SEGMENT.split(marks):
                marked = {name for name, said in self.marks if any(m in segment for m in said)}
                out |= {"kids"} if "kids" in marked else marked
            found = frozenset(out)
            if len(self._read) >= self._KEPT:  # bounded: start afresh
                self._read = {}
            self._read[marks] = found
        return found

    def of_all(self, profiles: Sequence[Profile]) -> frozenset[str]:
        last = self._last
        if last is not None and last[0] is profiles and last[1] == len(profiles):
            return last[2]
        found = frozenset(g for p in profiles for g in self.of(p.marks))
        self._last = (profiles, len(profiles), found)  # holds the list: its id is not reused
        return found


def marked_groups(profiles: Sequence[Profile], rules: Mapping[str, Any]) -> set[str]:
    """The groups some product of the catalogue is marked for (remembered for the last
    catalogue read: every recommendation asks it of the whole catalogue)."""
    return set(compiled(rules, _GroupMarks).of_all(profiles))


def _stated_for(profile: Profile, group: str, needs: Needs, rules: Mapping[str, Any]) -> bool:
    """Whether the page of ``profile`` says, in its body, it is for ``group``: a clause with a
    word of the group's (cue or mark, two characters or more) and a word of a fit
    (``fit_words``: 适合孩子, 适合人群：…儿童) that no negation denies ("不适合3岁以下儿童"; a
    warning "儿童和宠物远离" names no fit) or, with the shopper's age said, an age range
    holding it."""
    spec = rules["groups"][group]
    words = [normalize(str(w)) for w in (*spec["cues"], *spec["marks"]) if len(str(w)) > 1]
    fits = [normalize(str(w)) for w in rules["fit_words"]]
    negations = [normalize(str(n)) for n in rules["negations"]]
    for _, text in profile.parts:
        for clause in CLAUSE.split(normalize(text)):
            if (
                any(w in clause for w in words)
                and any(f in clause for f in fits)
                and not any(n in clause for n in negations)
            ):
                return True
    if needs.age is None:
        return False
    aged = for_age(needs.age, profile, rules["ages"], [str(n) for n in rules["negations"]])
    return aged is not None and bool(aged.positive)


def fits_group(
    profile: Profile,
    needs: Needs,
    rules: Mapping[str, Any],
    used: Collection[str] | None = None,
    *,
    waived: Collection[str] = (),
) -> bool:
    """Whether ``profile`` may be for whom ``needs`` says (unmarked products fit anyone).
    ``used``: the groups the catalogue (or the kind asked for) marks any product for — where
    it marks none for a group of ``marked_only``, an unmarked product is for that group when
    its own page says so (a shop of instruments marks none 儿童: its guitar whose page says
    适合孩子, or whose size chart states an age holding the child's, is the child's).
    ``waived``: the groups of ``marked_only`` that leave nothing out (none of the kind asked for
    is marked for them nor says it fits them: see :func:`rank`)."""
    if not needs.groups:
        return True
    marked = _groups(profile, rules)
    if any(
        g in needs.groups
        and g not in marked
        and g not in waived
        and (used is None or g in used or not _stated_for(profile, g, needs, rules))
        for g in rules["marked_only"]
    ):
        return False
    return not marked or bool(marked & set(needs.groups))


def marked_against(profile: Profile, needs: Needs, rules: Mapping[str, Any]) -> bool:
    """Whether ``profile`` is marked for groups and none of them is one ``needs`` says (a 女士
    pyjama for 男生): a contradiction the page states, unlike :func:`fits_group`, which also
    leaves out an unmarked product for a group only marked products fit (``marked_only``)."""
    marked = _groups(profile, rules)
    return bool(needs.groups) and bool(marked) and not marked & set(needs.groups)


def _within_budget(profile: Profile, needs: Needs) -> tuple[bool, list[float], list[Variant]]:
    if needs.budget is None:
        return True, profile.prices, []
    low, high = needs.budget
    variants = profile.prices_within(low, high)
    if variants:
        return True, sorted({v.price for v in variants if v.price is not None}), variants
    if not profile.variants and profile.prices:
        ok = [p for p in profile.prices if low <= p <= high]
        return bool(ok), ok, []
    if not profile.prices:
        return True, [], []  # no price on the page: an agent checks it (never sent as is)
    return False, [], []


def _budget_share(price: float, needs: Needs) -> float:
    """How much of the budget said ``price`` (of a version within it) reaches: a budget names
    the price level the shopper means to spend at ("预算2000": the 1999 lock, not the 899 one;
    "3000左右": about 3000), not only a ceiling."""
    assert needs.budget is not None
    target = needs.about if needs.about is not None else needs.budget[1]
    return min(1.0, price / target) if target > 0 else 0.0


@lru_cache(maxsize=4096)
def _measured(text: str) -> tuple[tuple[str, float, float], ...]:
    """(dimension, low, high) of every quantity of a page's cell or fact (read once each); a
    size written as a product ("1.5×2.0m") states each of its lengths."""
    out = [(dimension(m.dim), m.low, m.high) for m in measures(text)]
    out += [("length", cm, cm) for cm in dimensions_cm(text)]
    return tuple(dict.fromkeys(out))


def _figure(text: str, dim: str) -> float | None:
    """The first figure of dimension ``dim`` that ``text`` states (its top, for a range)."""
    return next((high for d, _, high in _measured(text) if d == dim), None)


def _ranges(text: str, dim: str) -> list[tuple[float, float]]:
    return [(low, high) for d, low, high in _measured(text) if d == dim]


def _covers(text: str, amount: Amount) -> bool:
    """Whether ``text`` states a figure of the amount's dimension that covers it (ranges
    overlap: "-25℃ ~ -5℃" covers 零下20度; 4只装 covers 四个)."""
    return any(
        min(low, high) <= amount.high and amount.low <= max(low, high)
        for low, high in _ranges(text, amount.dim)
    )


def _cell(header: str, cell: str) -> str:
    """A table cell as read for a quantity: with its header when the header states the unit
    ("适用面积(㎡)" over "20-30")."""
    return f"{header}：{cell}" if "(" in header or "（" in header else cell


def _by_amount(scored: Scored, amount: Amount) -> Found | None:
    """Where a product states a figure covering ``amount``: its variants' rows (those that fit),
    else — a physical quantity, not a count — its facts."""
    profile = scored.profile
    pool = scored.variants or [v for v in profile.variants if v.in_stock] or profile.variants
    rows = [
        (v.chunk, "，".join(c for _, c in v.cells))
        for v in pool
        if any(_covers(_cell(h, cell), amount) for h, cell in v.cells)
    ]
    if not rows and amount.dim != "count":
        rows = [
            (f.chunk, f.text)
            for f in profile.facts
            if f.chunk != profile.overview and _covers(f.value, amount)
        ]
    return Found(amount.said, False, rows[:1], []) if rows else None


def variant_figure(variant: Variant, dim: str) -> float | None:
    """The figure of ``dim`` a variant's own row states (``price``: its price)."""
    if dim == "price":
        return variant.price
    return next(
        (f for _, cell in variant.cells if (f := _figure(cell, dim)) is not None), None
    )  # fmt: skip


def _figures(scored: Scored, dim: str) -> list[tuple[float, int, str]]:
    """(figure, chunk, clause) of ``dim`` a product states: its variants that fit (else all),
    else its facts; ``price``: its prices that fit."""
    profile = scored.profile
    pool = scored.variants or [v for v in profile.variants if v.in_stock] or profile.variants
    rows = [
        (f, v.chunk, "，".join(c for _, c in v.cells))
        for v in pool
        if (f := variant_figure(v, dim)) is not None
    ]
    if rows:
        return rows
    if dim == "price":
        chunk = scored.price_chunks[0] if scored.price_chunks else profile.overview
        return [(p, chunk, f"{p:g}元") for p in scored.prices]
    return [
        (f, fact.chunk, fact.text)
        for fact in profile.facts
        if fact.chunk != profile.overview and (f := _figure(fact.value, dim)) is not None
    ]


def _extreme_of(rows: Sequence[tuple[float, int, str]], most: bool) -> float:
    return max(r[0] for r in rows) if most else min(r[0] for r in rows)


def _by_extreme(out: Sequence[Scored], extreme: Extreme) -> None:
    """The products whose own figure is the most (least) of the first quantity of ``extreme``
    they state with different figures: a point, and the row or fact stating it quoted."""
    for dim in extreme.dims:
        stated = [(s, rows) for s in out if (rows := _figures(s, dim))]
        best = [(s, rows, _extreme_of(rows, extreme.most)) for s, rows in stated]
        figures = {f for _, _, f in best}
        if len(figures) < 2:
            continue
        top = max(figures) if extreme.most else min(figures)
        for s, rows, figure in best:
            if figure == top:
                at = next(r for r in rows if r[0] == top)
                s.add("extreme")
                s.found.append(Found(extreme.said, False, [(at[1], at[2])], []))
        return


def _feature_phrases(rules: Mapping[str, Any]) -> dict[str, list[str]]:
    """A feature (normalised) → the words shoppers and pages say it by (once per rule set)."""
    return compiled(rules, _read_feature_phrases)


def _read_feature_phrases(rules: Mapping[str, Any]) -> dict[str, list[str]]:
    return {normalize(str(k)): [normalize(str(x)) for x in v] for k, v in rules["features"].items()}


def _negations(rules: Mapping[str, Any]) -> list[str]:
    return [str(n) for n in rules["negations"]]


def _kind_heads(
    words: Sequence[str],
    avoid: Sequence[str],
    index: KindIndex,
    aliases: Mapping[str, Sequence[str]],
    *,
    titles_only: bool = False,
) -> tuple[list[str], bool]:
    """The words naming what is wanted, and whether they were found in whole titles: the kinds
    products are first ("礼盒" is the 礼盒's kind, not the 保温杯 礼盒装's); only when no word
    names one, a word of some title (a line's name: 云栖2; 果冻橙 of a title headed by its
    origin). ``titles_only``: whole titles at once. The words said unwanted are asked when no
    other names one: "不要很重的充电宝" still asks for a 充电宝."""
    for titled in (True,) if titles_only else (False, True):
        heads = index.heads(words, aliases, titled=titled) or index.heads(
            avoid, aliases, titled=titled
        )
        if heads:
            return heads, titled
    return [], False


def rank(
    needs: Needs,
    profiles: Sequence[Profile],
    rules: Mapping[str, Any],
    support: Mapping[str, float] | None = None,
    *,
    titled: bool = False,
    index: KindIndex | None = None,
    passages: Mapping[str, Sequence[int]] | None = None,
) -> tuple[list[Scored], list[str]]:
    """The products that fit ``needs``, best first, and why the others were left out.
    ``support``: product source → how well retrieval matched the question to its page;
    ``titled``: the words naming what is wanted are read in whole titles, not kinds (see
    :func:`_kind_heads`); ``index``: the :class:`KindIndex` of ``profiles`` when the caller
    keeps one (built here otherwise); ``passages``: product source → the chunks of its page
    retrieval matched to the question, best first (see :func:`_passage`)."""
    negations = _negations(rules)
    aliases = needs.aliases
    classes = need_classes(needs)
    # a character the segmenter split from a phrase it does not know names a kind only as the
    # phrase's head, its last (鞋 of 双鞋, not 跑 of 跑友)
    split = {ch for phrase in needs.phrases for ch in phrase[:-1]} - {
        phrase[-1] for phrase in needs.phrases
    }
    words = [w for w in needs.words if len(w) > 1 or w not in split]
    index = index if index is not None else KindIndex(profiles)
    heads, titled = _kind_heads(words, needs.avoid, index, aliases, titles_only=titled)
    norm = normalize(needs.text)
    # kinds said as one ("茶叶礼盒"): a product is of it only with both — kinds a category
    # names, not uses a title has besides (徒步露营: the 徒步 tent and the 露营 one both fit).
    # A kind ends a category's segment (茶叶 of 茶叶/白茶, 礼盒 of 坚果/礼盒); a word only opening
    # one modifies it (智能 of 智能灯带: "智能的吸顶灯" is a 吸顶灯 that is smart, not two kinds)
    own = index.profiles is profiles  # the index's answers are of these very profiles
    segments = (
        index.segments if own else category_segments({normalize(p.category) for p in profiles})
    )
    kinds = [w for w in heads if any(seg.endswith(stem(w)) for seg in segments)]
    compounds = [
        (a, b)
        for a in kinds
        for b in kinds
        if a != b and len(a) > 1 and len(b) > 1 and (a + b in norm or f"{a}的{b}" in norm)
    ]
    compound_sets = [set(c) for c in compounds]
    out: list[Scored] = []
    left: list[str] = []
    soft = [w for w in needs.words if w not in heads and len(w) > 1]
    # the shopper's own phrases, and words of three or more characters no page states whole
    # ("护肤品"), looked for by their character pairs on every page
    unstated = [w for w in soft if len(w) > 2 and not stated_anywhere(w, profiles, negations)]
    # the groups the products of the kind asked for are marked for (of the whole catalogue
    # when no kind is said): a shop marking its kids' clothes 童装 marks no guitar so, and a
    # guitar for 孩子 is then any guitar whose page says it fits one (see fits_group)
    # (read from the kind index when it can tell them: a big catalogue is not asked product by
    # product, and a product of another kind is passed over before anything else is read of it
    # — so "left out" names only products of the kind asked for)
    held = index.held_by(heads, aliases, titled=titled) if heads and own else None
    of_kind = (
        [p for p in profiles if p.source in held]
        if held is not None
        else [
            p for p in profiles
            if any(names_kind(w, p, aliases.get(w, ()), titled=titled) for w in heads)
        ]
    )  # fmt: skip
    used = marked_groups(of_kind or profiles, rules)
    # a group only marked products fit (``marked_only``) that no product of the kind asked for
    # is marked for nor says it fits (an oven for 初中的女儿, a tablet for a child's classes):
    # the kind is not sold by whom it is for, and the group leaves none of it out — each is
    # then for an agent to confirm (never sent as is). Read only of a kind said (its products),
    # never of the whole catalogue; and not when the shopper says the group's mark itself
    # ("儿童鞋", "童装"): a product of the group is what is asked for, and none is sold.
    waived = (
        [
            g for g in rules["marked_only"]
            if g in needs.groups and g not in used
            and not any(
                len(m) > 1 and m in norm
                for m in (normalize(str(x)) for x in rules["groups"][g]["marks"])
            )
            and not any(_stated_for(p, g, needs, rules) for p in of_kind)
        ]
        if heads and of_kind
        else []
    )  # fmt: skip
    described = describe(
        [*needs.phrases, *unstated], profiles, negations, among=held,
        frequency=index.page_frequency if own else None,
    )  # fmt: skip
    # (as said: a feature's or a synonym's other words are not the shopper's)
    asked = tuple(
        w for w in (*needs.words, *needs.phrases, *needs.features) if normalize(w) in norm
    )
    for profile in profiles:
        if held is not None and profile.source not in held:
            continue  # of no kind asked for (below, ``have`` would be empty)
        if not fits_group(profile, needs, rules, used, waived=waived):
            left.append(f"{profile.title}: for another group")
            continue
        ok, prices, variants = _within_budget(profile, needs)
        if not ok:
            shown = "/".join(f"{p:g}" for p in profile.prices) or "?"
            left.append(f"{profile.title}: {shown}元, over the budget")
            continue
        chunks = sorted({v.chunk for v in variants}) or (
            [profile.price_chunk()] if profile.parts else []
        )
        scored = Scored(profile, prices=prices, price_chunks=chunks, variants=variants)
        scored.waived = tuple(g for g in waived if g not in _groups(profile, rules))
        if needs.budget is not None and prices:
            scored.add("budget", _budget_share(max(prices), needs))
        scored.support = (support or {}).get(profile.source, 0.0)
        scored.passage = _passage(profile, (passages or {}).get(profile.source, ()), needs.text)
        scored.asked = asked
        scored.question, scored.classes = needs.text, classes
        if heads:
            have = [w for w in heads if names_kind(w, profile, aliases.get(w, ()), titled=titled)]
            owned = set(have)
            if not have or any(c & owned and not c <= owned for c in compound_sets):
                continue  # not the kind of product asked for (a 礼盒 is no 茶叶礼盒)
            scored.heads = len(have) / len(heads)
            # the shopper's own word outranks a synonym of it (粉底液: the 粉底液, not the 粉底)
            for w in have:
                scored.add("kind" if names_kind(w, profile, titled=titled) else "kind_alias")
        phrases = _feature_phrases(rules)
        for word in [*needs.features, *soft]:
            also = [*phrases.get(word, []), *aliases.get(word, ())]
            found = find_any(word, also, profile, negations)
            if found.present:
                scored.add("word_in_title" if found.in_title else "word_in_facts")
                scored.found.append(found)
            elif found.denied:
                scored.add("denied")
                scored.misses.append(word)
        scored.kinds = [
            w for w in heads if names_kind(w, profile, aliases.get(w, ()), titled=titled)
        ]  # fmt: skip
        for said in described.get(profile.source, ()):
            if not said.share:
                continue
            if said.clause is None:  # in its title only: what it is, nothing to quote
                scored.add("phrase", said.share)
                scored.text += said.share
                if said.share == 1.0:
                    scored.found.append(Found(said.phrase, True, [], []))
                continue
            if said.denied:
                scored.add("denied", said.share)
                scored.misses.append(said.phrase)
                scored.denials.append(said.clause)
            else:
                scored.add("phrase", said.share)
                scored.text += said.share
                found = Found(said.phrase, False, [said.clause], [])
                scored.found.append(found) if said.share == 1.0 else scored.partial.append(found)
        if needs.household:
            fits = for_household(needs.household, profile)
            if fits is not None and fits.positive:
                scored.add("household")
                scored.found.append(fits)
            elif fits is not None:
                scored.add("denied")
                scored.misses.append(fits.word)
        if needs.age is not None:
            aged = for_age(needs.age, profile, rules["ages"], negations)
            if aged is not None and aged.positive:
                scored.add("age")
                scored.found.append(aged)
            elif aged is not None:  # "3岁以下儿童不建议食用": a draft quoting it
                scored.add("denied")
                scored.misses.append(aged.word)
                scored.denials.extend(aged.negative[:1])
        out.append(scored)
    for extreme in needs.extremes:
        _by_extreme(out, extreme)
    for amount in needs.amounts:
        for scored in out:
            covered = _by_amount(scored, amount)
            if covered is not None:
                scored.add("amount")
                scored.found.insert(0, covered)  # the figure asked for is quoted first
    out.sort(key=lambda s: (-s.score, -s.text, -s.support, s.profile.source))
    return out, left


def _quoted(scored: Scored, rules: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The deciding facts: the clauses stating what was asked for, else the first selling
    points of the page."""
    return _quotes(scored, rules)[0]


def _quotes(scored: Scored, rules: Mapping[str, Any]) -> tuple[list[tuple[int, str]], list[str]]:
    """The facts :func:`_quoted` quotes, and the needs found (``Found.word``) whose deciding
    clause is not among them (more than ``quoted_facts`` stated, or a clause of the overview's
    bookkeeping): a recommendation is sent as is only when each need is quoted."""
    n = int(rules["quoted_facts"])
    facts: dict[str, int] = {}
    profile = scored.profile
    deciding: list[tuple[str, str | None]] = []  # (need, the fact quoting it; None: none)
    for found in scored.found:
        if found.in_title or not found.positive:
            continue  # stated by what the product is (its title, which the reply names)
        for chunk, clause in found.positive[:1]:
            fact = next((f for f in profile.facts if f.chunk == chunk and clause == f.text), None)
            if fact is None and chunk == profile.overview:
                deciding.append((found.word, None))
                continue  # the overview's bookkeeping (商品：<title>) says nothing more
            # a row of a table listing versions with no price (色号 #01 … 黄皮白皮都可): its clause
            # needs the row's name; a spec table's row is a fact, a priced version is named
            # by its price
            stated = any(f.chunk == chunk for f in profile.facts)
            priced = any(v.chunk == chunk for v in profile.variants)
            if chunk in profile.rows and not stated and not priced:
                name = next(t for i, t in profile.parts if i == chunk)
                if chunk not in facts.values():
                    facts[name] = chunk
                deciding.append((found.word, next(t for t, c in facts.items() if c == chunk)))
                continue
            key = fact.text if fact else clause
            facts.setdefault(key, chunk)
            deciding.append((found.word, key))
    passage = _asked_clause(scored, scored.passage)
    passage = passage if passage and passage[1] not in facts else None
    for chunk, text in _ranked_lines(scored, rules):
        if len(facts) >= n:
            break
        said = [*facts, *([passage[1]] if passage else [])]
        if not any(text in t or t in text for t in said):  # not one said already, in part
            facts.setdefault(text, chunk)
    if not facts:  # a page with no fact to quote: its tagline and strongest prose
        for chunk, text in selling_points(profile, rules)[:n]:
            facts.setdefault(text, chunk)
    shown = list(facts.items())[:n]
    if passage is not None and passage[1] not in dict(shown):
        shown.append((passage[1], passage[0]))  # besides the facts the need and page chose
    keys = {t for t, _ in shown}
    unquoted = [w for w, key in deciding if key is None or key not in keys]
    return [(c, t) for t, c in shown], list(dict.fromkeys(unquoted))


def _ranked_lines(scored: Scored, rules: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(chunk, text) of the lines of ``scored``'s page that may fill its quoted facts, the most
    likely a right answer quotes first, by the fitted line ranker (``data/quote_model.json``,
    see :mod:`._quotes`) — its facts and prose sentences; without the model, its selling facts
    in page order. Read of the few products shown only."""
    skip = [str(s) for s in rules["not_selling_points"]]
    profile = scored.profile
    model = quote_model()
    if model is None or not scored.question:
        return [(f.chunk, f.text) for f in profile.points(set(skip))]
    lines = candidate_lines(profile, skip, lead(profile))
    features = line_features(
        scored.question, profile, lines, scored.classes,
        [str(w).lower() for w in rules["selling_words"]],
        [str(d) for d in rules["selling_measures"]], marked_lines(scored),
    )  # fmt: skip
    return [(lines[i].chunk, lines[i].text) for i in model.order(features)]


def _passage(profile: Profile, chunks: Sequence[int], question: str) -> tuple[int, str] | None:
    """Of the chunk of ``profile``'s page retrieval matched best to ``question`` (the first of
    ``chunks``), the fact or sentence sharing most character pairs with the question, the
    pairs of the product's own title left out (they name it, they say nothing of the need);
    None when none shares any."""
    if not chunks:
        return None
    chunk = chunks[0]
    title = set(bigrams(f"{profile.title} {profile.category}"))
    asked = [b for b in bigrams(question) if b not in title]
    if not asked:
        return None
    facts = [f.text for f in profile.facts if f.chunk == chunk and f.chunk != profile.overview]
    if not facts:
        facts = [
            t.strip() for i, text in profile.parts if i == chunk
            for t in SENTENCE.split(text) if t.strip()
        ]  # fmt: skip
    best, shared = None, 0
    for text in facts:
        norm = normalize(text)
        count = sum(b in norm for b in asked)
        if count > shared:
            best, shared = text, count
    return (chunk, best) if best is not None else None


ASKED_CHARS = 2  # the characters of the need a clause shares to be the one it asked about


def _asked_clause(scored: Scored, matched: tuple[int, str] | None = None) -> tuple[int, str] | None:
    """The fact or sentence of the chosen page stating the most of the characters of the need's
    own words its title does not have ("皮好剥" → 皮薄易剥, "一次能带几盆" → 可带盆数：10盆; an
    ASCII token, GPS or APP, counts twice) — at least :data:`ASKED_CHARS` — the first of the
    best; ``matched`` (the clause retrieval matched best: see _passage) when it states any of
    them, or no clause states enough. Read of the few products quoted, never of every product
    ranked: what the need asked about, wherever the page states it."""
    profile = scored.profile
    title = normalize(f"{profile.title} {profile.category}")
    said = {ch for w in scored.asked for ch in normalize(w) if _is_cjk(ch) and ch not in title}
    tokens = {t for w in scored.asked for t in ASCII_RUN.findall(normalize(w)) if t not in title}

    def count(text: str) -> int:
        return shared_characters(normalize(text), said, tokens)

    if len(said) + 2 * len(tokens) < ASKED_CHARS or (matched and count(matched[1])):
        return matched  # retrieval's clause states some of it: the page's clause asked for
    clauses = [(f.chunk, f.text) for f in profile.facts if f.chunk != profile.overview]
    clauses += [
        (i, t.strip()) for i, text in profile.parts if i != profile.overview
        for t in SENTENCE.split(text) if t.strip()
    ]  # fmt: skip
    best, most = matched, ASKED_CHARS - 1
    for clause in clauses:
        if count(clause[1]) > most:
            best, most = clause, count(clause[1])
    return best


def marked_lines(scored: Scored) -> list[str]:
    """The clauses of ``scored``'s page the need's own matching chose: each need's deciding
    clause, and the clause retrieval matched best (a feature of the line ranker)."""
    out = [clause for found in scored.found for _, clause in found.positive[:1]]
    if scored.passage is not None:
        out.append(scored.passage[1])
    return out


def pick_of(scored: Scored, rules: Mapping[str, Any], cite: Cite) -> Pick:
    quoted = _quoted(scored, rules)
    chunks = list(dict.fromkeys([*scored.price_chunks[:2], *(c for c, _ in quoted)]))
    return Pick(
        source=scored.profile.source,
        title=scored.profile.title,
        score=round(scored.score, 4),
        prices=scored.prices,
        facts=[t for _, t in quoted],
        misses=scored.misses,
        citations=[cite(c, 1.0) for c in chunks],
    )


def _variants_wanted(scored: Scored, needs: Needs, rules: Mapping[str, Any]) -> list[Variant]:
    """Of the variants that fit, the ones whose own row covers the quantities asked for, then
    states most of what was asked for ("轻微段落感，声音小" for 段落感 + 声音不大), then has the
    most (least) of a quantity preferred — when that is some of them, not all."""
    pool = scored.variants or scored.profile.variants
    # a row's cell saying the version has none of it ("单罐，无礼盒") denies it as a negation does
    absent = [normalize(str(a)) for a in rules["absent_values"] if _is_cjk(str(a))]
    negations = [*_negations(rules), *absent]
    phrases = _feature_phrases(rules)

    def states(row: str, word: str) -> bool:
        return any(
            (at := clause.find(word)) >= 0 and not any(n in clause[:at] for n in negations)
            for clause in row.split("，")
        )

    rows = [_row(v) for v in pool]

    def telling(word: str) -> bool:  # some versions' rows state it, not all (一级 of 特级/一级)
        return 0 < sum(states(r, stem(word)) for r in rows) < len(rows)

    wanted = [
        [stem(w), *phrases.get(w, [])]
        for w in [*needs.features, *needs.words]
        if len(w) > 1 and (stem(w) not in scored.profile.marks or telling(w))
    ]

    def said(variant: Variant) -> int:
        row = _row(variant)
        return sum(any(states(row, w) for w in words) for words in wanted)

    chosen = list(pool)
    for amount in needs.amounts:  # a quantity asked for first ("四个" → 四只装)
        covering = [
            v for v in chosen if any(_covers(_cell(h, cell), amount) for h, cell in v.cells)
        ]
        chosen = covering or chosen
    # then who it is for: the version for that many people ("一家四口" → 大号 2–4人) or that age
    # ("5岁" → 儿童枕 3–10岁)
    if needs.household:
        size = needs.household
        chosen = [v for v in chosen if serves(size, _row(v))] or chosen
    if needs.age is not None:
        age = needs.age
        chosen = [v for v in chosen if held(age, _row(v), rules["ages"])] or chosen
    # or the size its chart gives for the body measures said ("身高130" → 36寸)
    sized = {normalize(label) for label, _ in needs.sized.get(scored.profile.source, ())}
    if sized:
        chosen = [v for v in chosen if any(normalize(c) in sized for _, c in v.cells)] or chosen
    avoided = [v for v in chosen if any(_states(_row(v), w) for w in needs.avoid)]
    chosen = [v for v in chosen if v not in avoided] or chosen  # "不想天天倒尘盒": not 标准版
    counts = {v: said(v) for v in chosen}
    best = max(counts.values(), default=0)
    chosen = [v for v in chosen if best and counts[v] == best] or chosen
    chosen = _by_characters(chosen, [*needs.words, *needs.phrases], scored.profile.marks)
    for extreme in needs.extremes:
        chosen = _most_of(chosen, extreme)
    return chosen if 0 < len(chosen) < len(pool) else []


def priced_versions(
    profile: Profile, needs: Needs, rules: Mapping[str, Any], said: str
) -> tuple[list[float], list[Variant]]:
    """The prices an answer about ``profile`` names for ``needs``, by the constraint's type: the
    versions a budget keeps; of those, the ones the words ``said`` (the question and the
    answer quoted) name by their label ("LED照明款", "1500ml"), else the ones the needs pick
    (a quantity, a household, an age, a feature a row states: see :func:`_variants_wanted`),
    else the least (most) of a price asked for; all of them when nothing tells them apart. Read
    of the one product an answer cites, never of the catalogue."""
    ok, prices, variants = _within_budget(profile, needs)
    if not ok:
        return [], []
    pool = [v for v in (variants or profile.variants) if v.price is not None]
    if not pool:
        return prices, []
    text = normalize(said)
    named = [v for v in pool if len(label := normalize(v.label)) > 1 and label in text]
    chosen = named or _variants_wanted(Scored(profile, variants=pool), needs, rules) or pool
    for extreme in needs.extremes:
        if "price" in extreme.dims:
            chosen = _most_of(chosen, extreme.model_copy(update={"dims": ["price"]}))
    return sorted({v.price for v in chosen if v.price is not None}), chosen


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _row(variant: Variant) -> str:
    return normalize("，".join(c for _, c in variant.cells))


def _states(row: str, phrase: str) -> bool:
    """Whether a variant's row states most of ``phrase``'s character pairs (倒尘盒 in
    "需手动倒尘盒")."""
    pairs = bigrams(phrase)
    return bool(pairs) and 2 * sum(p in row for p in pairs) >= len(pairs)


def _by_characters(variants: list[Variant], said: Sequence[str], title: str) -> list[Variant]:
    """Of ``variants``, those whose rows hold the most of the shopper's characters that only
    some of the rows hold (彩色画面 → 全彩夜视: the Pro) — all when no row holds one. Only the
    characters of words of two or more (a lone 内 says little) not in the product's ``title``
    (裙 of 连衣裙, 特 of 呼和浩特 and 特大果), looked for in the cells describing a version
    (not its name: 雾霾蓝, 特大果)."""
    rows = {
        v: normalize("，".join(c for h, c in v.cells if c != v.label and not is_stock(h)))
        for v in variants
    }
    chars = {
        ch for w in said if len(w) > 1 for ch in w if "\u4e00" <= ch <= "\u9fff" and ch not in title
    }
    telling = {ch for ch in chars if 0 < sum(ch in r for r in rows.values()) < len(rows)}
    counts = {v: sum(ch in rows[v] for ch in telling) for v in variants}
    best = max(counts.values(), default=0)
    return [v for v in variants if counts[v] == best] if best else variants


def _most_of(variants: list[Variant], extreme: Extreme) -> list[Variant]:
    """Of ``variants``, those whose own figure is the most (least) of the first quantity of
    ``extreme`` they state with different figures (all, when none does)."""
    for dim in extreme.dims:
        figures = {v: f for v in variants if (f := variant_figure(v, dim)) is not None}
        if len(set(figures.values())) < 2:
            continue
        top = max(figures.values()) if extreme.most else min(figures.values())
        return [v for v in variants if figures.get(v) == top]
    return variants


def _outside_budget(scored: Scored, negations: Sequence[str]) -> list[str]:
    """The needs the product states only of its versions the budget leaves out: every clause
    saying the word names a version left out and none kept, or names one kept and denies it
    ("标准版不防水；GTX防水版内置防水透气膜" with only 标准版 within the budget)."""
    profile = scored.profile
    kept = {normalize(v.label) for v in scored.variants if v.label}
    dropped = {
        normalize(v.label) for v in profile.variants if v.label and v not in scored.variants
    } - kept
    if not scored.variants or not dropped:
        return []
    out = []
    for found in scored.found:
        if found.in_title:
            continue
        key = stem(found.word)
        clauses = [
            c for _, text in found.positive for c in CLAUSE.split(normalize(text)) if key in c
        ]
        if clauses and all(
            (any(d in c for d in dropped) and not any(k in c for k in kept))
            or (any(k in c for k in kept) and any(n in c for n in negations))
            for c in clauses
        ):
            out.append(found.word)
    return out


def _doubts(best: Scored, needs: Needs, rules: Mapping[str, Any]) -> list[str]:
    """Why the one product that fits is still for an agent: a deciding fact the reply does not
    quote (more needs stated than facts quoted, or a clause of the overview's bookkeeping), a
    price above a budget said approximately ("300左右": 329 may or may not do), or a figure
    the shopper says that no need was read from ("出差3天", "20寸"). Sent as is, every
    deciding fact is the page's own, quoted, and every constraint said is understood."""
    out: list[str] = []
    unquoted = _quotes(best, rules)[1]
    if unquoted:
        out.append(f"the facts stating {'、'.join(unquoted)} are not quoted")
    if needs.about is not None and any(p > needs.about for p in best.prices):
        out.append(f"priced above the {needs.about:g} said as an approximate budget")
    unread = _unread_figures(needs, rules)
    if unread:
        out.append(f"a figure said that no need reads: {'、'.join(unread)}")
    return out


_FIGURE = re.compile(r"\d+(?:\.\d+)?")


def _unread_figures(needs: Needs, rules: Mapping[str, Any]) -> list[str]:
    """The figures the shopper says that no need was read from ("出差3天"): not a quantity
    needed, the budget, an age or the number of people."""
    text = normalize(needs.text)
    amounts = [normalize(a.said) for a in needs.amounts]
    budget = {*(needs.budget or ()), *((needs.about,) if needs.about is not None else ())}
    ages = [normalize(str(u)) for u in rules["ages"]["units"]]
    people = [span for _, _, span in people_ranges(text)]
    out = []
    for m in _FIGURE.finditer(text):
        figure, after = m.group(0), text[m.end() :]
        if m.start() and text[m.start() - 1].isascii() and text[m.start() - 1].isalpha():
            continue  # a model's name (R10, KT15): what is asked for, not a figure
        if any(figure in a for a in amounts) or float(figure) in budget:
            continue
        if any(after.lstrip().startswith(u) for u in ages):
            continue
        if any(start <= m.start() < end for start, end in people):
            continue
        out.append(figure)
    return out


def _typed_said(needs: Needs) -> list[str]:
    """The words :func:`rank` reports a product confirming the quantities, the household and
    the age said by (see ``_by_amount``, ``for_household``, ``for_age``)."""
    out = [a.said for a in needs.amounts]
    if needs.household:
        out.append(f"{needs.household}人")
    if needs.age is not None:
        out.append(f"{needs.age:g}岁")
    return out


def prices_text(prices: Sequence[float], variants: Sequence[Variant] = ()) -> str:
    """ "399/499元"; with the variants that fit a budget named when they are few
    ("10000mAh 标准版 99元")."""
    named = [v for v in variants if v.price is not None and (v.label or v.name)]
    if named and len(named) <= 2:
        return "；".join(f"{v.label or v.name} {v.price:g}元" for v in named)
    return "/".join(f"{p:g}" for p in prices) + "元" if prices else "价格以页面为准"


def _tied(
    needs: Needs,
    tied: Sequence[Scored],
    rules: Mapping[str, Any],
    cite: Cite,
    reasons: list[str],
) -> Recommendation:
    """A draft naming each of the few products that fit equally, each with its prices within
    the budget and its deciding facts cited: the agent (or the shopper) chooses between them,
    rather than answer a clarifying question whose answer the catalogue cannot use."""
    picks = [pick_of(s, rules, cite) for s in tied]
    options = "；".join(
        str(rules["texts"]["option"]).format(
            title=p.title,
            prices=prices_text(p.prices, s.variants),
            facts="，".join(p.facts),
        )
        for p, s in zip(picks, tied, strict=True)
    )
    citations = list({c.chunk_id or c.source: c for p in picks for c in p.citations}.values())
    return Recommendation(
        needs=needs, picks=picks, text=str(rules["texts"]["tied"]).format(options=options),
        decision="draft", citations=citations,
        reasons=[f"{len(tied)} products fit equally: each shown to the agent", *reasons],
    )  # fmt: skip


def recommend(
    needs: Needs,
    profiles: Sequence[Profile],
    rules: Mapping[str, Any],
    cite: Cite,
    support: Mapping[str, float] | None = None,
    *,
    strict: bool = False,
    index: KindIndex | None = None,
    passages: Mapping[str, Sequence[int]] | None = None,
    sizes: Sizes | None = None,
) -> Recommendation:
    """The recommendation for ``needs``: see the module's docstring. ``strict`` (a question
    whether the shop has something: "有没有孕妇穿的裤子"): the best must state every word said,
    else nothing fits. ``sizes``: reads the size a product's chart gives for the body measures
    said — asked of the best product only (a catalogue's charts are many), and kept in the
    recommendation's ``needs.sized``."""
    scored, left = rank(needs, profiles, rules, support, index=index, passages=passages)
    texts = rules["texts"]
    negations = _negations(rules)
    picks = [pick_of(s, rules, cite) for s in scored[:3]]
    reasons = [f"left out — {r}" for r in left[:6]]
    if not scored:
        return Recommendation(
            needs=needs, picks=[], text=str(texts["no_fit"]), decision="handoff",
            reasons=["no product fits the need", *reasons],
        )  # fmt: skip
    best = scored[0]
    runner = scored[1].score if len(scored) > 1 else None
    said_words = [w for w in needs.words if len(w) > 1]
    if said_words and not any(s.found or s.kinds or s.partial for s in scored):
        # what was asked for is nowhere in the catalogue ("男士西裤"): not sold here
        return Recommendation(
            needs=needs, picks=[], text=str(texts["no_fit"]), decision="handoff",
            reasons=[f"the catalogue says nothing of {'、'.join(said_words)}", *reasons],
        )  # fmt: skip
    # a need the best denies: a draft saying so, in the page's words; a need another product
    # of the kind denies and the best does not state either: nothing fits ("能给笔记本充电的
    # 充电宝": one denies it, the other is silent)
    if best.misses:
        phrases = _feature_phrases(rules)
        denial = [
            (c, t)
            for w in best.misses
            for c, t in find_any(
                w, [*phrases.get(w, []), *needs.aliases.get(w, ())], best.profile, negations
            ).negative[:1]
        ]  # found as rank() found the miss: by the feature's words and the word's synonyms
        denial += [d for d in best.denials if d not in denial]
        text = str(texts["denied"]).format(
            title=best.profile.title, facts="；".join(t for _, t in denial)
        )
        return Recommendation(
            needs=needs, picks=picks, text=text, decision="draft",
            reasons=[f"the best match denies {'、'.join(best.misses)}", *reasons],
            citations=[cite(c, 1.0) for c, _ in denial],
        )  # fmt: skip
    typed = needs.budget or needs.extremes or needs.amounts or needs.household or needs.age
    if (
        needs.features
        and not typed
        and any(names_kind(w, best.profile) for w in best.kinds)
        and not any(s.found or s.partial for s in scored)
    ):
        # a kind the shop sells, asked of only for features no product of it states ("美白淡斑
        # 的精华" of an anti-ageing serum): not sold here
        return Recommendation(
            needs=needs, picks=[], text=str(texts["no_fit"]), decision="handoff",
            reasons=[f"no product of the kind states {'、'.join(needs.features)}", *reasons],
        )  # fmt: skip
    spoken = dict.fromkeys(m for s in scored for m in s.misses)  # in order: reasons read alike
    if strict:
        spoken.update(dict.fromkeys(w for w in needs.words if len(w) > 1 and w not in best.kinds))
    found = {f.word for f in best.found}
    unmet = [w for w in spoken if w not in found]
    if unmet:
        return Recommendation(
            needs=needs, picks=picks, text=str(texts["no_fit"]), decision="handoff",
            reasons=[f"no product of the kind states {'、'.join(unmet)}", *reasons],
        )  # fmt: skip
    said = bool(needs.words or needs.features)
    close = [s.support for s in scored[1:] if best.score - s.score < LEAD]
    retrieval_lead = bool(close) and said and best.support - max(close) >= SUPPORT_LEAD
    texts_close = [s.text for s in scored[1:] if best.score - s.score < LEAD]
    text_lead = bool(texts_close) and best.text - max(texts_close) >= TEXT_LEAD
    if runner is not None and best.score - runner < LEAD and not (retrieval_lead or text_lead):
        tied = [s for s in scored if best.score - s.score < LEAD]
        shown = int(rules["tied_shown"])
        if (best.named > 0 or needs.budget) and len(tied) <= shown:
            # a few fit the need equally (a budget only a few are within is a need they fit):
            # the agent is shown each, with its deciding facts
            return _tied(needs, tied, rules, cite, reasons)
        if best.named > 0 and (needs.budget or any(s.found or s.partial for s in tied)):
            # more fit a need that names a kind (and a budget or a fact some state): the
            # agent is shown the first few as ranked (score, the shopper's phrases stated,
            # retrieval's support), each cited, rather than an uncited question
            more = f"{len(tied)} products fit equally: the first {shown} shown"
            return _tied(needs, tied[:shown], rules, cite, [more, *reasons])
        # nothing separates the many products that fit: ask what matters
        titles = [s.profile.title for s in tied]
        return Recommendation(
            needs=needs, picks=picks, question=str(texts["clarify"]), text=str(texts["clarify"]),
            decision="draft",
            reasons=[f"{len(titles)} products fit equally: {'; '.join(titles[:4])}", *reasons],
        )  # fmt: skip
    top = picks[0]
    if sizes is not None and (fitting := sizes(best.profile)):
        needs = needs.model_copy(update={"sized": {**needs.sized, best.profile.source: fitting}})
    wanted = _variants_wanted(best, needs, rules)
    if wanted:
        best.variants = wanted
        top.citations = [cite(v.chunk, 1.0) for v in wanted] + top.citations
    text = str(texts["recommend"]).format(
        title=top.title, prices=prices_text(top.prices, best.variants), facts="；".join(top.facts)
    )
    charted = needs.sized.get(best.profile.source, [])
    if charted and not any(normalize(label) in _row(v) for v in wanted for label, _ in charted):
        # the size its chart gives for the measures said, no version of it priced apart
        text += str(texts["sized"]).format(sizes="或".join(label for label, _ in charted))
        top.citations += [cite(chunk, 1.0) for _, chunk in charted if chunk >= 0]
    # sent as is only when the need is plain and one product alone fits it
    clear = (
        len(scored) == 1
        and bool(best.prices)
        and best.profile.typed_prices  # a price read from prose is for an agent to confirm
        and best.heads == 1.0
        and not best.misses
        and not needs.cues.get("question")  # a question besides the wish is for an agent
        and not needs.cues.get("compare")  # so is a comparison no two products answered
        and not needs.extremes  # so is a version picked by its figures ("小一点的")
        and not wanted  # or by who it is for or a quantity said (儿童枕 for 5岁, 1.2m for 1米2)
        and not needs.avoid  # or by what the shopper does not want
        and not best.waived  # or for whom none of its kind is said to be (初中的女儿's oven)
        # so is the size to pick ("她165 100斤"; a bare number may be the budget)
        and not any(m.kind or m.unit for m in body_measures(needs.text))
        and {w for w in needs.words if len(w) > 1} | set(needs.features) | set(needs.phrases)
        <= {f.word for f in best.found} | set(best.kinds)
        # and every quantity, household or age said is one its page states it serves: a page
        # silent on it is for an agent to confirm
        and set(_typed_said(needs)) <= {f.word for f in best.found}
    )
    elsewhere = _outside_budget(best, negations)
    if elsewhere:  # what was asked for is a version the budget leaves out: an agent says so
        clear = False
    doubts = _doubts(best, needs, rules) if clear else []
    clear = clear and not doubts
    why = "the only product that fits" if clear else "the best of several that fit"
    return Recommendation(
        needs=needs, picks=picks, text=text, decision="auto" if clear else "draft",
        reasons=[
            f"{why}: {top.title} (score {top.score:.2f})",
            *(f"only a version over the budget states {w}" for w in elsewhere),
            *(f"for an agent: {d}" for d in doubts),
            *reasons,
        ],
        citations=top.citations,
    )  # fmt: skip
