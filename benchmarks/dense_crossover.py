"""Exact search vs inverted lists vs HNSW (Chroma): query latency and recall of the exact
top-k, by size.

Times the stores directly. Vectors are either synthetic unit vectors of the embedding model's
dimension (clustered points — a centre per ~100 vectors — under so much noise that they are
close to uniform: the hardest case for any index, and unlike a shop's chunks), or, with
``--index``, the real vectors of an ingested index (e.g. a ``corpus.py`` shop of 300k chunks),
a random subset of each size, queried with real questions (``--questions``: a JSON list of
texts, embedded with ``--model``). Prints a table and writes JSON. This is what
``EXACT_SEARCH_MAX`` in ``kefu_copilot/index/_vectors.py`` and the inverted lists' calibration
in ``_ivf.py`` were set from (benchmarks/README.md, "Dense search").

    python benchmarks/dense_crossover.py --sizes 10000,50000,100000,300000 --json out.json
    python benchmarks/dense_crossover.py --index IDX --questions q.json --ef-search "" \
        --sizes 30000,100000,300000
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
) -> tuple[dict[str, Any], list[list[tuple[str, float]]]]:
    """Build an ExactStore of ``data`` under ``tmp`` (batches of 2,048, as ingest adds them,
    then ``optimize()``; large segments get inverted lists); timings of a full scan and top-k ids per query, and
    under ``"ivf"`` the same store probing its lists: timings, lists and recall."""
    exact = ExactStore(tmp / "exact")
    t, c = time.perf_counter(), time.process_time()
    for start in range(0, len(ids), 2048):
        exact.add(ids[start : start + 2048], data[start : start + 2048])
    exact.optimize()  # as ingest does after adding: one segment when the tail is large
    build, build_cpu = time.perf_counter() - t, time.process_time() - c
    truth, ms, cpu = timed(exact.query, qs, k)
    probed = ExactStore(tmp / "exact", probe_above=0)
    got, ivf_ms, ivf_cpu = timed(probed.query, qs, k)
    view = probed._current()
    segments = [
        {"rows": len(s.ids), "lists": len(s.lists.centroids), "nprobe": s.lists.nprobe}
        if s.lists is not None
        else {"rows": len(s.ids)}
        for s in (view.segments if view is not None else ())
    ]
    return {
        "build_s": build,
        "build_cpu_s": build_cpu,
        "p50_ms": statistics.median(ms),
        "p99_ms": pct(ms, 99),
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p99_ms": pct(cpu, 99),
        "ivf": {
            "segments": segments,
            "p50_ms": statistics.median(ivf_ms),
            "p99_ms": pct(ivf_ms, 99),
            "cpu_p50_ms": statistics.median(ivf_cpu),
            "cpu_p99_ms": pct(ivf_cpu, 99),
            "recall": statistics.mean(recall(g, t) for g, t in zip(got, truth, strict=True)),
            "recall_p10": pct([recall(g, t) for g, t in zip(got, truth, strict=True)], 10),
        },
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


def real_vectors(index: Path, questions: Path, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Every vector of ``index``'s exact store, and ``questions`` embedded as queries."""
    from kefu_copilot.embed._embedder import load_embedder

    stores = sorted((index / "vectors").glob("kefu-*"))
    if len(stores) != 1:
        raise SystemExit(f"expected one exact store under {index}/vectors, found {stores}")
    store = ExactStore(stores[0])
    data = store.vectors(sorted(store.all_ids()))
    embedder = load_embedder(model, offline=True)
    texts = json.loads(questions.read_text(encoding="utf-8"))
    qs = np.vstack([embedder.embed_query(t) for t in texts]).astype(np.float32)
    return data, _unit(qs)


def run(
    n: int,
    dim: int,
    k: int,
    n_queries: int,
    efs: list[int],
    params: dict,
    real: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    if real is None:
        data, qs = corpus(n, dim, n_queries)
    else:
        rng = np.random.default_rng(n)
        pick = np.sort(rng.choice(len(real[0]), size=min(n, len(real[0])), replace=False))
        data, qs = real[0][pick], real[1][:n_queries]
        n, dim = len(data), data.shape[1]
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
    p.add_argument("--index", type=Path, help="real vectors: an index's exact store")
    p.add_argument("--questions", type=Path, help="with --index: JSON list of question texts")
    p.add_argument(
        "--model",
        default=str(REPO.parent / "shared" / "models" / "w2v-zh-synonyms-100d"),
        help="with --index: the model that embeds the questions",
    )
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    real = None
    if args.index is not None:
        if args.questions is None:
            p.error("--index needs --questions")
        real = real_vectors(args.index, args.questions, args.model)
    params = {"max_neighbors": args.max_neighbors, "ef_construction": args.ef_construction}
    efs = [int(x) for x in args.ef_search.split(",") if x]  # "": exact search only
    rows = []
    print(f"HNSW max_neighbors={args.max_neighbors} ef_construction={args.ef_construction}")
    print("per query, ms: CPU p50 / wall p50 / wall p99 (wall includes waiting for a core)")
    print(
        f"{'size':>8} {'exact':>22}  {'inverted lists':>22} recall  "
        + "  ".join(f"{'ef' + str(ef):>22} recall" for ef in efs)
    )
    for n in (int(x) for x in args.sizes.split(",")):
        row = run(n, args.dim, args.k, args.queries, efs, params, real)
        rows.append(row)
        ex, hn = row["exact"], row["hnsw"]
        iv = ex["ivf"]

        def cell(m: dict[str, float]) -> str:
            return f"{m['cpu_p50_ms']:6.2f} /{m['p50_ms']:6.2f} /{m['p99_ms']:6.1f}"

        cells = "  ".join(f"{cell(h)} {h['recall']:.3f}" for h in hn["by_ef"])
        lists = ", ".join(
            f"{s['rows']} rows/{s['lists']} lists/probe {s['nprobe']}"
            if "lists" in s
            else f"{s['rows']} rows"
            for s in iv["segments"]
        )
        print(
            f"{row['size']:>8} {cell(ex):>22}  {cell(iv):>22} {iv['recall']:.3f}  {cells}"
            f"   (build: exact {ex['build_s']:.1f}s / {ex['build_cpu_s']:.1f}s CPU, "
            f"hnsw {hn['build_s']:.1f}s; segments: {lists})",
            flush=True,
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"params": params, "vectors": "real" if real else "synthetic", "rows": rows},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
