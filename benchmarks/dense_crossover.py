"""Exact search vs HNSW (Chroma): query latency and HNSW recall of the exact top-k, by size.

Times the two stores directly on synthetic unit vectors of the embedding model's dimension (an
ingest of 300k chunks is too slow to repeat for this): clustered points (a centre per ~100
vectors, plus noise), queries drawn near stored points — closer to real chunk embeddings than
uniform noise, on which HNSW does worst. Prints a table and writes JSON; the crossover size is
where HNSW's p50 drops below the exact store's. This is what ``EXACT_SEARCH_MAX`` in
``kefu_copilot/index/_vectors.py`` was set from (benchmarks/README.md, "Dense search").

    python benchmarks/dense_crossover.py --sizes 10000,50000,100000,300000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from kefu_copilot.index._exact import ExactStore  # noqa: E402
from kefu_copilot.index._vectors import HNSW_PARAMS, ChromaStore  # noqa: E402


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def corpus(n: int, dim: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(max(10, n // 100), dim)))
    which = rng.integers(0, len(centres), size=n)
    data = _unit(centres[which] + 0.6 * rng.normal(size=(n, dim)) / np.sqrt(dim) * 3)
    near = data[rng.integers(0, n, size=queries)]
    return data, _unit(near + 0.5 * rng.normal(size=near.shape) / np.sqrt(dim) * 3)


def timed(
    fn, qs: np.ndarray, k: int
) -> tuple[list[list[tuple[str, float]]], list[float], list[float]]:
    """Top-k ids per query, wall and CPU milliseconds per query. On a shared machine the wall
    time of anything past ~1 ms includes waiting for a core (tens of ms when preempted); the
    process CPU time (all its threads: Chroma searches in Rust threads) does not."""
    fn(qs[0], k)  # warm: first-use costs (mapping pages, opening the collection) are not search
    found, wall, cpu = [], [], []
    for q in qs:
        t, c = time.perf_counter(), time.process_time()
        hits = fn(q, k)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
        found.append(hits)
    return found, wall, cpu


def recall(got: list[tuple[str, float]], truth: list[tuple[str, float]]) -> float:
    """Share of the exact top-k found, ties counted: a returned vector as similar as the exact
    k-th (within float32 rounding) is as good as it — shops repeat texts (the same FAQ answer,
    the same care note), so their vectors tie, and which of them is "the" k-th is arbitrary."""
    if not truth:
        return 1.0
    ids = {cid for cid, _ in truth}
    kth = truth[-1][1] - 1e-5
    return min(1.0, sum(cid in ids or sim >= kth for cid, sim in got) / len(truth))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def exact_search(
    ids: list[str], data: np.ndarray, qs: np.ndarray, k: int, tmp: Path
) -> tuple[dict[str, float], list[list[tuple[str, float]]]]:
    """Build an ExactStore of ``data`` under ``tmp``; its timings and top-k ids per query."""
    exact = ExactStore(tmp / "exact")
    t = time.perf_counter()
    for start in range(0, len(ids), 20_000):
        exact.add(ids[start : start + 20_000], data[start : start + 20_000])
    build = time.perf_counter() - t
    truth, ms, cpu = timed(exact.query, qs, k)
    return {
        "build_s": build,
        "p50_ms": statistics.median(ms),
        "p99_ms": pct(ms, 99),
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p99_ms": pct(cpu, 99),
    }, truth


def hnsw_search(
    ids: list[str],
    data: np.ndarray,
    qs: np.ndarray,
    truth: list[list[tuple[str, float]]],
    params: dict[str, int],
    efs: list[int],
    tmp: Path,
) -> dict[str, Any]:
    """Build a Chroma HNSW collection of ``data`` with ``params``; per ef_search: query
    latency and recall of the exact top-k (``truth``)."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(path=str(tmp / "chroma"), settings=settings)
    hnsw = {"space": "cosine", **params, "ef_search": efs[0]}
    collection = client.create_collection(
        "bench", configuration={"hnsw": hnsw}, embedding_function=None
    )
    store = ChromaStore(collection)
    t = time.perf_counter()
    store.add(ids, data)
    out: dict[str, Any] = {"params": params, "build_s": time.perf_counter() - t, "by_ef": []}
    k = len(truth[0]) if truth else 0
    for ef in efs:
        if ef != efs[0]:  # a changed ef_search is read when the collection is next opened
            collection.modify(configuration={"hnsw": {"ef_search": ef}})
            SharedSystemClient.clear_system_cache()  # every open system: reopen from disk
            client = chromadb.PersistentClient(path=str(tmp / "chroma"), settings=settings)
            collection = client.get_collection("bench")
            store = ChromaStore(collection)
        got, ms, cpu = timed(store.query, qs, k)
        found = statistics.mean(recall(g, t) for g, t in zip(got, truth, strict=True))
        out["by_ef"].append(
            {
                "ef_search": ef,
                "p50_ms": statistics.median(ms),
                "p99_ms": pct(ms, 99),
                "cpu_p50_ms": statistics.median(cpu),
                "cpu_p99_ms": pct(cpu, 99),
                "recall": found,
            }
        )
    del collection, store, client
    SharedSystemClient.clear_system_cache()
    return out


def run(n: int, dim: int, k: int, n_queries: int, efs: list[int], params: dict) -> dict:
    data, qs = corpus(n, dim, n_queries)
    ids = [f"c{i}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        exact, truth = exact_search(ids, data, qs, k, Path(tmp))
        hnsw: dict[str, Any] = {"build_s": 0.0, "by_ef": []}
        if efs:
            hnsw = hnsw_search(ids, data, qs, truth, params, efs, Path(tmp))
    return {"size": n, "dim": dim, "k": k, "queries": n_queries, "exact": exact, "hnsw": hnsw}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,50000,100000,300000")
    p.add_argument("--dim", type=int, default=100, help="the embedding model's dimension")
    p.add_argument("-k", type=int, default=60, help="top-k (retrieval asks depth + 10 = 60)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--ef-search", default="100,200,400", help="HNSW ef_search values to try")
    p.add_argument("--max-neighbors", type=int, default=HNSW_PARAMS["max_neighbors"])
    p.add_argument("--ef-construction", type=int, default=HNSW_PARAMS["ef_construction"])
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    params = {"max_neighbors": args.max_neighbors, "ef_construction": args.ef_construction}
    efs = [int(x) for x in args.ef_search.split(",") if x]  # "": exact search only
    rows = []
    print(f"HNSW max_neighbors={args.max_neighbors} ef_construction={args.ef_construction}")
    print("per query, ms: CPU p50 / wall p50 / wall p99 (wall includes waiting for a core)")
    print(f"{'size':>8} {'exact':>22}  " + "  ".join(f"{'ef' + str(ef):>22} recall" for ef in efs))
    for n in (int(x) for x in args.sizes.split(",")):
        row = run(n, args.dim, args.k, args.queries, efs, params)
        rows.append(row)
        ex, hn = row["exact"], row["hnsw"]

        def cell(m: dict[str, float]) -> str:
            return f"{m['cpu_p50_ms']:6.2f} /{m['p50_ms']:6.2f} /{m['p99_ms']:6.1f}"

        cells = "  ".join(f"{cell(h)} {h['recall']:.3f}" for h in hn["by_ef"])
        print(
            f"{n:>8} {cell(ex):>22}  {cells}"
            f"   (build: exact {ex['build_s']:.1f}s, hnsw {hn['build_s']:.1f}s)",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"params": params, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
