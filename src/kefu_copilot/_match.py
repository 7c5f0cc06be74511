"""Term statistics for confidence: idf-weighted coverage of a question by a text."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ._lexical import LexicalIndex

__all__ = ["Idf"]


class Idf:
    """Inverse document frequencies read off a BM25 index; unknown terms get the maximum."""

    def __init__(self, lexical: LexicalIndex) -> None:
        model = getattr(lexical, "_model", None)
        n = len(lexical)
        self._idf: dict[str, float] = {}
        self.max = math.log(1 + (n + 0.5) / 0.5) if n else 1.0
        if model is not None:
            indptr = np.asarray(model.scores["indptr"])
            df = np.diff(indptr)
            values = np.log(1 + (n - df + 0.5) / (df + 0.5))
            for token, col in model.vocab_dict.items():
                if col < len(values):
                    self._idf[token] = float(values[col])

    def __call__(self, token: str) -> float:
        # A word the knowledge never uses (a city, a brand) weighs like a rare known word.
        return self._idf.get(token, 0.85 * self.max)

    def known(self, token: str) -> bool:
        return token in self._idf

    def coverage(self, query: Iterable[str], text: set[str]) -> float:
        """Share of the query's idf mass found in ``text`` (0..1)."""
        total = found = 0.0
        for token in set(query):
            weight = self(token)
            total += weight
            if token in text:
                found += weight
        return found / total if total else 0.0
