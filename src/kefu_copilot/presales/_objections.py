"""A price questioned (贵在哪, 别家便宜): the product's own selling points and its price list.

Nothing is invented and nothing is offered: the selling points are the page's lead paragraph
(what the page says the product is for and why, before its facts and tables — the pitch every
product page opens with, :func:`lead`) and then its facts (its first ``selling_points`` facts
that are not bookkeeping — 货号, 分类, 注意 …), the prices are its
variants' (a set or a cheaper version is a fact of the page, not a discount). A discount is for
an agent: the reply is a draft, and the answer checker holds back any amount beyond the
``shop.yaml`` compensation limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .._models import Citation
from ..text._numbers import measures
from ._models import Suggestion
from ._profiles import Profile
from ._quotes import PROSE_CHARS, Line, line_features, quote_model

__all__ = ["answer_objection"]

Cite = Callable[[int, float], Citation]
LEAD_CHARS = 80  # the most of a page's lead paragraph quoted, whole sentences
LEAD_PARTS = 3  # the lead paragraph is in the page's first parts, before its tables
FACT_NAME_CHARS = 8  # "名称：值": a line is a fact's when its name is this short, one phrase
_SENTENCE = re.compile(r"[。！!？?\n]+")
_CLAUSE_MARKS = re.compile(r"[，,、；;。]")
_ASIDE = re.compile(r"[（(][^）)]*[）)]")


def _price_list(profile: Profile) -> tuple[str, list[int]]:
    priced = [v for v in profile.variants if v.price is not None]
    if len({v.price for v in priced}) < 2:
        return "", []
    seen: dict[str, float] = {}
    for v in priced:  # a version by its label (1.5×2.0m), not its whole row
        if (v.label or v.name) and v.price is not None:
            seen.setdefault(v.label or v.name, v.price)
    shown = list(seen.items())[:6]
    text = "价格：" + "；".join(f"{n} {p:g}元" for n, p in shown) + "。"
    return text, [v.chunk for v in priced][:6]


def _tagline(profile: Profile, rules: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The items of the page's tagline: the first line (not of the overview, not a fact's
    "名称：值") that lists three or more items with a separator, separators in their order."""
    lines = [
        (index, line)
        for index, text in profile.parts
        if index != profile.overview
        for line in text.splitlines()
        if "：" not in line and ":" not in line  # a fact's line, not a list of selling points
    ]
    for sep in rules["tagline_separators"]:
        for index, line in lines:
            items = [i.strip() for i in line.split(str(sep)) if i.strip()]
            if len(items) >= 3:
                return [(index, i) for i in items]
    return []


def _fact_line(line: str) -> bool:
    """Whether a line states a fact ("容量：32L", "商品：…；货号：…"), not a sentence of prose
    ("租房不能打孔、不方便装外机的房间用：插电即用…" — no name is a clause)."""
    name = re.split(r"[：:]", line, maxsplit=1)
    if len(name) < 2:
        return False
    bare = _ASIDE.sub("", name[0])  # 适配机型（通用款）, 配料（70%款）: the name, its aside
    return len(bare) <= FACT_NAME_CHARS and not _CLAUSE_MARKS.search(bare)


def lead(profile: Profile) -> list[tuple[int, str]]:
    """(chunk, text) of the page's lead paragraph: the first lines of prose of its first parts
    (no fact's line, no table row, not its title), before its first table, whole sentences up
    to ``LEAD_CHARS`` — the pitch a product page opens with ("纯可可脂，不含代可可脂，…")."""
    out: list[tuple[int, str]] = []
    size = 0
    for index, text in profile.parts[:LEAD_PARTS]:
        if index in profile.rows:
            break
        for line in text.splitlines():
            line = line.strip().lstrip("#>-*• ").strip()
            if not line or line == profile.title or _fact_line(line):
                if out:  # the paragraph ends at the first fact after it
                    return out
                continue
            for sentence in (s.strip() for s in _SENTENCE.split(line)):
                if not sentence:
                    continue
                if size + len(sentence) > LEAD_CHARS:
                    return out
                out.append((index, sentence))
                size += len(sentence)
        if out:
            return out
    return out


