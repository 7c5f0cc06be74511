"""One measurement in a fresh process (so time, memory and imports are attributable).

    python benchmarks/worker.py TASK '{"json": "arguments"}'

Tasks: ``ingest``, ``serve`` (cold open + latency + throughput + accuracy), ``quality`` (AFQMC
retrieval), ``profile`` (pyinstrument over kefu's ingest and answer paths). The result is printed
as one line ``BENCH-RESULT {json}``; it always carries ``max_rss_mb`` (this process's peak RSS).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MARKER = "BENCH-RESULT "


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds (nearest rank)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000

    return {
        "p50_ms": rank(50),
        "p95_ms": rank(95),
        "p99_ms": rank(99),
        "mean_ms": sum(ordered) / len(ordered) * 1000,
        "n": len(ordered),
    }


def _questions(path: str) -> list[dict[str, Any]]:
    return list(json.loads(Path(path).read_text(encoding="utf-8")))


def _accuracy(
    questions: list[dict[str, Any]], cited: list[tuple[str | None, str]]
) -> dict[str, float]:
    """Share of answerable questions whose top citation is one that answers them."""
    from corpus import Question

    per_kind: dict[str, list[bool]] = {}
    for q, (source, locator) in zip(questions, cited, strict=True):
        if q["sources"]:
            ok = Question(q["text"], tuple(q["sources"]), q["kind"]).answered_by(source, locator)
            per_kind.setdefault(q["kind"], []).append(ok)
    every = [ok for oks in per_kind.values() for ok in oks]
    out = {f"top1_{k}": sum(v) / len(v) for k, v in sorted(per_kind.items())}
    out["top1"] = sum(every) / len(every) if every else 0.0
    return out


class RssByPhase:
    """Samples the RSS of this process and its children (kefu's parse workers) every 50 ms;
    keeps the peak of their sum per phase and overall (MB)."""

    def __init__(self) -> None:
        import threading

        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def rss_mb(pid: str = "self") -> float:
        try:  # /proc/PID/statm: pages; psutil would do the same, and is optional
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return 0.0

    @staticmethod
    def children() -> list[str]:
        me, found = os.getpid(), []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:  # field 4: ppid
                    found.append(entry.name)
        return found

    def sample(self) -> None:
        rss = self.rss_mb() + sum(self.rss_mb(pid) for pid in self.children())
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.sample()

    def set(self, phase: str) -> None:
        if phase != self.phase:
            self.sample()  # the end of the previous phase
            self.phase = phase

    def stop(self) -> dict[str, float]:
        self.sample()
        self._stop.set()
        self._thread.join(1)
        return {k: round(v, 1) for k, v in self.peaks.items()}


def _by_kind(questions: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    """Single-thread latency percentiles per question kind (where the tail comes from)."""
    groups: dict[str, list[float]] = {}
    for q, t in zip(questions, latencies, strict=True):
        groups.setdefault(q["kind"], []).append(t)
    return {kind: percentiles(values) for kind, values in sorted(groups.items())}


def task_ingest(a: dict[str, Any]) -> dict[str, Any]:
    from systems import ingest

    memory = RssByPhase()
    cpu = time.process_time()
    out = ingest(a["system"], Path(a["shop"]), Path(a["index"]), Path(a["model"]), memory.set)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # parse workers, once ended
    out["cpu_s"] = time.process_time() - cpu + children.ru_utime + children.ru_stime
    out["workers_cpu_s"] = children.ru_utime + children.ru_stime
    out["rss_peak_mb_by_phase"] = memory.stop()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # This process and its workers together, as sampled every 50 ms (at least its own peak).
    out["max_rss_total_mb"] = max([own, *out["rss_peak_mb_by_phase"].values()])
    out["chunks_per_s"] = out["chunks"] / out["seconds"] if out["seconds"] else 0.0
    out["chunks_per_cpu_s"] = out["chunks"] / out["cpu_s"] if out["cpu_s"] else 0.0
    return out


def task_serve(a: dict[str, Any]) -> dict[str, Any]:
    from systems import open_system

    questions = _questions(a["questions"])
    n, warmup, threads = int(a["n"]), int(a["warmup"]), int(a["threads"])
    first, warm = questions[0], questions[1 : 1 + warmup]
    single = questions[1 + warmup : 1 + warmup + n]
    multi = questions[1 + warmup + n : 1 + warmup + 2 * n] or single
    started = time.perf_counter()  # nothing heavy is imported yet: open includes imports
    cpu_started = time.process_time()
    system = open_system(a["system"], Path(a["shop"]), Path(a["index"]), Path(a["model"]))
    opened = time.perf_counter()
    system.answer(first["text"])
    first_done = time.perf_counter()
    open_cpu = time.process_time() - cpu_started
    for q in warm:
        system.answer(q["text"])

    latencies: list[float] = []
    cpu: list[float] = []  # process CPU time per answer: robust against other processes' load
    cited: list[tuple[str | None, str]] = []
    decisions: dict[str, int] = {}
    t0 = time.perf_counter()
    for q in single:
        t, c = time.perf_counter(), time.process_time()
        result = system.answer(q["text"])
        latencies.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        cited.append((result.source, result.locator))
        decisions[result.decision] = decisions.get(result.decision, 0) + 1
    single_wall = time.perf_counter() - t0

    def timed(text: str) -> float:
        t = time.perf_counter()
        system.answer(text)
        return time.perf_counter() - t

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        multi_latencies = list(pool.map(timed, [q["text"] for q in multi]))
    multi_wall = time.perf_counter() - t0
    return {
        "open_s": first_done - started,
        "open_cpu_s": open_cpu,
        "construct_s": opened - started,
        "first_answer_s": first_done - opened,
        "single": percentiles(latencies) | {"answers_per_s": len(single) / single_wall},
        "single_cpu": percentiles(cpu),
        "threaded": percentiles(multi_latencies)
        | {"answers_per_s": len(multi) / multi_wall, "threads": threads},
        "accuracy": _accuracy(single, cited),
        "by_kind": _by_kind(single, latencies),
        "by_kind_cpu": _by_kind(single, cpu),
        "slowest": [
            {"ms": round(t * 1000, 1), "kind": q["kind"], "text": q["text"]}
            for t, q in sorted(zip(latencies, single, strict=True), key=lambda x: -x[0])[:10]
        ],
        "decisions": decisions,
    }


def task_floor(a: dict[str, Any]) -> dict[str, Any]:
    """kefu's answer time against the floor (issue 22): the retrieval calls every answer needs
    and nothing else — tokenise the question, BM25 top-50 over chunks, BM25 top-150 over FAQ
    phrasings, embed the query, the vector store's top-60 — on the same open index.

    Floor and answer run interleaved question by question in this one process (floor of q,
    then answer of q), so load drift hits both alike; the ratio is of their medians."""
    from systems import open_system

    questions = _questions(a["questions"])
    n, warmup = int(a["n"]), int(a["warmup"])
    system = open_system("kefu", Path(a["shop"]), Path(a["index"]), Path(a["model"]))
    copilot = system.copilot  # type: ignore[attr-defined]
    for q in questions[: 1 + warmup]:
        system.answer(q["text"])
    retriever = copilot.retriever
    snap, tokenizer = retriever.snapshot, retriever.tokenizer
    embedder, store = retriever.embedder, retriever.store
    faq = snap.faq_lexical if len(snap.faq_lexical) else None

    def floor(text: str) -> None:
        tokens = tokenizer.tokenize(text)
        snap.lexical.top(tokens, 50)
        if faq is not None:
            faq.top(tokens, 150)
        if embedder is not None and store is not None:
            store.query(embedder.embed_query(text), 60)

    chosen = questions[1 + warmup : 1 + warmup + n]
    for q in questions[1 : 1 + warmup]:
        floor(q["text"])
    # The tokenizer remembers the words of short texts: the answer must not be handed the
    # question's segmentation by the floor that ran just before it (nor the floor by an
    # earlier answer), so the memory is emptied, untimed, before each call.
    forget = getattr(tokenizer, "forget", lambda: None)
    wall: dict[str, list[float]] = {"floor": [], "answer": []}
    cpu: dict[str, list[float]] = {"floor": [], "answer": []}
    for q in chosen:
        for name, call in (("floor", floor), ("answer", system.answer)):
            forget()
            t, c = time.perf_counter(), time.process_time()
            call(q["text"])
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    # Questions that answer without retrieving (handoffs decided on the question alone, size
    # charts read from the catalogue) cost less than the floor; the retrieving ones are what
    # the floor is about, so they get their own row.
    retrieving = [i for i, q in enumerate(chosen) if q["kind"] not in ("handoff", "size")]

    def rows(values: dict[str, list[float]], keep: list[int] | None = None) -> dict[str, Any]:
        pick = {k: [v[i] for i in keep] if keep is not None else v for k, v in values.items()}
        floor_p, answer_p = percentiles(pick["floor"]), percentiles(pick["answer"])
        return {
            "n": len(pick["floor"]),
            "floor": floor_p,
            "answer": answer_p,
            "ratio_p50": answer_p["p50_ms"] / floor_p["p50_ms"] if floor_p.get("p50_ms") else None,
        }

    return {
        "dense": embedder is not None and store is not None,
        "wall": rows(wall),
        "cpu": rows(cpu),
        "wall_retrieving": rows(wall, retrieving),
        "cpu_retrieving": rows(cpu, retrieving),
        "by_kind_cpu": {
            kind: rows(cpu, [i for i, q in enumerate(chosen) if q["kind"] == kind])
            for kind in sorted({q["kind"] for q in chosen})
        },
    }


def task_quality(a: dict[str, Any]) -> dict[str, Any]:
    directory, model = Path(a["dir"]), Path(a["model"])
    started = time.perf_counter()
    if a["system"] == "kefu":
        from kefu_copilot.embed._embedder import load_embedder
        from kefu_copilot.evals._suite import evaluate_retrieval

        metrics = evaluate_retrieval(directory, embedder=load_embedder(str(model), offline=True))
    else:
        from systems import baseline_retrieval_quality

        metrics = baseline_retrieval_quality(
            directory, model, Path(a["workdir"]), fair=a["system"] == "fair"
        )
    return {"metrics": metrics, "seconds": time.perf_counter() - started}


def task_dense_recall(a: dict[str, Any]) -> dict[str, Any]:
    """Recall of the exact top-k for HNSW, on this index's vectors and the benchmark questions:
    kefu's HNSW parameters and Chroma's defaults, against the exact store's answers."""
    import tempfile

    import numpy as np
    from dense_crossover import exact_search, hnsw_search

    from kefu_copilot.embed._embedder import load_embedder
    from kefu_copilot.index._exact import ExactStore
    from kefu_copilot.index._vectors import EXACT_SEARCH_MAX, HNSW_PARAMS

    stores = sorted((Path(a["index"]) / "vectors").glob("kefu-*"))
    if len(stores) != 1:
        return {"error": f"expected one exact store under {a['index']}/vectors, found {stores}"}
    exact = ExactStore(stores[0])
    ids = sorted(exact.all_ids())
    data = exact.vectors(ids)
    embedder = load_embedder(a["model"], offline=True)
    texts = [q["text"] for q in _questions(a["questions"])[: int(a["n"])]]
    qs = np.vstack([embedder.embed_query(t) for t in texts]).astype(np.float32)
    k, efs = int(a["k"]), [int(e) for e in a["ef_search"]]
    out: dict[str, Any] = {
        "k": k,
        "vectors": len(ids),
        "queries": len(texts),
        "exact_max": EXACT_SEARCH_MAX,  # vector_search="auto" searches exactly up to here
    }
    with tempfile.TemporaryDirectory() as tmp:
        out["exact"], truth = exact_search(ids, data, qs, k, Path(tmp))
        configs = {
            "kefu": {p: v for p, v in HNSW_PARAMS.items() if p != "ef_search"},
            "chroma_default": {},
        }
        for name, params in configs.items():
            where = Path(tmp) / name
            where.mkdir()
            ef = [HNSW_PARAMS["ef_search"]] if name == "kefu" else [100]
            out[name] = hnsw_search(ids, data, qs, truth, params, ef + efs, where)
            out[name]["recall"] = out[name]["by_ef"][0]["recall"]
    return out


def _hotspots(session: Any, top: int = 25) -> dict[str, Any]:
    """Self and inclusive time per file:function (recursion counted once) from pyinstrument."""
    root = session.root_frame()
    if root is None:
        return {"self": [], "inclusive": []}
    total = root.time or 1.0
    self_t: dict[str, float] = {}
    incl_t: dict[str, float] = {}

    def walk(frame: Any, stack: frozenset[str]) -> None:
        if frame.is_synthetic:
            return
        path = (frame.file_path_short or "?").replace("\\", "/")
        key = f"{path.split('site-packages/')[-1]}:{frame.function}"
        self_t[key] = self_t.get(key, 0.0) + frame.total_self_time
        if key not in stack:
            incl_t[key] = incl_t.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, stack | {key})

    walk(root, frozenset())

    def rows(table: dict[str, float]) -> list[dict[str, Any]]:
        best = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [
            {"where": k, "seconds": round(v, 3), "pct": round(100 * v / total, 1)} for k, v in best
        ]

    own = {k: v for k, v in incl_t.items() if k.startswith("kefu_copilot/")}
    return {
        "self": rows(self_t),
        "inclusive": rows(incl_t),
        "kefu": rows(own),
        "total_s": round(root.time, 3),
    }


