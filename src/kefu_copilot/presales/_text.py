"""A shopper's own phrase matched to each product's own text, with no lexicon: by the character
pairs (bigrams) the phrase and the page share, each pair weighed by how few products of the
catalogue state it (BM25's idf over product pages). 水光感 is half-stated by a page saying 水光;
a pair every product states (修护 in a repair line) tells none apart and weighs next to nothing.

This is what carries a need to a catalogue no lexicon was written for: the lexicons of
``data/presales.yaml`` map everyday words to product words a shop's vertical uses, and a need in
words they lack ("能看到里面", "备孕") is still looked for on every page. A phrase is stated where
a clause of the page holds the most of its pairs; when that clause has a ``negations`` word
("备孕期不建议使用", "不含香精"), the page denies it rather than states it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ..text._overlap import ASCII_RUN, bigrams, shared_characters
from ._profiles import Profile

__all__ = ["ASCII_RUN", "SENTENCE", "Described", "bigrams", "describe", "shared_characters"]

_CLAUSE = re.compile(r"[。；;！!？?\n，,（）()|｜/]")
#: the sentences of a page's prose part (a fact or a clause is quoted whole, never across them)
SENTENCE = re.compile(r"[。；;！!？?\n]+")


@dataclass(frozen=True)
class Described:
    """How much of a phrase a page states: ``share`` (0–1, pairs weighed by idf), and the clause
    stating the most of it, positive or denied."""

    phrase: str
    share: float
    clause: tuple[int, str] | None
    denied: bool


def page_frequency(pair: str, pages: Sequence[list[tuple[int, str]]]) -> int:
    """How many of ``pages`` (each its normalised texts) hold ``pair``."""
    return sum(any(pair in t for _, t in page) for page in pages)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def describe(
    phrases: Sequence[str],
    profiles: Sequence[Profile],
    negations: Sequence[str],
    among: Collection[str] | None = None,
    frequency: Callable[[str], int] | None = None,
) -> dict[str, list[Described]]:
    """Each product's (by source) share of each phrase, in the order of ``phrases``: of the
    products ``among`` (sources) only when given — a pair's weight is still read on every
    page of ``profiles``, or asked of ``frequency`` (how many pages of ``profiles`` hold a
    pair: :meth:`~._match.KindIndex.page_frequency` remembers it)."""
    pages = [p.normalized_texts for p in profiles]
    read = [
        (profile, page)
        for profile, page in zip(profiles, pages, strict=True)
        if among is None or profile.source in among
    ]
    out: dict[str, list[Described]] = {p.source: [] for p, _ in read}
    for phrase in phrases:
        pairs = bigrams(phrase)
        if not pairs:
            continue
        count = frequency or (lambda pair: page_frequency(pair, pages))
        weights = {pair: _idf(count(pair), len(pages)) for pair in pairs}
        total = sum(weights.values()) or 1.0
        for profile, page in read:
            stated = [pair for pair in pairs if any(pair in t for _, t in page)]
            share = sum(weights[p] for p in stated) / total
            best: tuple[int, int, str] | None = None
            # the title counts, but is no clause to quote; a page stating no pair has none
            for index, text in page[1:] if stated else ():
                for clause in _CLAUSE.split(text):
                    hits = sum(pair in clause for pair in stated)
                    if hits and (best is None or hits > best[0]):
                        best = (hits, index, clause.strip())
            denied = False
            if best is not None:
                clause = best[2]
                # "不含视黄醇" and "备孕期不建议使用": the clause negates what it says of the
                # phrase, before it or after it (the pairs are not a word of the page's own)
                denied = any(n in clause for n in negations)
            out[profile.source].append(
                Described(phrase, share, (best[1], best[2]) if best else None, denied)
            )
    return out
