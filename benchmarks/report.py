"""Targets (pass/fail) and the rich tables of a benchmark run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["evaluate_targets", "print_report"]

# (label, path in a system's result, higher is better, format)
METRICS: list[tuple[str, tuple[str, ...], bool, str]] = [
    ("ingest (chunks/s)", ("ingest", "chunks_per_s"), True, "{:,.0f}"),
    # CPU of the ingesting process and its worker processes together
    ("ingest (chunks per CPU-s)", ("ingest", "chunks_per_cpu_s"), True, "{:,.0f}"),
    ("ingest time (s)", ("ingest", "seconds"), False, "{:.1f}"),
    ("ingest peak RSS (MB)", ("ingest", "max_rss_total_mb"), False, "{:,.0f}"),
    ("cold open + 1st answer (s)", ("serve", "open_s"), False, "{:.2f}"),
    ("cold open CPU (s)", ("serve", "open_cpu_s"), False, "{:.2f}"),
    ("answer p50 (ms)", ("serve", "single", "p50_ms"), False, "{:.1f}"),
    ("answer p95 (ms)", ("serve", "single", "p95_ms"), False, "{:.1f}"),
    ("answer p99 (ms)", ("serve", "single", "p99_ms"), False, "{:.1f}"),
    ("answer CPU p50 (ms)", ("serve", "single_cpu", "p50_ms"), False, "{:.1f}"),
    ("answer CPU p99 (ms)", ("serve", "single_cpu", "p99_ms"), False, "{:.1f}"),
    ("answers/s, 1 thread", ("serve", "single", "answers_per_s"), True, "{:.1f}"),
    ("answers/s, 8 threads", ("serve", "threaded", "answers_per_s"), True, "{:.1f}"),
    ("8 threads p50 (ms)", ("serve", "threaded", "p50_ms"), False, "{:.1f}"),
    ("8 threads p99 (ms)", ("serve", "threaded", "p99_ms"), False, "{:.1f}"),
    ("serve peak RSS (MB)", ("serve", "max_rss_mb"), False, "{:,.0f}"),
    ("synthetic top-1 source acc.", ("serve", "accuracy", "top1"), True, "{:.3f}"),
]
QUALITY = ["mrr@10", "recall@1", "recall@5", "recall@10", "ndcg@10"]
SYSTEMS = ("kefu", "fair", "stock")
# The serve figures repeated pinned to one core (--one-core), under "serve_1core".
ONE_CORE_METRICS = [
    (f"1 core: {label}", ("serve_1core", *path[1:]), higher, spec)
    for label, path, higher, spec in METRICS
    if path[0] == "serve" and "RSS" not in label and "acc." not in label
]


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets; ``pass`` is None when the figure was not measured."""
    sizes = results.get("sizes", {})
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, limit: Any, ok: Callable[[Any, Any], bool]) -> None:
        measured = value is not None and limit is not None
        rows.append(
            {
                "target": name,
                "measured": value,
                "limit": limit,
                "pass": bool(ok(value, limit)) if measured else None,
            }
        )

    def le(v: float, lim: float) -> bool:
        return v <= lim

    def ge(v: float, lim: float) -> bool:
        return v >= lim

    def gt(v: float, lim: float) -> bool:
        return v > lim

    k10, k100 = sizes.get("10000", {}), sizes.get("100000", {})
    add("answer p50 ≤ 10 ms @10k", dig(k10, "kefu", "serve", "single", "p50_ms"), 10.0, le)
    add("answer p99 ≤ 40 ms @10k", dig(k10, "kefu", "serve", "single", "p99_ms"), 40.0, le)
    add("answer p50 ≤ 25 ms @100k", dig(k100, "kefu", "serve", "single", "p50_ms"), 25.0, le)
    # The same on CPU time (what an idle machine would show; the wall figures include waiting
    # for a core when other processes run).
    add(
        "  same, CPU time: p50 ≤ 10 ms @10k",
        dig(k10, "kefu", "serve", "single_cpu", "p50_ms"),
        10.0,
        le,
    )
    add(
        "  same, CPU time: p99 ≤ 40 ms @10k",
        dig(k10, "kefu", "serve", "single_cpu", "p99_ms"),
        40.0,
        le,
    )
    add(
        "  same, CPU time: p50 ≤ 25 ms @100k",
        dig(k100, "kefu", "serve", "single_cpu", "p50_ms"),
        25.0,
        le,
    )
    for label, data in (("10k", k10), ("100k", k100)):
        for what, path in (
            ("p50", ("serve", "single", "p50_ms")),
            ("p99", ("serve", "single", "p99_ms")),
        ):
            add(
                f"answer {what} ≤ fair baseline {what} @{label} (ms)",
                dig(data, "kefu", *path),
                dig(data, "fair", *path),
                le,
            )
            fair = dig(data, "fair", *path)
            add(  # issue 22
                f"answer {what} ≤ 0.5× fair baseline @{label} (ms)",
                dig(data, "kefu", *path),
                None if fair is None else 0.5 * fair,
                le,
            )
        add(
            f"8-thread answers/s ≥ fair baseline @{label}",
            dig(data, "kefu", "serve", "threaded", "answers_per_s"),
            dig(data, "fair", "serve", "threaded", "answers_per_s"),
            ge,
        )
        add(
            f"synthetic top-1 accuracy > fair baseline @{label}",
            dig(data, "kefu", "serve", "accuracy", "top1"),
            dig(data, "fair", "serve", "accuracy", "top1"),
            gt,
        )
    quality = results.get("quality", {})
    add(
        "AFQMC MRR@10 > fair baseline",
        dig(quality, "kefu", "metrics", "mrr@10"),
        dig(quality, "fair", "metrics", "mrr@10"),
        gt,
    )
    add("ingest ≥ 1,500 chunks/s @10k", dig(k10, "kefu", "ingest", "chunks_per_s"), 1500.0, ge)
    add("  same, per CPU-second", dig(k10, "kefu", "ingest", "chunks_per_cpu_s"), 1500.0, ge)
    add("cold open ≤ 3 s @100k", dig(k100, "kefu", "serve", "open_s"), 3.0, le)
    add("import kefu_copilot ≤ 0.3 s", dig(results, "import", "kefu", "median_s"), 0.3, le)
    rss = [
        dig(k100, "kefu", "ingest", "max_rss_total_mb"),
        dig(k100, "kefu", "serve", "max_rss_mb"),
    ]
    peak = max((r for r in rss if r is not None), default=None)
    add("peak RSS ≤ 1.5 GB @100k (MB)", peak, 1536.0, le)
    for size, data in sizes.items():  # issue 22: what kefu serves, against exact search
        add(
            f"dense recall@{dig(data, 'dense_recall', 'k') or 60} ≥ 0.98 vs exact "
            f"@{int(size) // 1000}k",
            served_recall(data),
            0.98,
            ge,
        )
    for size, data in sizes.items():  # issue 22: answer-building on top of retrieval
        add(
            f"answer p50 ≤ 1.5× the floor @{int(size) // 1000}k (ratio, CPU)",
            dig(data, "floor", "cpu", "ratio_p50"),
            1.5,
            le,
        )
    return rows


