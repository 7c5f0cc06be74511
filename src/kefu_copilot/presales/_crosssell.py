"""Complements of a product (关联推荐): the ones the catalogue declares — ``related`` in the
product's front matter or JSON, or ``rules: {presales: {related: {SKU: [SKU, ...]}}}`` in
``shop.yaml`` — never guessed. When the shopper names what they want with it ("配什么围巾"),
only the complements of that kind. A complement already suggested in the conversation is not
suggested again (once, never pushy)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._models import Citation
from ..text._normalize import normalize
from ._match import CLAUSE, find
from ._models import Suggestion
from ._profiles import Profile, Variant
from ._recommend import Scored, pick_of, prices_text

__all__ = [
    "asked_kinds",
    "complements",
    "fitting_rows",
    "sold_separately",
    "suggest_complement",
    "suggest_for_kind",
]

Cite = Callable[[int, float], Citation]
_SENTENCE = re.compile(r"[。；;！!？?\n]")


def _refers(ref: str, profile: Profile) -> bool:
    """Whether a declared reference (a SKU, a file name) means ``profile``."""
    key = normalize(ref)
    sku = normalize(profile.sku)
    stem = normalize(profile.source.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return bool(key) and (
        key in (sku, stem) or sku.startswith(key + "-") or stem.startswith((key + "_", key + "-"))
    )


def complements(
    profile: Profile, profiles: Sequence[Profile], rules: Mapping[str, Any]
) -> list[Profile]:
    """The products ``profile`` declares as its complements, in the order declared, then the
    products declaring it as theirs (a scarf for the coat that the scarf names)."""
    declared = [*profile.related]
    extra: Mapping[str, Any] = rules["related"] or {}
    for key, values in extra.items():
        if _refers(str(key), profile):
            declared += [str(v) for v in values]
    out: list[Profile] = []
    for ref in declared:
        found = next((p for p in profiles if _refers(ref, p)), None)
        if found is not None and found is not profile and found not in out:
            out.append(found)
    for other in profiles:
        if (
            other is not profile
            and other not in out
            and any(_refers(r, profile) for r in other.related)
        ):
            out.append(other)
    return out


def sold_separately(profile: Profile, rules: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(chunk, clause) of the page of ``profile`` saying what is bought besides it ("茶刀需另购",
    "静音滑轨另购：¥35/米", "耗材配件包…店铺内单独购买"): the complements its own page names,
    quoted before any the catalogue declares. A clause denying it ("无需另购") is not one."""
    cues = [normalize(str(c)) for c in rules["separately_cues"]]
    excluded = {normalize(str(c)) for c in rules["excluded_marks"]}
    negations = [normalize(str(n)) for n in rules["negations"]]
    out: list[tuple[int, str]] = []
    for index, text in profile.parts:
        for sentence in _sentences(normalize(text), cues):
            sentence = sentence.strip(" -*#|:：")
            said = False
            for clause in CLAUSE.split(sentence):  # judged clause by clause, quoted whole
                at = next((clause.find(c) for c in cues if c in clause), -1)
                said = said or (at >= 0 and not any(n in clause[:at] for n in negations))
                # a clause saying only that what it follows is not included ("5号电池，不含")
                said = said or clause.strip(" :：") in excluded
            if said and sentence not in (c for _, c in out):
                out.append((index, sentence))
    return out[: int(rules["separately_quoted"])]


def _sentences(text: str, cues: Sequence[str]) -> list[str]:
    """The sentences of ``text``; a line whose label says it lists what is bought besides
    ("配件加购：原装电池29元/块；螺旋桨9元/套；桨叶保护罩12元/套") is one, its list whole."""
    out: list[str] = []
    text = re.sub(r"[;；]\s*\n", ";", text)  # a list going on on the next line
    for line in re.split(r"[。！!？?\n]", text):
        label = re.split(r"[:：]", line, maxsplit=1)
        if len(label) == 2 and any(c in label[0] for c in cues):
            out.append(line)
        else:
            out.extend(_SENTENCE.split(line))
    return out


_ITEMS = re.compile(r"[/／、,，;；\s]+")