def task_profile(a: dict[str, Any]) -> dict[str, Any]:
    """kefu ingest (fresh index) and answer loop under pyinstrument; text + HTML reports."""
    from pyinstrument import Profiler
    from systems import KefuSystem

    out_dir = Path(a["out"])
    out_dir.mkdir(parents=True, exist_ok=True)
    label = a["label"]
    system = KefuSystem(Path(a["shop"]), Path(a["index"]), Path(a["model"]))
    result: dict[str, Any] = {}
    profiler = Profiler(interval=0.002)
    profiler.start()
    system.copilot.ingest()
    profiler.stop()
    (out_dir / f"{label}-ingest.txt").write_text(profiler.output_text(color=False), "utf-8")
    profiler.write_html(str(out_dir / f"{label}-ingest.html"))
    result["ingest"] = _hotspots(profiler.last_session)

    questions = _questions(a["questions"])[: int(a["n"]) + 1]
    t0 = time.perf_counter()
    system.answer(questions[0]["text"])  # open: load snapshot, build Answerer
    result["open_s"] = time.perf_counter() - t0
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for q in questions[1:]:
        system.answer(q["text"])
    profiler.stop()
    (out_dir / f"{label}-answer.txt").write_text(profiler.output_text(color=False), "utf-8")
    profiler.write_html(str(out_dir / f"{label}-answer.html"))
    result["answer"] = _hotspots(profiler.last_session)

    return result