def served_recall(data: dict[str, Any]) -> float | None:
    """Recall of the exact top-k in what kefu's dense search returns at this size: 1.0 where
    ``vector_search="auto"`` searches exactly, else its inverted lists' measured recall."""
    dense = data.get("dense_recall")
    if not isinstance(dense, dict) or "error" in dense:
        return None
    if dense.get("vectors", 0) <= dense.get("exact_max", 50_000):
        return 1.0
    return dig(dense, "exact", "ivf", "recall")


def _fmt(value: Any, spec: str = "{:.3f}") -> str:
    if value is None:
        return "—"
    if isinstance(value, float | int):
        return spec.format(value)
    return str(value)


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    m = results["machine"]
    console.print(
        f"[bold]kefu-copilot benchmark[/] {results['date']} · {m['cpu']} · {m['cores']} cores · "
        f"{m['memory_gb']} GB · Python {m['python']} · total {results.get('total_s', 0):.0f} s"
    )
    code = results.get("code", {})
    dirty = len(code.get("uncommitted_src", []))
    console.print(
        f"kefu-copilot code: commit {code.get('commit')} ({dirty} uncommitted files under src/), "
        f"sources measured: {', '.join(code.get('measured_src_sha256', [])) or '?'}"
    )
    if len(code.get("measured_src_sha256", [])) > 1:
        console.print("[yellow]warning:[/] the library changed during the run (several versions)")
    imports = results.get("import", {})
    table = Table(title="import time (median of fresh interpreters)")
    for col in ("", *SYSTEMS, "kefu / fair"):
        table.add_column(col, justify="right")
    kefu_s, base_s = dig(imports, "kefu", "median_s"), dig(imports, "fair", "median_s")
    table.add_row(
        "seconds",
        *(_fmt(dig(imports, s, "median_s")) for s in SYSTEMS),
        _fmt(kefu_s / base_s if kefu_s and base_s else None, "{:.2f}×"),
    )
    console.print(table)

    quality = results.get("quality", {})
    if "skipped" in quality:
        console.print(f"retrieval quality skipped: {quality['skipped']}")
    else:
        table = Table(title=f"retrieval quality: {quality.get('dataset', '')}")
        for col in ("metric", *SYSTEMS, "kefu − fair"):
            table.add_column(col, justify="right")
        for name in QUALITY:
            k = dig(quality, "kefu", "metrics", name)
            b = dig(quality, "fair", "metrics", name)
            table.add_row(
                name,
                *(_fmt(dig(quality, s, "metrics", name)) for s in SYSTEMS),
                _fmt(k - b if k is not None and b else None, "{:+.3f}"),
            )
        for system in SYSTEMS:
            if "error" in (quality.get(system) or {}):
                console.print(f"[red]{system} quality error:[/] {quality[system]['error']}")
        console.print(table)

    for size, data in results.get("sizes", {}).items():
        corpus = data.get("corpus", {})
        chunks = dig(data, "kefu", "ingest", "chunks")
        table = Table(
            title=f"{int(size):,}-chunk shop ({_fmt(chunks, '{:,}')} chunks, {corpus.get('files')} "
            f"files, {dig(data, 'kefu', 'serve', 'single', 'n')} timed questions; serve: median "
            f"(min–max) of {dig(data, 'kefu', 'serve', 'rounds')} alternating rounds)"
        )
        for col in ("metric", *SYSTEMS, "kefu / fair", "kefu better?", "kefu / stock"):
            table.add_column(col, justify="right")
        metrics = METRICS + (ONE_CORE_METRICS if dig(data, "kefu", "serve_1core") else [])
        for label, path, higher, spec in metrics:
            ratio = _ratio(data, "fair", path)
            better = None if ratio is None else (ratio >= 1 if higher else ratio <= 1)
            mark = "—" if better is None else ("[green]yes[/]" if better else "[red]no[/]")
            table.add_row(
                label,
                *(_cell(data, s, path, spec) for s in SYSTEMS),
                _ratio_cell(data, "fair", path),
                mark,
                _ratio_cell(data, "stock", path),
            )
        console.print(table)
        for system in SYSTEMS:
            phases = dig(data, system, "ingest", "rss_peak_mb_by_phase")
            if phases:
                text = ", ".join(f"{k} {v:,.0f}" for k, v in phases.items())
                console.print(
                    f"{system} ingest peak RSS by phase (MB, with its worker processes): {text}"
                )
            workers = dig(data, system, "ingest", "workers_cpu_s")
            if workers:
                console.print(
                    f"{system} ingest: {workers:.1f} of its CPU seconds in worker processes"
                )
        loads = [dig(data, s, p, "loadavg_1m") for s in SYSTEMS for p in ("ingest", "serve")]
        loads = [x for x in loads if x is not None]
        if loads and max(loads) > (m.get("cores") or 1):
            console.print(
                f"[yellow]note:[/] 1-min load average reached {max(loads):.1f} on "
                f"{m.get('cores')} cores during these runs (other processes): absolute figures "
                "are noisy, compare the ratios"
            )
        for system in SYSTEMS:
            for phase in ("ingest", "serve"):
                err = dig(data, system, phase, "error")
                if err:
                    console.print(f"[red]{system} {phase} error:[/] {err}")
        _print_by_kind(console, size, data)
        _print_dense(console, size, data)
        _print_floor(console, size, data)
        profile = data.get("profile")
        if profile and "error" not in profile:
            for phase in ("ingest", "answer", "open"):
                if not isinstance(profile.get(phase), dict) or "self" not in profile[phase]:
                    continue
                _print_hotspots(console, f"kefu {phase} @{int(size):,}", profile[phase])
        elif profile:
            console.print(f"[red]profile error:[/] {profile['error']}")

    table = Table(title="targets (issues 7 and 22; ratios against the fair baseline)")
    for col in ("target", "measured", "limit", "result"):
        table.add_column(col, justify="right" if col != "target" else "left")
    for row in results.get("targets", []):
        result = {True: "[green]PASS[/]", False: "[red]FAIL[/]", None: "not measured"}[row["pass"]]
        table.add_row(row["target"], _fmt(row["measured"]), _fmt(row["limit"]), result)
    console.print(table)


