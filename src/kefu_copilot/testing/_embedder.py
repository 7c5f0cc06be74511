"""A deterministic, dependency-free embedder for tests.

:class:`FakeEmbedder` satisfies the ``Embedder`` protocol (``name``, ``dim``,
``embed_documents``, ``embed_query``) by the *hashing trick*: every character unigram and
bigram of the NFKC-normalised, lower-cased text is hashed with BLAKE2b (stable across
processes, unlike Python's salted ``hash()``) into one of ``dim`` buckets with a ±1 sign.
Texts sharing many characters therefore get similar vectors, which is enough for tests of
retrieval plumbing, caching and persistence.

It is **for tests only**: it knows nothing about meaning (``退货`` and ``退款`` are only as
close as their shared character ``退`` makes them). Never use it to judge retrieval quality.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import unicodedata

import numpy as np

__all__ = ["FakeEmbedder"]


class FakeEmbedder:
    """Hashing-trick embedder over character unigrams and bigrams (deterministic, offline).

    Args:
        dim: Vector dimension (number of hash buckets); at least 2.
        bigram_weight: Weight of bigram features relative to unigrams (1.0).

    Rows are float32 and L2-normalised; an empty (or whitespace-only) text maps to the zero
    vector. ``calls`` counts ``embed_documents``/``embed_query`` invocations and ``texts_embedded``
    the number of texts seen, so tests can assert on caching behaviour.
    """

    def __init__(self, dim: int = 64, *, bigram_weight: float = 1.0) -> None:
        if dim < 2:
            raise ValueError(f"dim must be >= 2, got {dim}")
        self._dim = dim
        self._bigram_weight = float(bigram_weight)
        self._buckets: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.texts_embedded = 0

    @property
    def name(self) -> str:
        """Model identifier, e.g. ``"fake-hash-64"``."""
        return f"fake-hash-{self._dim}"

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    def _bucket(self, feature: str) -> tuple[int, float]:
        cached = self._buckets.get(feature)
        if cached is None:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "big")
            cached = (value % self._dim, 1.0 if (value >> 63) & 1 else -1.0)
            self._buckets[feature] = cached
        return cached

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        chars = [c for c in unicodedata.normalize("NFKC", text).lower() if not c.isspace()]
        for ch in chars:
            index, sign = self._bucket("u:" + ch)
            vec[index] += sign
        for a, b in itertools.pairwise(chars):
            index, sign = self._bucket("b:" + a + b)
            vec[index] += sign * self._bigram_weight
        norm = float(np.linalg.norm(vec))
        if norm > 0.0:
            vec /= norm
        return vec

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into a float32 ``(len(texts), dim)`` array of L2-normalised rows."""
        with self._lock:
            self.calls += 1
            self.texts_embedded += len(texts)
            if not texts:
                return np.zeros((0, self._dim), dtype=np.float32)
            return np.stack([self._vector(t) for t in texts]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query into a float32 ``(dim,)`` L2-normalised vector."""
        with self._lock:
            self.calls += 1
            self.texts_embedded += 1
            return self._vector(text)

    def __repr__(self) -> str:
        return f"FakeEmbedder(dim={self._dim})"
