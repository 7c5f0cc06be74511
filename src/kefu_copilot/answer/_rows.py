"""Which row of a product's table a typed answer reads when the question's words name none of
them alone: a fitted row ranker.

The typed catalogue (:mod:`._attributes`) reads a table cell when the question names its row
by a piece of a cell no other row has (杏色 of 杏色碎花). When it names none that way — "黑色"
for the row 曜石黑, "6mm" beside the rows 6mm and 6mm 定制刻字款, "1.5的床" for 1.5m床, "10斤大果"
across two columns, "那2倍褶的呢" naming it in the turn before — it listed every row's value,
the wrong ones with the right one. Here each candidate row is described by general features
of what the question (and, apart, the customer's previous turn) says of the row's other cells
(the cells not holding the attribute asked): the longest piece of a cell it says and whether
no other row has it (and whether it names several rows so), the characters and character pairs it shares with them against the
best row's, how much of the row's words it says, the numbers and quantities (6mm, 1米5 read
as 1.5m, 40/50 said bare) it shares with them or says inside a row's range,. No feature
speaks of the row's place: a question that says nothing of any row gives every row the same
score, and every row is listed. A conditional logit scores them, fitted on the dev shops' answer, pre-sales and reply
suites (a row is right when its value holds a ``contains`` string and no ``not_contains``
one); its weights and the probability the top row must reach to be read alone ship as
``data/row_model.json``, refitted by ``scripts/train_row_model.py`` (leave-one-shop-out
estimate printed). Below that probability every row is listed, as before. A row read by the
model is never sent as is: the answer is a draft an agent checks."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ..text._normalize import normalize
from ..text._numbers import measures, numbers_in
from ..text._overlap import AskedWords
from ..text._ranker import LineRanker, ranker_file
from ._cells import _in_range, said_of

__all__ = ["RowChoice", "row_features", "row_model"]

MODEL_FILE = "row_model.json"


@dataclass(frozen=True)
class RowChoice:
    """A fitted row ranker and the probability its top row must reach to be read alone."""

    ranker: LineRanker
    threshold: float

    def probabilities(self, features: Sequence[dict[str, float]]) -> list[float]:
        scores = self.ranker.scores(features)
        top = max(scores, default=0.0)
        e = [math.exp(s - top) for s in scores]
        total = sum(e) or 1.0
        return [v / total for v in e]

    def choose(self, features: Sequence[dict[str, float]]) -> tuple[int, float] | None:
        """The row read alone and its probability, or None when no row is likely enough."""
        if len(features) < 2:
            return None
        p = self.probabilities(features)
        best = max(range(len(p)), key=lambda i: (p[i], -i))
        return (best, p[best]) if p[best] >= self.threshold else None


def _said(norm: str, parts: Sequence[str]) -> tuple[int, set[str]]:
    """The length of the longest piece of ``parts`` that ``norm`` says, and the pieces said."""
    pieces = {hit[0] for part in parts if (hit := said_of(norm, part)) is not None}
    return max((len(p) for p in pieces), default=0), pieces


_BRACKET = re.compile(r"[（(].*?[)）]")
_NAME_WORD = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+(?:\.[0-9]+)?")


def _name_words(cells: Sequence[str], title: str) -> tuple[str, ...]:
    """The words of a row's name (its first cell, without its bracketed note): its Chinese
    characters and its ASCII runs (6mm, pro), those the product's title holds left out."""
    name = _BRACKET.sub("", normalize(cells[0])) if cells else ""
    return tuple(dict.fromkeys(w for w in _NAME_WORD.findall(name) if w not in title))


def _says(norm: str, word: str) -> bool:
    """Whether ``norm`` says a word of a row's name: a Chinese character anywhere, an ASCII run
    as a run of its own (the 6mm of "6mm多少钱", not of "16mm")."""
    if not word.isascii():
        return word in norm
    return re.search(rf"(?<![a-z0-9.]){re.escape(word)}(?![a-z0-9])", norm) is not None


def _quantities(text: str) -> set[tuple[str, float, float]]:
    return {(m.dim, round(m.low, 6), round(m.high, 6)) for m in measures(text)}