def task_profile_open(a: dict[str, Any]) -> dict[str, Any]:
    """Cold start in this fresh process: imports, Copilot(...), first answer."""
    from pyinstrument import Profiler

    question = _questions(a["questions"])[0]["text"]
    profiler = Profiler(interval=0.001)
    profiler.start()
    from systems import KefuSystem

    KefuSystem(Path(a["shop"]), Path(a["index"]), Path(a["model"])).answer(question)
    profiler.stop()
    out_dir = Path(a["out"])
    (out_dir / f"{a['label']}-open.txt").write_text(profiler.output_text(color=False), "utf-8")
    profiler.write_html(str(out_dir / f"{a['label']}-open.html"))
    return {"open": _hotspots(profiler.last_session, top=30)}


TASKS = {
    "ingest": task_ingest,
    "serve": task_serve,
    "quality": task_quality,
    "profile": task_profile,
    "profile_open": task_profile_open,
    "dense_recall": task_dense_recall,
    "floor": task_floor,
}


def kefu_source_digest(root: Path | None = None) -> str:
    """Digest of the kefu_copilot sources under ``root``; by default the ones this process
    would import (found without importing them)."""
    import hashlib
    from importlib.util import find_spec

    if root is None:
        spec = find_spec("kefu_copilot")
        if spec is None or not spec.submodule_search_locations:
            return ""
        root = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def main() -> None:
    task, args = sys.argv[1], json.loads(sys.argv[2])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    source = kefu_source_digest()
    result = TASKS[task](args)
    if kefu_source_digest() == source:
        result["kefu_src_sha256"] = source
    else:  # edited while this measurement ran
        result["kefu_src_sha256"] = f"changed during run (from {source})"
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["loadavg_1m"] = os.getloadavg()[0]  # others' load on the machine, for judging noise
    sys.stdout.write(MARKER + json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
