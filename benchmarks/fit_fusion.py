"""Fit the hybrid retriever's rank-fusion weights on the AFQMC FAQ-matching set, by
cross-validation, and report a held-back split.

    python benchmarks/fit_fusion.py ../shared/evaldata/retrieval/afqmc_faq \
        --embed-model /work/shared/models/w2v-zh-synonyms-100d

The queries are split once by a hash of their id: a third is held back (never seen while
fitting), the rest is the dev part. On the dev part, every weighting of the grid is scored by
5-fold cross-validation (the weighting chosen on four folds is scored on the fifth); the grid
point with the best mean dev MRR@10 is then scored on the held-back third. The retrievers'
evidence is gathered once per query (deep lists), so each grid point is only arithmetic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kefu_copilot.embed._embedder import load_embedder
from kefu_copilot.evals._suite import read_retrieval_set, retrieval_hits
from kefu_copilot.retrieval._hybrid import Weights

RETRIEVERS = ("bm25", "faq", "dense")


def _held_back(qid: str) -> bool:
    return int(hashlib.blake2b(qid.encode(), digest_size=4).hexdigest(), 16) % 3 == 0


def _fold(qid: str, folds: int) -> int:
    return int(hashlib.blake2b(b"fold" + qid.encode(), digest_size=4).hexdigest(), 16) % folds


def _mrr(scores: np.ndarray, relevant: np.ndarray, k: int = 10) -> float:
    """MRR@k of one query: ``scores`` per candidate, ``relevant`` a mask."""
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    hit = np.nonzero(relevant[order])[0]
    return 1.0 / (hit[0] + 1) if len(hit) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--embed-model", default=None)
    parser.add_argument("--json", default=None, help="write the fit and figures here")
    args = parser.parse_args()
    corpus, queries, qrels = read_retrieval_set(args.dataset)
    queries = [q for q in queries if any(v > 0 for v in qrels.get(str(q["id"]), {}).values())]
    embedder = load_embedder(args.embed_model) if args.embed_model else None
    deep = Weights(depth=100)
    hits = retrieval_hits(corpus, queries, embedder=embedder, k=400, weights=deep)
    # Per query: rank matrix (candidates x retrievers, 0 = not found) and the relevance mask.
    data = {}
    for q in queries:
        qid = str(q["id"])
        relevant = {d for d, v in qrels[qid].items() if v > 0}
        found = hits[qid]
        ranks = np.array([[h.ranks.get(r, 0) for r in RETRIEVERS] for h in found], dtype=float)
        raw = np.array([[h.bm25, h.faq, h.dense] for h in found], dtype=float)
        mask = np.array([h.chunk.meta["doc_id"] in relevant for h in found])
        data[qid] = (ranks, raw, mask)

    def fused(qid: str, w: tuple[float, float, float], c: float) -> np.ndarray:
        ranks, _, _ = data[qid]
        weights = np.array(w)
        contrib = np.where(ranks > 0, weights / (c + ranks), 0.0)
        return contrib.sum(axis=1)

    def score(ids: list[str], w: tuple[float, float, float], c: float) -> float:
        return float(np.mean([_mrr(fused(q, w, c), data[q][2]) for q in ids])) if ids else 0.0

    # On a set like this the FAQ index and BM25 hold the same texts (each document is one FAQ
    # question): their ranks coincide and only their sum is identifiable. They keep one weight
    # (1, fixing the scale); the dense weight and the rank constant are fitted.
    grid = [
        ((1.0, 1.0, d), c)
        for d in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
        for c in (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)
    ]

    def current(qid: str) -> float:
        _, raw, mask = data[qid]
        top = raw.max(axis=0)
        top[top == 0] = 1.0
        scaled = raw / np.where(np.arange(3) < 2, top, 1.0)
        return _mrr(scaled @ np.array([1.0, 0.5, 0.8]), mask)

    ids = list(data)
    held = [q for q in ids if _held_back(q)]
    dev = [q for q in ids if not _held_back(q)]
    folds = 5
    cv = []
    for f in range(folds):
        train = [q for q in dev if _fold(q, folds) != f]
        test = [q for q in dev if _fold(q, folds) == f]
        best = max(grid, key=lambda g: score(train, *g))
        cv.append((best, score(test, *best)))
    chosen = max(grid, key=lambda g: score(dev, *g))
    plain = ((1.0, 1.0, 1.0), 60.0)
    report = {
        "queries": len(ids),
        "dev": len(dev),
        "held_back": len(held),
        "chosen": {"weights": dict(zip(RETRIEVERS, chosen[0], strict=True)), "k": chosen[1]},
        "cv_folds": [{"weights": list(g[0]), "k": g[1], "mrr@10": round(m, 4)} for g, m in cv],
        "dev_cv_mrr@10": round(float(np.mean([m for _, m in cv])), 4),
        "dev_mrr@10": round(score(dev, *chosen), 4),
        "held_back_mrr@10": round(score(held, *chosen), 4),
        "all_mrr@10": round(score(ids, *chosen), 4),
        "score_sum_before": {
            "dev_mrr@10": round(float(np.mean([current(q) for q in dev])), 4),
            "held_back_mrr@10": round(float(np.mean([current(q) for q in held])), 4),
            "all_mrr@10": round(float(np.mean([current(q) for q in ids])), 4),
        },
        "plain_rrf": {
            "dev_mrr@10": round(score(dev, *plain), 4),
            "held_back_mrr@10": round(score(held, *plain), 4),
            "all_mrr@10": round(score(ids, *plain), 4),
        },
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