def _print_by_kind(console: Any, size: str, data: dict[str, Any]) -> None:
    """Single-thread latency per question kind (medians over the rounds): where the tail is.
    In wall time, and in CPU time (``by_kind_cpu``) — the one to compare on a busy machine."""
    for key, unit in (("by_kind", "wall"), ("by_kind_cpu", "CPU")):
        _print_kind_table(console, size, data, key, unit)


def _print_kind_table(console: Any, size: str, data: dict[str, Any], key: str, unit: str) -> None:
    from rich.table import Table

    kinds = dig(data, "kefu", "serve", key) or {}
    if not kinds:
        return
    table = Table(title=f"answer latency by question kind @{int(size):,} (ms, {unit})")
    for col in ("kind", "n", "kefu p50", "kefu p99", "fair p50", "fair p99", "p50 ×", "p99 ×"):
        table.add_column(col, justify="right" if col != "kind" else "left")
    for kind, kefu in sorted(kinds.items()):
        fair = dig(data, "fair", "serve", key, kind) or {}
        ratios = [
            _fmt(kefu[p] / fair[p], "{:.2f}×") if kefu.get(p) and fair.get(p) else "—"
            for p in ("p50_ms", "p99_ms")
        ]
        table.add_row(
            kind,
            _fmt(kefu.get("n"), "{:.0f}"),
            _fmt(kefu.get("p50_ms"), "{:.1f}"),
            _fmt(kefu.get("p99_ms"), "{:.1f}"),
            _fmt(fair.get("p50_ms"), "{:.1f}"),
            _fmt(fair.get("p99_ms"), "{:.1f}"),
            *ratios,
        )
    console.print(table)