def fitting_rows(
    profile: Profile, profiles: Sequence[Profile], rules: Mapping[str, Any]
) -> list[tuple[Profile, Variant]]:
    """The priced rows of other products whose cell under a fit column (``fit_columns``:
    适用, 兼容型号 …) names ``profile`` — by its SKU or a word of its title or category
    ("夹式调音器 | 适用：吉他/尤克里里/小提琴" for a guitar): what the catalogue states goes
    with it, in its own typed tables. A row saying it does not fit ("不适用古典吉他") is none."""
    sku = normalize(profile.sku)
    return _rows_fitting(
        lambda item: item in profile.marks or bool(sku and sku in item),
        [p for p in profiles if p is not profile],
        rules,
    )


def _rows_fitting(
    names: Callable[[str], bool], profiles: Sequence[Profile], rules: Mapping[str, Any]
) -> list[tuple[Profile, Variant]]:
    """The priced rows of ``profiles`` with an item of a fit column's cell that ``names``."""
    headers = [normalize(str(h)) for h in rules["fit_columns"]]
    negations = [normalize(str(n)) for n in rules["negations"]]
    out: list[tuple[Profile, Variant]] = []
    for other in profiles:
        for variant in other.variants:
            if variant.price is None:
                continue
            cells = [normalize(c) for h, c in variant.cells if normalize(h) in headers]
            items = [i for c in cells for i in _ITEMS.split(c) if len(i) > 1]
            if any(names(i) and not any(n in i for n in negations) for i in items):
                out.append((other, variant))
    return out


def _rows_text(shown: Sequence[tuple[Profile, Variant]]) -> str:
    several = len({o.source for o, _ in shown}) > 1  # each row named with its product's title
    return "、".join(
        f"{v.label or v.name}（{o.title}，{v.price:g}元）" if several
        else f"{v.label or v.name}（{v.price:g}元）"
        for o, v in shown
    )  # fmt: skip


def suggest_for_kind(
    words: Sequence[str], profiles: Sequence[Profile], rules: Mapping[str, Any], cite: Cite
) -> Suggestion | None:
    """With no one product named ("买吉他要顺便买点啥": several are guitars), the rows whose fit
    cell names the kind said, item for item (吉他 of 吉他/尤克里里/小提琴), for an agent; None
    if none."""
    for word in (normalize(w) for w in words if len(w) > 1):
        fitting = _rows_fitting(word.__eq__, profiles, rules)
        if fitting:
            shown = fitting[: int(rules["fitting_quoted"])]
            text = str(rules["texts"]["crosssell_rows"]).format(bought=word, rows=_rows_text(shown))
            return Suggestion(
                kind="crosssell",
                source=shown[0][0].source,
                title=shown[0][0].title,
                text=text,
                facts=[v.label or v.name for _, v in shown],
                citations=[cite(v.chunk, 1.0) for _, v in shown],
                reasons=[f"rows of the catalogue stating they fit {word}; none declared"],
            )
    return None


def asked_kinds(
    profile: Profile, profiles: Sequence[Profile], words: Sequence[str], negations: Sequence[str]
) -> list[str]:
    """The ``words`` naming a kind of product other than ``profile`` (a word of another
    product's title, not of its own): what the shopper wants with it ("配什么围巾")."""
    return [
        w for w in words
        if len(w) > 1  # a lone character (配 of 配件) names no kind
        and any(find(w, p, negations).in_title for p in profiles if p is not profile)
        and not find(w, profile, negations).in_title
    ]  # fmt: skip


def _page_says(
    profile: Profile, words: Sequence[str], rules: Mapping[str, Any], cite: Cite
) -> Suggestion | None:
    """What the page of ``profile`` says of the things asked for with it that no product is
    ("要不要配滤芯": "滤芯：无滤芯设计，不需要更换耗材") — denials first — for an agent; None
    when it says nothing of them."""
    negations = [str(n) for n in rules["negations"]]
    clauses: list[tuple[int, str]] = []
    for word in words:
        if len(word) < 2:
            continue
        found = find(word, profile, negations)
        if found.in_title:
            continue
        clauses += [c for c in [*found.negative, *found.positive] if c not in clauses]
    if not clauses:
        return None
    quoted = clauses[: int(rules["separately_quoted"])]
    return Suggestion(
        kind="crosssell",
        source=profile.source,
        title=profile.title,
        text=str(rules["texts"]["denied"]).format(
            title=profile.title, facts="；".join(t for _, t in quoted)
        ),
        facts=[t for _, t in quoted],
        citations=[cite(c, 1.0) for c in dict.fromkeys(c for c, _ in quoted)],
        reasons=[f"no complement declared; what the page of {profile.title} says of it"],
    )


