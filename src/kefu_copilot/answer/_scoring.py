"""How much a piece of knowledge supports a question: the weights, and idf-weighted coverage.

Every weight and threshold of extractive answering is a field of :class:`Scoring`, named and
documented in one place, instead of a bare number in the middle of the answering code. The
pairs that blend two measures (``word``/``bigram``, ``faq_forward``/``faq_backward``,
``dense_keep``/``dense``) each sum to one; both halves are stored as written, so the arithmetic
stays exactly what it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..index._coverage import Idf
from ..text._normalize import normalize

__all__ = ["SCORING", "Scoring", "Terms", "numbers_in", "numeric_fit"]

_SOFT_SUFFIXES = frozenset("色款码号的子儿件双条型版")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RANGE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[-~～—至到]\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class Scoring:
    """The constants of extractive answering (the decision thresholds are in ``Settings``)."""

    # -- reading the question ------------------------------------------------------------------
    history_turns: int = 6
    """Earlier messages searched for the product when the question names none."""
    product_pages: int = 2
    """Up to this many products identified: every part of their pages becomes a candidate."""
    retrieve_per_top_k: int = 3
    """Chunks retrieved per ``Settings.top_k`` answer slot ..."""
    retrieve_min: int = 20
    """... and at least this many."""

    # -- coverage of the question by a text ----------------------------------------------------
    soft_suffix: float = 0.8
    """Credit for a word found only without its soft suffix ("藏青色" → "藏青")."""
    word: float = 0.75
    """Share of word coverage in support ..."""
    bigram: float = 0.25
    """... and of character-bigram coverage (word coverage again when there are no bigrams)."""
    faq_forward: float = 0.7
    """FAQ support: how much of the question the FAQ phrasing covers ..."""
    faq_backward: float = 0.3
    """... and how much of the phrasing the question covers."""
    aspect_floor: float = 0.15
    """Support of a chunk of the asked-about product page before any aspect matches ..."""
    aspect_scale: float = 0.85
    """... plus this times the coverage of what is asked about the product."""

    # -- adjustments ---------------------------------------------------------------------------
    table_numbers: float = 0.35
    """Bonus to a table row whose ranges hold a number of the question (a size chart row)."""
    exception: float = 0.85
    """Factor for an exception clause (an FAQ or section about what a general rule sets aside)
    when the question does not name its qualifier and a general clause covers it as well."""
    no_product: float = 0.8
    """Factor for a product detail when it is not known which product is asked about."""
    dense_keep: float = 0.85
    """With dense retrieval, support keeps this share ..."""
    dense: float = 0.15
    """... and takes this share of the dense cosine."""
    number_in_range: float = 1.0
    """Numeric fit of a text with a range holding a number of the question ..."""
    number_equal: float = 0.5
    """... and of a text stating one of the question's numbers."""

    # -- quoting and citing --------------------------------------------------------------------
    quoted: int = 8
    """Candidates whose best sentences are extracted (answer, citations, LLM knowledge)."""
    sentence_numbers: float = 0.2
    """Weight of numeric fit when choosing the sentences to quote."""
    sentence_keep: float = 0.75
    """Sentences scoring at least this share of the best one are quoted with it ..."""
    sentences: int = 3
    """... up to this many."""
    tie: float = 0.01
    """Two parts of one source whose support differs by less than this fit the question as
    well as each other: which one is meant is a guess (an answer quoting one is a draft)."""
    cite_share: float = 0.9
    """Another source is cited too when its support is at least this share of the best ..."""
    citations: int = 3
    """... up to this many citations in all."""


SCORING = Scoring()


class Terms:
    """Words of a question as (idf weight, token id, id of the word without a soft suffix):
    ready to measure how much of them a text's token ids cover."""

    __slots__ = ("credit", "items", "total")

    def __init__(
        self, words: Iterable[str], idf: Idf, *, soft: bool = True, credit: float = 0.8
    ) -> None:
        items = []
        for word in dict.fromkeys(words):
            stem = None
            if soft and len(word) >= 3 and word[-1] in _SOFT_SUFFIXES:
                stem = idf.id(word[:-1])
            items.append((idf(word), idf.id(word), stem))
        self.items = items
        self.total = sum(weight for weight, _, _ in items)
        self.credit = credit

    def cover(self, tokens: frozenset[int]) -> float:
        """idf-weighted share found in ``tokens``; "藏青色" counts mostly for "藏青"."""
        if not self.total:
            return 0.0
        found = 0.0
        for weight, token, stem in self.items:
            if token is not None and token in tokens:
                found += weight
            elif stem is not None and stem in tokens:
                found += self.credit * weight
        return found / self.total


def numbers_in(normalized: str) -> tuple[float, ...]:
    """The numbers of a normalised text."""
    return tuple(float(x) for x in _NUMBER.findall(normalized))


def numeric_fit(numbers: Sequence[float], text: str, scoring: Scoring = SCORING) -> float:
    """How well ``text`` fits the question's numbers: :attr:`Scoring.number_in_range` when one
    falls inside a range in ``text``, :attr:`Scoring.number_equal` when one equals a number."""
    if not numbers:
        return 0.0
    norm = normalize(text)
    for low, high in _RANGE.findall(norm):
        lo, hi = float(low), float(high)
        if any(lo <= n <= hi for n in numbers):
            return scoring.number_in_range
    values = {float(x) for x in _NUMBER.findall(norm)}
    return scoring.number_equal if any(n in values for n in numbers) else 0.0