def _section(console: Any, data: dict[str, Any], key: str, label: str) -> dict[str, Any] | None:
    """A worker's figures of one size, or None (absent; an error is printed)."""
    section = data.get(key)
    if not isinstance(section, dict):
        return None
    if "error" in section:
        console.print(f"[red]{label} error:[/] {section['error']}")
        return None
    return section


def _print_floor(console: Any, size: str, data: dict[str, Any]) -> None:
    """kefu's answer against its retrieval calls alone, interleaved in one process."""
    from rich.table import Table

    floor = _section(console, data, "floor", "floor")
    if floor is None:
        return
    table = Table(
        title=f"answer against the floor @{int(size):,} (tokenise + BM25 chunks + BM25 FAQ + "
        f"embed + vector top-60{'' if floor.get('dense') else ', no dense'}; same process, "
        "interleaved)"
    )
    for col in (
        "questions",
        "n",
        "floor p50",
        "answer p50",
        "answer / floor",
        "floor p99",
        "answer p99",
    ):
        table.add_column(col, justify="right" if col != "questions" else "left")
    labelled = [
        ("all, wall", floor.get("wall")),
        ("all, CPU", floor.get("cpu")),
        ("retrieving kinds, wall", floor.get("wall_retrieving")),
        ("retrieving kinds, CPU", floor.get("cpu_retrieving")),
        *((f"{kind}, CPU", row) for kind, row in sorted(floor.get("by_kind_cpu", {}).items())),
    ]
    for label, row in labelled:
        if not row:
            continue
        table.add_row(
            label,
            str(row.get("n", "")),
            _fmt(dig(row, "floor", "p50_ms"), "{:.2f}"),
            _fmt(dig(row, "answer", "p50_ms"), "{:.2f}"),
            _fmt(row.get("ratio_p50"), "{:.2f}×"),
            _fmt(dig(row, "floor", "p99_ms"), "{:.2f}"),
            _fmt(dig(row, "answer", "p99_ms"), "{:.2f}"),
        )
    console.print(table)


