"""kefu-copilot speed benchmark against a plain llama-index baseline (GitHub issue 7).

    python benchmarks/bench.py --quick --json out.json      # 10k chunks, < 2 minutes
    python benchmarks/bench.py --json out.json              # 10k and 100k chunks
    python benchmarks/bench.py --sizes 10000 --profile prof # + pyinstrument reports in prof/

Every measurement runs in its own subprocess (``worker.py``) so that imports, cold starts and
peak RSS are attributable. Figures are reported as ratios against the fair baseline (llama-index
with jieba BM25, persisted) measured in the same run, because machines here are noisy; serve
figures are medians of ``--repeat`` alternating rounds (default 5) with their min–max.
``--one-core`` repeats the serve rounds pinned to one core (``taskset -c 0``). See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import generate_shop  # noqa: E402
from report import evaluate_targets, print_report  # noqa: E402

ENV = {
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "KEFU_OFFLINE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
SYSTEMS = ("kefu", "fair", "stock")  # fair: every ratio is against it; stock: a second row
BASELINES = SYSTEMS[1:]
MARKER = "BENCH-RESULT "
IMPORT_CODE = {
    "kefu": "import kefu_copilot",
    "fair": (
        "import llama_index.core, llama_index.vector_stores.chroma, llama_index.retrievers.bm25,"
        " jieba"
    ),
    "stock": (
        "import llama_index.core, llama_index.vector_stores.chroma, llama_index.retrievers.bm25"
    ),
}
ONE_CORE = "0"  # the CPU list given to taskset for --one-core


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


SNAPSHOT: Path | None = None  # set by --ref: workers import kefu_copilot from this src dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")} | ENV
    if SNAPSHOT is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(SNAPSHOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


def _git(*cmd: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *cmd], capture_output=True, text=True, timeout=60, cwd=str(REPO)
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def snapshot(ref: str, workdir: Path) -> Path:
    """The library (src/, prompts/, knowledge/) at git ``ref``, extracted under ``workdir``:
    measurements then cannot be disturbed by edits to the working tree."""
    target = workdir / "code"
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", ref, "src/kefu_copilot", "prompts", "knowledge"],
        capture_output=True,
        timeout=120,
        cwd=str(REPO),
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=120)
    return target


def run_worker(
    task: str, args: dict[str, Any], timeout: float, cpus: str | None = None
) -> dict[str, Any]:
    """Run one worker task in a fresh interpreter (pinned to ``cpus`` with taskset when
    given); its result dict, or ``{"error": ...}``."""
    cmd = [sys.executable, str(HERE / "worker.py"), task, json.dumps(args, ensure_ascii=False)]
    if cpus is not None:
        cmd = ["taskset", "-c", cpus, *cmd]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=str(REPO)
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            result["process_s"] = time.perf_counter() - started
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}


def import_time(system: str, repeats: int) -> dict[str, Any]:
    """Median wall time of the system's top-level import in fresh interpreters."""
    code = (
        "import time; t = time.perf_counter(); "
        f"{IMPORT_CODE[system]}; print(time.perf_counter() - t)"
    )
    runs: list[float] = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
            cwd=str(REPO),
        )
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1:]}
        runs.append(float(proc.stdout.strip().splitlines()[-1]))
    return {"median_s": statistics.median(runs), "runs_s": runs}


def code_state(ref: str | None = None) -> dict[str, Any]:
    """Which library code was measured: commit, uncommitted files under src/, and a digest of
    the package sources (others edit the library while benchmarks run)."""
    from worker import kefu_source_digest

    if ref is not None and SNAPSHOT is not None:
        return {
            "ref": ref,
            "commit": _git("rev-parse", "--short", ref),
            "uncommitted_src": [],
            "src_sha256": kefu_source_digest(SNAPSHOT / "src" / "kefu_copilot"),
        }
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_src": _git("status", "--porcelain", "--", "src").splitlines(),
        "src_sha256": kefu_source_digest(),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for dist in (
        "kefu-copilot",
        "llama-index-core",
        "llama-index-vector-stores-chroma",
        "llama-index-retrievers-bm25",
        "chromadb",
        "fastembed",
        "bm25s",
        "jieba",
        "numpy",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "versions": versions,
    }


