"""Which lines of a shown product's page a pre-sales reply quotes: a fitted line ranker.

Each candidate line of a page (a fact of the typed catalogue, a sentence of its prose) is
described by a few general features of the line and of the shopper's words — the characters and
character pairs they share, whether the attribute the shopper asks about is the line's, the
numbers and kinds of quantity in both, the need's classes (budget, household, who it is for,
features, use, objection, comparison), the line's place on the page (lead paragraph, table row,
position) — and scored by a conditional logit fitted on the pre-sales suites of the dev shops
(each case's ``sources`` name the right pages, its ``contains`` the lines a right answer
quotes). The weights ship as ``data/quote_model.json`` and are refitted by
``scripts/train_quote_model.py`` (leave-one-shop-out estimate printed). Only the lines of the
few products shown are scored — never the catalogue.

The ranker only orders lines the page states; what is quoted is always the page's own text,
cited by its chunk."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .._data import packaged_rules
from ..text._normalize import normalize
from ..text._numbers import measures, numbers_in
from ..text._overlap import AskedWords
from ..text._ranker import LineRanker, load_ranker
from ._profiles import Profile
from ._text import SENTENCE

__all__ = ["Line", "QuoteModel", "candidate_lines", "line_features", "quote_model"]

MODEL_FILE = "quote_model.json"
PROSE_CHARS = 60  # the longest sentence of prose quoted (a paragraph is no fact to quote)
LONG_LINE = 40  # characters: a line longer is a paragraph more than a fact


@dataclass(frozen=True)
class Line:
    chunk: int
    text: str
    kind: str  # "fact" (a named fact of the typed catalogue) or "prose" (a sentence)
    name: str = ""  # the fact's name
    position: int = 0  # its order among the page's candidate lines
    lead: bool = False  # a sentence of the page's lead paragraph
    row: bool = False  # stated in a row of one of the page's tables


def candidate_lines(
    profile: Profile, skip: Sequence[str] = (), lead: Sequence[tuple[int, str]] = ()
) -> list[Line]:
    """The lines of ``profile``'s page a reply may quote: its facts (not the overview's
    bookkeeping, not ``skip``'s names), then the sentences of its prose parts (a part stating
    no fact) no longer than a price objection quotes (``PROSE_CHARS``: a paragraph of
    instructions is no fact to quote); ``lead``: the page's lead paragraph's (chunk,
    sentence)."""
    skipped = {s.lower() for s in skip}
    out: list[Line] = []
    seen: set[str] = set()
    leads = {t for _, t in lead}

    def add(chunk: int, text: str, kind: str, name: str = "") -> None:
        if not text or text in seen:
            return
        seen.add(text)
        out.append(Line(chunk, text, kind, name, len(out), text in leads, chunk in profile.rows))

    for fact in profile.facts:
        if fact.chunk == profile.overview or fact.name.lower() in skipped:
            continue
        add(fact.chunk, fact.text, "fact", fact.name)
    stated = {f.chunk for f in profile.facts} | {v.chunk for v in profile.variants}
    stated |= set(profile.rows)
    for index, text in profile.parts:
        if index == profile.overview or index in stated:
            continue
        for sentence in SENTENCE.split(text):
            sentence = sentence.strip().lstrip("#>-*• ").strip()
            if sentence and sentence != profile.title and len(sentence) <= PROSE_CHARS:
                add(index, sentence, "prose")
    return out


@cache
def _attribute_maps() -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """(cue, attribute) pairs and name → attribute of the typed catalogue's attributes."""
    rules = packaged_rules("attributes")["attributes"]
    cues = tuple(
        (normalize(str(c)), str(a)) for a, spec in rules.items() for c in spec.get("cues") or ()
    )
    names = {
        normalize(str(n)): str(a) for a, spec in rules.items() for n in spec.get("names") or ()
    }
    return cues, names


#: need classes (read by the advisor's need parser) the model crosses with line features
CLASSES = ("budget", "household", "who", "feature", "use", "objection", "compare")


def need_classes(needs: Any) -> dict[str, float]:
    """The classes of ``needs`` (a :class:`~._needs.Needs`), as 0/1."""
    kinds = set(needs.kinds())
    return {
        "budget": float(needs.budget is not None),
        "household": float(needs.household is not None),
        "who": float(bool(needs.groups or needs.age is not None or needs.recipient)),
        "feature": float(bool(needs.features)),
        "use": float(bool(needs.words or needs.phrases)),
        "objection": float("objection" in kinds),
        "compare": float("compare" in kinds),
    }


def line_features(
    question: str,
    profile: Profile,
    lines: Sequence[Line],
    classes: Mapping[str, float],
    selling: Sequence[str] = (),
    selling_dims: Sequence[str] = (),
    marked: Sequence[str] = (),
) -> list[dict[str, float]]:
    """One feature mapping per line of ``lines`` (see the module's doc). ``selling``: words
    that sell (``selling_words``), ``selling_dims``: kinds of quantity that do; ``marked``:
    lines the need's own matching chose (a deciding clause, retrieval's passage)."""
    q = normalize(question)
    title = normalize(f"{profile.title} {profile.category}")
    words = AskedWords.of(q, title, question)
    # the same, the title's own kept: a property the title states is still one the line may
    # quote ("最遮光的" of a 全遮光 curtain: 遮光率：99%)
    every = AskedWords.of(q, "", question)
    qnumbers = numbers_in(q)
    qdims = {m.dim for m in measures(q)}
    cues, names = _attribute_maps()
    asked_attrs = {a for c, a in cues if c and c in q}
    marks = {m for m in marked if m}
    count = max(len(lines), 1)
    out = []
    for line in lines:
        norm = normalize(line.text)
        chars, pairs = words.shared(norm)
        chars_share, pairs_share = words.shares(chars, pairs)
        name = normalize(line.name)
        numbers = numbers_in(norm)
        dims = {m.dim for m in measures(norm)}
        sells = any(w in norm for w in selling) or bool(dims & set(selling_dims))
        f = {
            "chars_all": math.log1p(sum(ch in norm for ch in every.chars)),
            "pairs_all": math.log1p(sum(b in norm for b in every.pairs)),
            "chars": math.log1p(chars),
            "chars_share": chars_share,
            "pairs": math.log1p(pairs),
            "pairs_share": pairs_share,
            "name_asked": float(bool(name) and len(name) >= 2 and name in q),
            "attr_asked": float(bool(asked_attrs) and names.get(name, "") in asked_attrs),
            "number": float(bool(numbers)),
            "number_shared": float(bool(numbers & qnumbers)),
            "dim_shared": float(bool(dims & qdims)),
            "sells": float(sells),
            "fact": float(line.kind == "fact"),
            "lead": float(line.lead),
            "row": float(line.row),
            "first3": float(line.position < 3),
            "position": line.position / count,
            "long": float(len(line.text) > LONG_LINE),
            "marked": float(any(m in line.text or line.text in m for m in marks)),
        }
        for c in CLASSES:
            if classes.get(c):
                f[f"{c}*number"] = f["number"]
                f[f"{c}*sells"] = f["sells"]
                f[f"{c}*fact"] = f["fact"]
                f[f"{c}*lead"] = f["lead"]
        out.append(f)
    return out


#: the pre-sales line ranker (one linear scorer for both rankers: :mod:`..text._ranker`)
QuoteModel = LineRanker


@cache
def quote_model() -> QuoteModel | None:
    """``data/quote_model.json`` of the package, or None when it is not there."""
    return load_ranker(MODEL_FILE)
