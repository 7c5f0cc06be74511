"""Term statistics for confidence: idf-weighted coverage of a question by a text."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable

import numpy as np

from ._bm25 import LexicalIndex

__all__ = ["Idf"]


class Idf:
    """Inverse document frequencies read off a BM25 index; unknown terms get the maximum."""

    def __init__(self, lexical: LexicalIndex) -> None:
        model = getattr(lexical, "_model", None)
        n = len(lexical)
        self.max = math.log(1 + (n + 0.5) / 0.5) if n else 1.0
        # The BM25 vocabulary (token -> column) is reused as is: no per-token dict to build
        # when a 100k-chunk index opens.
        self._vocab: dict[str, int] = {}
        self._values: list[float] = []
        if model is not None:
            df = np.diff(np.asarray(model.scores["indptr"]))
            self._values = np.log(1 + (n - df + 0.5) / (df + 0.5)).tolist()
            self._vocab = model.vocab_dict

    def __call__(self, token: str) -> float:
        col = self._vocab.get(token)
        if col is None or col >= len(self._values):
            # A word the knowledge never uses (a city, a brand) weighs like a rare known word.
            return 0.85 * self.max
        return self._values[col]

    def id(self, token: str) -> int | None:
        """The token's column in the vocabulary, or None when the knowledge never uses it."""
        col = self._vocab.get(token)
        return col if col is not None and col < len(self._values) else None

    def coverage_ids(self, query: Iterable[int], text: Collection[int]) -> float:
        """:meth:`coverage` for token ids (each id counted once)."""
        total = found = 0.0
        values = self._values
        for col in set(query):
            weight = values[col]
            total += weight
            if col in text:
                found += weight
        return found / total if total else 0.0

    def tokens(self) -> Iterable[str]:
        """Every token the knowledge uses (words, characters, bigrams)."""
        return self._vocab.keys()

    def known(self, token: str) -> bool:
        col = self._vocab.get(token)
        return col is not None and col < len(self._values)

    def coverage(self, query: Iterable[str], text: set[str]) -> float:
        """Share of the query's idf mass found in ``text`` (0..1)."""
        total = found = 0.0
        for token in set(query):
            weight = self(token)
            total += weight
            if token in text:
                found += weight
        return found / total if total else 0.0