def _reused_ingests(path: str | None, size: int) -> dict[str, dict[str, Any]]:
    """Per system, the ingest figures of an earlier run's JSON (``--reuse-ingest``) whose
    indexes are still in the work dir (``--keep-indexes``), for serve-only re-runs."""
    if not path:
        return {}
    earlier = json.loads(Path(path).read_text(encoding="utf-8"))
    data = earlier.get("sizes", {}).get(str(size), {})
    return {
        system: data[system]["ingest"]
        for system in SYSTEMS
        if isinstance(data.get(system), dict) and "error" not in data[system].get("ingest", {})
    }


def bench_size(
    size: int, workdir: Path, args: argparse.Namespace, n_questions: int
) -> dict[str, Any]:
    shop = workdir / f"shop-{size}"
    started = time.perf_counter()
    info = generate_shop(shop, size, seed=args.seed, questions=1 + args.warmup + 2 * n_questions)
    questions_file = workdir / f"questions-{size}.json"
    questions_file.write_text(
        json.dumps([asdict(q) for q in info.questions], ensure_ascii=False), encoding="utf-8"
    )
    out: dict[str, Any] = {
        "corpus": {
            "target_chunks": size,
            "files": info.files,
            "products": info.products,
            "faq_rows": info.faq_rows,
            "policy_docs": info.policies,
            "cases": info.cases,
            "questions": len(info.questions),
            "generate_s": time.perf_counter() - started,
        }
    }
    ingest_timeout = max(600.0, size / 40) * args.timeout_scale
    systems = selected_systems(args)
    common = {
        s: {"system": s, "shop": str(shop), "index": str(workdir / f"index-{s}-{size}")}
        | {"model": args.model}
        for s in systems
    }
    reused = _reused_ingests(args.reuse_ingest, size)
    for system in systems:
        if system in reused and Path(common[system]["index"]).is_dir():
            log(f"{size}: {system} index of {args.reuse_ingest} reused (no ingest)")
            ingest = reused[system] | {"reused_from": args.reuse_ingest}
            out[system] = {"ingest": ingest, "serve": {"error": "ingest failed"}, "serve_runs": []}
            continue
        log(f"{size}: {system} ingest")
        ingest = run_worker("ingest", common[system], ingest_timeout)
        log(f"{size}: {system} ingest → {_brief(ingest, 'chunks_per_s', 'chunks/s')}")
        out[system] = {"ingest": ingest, "serve": {"error": "ingest failed"}, "serve_runs": []}
    if "kefu" in systems and "error" not in out["kefu"]["ingest"] and args.dense_recall:
        log(f"{size}: dense recall@{args.dense_k} of HNSW against exact search")
        out["dense_recall"] = run_worker(
            "dense_recall",
            common["kefu"]
            | {
                "questions": str(questions_file),
                "n": min(n_questions, 300),
                "k": args.dense_k,
                "ef_search": [],
            },
            ingest_timeout,
        )
    serve_args = {
        "questions": str(questions_file),
        "n": n_questions,
        "warmup": args.warmup,
        "threads": args.threads,
    }
    pinnings: list[tuple[str, str | None]] = [("serve", None)]
    if args.one_core:
        pinnings.append(("serve_1core", ONE_CORE))
    for key, cpus in pinnings:
        for system in systems:
            out[system][f"{key}_runs"] = []
        for round_no in range(args.repeat):  # alternate the order: load drifts over time
            for system in systems if round_no % 2 == 0 else systems[::-1]:
                if "error" in out[system]["ingest"]:
                    continue
                where = f" on CPU {cpus}" if cpus else ""
                log(f"{size}: {system} serve{where} round {round_no + 1}/{args.repeat}")
                serve = run_worker(
                    "serve", common[system] | serve_args, 900 * args.timeout_scale, cpus
                )
                log(f"{size}: {system} serve → open {_brief(serve, 'open_s', 's')}")
                out[system][f"{key}_runs"].append(serve)
        for system in systems:
            out[system][key] = median_of(out[system][f"{key}_runs"])
    if "kefu" in systems and "error" not in out["kefu"]["ingest"] and args.floor:
        log(f"{size}: kefu against the floor (retrieval calls alone, interleaved)")
        out["floor"] = run_worker(
            "floor", common["kefu"] | serve_args, 900 * args.timeout_scale, None
        )
    if not args.keep_indexes:
        for system in systems:
            shutil.rmtree(common[system]["index"], ignore_errors=True)
    if args.profile:
        log(f"{size}: profiling kefu (pyinstrument)")
        profile_args = {
            "shop": str(shop),
            "index": str(workdir / f"index-profile-{size}"),
            "model": args.model,
            "questions": str(questions_file),
            "n": min(n_questions, 500),
            "out": str(Path(args.profile).resolve()),
            "label": f"kefu-{size // 1000}k",
        }
        out["profile"] = run_worker("profile", profile_args, 3 * ingest_timeout)
        if "error" not in out["profile"]:
            cold = run_worker("profile_open", profile_args, 600 * args.timeout_scale)
            out["profile"]["open"] = cold.get("open", cold)
        shutil.rmtree(workdir / f"index-profile-{size}", ignore_errors=True)
    shutil.rmtree(shop, ignore_errors=True)
    return out


