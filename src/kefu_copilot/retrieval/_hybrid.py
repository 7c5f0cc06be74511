"""Hybrid retrieval: BM25 over Chinese tokens + FAQ phrasing match + dense vectors.

The lists are fused by weighted reciprocal rank (RRF: each retriever adds ``weight / (k +
rank)``): a BM25 score, a phrasing score and a cosine are not on one scale, and scaling each
list by its best score made one strong lexical match drown every dense one. The weights and
``k`` are fitted by 5-fold cross-validation on the AFQMC FAQ-matching dev queries, with a third
of the queries held back (``benchmarks/fit_fusion.py``): MRR@10 dev 0.254 → 0.261, held back
0.333 → 0.343, all 300 queries 0.276 → 0.284, against the scaled score sum it replaces (plain
RRF, all weights 1 and k 60: 0.236 / 0.335). A small ``k`` keeps how much the first places
count; the dense list weighs as much as the two lexical ones together.

Chunk text and the lexical indexes are local files; the vectors may live on a Chroma server or in
a store a full disk damaged. When the vector search fails, retrieval goes on lexically and says
so (:attr:`Retriever.dense_problem`, which answers carry as a reason) instead of raising; the
store is asked again after a pause, so a dead server does not cost a failed call per question.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._models import Chunk, Query
from ..embed._embedder import Embedder
from ..index._generations import Snapshot
from ..index._vectors import VectorStore
from ..text._tokenize import Tokenizer

__all__ = ["Hit", "Retriever"]

log = logging.getLogger(__name__)
DENSE_RETRY_SECONDS = 10.0  # after a failed vector search, lexical only for this long


@dataclass
class Hit:
    """One retrieved chunk with the evidence of each retriever (raw scores; 0 = not found)."""

    chunk: Chunk
    score: float
    index: int = -1  # of the chunk in the snapshot
    bm25: float = 0.0
    faq: float = 0.0
    dense: float = 0.0
    faq_phrasing: int = -1  # which FAQ phrasing matched best (0 = the question itself)
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Weights:
    """Reciprocal-rank fusion: a chunk at ``rank`` of a retriever's list gains
    ``weight / (k + rank)``."""

    # On the fitting set BM25 and the phrasing index rank alike, so only their sum (2) is
    # fitted; it is split as before fusion by rank (phrasing half of BM25): a weak phrasing
    # match alone must not outrank the chunk BM25 puts first.
    bm25: float = 4 / 3
    faq: float = 2 / 3
    dense: float = 2.0
    k: float = 1.0
    depth: int = 50  # candidates taken from each retriever


class Retriever:
    """Stateless over one :class:`Snapshot`; safe to call from many threads."""

    def __init__(
        self,
        snapshot: Snapshot,
        tokenizer: Tokenizer,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.tokenizer = tokenizer
        dense_ok = embedder is not None and store is not None and snapshot.embedder == embedder.name
        self.embedder = embedder if dense_ok else None
        self.store = store if dense_ok else None
        self.weights = weights or Weights()
        self._faq_rows: list[int] = np.asarray(snapshot.faq_rows).tolist()
        #: Why the last vector search failed (None: it did not), e.g. a Chroma server that is
        #: down: retrieval is lexical meanwhile.
        self.dense_problem: str | None = None
        self._dense_retry_at = 0.0

    @property
    def dense(self) -> bool:
        return self.embedder is not None

    def retrieve(
        self,
        query: str | Query,
        k: int = 8,
        *,
        kinds: Collection[str] | None = None,
        tokens: list[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks (of ``kinds``) for a text, or for a :class:`Query` (its search
        text, with the tokens it was read into)."""
        snap, w = self.snapshot, self.weights
        if not snap.chunks:
            return []
        if isinstance(query, Query):
            if tokens is None and query.search_tokens is not None:
                tokens = list(query.search_tokens)
            query = query.search_text
        if tokens is None:
            tokens = self.tokenizer.tokenize(query)
        # Evidence per chunk index: [score, bm25, faq, dense, phrasing, bm25/faq/dense rank].
        # Hit objects are built for the k best only (up to 150 chunks are scored).
        found: dict[int, list[Any]] = {}
        kind_of = snap.kinds
        fresh = [0.0, 0.0, 0.0, 0.0, -1, 0, 0, 0]

        def evidence(i: int) -> list[Any]:
            e = found.get(i)
            if e is None:
                e = found[i] = fresh.copy()
            return e

        rank = 0
        lexical = snap.lexical.top(tokens, w.depth * (2 if kinds else 1))
        for i, score in lexical:
            if kinds is None or kind_of[i] in kinds:
                rank += 1
                e = found[i] = fresh.copy()  # the first list: each chunk is in it once
                e[1], e[5] = score, rank
                e[0] += w.bm25 / (w.k + rank)
                if rank >= w.depth:
                    break

        if len(snap.faq_lexical) and (kinds is None or "faq" in kinds):
            rank = 0
            phrasings = snap.faq_lexical.top(tokens, w.depth * 3)
            rows = self._faq_rows
            for row, score in phrasings:
                e = evidence(rows[row])
                if e[2]:
                    continue  # best phrasing of this FAQ already counted
                rank += 1
                e[2], e[6] = score, rank
                e[4] = _phrasing_index(rows, row)
                e[0] += w.faq / (w.k + rank)
                if rank >= w.depth:
                    break

        if self.embedder is not None and self.store is not None:
            rank = 0
            # Ask for a margin: vectors of chunks outside this generation are skipped.
            found_dense = self._dense_search(query, w.depth + 10)
            positions = snap.ids.positions([cid for cid, _ in found_dense])
            for (_, sim), at in zip(found_dense, positions, strict=True):
                if at is None or not (kinds is None or kind_of[at] in kinds):
                    continue
                rank += 1
                e = evidence(at)
                e[3], e[7] = max(sim, 0.0), rank
                e[0] += w.dense / (w.k + rank)
                if rank >= w.depth:
                    break

        ids, order = snap.ids, snap.ids.rank  # rank: the ids' order, without decoding them
        best_k = sorted(found, key=lambda i: (-found[i][0], order[i]))[:k]
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "retrieve %r: %d scored, best %s",
                query,
                len(found),
                ", ".join(f"{ids[i]}={found[i][0]:.3f}" for i in best_k[:5]),
            )
        return [_hit(snap, i, found[i]) for i in best_k]

    def _dense_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The store's nearest chunks, or none while the store or the embedder fails (any
        exception: a store is the caller's plugin); the failure is kept in ``dense_problem``."""
        assert self.embedder is not None and self.store is not None
        now = time.monotonic()
        if now < self._dense_retry_at:
            return []
        try:
            found = self.store.query(self.embedder.embed_query(query), k)
        except Exception as exc:
            first = str(exc).split(". ", 1)[0][:240]
            self.dense_problem = (
                f"lexical retrieval only: the vector search failed ({type(exc).__name__}: "
                f"{first}); `kefu doctor` checks the index"
            )
            self._dense_retry_at = now + DENSE_RETRY_SECONDS
            log.warning("kefu-copilot: %s", self.dense_problem)
            return []
        self.dense_problem = None
        return found


def _hit(snap: Snapshot, i: int, e: list[Any]) -> Hit:
    ranks: dict[str, int] = {}
    if e[5]:
        ranks["bm25"] = e[5]
    if e[6]:
        ranks["faq"] = e[6]
    if e[7]:
        ranks["dense"] = e[7]
    return Hit(
        chunk=snap.chunks[i],
        score=e[0],
        index=i,
        bm25=e[1],
        faq=e[2],
        dense=e[3],
        faq_phrasing=e[4],
        ranks=ranks,
    )


def _phrasing_index(rows: Sequence[int], row: int) -> int:
    """Position of FAQ phrasing ``row`` among its chunk's phrasings (0 = the question)."""
    chunk_index = rows[row]
    first = row
    while first > 0 and rows[first - 1] == chunk_index:
        first -= 1
    return row - first