def _one(
    norm: str,
    title: str,
    cells: Sequence[Sequence[str]],
    parts: Sequence[Sequence[str]],
    prefix: str,
) -> list[dict[str, float]]:
    """The features of each row (its other ``cells`` and their ``parts``) as ``norm`` says
    them, named with ``prefix``."""
    words = AskedWords.of(norm, title)
    title_numbers = numbers_in(title)
    asked_numbers = numbers_in(norm) - title_numbers
    asked_quantities = _quantities(norm)
    labels = [normalize(" ".join(row)) for row in cells]
    said = [_said(norm, row_parts) for row_parts in parts]
    counts = [words.shared(label) for label in labels]
    numbers = [numbers_in(label) & asked_numbers for label in labels]
    quantities = [_quantities(label) & asked_quantities for label in labels]
    names = [_name_words(row, title) for row in cells]
    unsaid = [sum(not _says(norm, w) for w in name) for name in names]
    top_unsaid = max(unsaid, default=0) or 1
    owning = sum(
        any(p not in [q for j, (_, qs) in enumerate(said) if j != i for q in qs] for p in ps)
        for i, (_, ps) in enumerate(said)
    )  # rows the question names by a piece no other row has
    top_said = max((n for n, _ in said), default=0) or 1
    top_chars = max((c for c, _ in counts), default=0) or 1
    top_pairs = max((p for _, p in counts), default=0) or 1
    out = []
    for i, label in enumerate(labels):
        length, pieces = said[i]
        others = [p for j, (_, ps) in enumerate(said) if j != i for p in ps]
        other_numbers = set().union(*(numbers[j] for j in range(len(labels)) if j != i))
        own_cjk = {ch for ch in label if "\u4e00" <= ch <= "\u9fff" and ch not in title}
        chars, pairs = counts[i]
        chars_share, pairs_share = words.shares(chars, pairs)
        f = {
            "said": math.log1p(length),
            "said_top": length / top_said,
            "said_own": float(any(p not in others for p in pieces)),
            "said_own_many": float(any(p not in others for p in pieces) and owning > 1),
            "name_said": (
                sum(_says(norm, w) for w in names[i]) / len(names[i]) if names[i] else 0.0
            ),
            "name_unsaid": math.log1p(unsaid[i]),
            "name_unsaid_top": unsaid[i] / top_unsaid,
            "said_whole": float(any(p in parts[i] for p in pieces)),
            "chars_top": chars / top_chars,
            "pairs_top": pairs / top_pairs,
            "chars_share": chars_share,
            "pairs_share": pairs_share,
            "label_said": (sum(ch in norm for ch in own_cjk) / len(own_cjk)) if own_cjk else 0.0,
            "numbers": float(bool(numbers[i])),
            "numbers_own": float(bool(numbers[i] - other_numbers)),
            "quantity": float(bool(quantities[i])),
            "range": float(any(_in_range(norm, cell) is not None for cell in cells[i])),
        }  # fmt: skip
        out.append({f"{prefix}{k}": v for k, v in f.items()})
    return out


def row_features(
    question: str,
    previous: str,
    title: str,
    cells: Sequence[Sequence[str]],
    parts: Sequence[Sequence[str]],
) -> list[dict[str, float]]:
    """One feature mapping per candidate row (see the module's doc). ``question``: normalised,
    the attribute's own words masked; ``previous``: the customer's previous turn, normalised
    ("" when none); ``title``: the product's name (its words name no row); ``cells``: each
    row's cells but those holding the attribute; ``parts``: the pieces of those cells a
    shopper may name a row by (:func:`._attributes._all_parts`)."""
    asked = _one(question, title, cells, parts, "")
    before = _one(previous, title, cells, parts, "prev_") if previous else [{} for _ in cells]
    return [{**f, **g} for f, g in zip(asked, before, strict=True)]


@cache
def row_model() -> RowChoice | None:
    """``data/row_model.json`` of the package, or None when it is not there."""
    data = ranker_file(MODEL_FILE)
    if data is None:
        return None
    return RowChoice(LineRanker.of(data), float(data["threshold"]))
