"""Which line of the retrieved knowledge an extractive answer quotes: a fitted line ranker.

Retrieval picks the best chunk; the sentences quoted used to be that chunk's best by coverage
of the question (:meth:`~._extractive.Answerer._best_sentences`). A file often states the
answer in another of its chunks (the 48小时 claim window beside the 验货 paragraph, the 配件包 row
beside the product's price) or in another sentence of the same one. The candidate lines here
are the quotable sentences of every candidate chunk of the best chunk's source among those
quoted (a table row: one line; not an FAQ's answer, which answers its own question — an FAQ
matched best is quoted as written), each described by general features — the
chunk's support against the best one's, whether the line is today's quote, its coverage score
among the group's, the characters and character pairs it shares with the question, numbers and
kinds of quantity in both, whether the question asks a quantity, whether the line is an
exception clause the question does not name, the chunk's kind, the line's place — and scored
by a conditional logit fitted on the dev shops' answer, reply and pre-sales suites (``contains``
labels the right line, ``not_contains`` the wrong). The weights ship as
``data/answer_quote_model.json`` and are refitted by ``scripts/train_answer_quote_model.py``
(leave-one-shop-out estimate printed). The answer quotes the shop's own line, cited by its
chunk; nothing is rewritten."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache

from ..text._normalize import normalize
from ..text._numbers import measures, numbers_in
from ..text._overlap import AskedWords
from ..text._ranker import LineRanker, load_ranker

__all__ = ["QuoteLine", "answer_quote_model", "asked_dimensions", "quote_line_features"]

MODEL_FILE = "answer_quote_model.json"
#: the question asks a quantity (a price, a duration, a size): a line stating a number answers it
ASKS_QUANTITY = re.compile("多少|几|多久|多长|多大|多重|多高|多宽|多厚|价格|价钱|费用|运费|多贵")
LONG_LINE = 60  # characters: a line longer is a paragraph more than a fact
KINDS = ("policy", "product", "table_row", "faq")


@dataclass(frozen=True)
class QuoteLine:
    candidate: int  # the position of its chunk among the answer's candidates
    text: str
    kind: str  # its chunk's kind
    unit: int = 0  # its order among its chunk's quotable units
    units: int = 1  # how many its chunk has
    today: bool = False  # quoted by the coverage choice (the best chunk's best sentences)
    score: float = 0.0  # its coverage score (the question's terms and numbers it covers)
    support: float = 0.0  # its chunk's support
    chunk_rank: int = 0  # its chunk's order among the group's chunks


#: the words a question asks a quantity by (几个, 多少毫升): a figure put in their place reads as
#: the quantity asked for (2个, 2毫升 — text._numbers.measures)
_ASKED_FIGURE = re.compile("几|多少")


def asked_dimensions(question: str, asks: Sequence[tuple[str, re.Pattern[str]]] = ()) -> set[str]:
    """The kinds of quantity (:class:`~..text._numbers.Measure` dimensions) ``question`` asks
    for: those a figure in place of its 几/多少 states that it does not state itself
    (几个门磁: ``count:个``, 多少毫升: ``volume``), and those of ``asks`` (the ``claims`` rule
    set's cues by dimension: 多少钱 → money, 多久 → time) whose cue it holds."""
    at = {m.start() for m in _ASKED_FIGURE.finditer(question)}
    figured = _ASKED_FIGURE.sub(lambda m: "2" * len(m.group()), question)  # spans kept
    dims = {m.dim for m in measures(figured) if any(m.span[0] <= i < m.span[1] for i in at)}
    dims |= {dim for dim, cue in asks if cue.pattern and cue.search(question)}
    return dims


def quote_line_features(
    question: str,
    title: str,
    lines: Sequence[QuoteLine],
    exception: Callable[[str], str],
    asked: Collection[str] = (),
) -> list[dict[str, float]]:
    """One feature mapping per line (see the module's doc). ``question`` is normalised;
    ``title``: the page's title (its characters say which product, not what is asked);
    ``exception``: the qualifier a line sets aside that the question does not name; ``asked``:
    the kinds of quantity the question asks for (:func:`asked_dimensions`, with those that
    answer them)."""
    words = AskedWords.of(question, normalize(title))
    qnumbers = numbers_in(question)
    qdims = {m.dim for m in measures(question)}
    quantity = bool(ASKS_QUANTITY.search(question))
    top_support = max((line.support for line in lines), default=0.0) or 1.0
    top_score = max((line.score for line in lines), default=0.0) or 1.0
    asked = set(asked)
    norms = [normalize(line.text) for line in lines]
    counts = [words.shared(norm) for norm in norms]
    top_chars = max((c for c, _ in counts), default=0) or 1
    top_pairs = max((p for _, p in counts), default=0) or 1
    out = []
    for line, norm, (chars, pairs) in zip(lines, norms, counts, strict=True):
        numbers = numbers_in(norm)
        number = float(bool(numbers))
        dims = {m.dim for m in measures(norm)}
        chars_share, pairs_share = words.shares(chars, pairs)
        f = {
            "chars_top": chars / top_chars,
            "pairs_top": pairs / top_pairs,
            "asked_dim": float(bool(dims & asked)),
            "asked_none": float(bool(asked) and not dims & asked),
            "support": line.support / top_support,
            "best_chunk": float(line.candidate == 0),
            "chunk_rank": math.log1p(line.chunk_rank),
            "today": float(line.today),
            "score": max(line.score, 0.0) / top_score,
            "top_score": float(line.score >= top_score),
            "chars": math.log1p(chars),
            "chars_share": chars_share,
            "pairs": math.log1p(pairs),
            "pairs_share": pairs_share,
            "number": number,
            "quantity*number": float(quantity) * number,
            "number_shared": float(bool(numbers & qnumbers)),
            "dim_shared": float(bool(dims & qdims)),
            "exception": float(bool(exception(line.text))),
            "first": float(line.unit == 0),
            "position": line.unit / max(line.units, 1),
            "long": float(len(line.text) > LONG_LINE),
            "short": float(len(line.text) < 8),
        }
        for kind in KINDS:
            f[kind] = float(line.kind == kind)
        out.append(f)
    return out


@cache
def answer_quote_model() -> LineRanker | None:
    """``data/answer_quote_model.json`` of the package, or None when it is not there."""
    return load_ranker(MODEL_FILE)