def suggest_complement(
    profile: Profile,
    profiles: Sequence[Profile],
    words: Sequence[str],
    said: Sequence[str],
    rules: Mapping[str, Any],
    cite: Cite,
) -> Suggestion | None:
    """The complement to suggest with ``profile``: of the kind ``words`` name (if they name
    one a product's title has), not already in ``said`` (earlier replies); None if none."""
    negations = [str(n) for n in rules["negations"]]
    said_norm = normalize(" ".join(said))
    options = [
        p for p in complements(profile, profiles, rules) if normalize(p.title) not in said_norm
    ]
    kinds = asked_kinds(profile, profiles, words, negations)
    declared = True
    if kinds:
        of_kind = [p for p in options if any(find(w, p, negations).in_title for w in kinds)]
        if not of_kind:  # none declared of the kind asked for: the catalogue's, for an agent
            declared = False
            of_kind = [
                p for p in profiles
                if p is not profile and any(find(w, p, negations).in_title for w in kinds)
            ]  # fmt: skip
        options = of_kind
    extras = [] if kinds else sold_separately(profile, rules)
    also = (
        str(rules["texts"]["separately"]).format(
            bought=profile.title, facts="；".join(t for _, t in extras)
        )
        if extras
        else ""
    )
    fitting = [] if options or kinds else fitting_rows(profile, profiles, rules)
    if not options and fitting:
        # none declared: the rows of the catalogue's tables stating they fit it, for an agent
        shown = fitting[: int(rules["fitting_quoted"])]
        text = str(rules["texts"]["crosssell_rows"]).format(
            bought=profile.title, rows=_rows_text(shown)
        )
        return Suggestion(
            kind="crosssell",
            source=shown[0][0].source,
            title=shown[0][0].title,
            text=text + also,
            facts=[v.label or v.name for _, v in shown],
            citations=[
                *(cite(v.chunk, 1.0) for _, v in shown),
                *(cite(c, 1.0) for c in dict.fromkeys(c for c, _ in extras)),
            ],
            reasons=[f"rows of the catalogue stating they fit {profile.title}; none declared"],
        )
    if not options:
        if not extras:
            return _page_says(profile, words, rules, cite)
        return Suggestion(
            kind="crosssell",
            source=profile.source,
            title=profile.title,
            text=str(rules["texts"]["separately_alone"]).format(text=also),
            facts=[t for _, t in extras],
            citations=[cite(c, 1.0) for c in dict.fromkeys(c for c, _ in extras)],
            reasons=[f"what the page of {profile.title} says is bought besides it"],
        )
    best = options[0]
    pick = pick_of(Scored(best, prices=best.prices, price_chunks=[best.price_chunk()]), rules, cite)
    text = str(rules["texts"]["crosssell"]).format(
        bought=profile.title, title=best.title, prices=prices_text(pick.prices),
        facts="；".join(pick.facts),
    )  # fmt: skip
    others = options[1 : int(rules["crosssell_alternatives"]) + 1]
    if others:  # the other declared complements, named once in the same reply (the agent picks)
        text += str(rules["texts"]["alternatives"]).format(
            titles="、".join(p.title for p in others)
        )
    return Suggestion(
        kind="crosssell",
        source=best.source,
        title=best.title,
        text=text + also,
        facts=pick.facts,
        citations=[
            *pick.citations,
            cite(profile.parts[0][0], 1.0),
            *(cite(c, 1.0) for c in dict.fromkeys(c for c, _ in extras)),
            *(cite(p.parts[0][0], 1.0) for p in others if p.parts),
        ],
        reasons=[
            f"declared complement of {profile.title}"
            if declared
            else f"asked for with {profile.title}; not a declared complement"
        ]
        + ([f"others: {'; '.join(p.title for p in options[1:3])}"] if len(options) > 1 else []),
    )
