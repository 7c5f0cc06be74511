"""BM25 over pre-tokenised documents (bm25s), persisted with the index generation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["LexicalIndex"]


class LexicalIndex:
    """BM25 (Lucene variant) over token lists. Scores are computed for the whole corpus with
    sparse matrix arithmetic, so a query costs ~1 ms at 100k documents."""

    def __init__(self, model: object | None, size: int) -> None:
        self._model = model
        self._size = size
        vocab = getattr(model, "vocab_dict", None) or {}
        self._vocab: frozenset[str] = frozenset(vocab)

    @classmethod
    def build(cls, documents: list[list[str]], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        if not documents:
            return cls(None, 0)
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25(k1=k1, b=b)
        model.index(documents, show_progress=False)
        return cls(model, len(documents))

    @classmethod
    def build_ids(
        cls,
        documents: Sequence[Sequence[int]],
        vocab: dict[str, int],
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> LexicalIndex:
        """Build over documents already mapped to ``vocab`` ids (one vocabulary can serve
        several indexes and the stored analysis)."""
        if not documents:
            return cls(None, 0)
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25(k1=k1, b=b)
        model.index((documents, dict(vocab)), show_progress=False)
        return cls(model, len(documents))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(directory), show_progress=False)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        if size == 0:
            return cls(None, 0)
        if not (directory / "params.index.json").is_file():
            # The generation was removed while we were loading it: the caller retries.
            raise FileNotFoundError(directory / "params.index.json")
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        return cls(model, size)

    def __len__(self) -> int:
        return self._size

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document (zeros when no token is known)."""
        known = list(dict.fromkeys(t for t in tokens if t in self._vocab))
        if self._model is None or not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]

    def top(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best documents with a positive score, best first."""
        scores = self.scores(tokens)
        if not len(scores):
            return []
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
