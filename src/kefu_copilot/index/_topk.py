"""Exact top-k of BM25 scores without partitioning a corpus-long array.

Summing a question's postings into a score per document is cheap in numpy (~1 ms for the
~500k postings of a question at 300k chunks); choosing the k best of 300k scores with
``argpartition`` was not (~3 ms: most documents tie at 0, and ties slow its selection). A lower
bound of the k-th best score makes the choice a comparison: the k-th best score among *any*
documents is at most the k-th best among all, so every document of the true top k — and every
document tied with its last — scores at least the k-th best of a few documents likely to rank
high (those of the question's rarest tokens). Comparing all scores with that bound leaves a
short list, ranked exactly.

The scores are bm25s's (the same float32 sums, in the same token order); the order is by score,
then document number.
"""

from __future__ import annotations

import numpy as np

__all__ = ["exact_top", "rank_top"]

#: Most postings gathered (and deduplicated) for the lower bound of the k-th best score.
SEED_POSTINGS = 8192


def exact_top(
    columns: list[tuple[int, int]],
    data: np.ndarray,
    indices: np.ndarray,
    n_docs: int,
    k: int,
) -> list[tuple[int, float]]:
    """The ``k`` best documents of the query whose tokens' postings are ``columns``
    (``(start, end)`` into ``indices``/``data``, in query order), by score then document."""
    scores = np.zeros(n_docs, dtype=np.float32)
    for start, end in columns:  # as bm25s sums them: same floats
        if end > start:
            np.add.at(scores, indices[start:end], data[start:end])
    seed = _seed(columns, indices, k)
    if seed is None:  # fewer than k documents have any of the tokens
        docs = np.flatnonzero(scores > 0)
    else:
        found = scores[seed]
        floor = np.partition(found, len(found) - k)[len(found) - k]
        docs = np.flatnonzero(scores >= floor)
    return rank_top(docs, scores[docs], k)


def _seed(columns: list[tuple[int, int]], indices: np.ndarray, k: int) -> np.ndarray | None:
    """At least ``k`` distinct documents that have a token of the query, preferably of its
    rarest tokens (high idf: likely to rank high); None when fewer than k documents have any."""
    by_length = sorted((end - start, start, end) for start, end in columns if end > start)
    parts: list[np.ndarray] = []
    gathered = 0
    for length, start, end in by_length:
        if gathered + length > SEED_POSTINGS:
            break
        parts.append(indices[start:end])
        gathered += length
        if gathered >= k:
            docs = _distinct(np.concatenate(parts)) if len(parts) > 1 else parts[0]
            if len(docs) >= k:
                return docs
    else:
        return None  # every posting gathered: fewer than k distinct documents
    # the rarest column with k postings (its documents are distinct)
    for length, start, end in by_length:
        if length >= k:
            return indices[start:end]
    return None  # (many duplicates among few postings): the caller compares with 0


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, sorted: numpy 2's hash-based ``unique`` took ~2.5 ms for the few
    thousand postings of a seed (a sort and a comparison: ~20 µs)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def rank_top(docs: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best positive ``scores`` (of ``docs``, ascending), by score then document."""
    keep = scores > 0
    docs, scores = docs[keep], scores[keep]
    if len(docs) > 4 * k:  # keep everything tied with the k-th, then sort the few
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:k]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))