def _digests(data: Any) -> list[str]:
    """Every ``kefu_src_sha256`` a worker reported (the code each measurement ran); an
    ingest reused from an earlier run (``reused_from``) was not measured by this one."""
    if isinstance(data, dict):
        if "reused_from" in data:
            return []
        found = [data["kefu_src_sha256"]] if "kefu_src_sha256" in data else []
        return found + [d for v in data.values() for d in _digests(v)]
    if isinstance(data, list):
        return [d for v in data for d in _digests(v)]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge(values: list[Any], pick: Any) -> Any:
    """``pick`` applied to every numeric leaf over the same place in ``values``; dicts
    recurse over their common keys; anything else (lists of slowest questions) from the first."""
    if all(_is_number(v) for v in values):
        return pick(values)
    if all(isinstance(v, dict) for v in values):
        keys = [k for k in values[0] if all(k in v for v in values[1:])]
        merged = {k: _merge([v[k] for v in values], pick) for k in keys}
        return {k: v for k, v in merged.items() if v is not None}
    return None if pick is _span else values[0]


def _span(values: list[float]) -> list[float]:
    return [min(values), max(values)]


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure over the repeated serve rounds, with ``range`` (the same
    shape, ``[min, max]`` leaves) and ``rounds``. Medians, not best-of-N: a lucky round should
    not decide a comparison, and the spread shows how far one round can be trusted."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1] if runs else {"error": "not run"}
    out: dict[str, Any] = _merge(ok, statistics.median)
    out["range"] = _merge(ok, _span)
    out["rounds"] = len(ok)
    return out


def selected_systems(args: argparse.Namespace) -> list[str]:
    if args.no_baseline:
        return ["kefu"]
    return [s for s in SYSTEMS if not (s == "stock" and args.no_stock)]


def _brief(result: dict[str, Any], key: str, unit: str) -> str:
    if "error" in result:
        return f"ERROR {result['error'][:300]}"
    value = result.get(key)
    return f"{value:.2f} {unit}" if isinstance(value, float) else str(value)