def _prose(profile: Profile) -> list[tuple[int, str]]:
    """(chunk, sentence) of the page's own prose: its parts that are no fact's, no version's
    row (the price list shows those), not the overview, sentence by sentence."""
    facts = {f.chunk for f in profile.facts} | {v.chunk for v in profile.variants}
    facts |= set(profile.rows)
    return [
        (index, sentence.strip())
        for index, text in profile.parts
        if index != profile.overview and index not in facts
        for sentence in _SENTENCE.split(text)
        if sentence.strip()
    ]


def selling_points(
    profile: Profile, rules: Mapping[str, Any], question: str = "", classes: Any = None
) -> list[tuple[int, str]]:
    """(chunk, text) of the page's selling points, the strongest first: a number with a
    selling word (8000Pa 大吸力, 含绒量：90%), then a selling word, then a number, then the
    rest, in page order (facts whose name says whom it fits — ``fit_words`` — are none). A
    page whose facts are few says its strongest in prose ("弹簧质保10年，面料质保1年"): a
    sentence with both is one too, after the facts as strong. With ``question`` (the shopper's
    words; ``classes``, their need's classes) the same lines are ordered by the fitted line
    ranker (:mod:`._quotes`) instead."""
    words = [str(w).lower() for w in rules["selling_words"]]
    skip = {str(s) for s in rules["not_selling_points"]}
    fit = [str(w) for w in rules["fit_words"]]
    dims = {str(d) for d in rules["selling_measures"]}

    def strength(item: tuple[int, str]) -> int:
        # a selling word (or a spec advantage's figure) outranks a bare number (a size)
        text = item[1].lower()
        sells = any(w in text for w in words) or any(m.dim in dims for m in measures(text))
        return int(bool(re.search(r"\d", text))) + 2 * int(sells)

    # the overview's facts declared besides its bookkeeping (a certificate in front matter)
    declared = [f for f in profile.facts if f.chunk == profile.overview and f.name not in skip]
    points = [f for f in [*profile.points(skip), *declared] if not any(w in f.name for w in fit)]
    items = [*_tagline(profile, rules), *((f.chunk, f.text) for f in points)]
    items += [s for s in _prose(profile) if strength(s) == 3 and len(s[1]) <= PROSE_CHARS]

    model = quote_model() if question else None
    if model is not None:  # the fitted line ranker's order for the shopper's words
        facts = {f.text: f.name for f in points}
        lines = [
            Line(c, t, "fact" if t in facts else "prose", facts.get(t, ""), position=i)
            for i, (c, t) in enumerate(items)
        ]
        features = line_features(question, profile, lines, classes or {}, words, sorted(dims))
        return [items[i] for i in model.order(features)][: int(rules["selling_points"])]
    ranked = sorted(enumerate(items), key=lambda x: (-strength(x[1]), x[0]))
    return [item for _, item in ranked][: int(rules["selling_points"])]


def answer_objection(
    profile: Profile, rules: Mapping[str, Any], cite: Cite, question: str = "", classes: Any = None
) -> Suggestion:
    """The reply to a price objection about ``profile``: its lead paragraph, then its selling
    points — ordered for ``question`` (the shopper's words, ``classes`` their need's classes)
    by the fitted line ranker when it is given."""
    pitch = lead(profile)
    said = "".join(t for _, t in pitch)
    points = [
        *pitch,
        *(p for p in selling_points(profile, rules, question, classes) if p[1] not in said),
    ]
    prices, price_chunks = _price_list(profile)
    text = str(rules["texts"]["objection"]).format(
        title=profile.title, facts="；".join(t for _, t in points), prices=prices
    )
    chunks = list(dict.fromkeys([*(c for c, _ in points), *price_chunks]))
    return Suggestion(
        kind="objection",
        source=profile.source,
        title=profile.title,
        text=text,
        facts=[t for _, t in points],
        citations=[cite(c, 1.0) for c in chunks],
        reasons=["a price objection: the product's own selling points, no discount offered"],
    )