def _print_dense(console: Any, size: str, data: dict[str, Any]) -> None:
    """HNSW's recall of the exact top-k on kefu's own vectors and the benchmark's questions."""
    from rich.table import Table

    dense = _section(console, data, "dense_recall", "dense recall")
    if dense is None:
        return
    table = Table(
        title=f"dense search @{int(size):,}: {dense['vectors']:,} vectors, {dense['queries']} "
        f"questions, recall@{dense['k']} of the exact top-{dense['k']}; kefu serves "
        f"{'exact search' if served_recall(data) == 1.0 else 'its inverted lists'} here"
    )
    for col in ("search", "parameters", "recall", "CPU p50 (ms)", "wall p50 (ms)", "build (s)"):
        table.add_column(col, justify="right" if col not in ("search", "parameters") else "left")
    exact = dense.get("exact", {})
    table.add_row(
        "exact (kefu ≤ crossover)",
        "float32 matrix, memory-mapped",
        "1.000",
        _fmt(exact.get("cpu_p50_ms"), "{:.2f}"),
        _fmt(exact.get("p50_ms"), "{:.2f}"),
        _fmt(exact.get("build_s"), "{:.1f}"),
    )
    ivf = exact.get("ivf") or {}
    lists = [seg for seg in ivf.get("segments", []) if "lists" in seg]
    table.add_row(
        "inverted lists (kefu > crossover)",
        ", ".join(f"{seg['lists']} lists, probe {seg['nprobe']}" for seg in lists) or "none",
        _fmt(ivf.get("recall")),
        _fmt(ivf.get("cpu_p50_ms"), "{:.2f}"),
        _fmt(ivf.get("p50_ms"), "{:.2f}"),
        "(with exact)",
    )
    for name, label in (("kefu", "HNSW, 'hnsw' mode"), ("chroma_default", "HNSW, Chroma default")):
        hnsw = dense.get(name) or {}
        first = (hnsw.get("by_ef") or [{}])[0]
        params = ", ".join(f"{k}={v}" for k, v in (hnsw.get("params") or {}).items())
        table.add_row(
            label,
            f"{params or 'defaults'}, ef_search={first.get('ef_search')}",
            _fmt(first.get("recall")),
            _fmt(first.get("cpu_p50_ms"), "{:.2f}"),
            _fmt(first.get("p50_ms"), "{:.2f}"),
            _fmt(hnsw.get("build_s"), "{:.1f}"),
        )
    console.print(table)


def _ratio(data: Any, base: str, path: tuple[str, ...]) -> float | None:
    k, b = dig(data, "kefu", *path), dig(data, base, *path)
    return k / b if isinstance(k, float | int) and isinstance(b, float | int) and b else None


def _round_ratios(data: Any, base: str, path: tuple[str, ...]) -> list[float]:
    """kefu / ``base`` per alternating round (round i of one against round i of the other)."""
    mine, theirs = dig(data, "kefu", f"{path[0]}_runs"), dig(data, base, f"{path[0]}_runs")
    if not isinstance(mine, list) or not isinstance(theirs, list):
        return []
    out = []
    for a, b in zip(mine, theirs, strict=False):
        k, v = dig(a, *path[1:]), dig(b, *path[1:])
        if isinstance(k, float | int) and isinstance(v, float | int) and v:
            out.append(k / v)
    return out


def _cell(data: Any, system: str, path: tuple[str, ...], spec: str) -> str:
    """The median, with the rounds' min–max when the figure was repeated."""
    value = _fmt(dig(data, system, *path), spec)
    span = dig(data, system, path[0], "range", *path[1:])
    if isinstance(span, list) and len(span) == 2 and span[0] != span[1]:
        value += f" ({_fmt(span[0], spec)}–{_fmt(span[1], spec)})"
    return value


def _ratio_cell(data: Any, base: str, path: tuple[str, ...]) -> str:
    """Ratio of the medians, with the per-round ratios' min–max."""
    text = _fmt(_ratio(data, base, path), "{:.2f}×")
    rounds = _round_ratios(data, base, path)
    if len(rounds) > 1:
        text += f" ({min(rounds):.2f}–{max(rounds):.2f})"
    return text


def _print_hotspots(console: Any, title: str, hotspots: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{title}: hotspots (pyinstrument, {hotspots.get('total_s', 0):.1f} s)")
    for col in ("kefu_copilot function", "incl. %", "self time (any code)", "self %"):
        table.add_column(col, justify="left" if "%" not in col else "right")
    own = hotspots.get("kefu", [])[:10]
    selfs = hotspots["self"][:10]
    for n in range(max(len(own), len(selfs))):
        a = own[n] if n < len(own) else {}
        b = selfs[n] if n < len(selfs) else {}
        table.add_row(
            a.get("where", ""), _fmt(a.get("pct"), "{:.1f}") if a else "",
            b.get("where", ""), _fmt(b.get("pct"), "{:.1f}") if b else "",
        )  # fmt: skip
    console.print(table)