def quality(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    directory = Path(args.afqmc)
    if not (directory / "corpus.jsonl").is_file():
        return {"skipped": f"{directory} not found"}
    out: dict[str, Any] = {"dataset": str(directory)}
    for system in selected_systems(args):
        log(f"quality: {system} on {directory.name}")
        out[system] = run_worker(
            "quality",
            {
                "system": system,
                "dir": str(directory),
                "model": args.model,
                "workdir": str(workdir / f"quality-{system}"),
            },
            600 * args.timeout_scale,
        )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_model = (REPO / ".." / "shared" / "models" / "w2v-zh-synonyms-100d").resolve()
    default_afqmc = (REPO / ".." / "shared" / "evaldata" / "retrieval" / "afqmc_faq").resolve()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="10k chunks only, fewer questions (< 2 min)"
    )
    p.add_argument("--sizes", help="comma-separated corpus sizes in chunks (default 10000,100000)")
    p.add_argument("--json", metavar="OUT", help="write all figures as JSON to OUT")
    p.add_argument("--model", default=str(default_model), help="static embedding model directory")
    p.add_argument("--afqmc", default=str(default_afqmc), help="BEIR-like retrieval set directory")
    p.add_argument(
        "--no-dense-recall",
        dest="dense_recall",
        action="store_false",
        help="skip measuring HNSW's recall of the exact top-k on kefu's vectors",
    )
    p.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip timing the answer against its retrieval calls alone (the floor)",
    )
    p.add_argument("--dense-k", type=int, default=60, help="k of dense recall@k (default 60)")
    p.add_argument("--questions", type=int, help="timed answers per mode (default 300 quick/1000)")
    p.add_argument("--warmup", type=int, default=20, help="untimed answers after the first")
    p.add_argument("--threads", type=int, default=8, help="threads for the throughput run")
    p.add_argument("--seed", type=int, default=7, help="corpus generator seed")
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="serve rounds per system (alternating order; medians and min–max reported)",
    )
    p.add_argument(
        "--one-core",
        action="store_true",
        help=f"also run the serve rounds pinned to one core (taskset -c {ONE_CORE})",
    )
    p.add_argument("--profile", metavar="DIR", help="also profile kefu ingest/answer into DIR")
    p.add_argument("--no-baseline", action="store_true", help="measure kefu only")
    p.add_argument(
        "--no-stock", action="store_true", help="skip the stock llama-index baseline row"
    )
    p.add_argument("--no-quality", action="store_true", help="skip the AFQMC retrieval quality")
    p.add_argument(
        "--ref",
        help="measure the library at this git ref (e.g. HEAD), extracted to the work dir, "
        "instead of the installed working tree (which others may edit during the run)",
    )
    p.add_argument("--workdir", help="where corpora and indexes go (default: a temp dir)")
    p.add_argument("--keep-indexes", action="store_true", help="do not delete indexes")
    p.add_argument(
        "--reuse-ingest",
        metavar="EARLIER.json",
        help="serve from the indexes an earlier run kept in --workdir (--keep-indexes) and "
        "report that run's ingest figures, marked reused_from: compares the answer path of "
        "another ref without ingesting again (the index format must be the same)",
    )
    p.add_argument("--timeout-scale", type=float, default=1.0, help="multiply all timeouts")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(args.model).is_dir():
        print(f"embedding model not found: {args.model} (use --model PATH)", file=sys.stderr)
        return 2
    sizes = [int(s) for s in (args.sizes or ("10000" if args.quick else "10000,100000")).split(",")]
    n_questions = args.questions or (300 if args.quick else 1000)
    started = time.perf_counter()
    own_workdir = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="kefu-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if args.ref:
        global SNAPSHOT
        try:
            SNAPSHOT = snapshot(args.ref, workdir)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"cannot extract {args.ref}: {exc}", file=sys.stderr)
            return 2
    # An installed package has its bytecode compiled (pip does it); the workers must not pay
    # for compiling kefu_copilot's sources at every cold start (they never write bytecode).
    compileall.compile_dir(str((SNAPSHOT or REPO) / "src" / "kefu_copilot"), quiet=1, workers=1)
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code_state(args.ref),
        "args": {"sizes": sizes, "questions": n_questions} | vars(args),
        "notes": {
            "fair": "VectorStoreIndex(ChromaVectorStore, same static embedder) + "
            "BM25Retriever over jieba tokens, saved at ingest and loaded at open, fused by "
            "QueryFusionRetriever(reciprocal_rerank, num_queries=1, MockLLM, use_async=False); "
            "depth 50 per retriever, top 10 fused; same chunks",
            "stock": "the same with the stock BM25Retriever (English stemmer, \\w\\w+ tokens), "
            "rebuilt from the nodes in Chroma at every open",
            "ratio": "kefu / fair, same run; serve figures: medians of the alternating rounds, "
            "ratio range over the per-round ratios",
        },
    }
    try:
        log("import times (fresh interpreters, median)")
        results["import"] = {  # the baseline's import is slow: fewer repeats in --quick
            s: import_time(s, 3 if args.quick and s != "kefu" else 5)
            for s in selected_systems(args)
        }
        results["quality"] = (
            {"skipped": "--no-quality"} if args.no_quality else quality(args, workdir)
        )
        results["sizes"] = {}
        for size in sizes:
            results["sizes"][str(size)] = bench_size(size, workdir, args, n_questions)
        results["code_at_end"] = code_state(args.ref)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    measured = sorted(set(_digests(results)))
    results["code"]["measured_src_sha256"] = measured
    if len(measured) > 1 or results["code_at_end"]["src_sha256"] != results["code"]["src_sha256"]:
        log(f"warning: kefu_copilot sources changed during the run (measured: {measured})")
    results["targets"] = evaluate_targets(results)
    results["total_s"] = time.perf_counter() - started
    print_report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), "utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
