"""``kefu eval``: run a suite or compare two runs; renderings of results (rich tables, HTML).

``kefu eval SUITE [--shop DIR] [--json OUT] [--index DIR] [--strict]`` runs a suite;
``kefu eval compare OLD.json NEW.json`` compares two ``--json`` outputs. Exit status 0 when the
report was made (even with failed cases), 2 on a :class:`KefuError` (e.g. an unreadable suite).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import EvalError, KefuError
from ._evaluate import EvalResult, run_suite

__all__ = [
    "EvalComparison",
    "MetricDelta",
    "build_parser",
    "cmd_eval",
    "compare_results",
    "comparison_renderable",
    "main",
    "register",
    "result_html",
    "result_renderable",
]


# -- comparing two runs --------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricDelta:
    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else round(self.new - self.old, 6)


@dataclass
class EvalComparison:
    """Metric deltas and the cases that flipped between two runs (cases matched by id)."""

    old: str
    new: str
    metrics: list[MetricDelta]
    newly_failed: list[str]
    newly_passed: list[str]
    only_old: list[str]
    only_new: list[str]
    new_failures: dict[str, list[str]] = field(default_factory=dict)  # of the newly failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "metrics": {
                m.name: {"old": m.old, "new": m.new, "delta": m.delta} for m in self.metrics
            },
            "newly_failed": self.newly_failed,
            "newly_passed": self.newly_passed,
            "only_old": self.only_old,
            "only_new": self.only_new,
            "new_failures": self.new_failures,
        }

    def __rich__(self) -> Any:
        return comparison_renderable(self)


ResultLike = EvalResult | str | Path | Mapping[str, Any]


def _as_result(value: ResultLike) -> EvalResult:
    if isinstance(value, EvalResult):
        return value
    if isinstance(value, Mapping):
        return EvalResult.from_dict(value)
    return EvalResult.load(value)


def compare_results(old: ResultLike, new: ResultLike) -> EvalComparison:
    """Per-metric deltas (``new - old``) and the ids of cases that flipped, in ``new``'s order.

    ``old``/``new``: :class:`EvalResult` objects, result dicts or paths of ``--json`` files.
    """
    a, b = _as_result(old), _as_result(new)
    before = {str(c["id"]): bool(c["passed"]) for c in a.cases}
    after = {str(c["id"]): bool(c["passed"]) for c in b.cases}
    newly_failed = [i for i, ok in after.items() if not ok and before.get(i) is True]
    failures = {str(c["id"]): [str(f) for f in c.get("failures") or []] for c in b.cases}
    return EvalComparison(
        old=a.suite,
        new=b.suite,
        metrics=[
            MetricDelta(k, a.metrics.get(k), b.metrics.get(k))
            for k in dict.fromkeys([*a.metrics, *b.metrics])
        ],
        newly_failed=newly_failed,
        newly_passed=[i for i, ok in after.items() if ok and before.get(i) is False],
        only_old=[i for i in before if i not in after],
        only_new=[i for i in after if i not in before],
        new_failures={i: failures[i] for i in newly_failed},
    )


# -- renderings ----------------------------------------------------------------------------------
def _clip(text: Any, limit: int = 160) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(case: Mapping[str, Any]) -> str:
    expect = case.get("expect") or {}
    if not isinstance(expect, Mapping):
        return str(expect)
    parts = []
    for key, value in expect.items():
        if isinstance(value, list):
            value = " | ".join(map(str, value[:5])) + (" …" if len(value) > 5 else "")
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def _produced(case: Mapping[str, Any]) -> str:
    """What the system produced for a case, in one short line."""
    kind = case.get("type")
    if "error" in case:
        return str(case["error"])
    if kind == "answer":
        sources = ", ".join(case.get("sources") or []) or "no citation"
        return (
            f"{case.get('decision')} ({case.get('confidence', 0):.2f}) {_clip(case.get('text'))}"
            f" ← {sources}"
        )
    if kind == "emotion":
        return (
            f"escalate={case.get('escalate')} emotion={case.get('emotion')} "
            f"score={case.get('score', 0):.2f}"
        )
    if kind == "retrieval":
        top = ", ".join(map(str, (case.get("retrieved") or [])[:3]))
        return f"rank {case.get('rank') or '>10'}; top 3: {top}"
    text = _clip(case.get("text") or "")
    sources = ", ".join(case.get("sources") or [])
    return f"{text} ← {sources}" if sources else text


def result_renderable(result: EvalResult, *, max_failures: int = 30) -> Any:
    """A rich table of the metrics, then one of the failed cases (expected vs produced)."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    passed = sum(1 for c in result.cases if c["passed"])
    header = (
        f"[bold]{escape(result.suite)}[/] · {result.n} cases · {passed} passed · "
        f"{result.n - passed} failed"
        + (f" · {len(result.errors)} lines skipped" if result.errors else "")
    )
    metrics = Table(title="metrics")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in result.metrics.items():
        metrics.add_row(name, f"{value:.3f}")
    parts: list[Any] = [header, metrics]
    failed = result.failed
    if failed:
        table = Table(title=f"failed cases ({len(failed)})", show_lines=True, expand=True)
        table.add_column("id", no_wrap=True)
        table.add_column("input", ratio=3, overflow="fold")
        table.add_column("expected", ratio=3, overflow="fold")
        table.add_column("produced", ratio=4, overflow="fold")
        table.add_column("failures", ratio=3, overflow="fold")
        for case in failed[:max_failures]:
            table.add_row(
                escape(str(case["id"])),
                escape(_clip(case.get("input", ""), 80)),
                escape(_expected(case)),
                escape(_produced(case)),
                "[red]" + escape("\n".join(case.get("failures") or [])) + "[/]",
            )
        parts.append(table)
        if len(failed) > max_failures:
            parts.append(f"[dim]… {len(failed) - max_failures} more failed cases (see --json)[/]")
    return Group(*parts)


def result_html(result: EvalResult, *, max_cases: int = 200) -> str:
    """An HTML summary for notebooks: metrics, then the cases (failed ones marked)."""
    esc = html.escape
    passed = sum(1 for c in result.cases if c["passed"])
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td style='text-align:right'>{v:.3f}</td></tr>"
        for k, v in result.metrics.items()
    )
    out = [
        f"<div class='kefu-eval'><p><b>{esc(result.suite)}</b> · {result.n} cases · "
        f"{passed} passed · {len(result.errors)} malformed lines</p>",
        f"<table><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>{rows}</tbody>"
        "</table>",
        "<table><thead><tr><th>id</th><th>type</th><th>passed</th><th>input</th>"
        "<th>expected</th><th>produced</th><th>failures</th></tr></thead><tbody>",
    ]
    for case in result.cases[:max_cases]:
        mark = "<span style='color:green'>✓</span>"
        if not case["passed"]:
            mark = "<span style='color:red'>✗</span>"
        cells = [
            case["id"],
            case.get("type", ""),
            _clip(case.get("input", ""), 80),
            _expected(case),
            _produced(case),
            "; ".join(case.get("failures") or []),
        ]
        tds = [f"<td>{esc(str(c))}</td>" for c in cells]
        out.append(f"<tr>{''.join(tds[:2])}<td>{mark}</td>{''.join(tds[2:])}</tr>")
    out.append("</tbody></table>")
    if len(result.cases) > max_cases:
        out.append(f"<p>… {len(result.cases) - max_cases} more cases</p>")
    return "".join(out) + "</div>"


def comparison_renderable(comparison: EvalComparison, *, max_rows: int = 50) -> Any:
    """Metric deltas (green better, red worse) and the cases that flipped."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="metrics")
    for column in ("metric", "old", "new", "delta"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for m in comparison.metrics:
        delta = m.delta
        style = "dim" if not delta else "green" if delta > 0 else "red"
        table.add_row(
            m.name,
            "—" if m.old is None else f"{m.old:.3f}",
            "—" if m.new is None else f"{m.new:.3f}",
            "—" if delta is None else f"[{style}]{delta:+.3f}[/]",
        )
    parts: list[Any] = [
        f"[bold]old[/] {escape(comparison.old)}\n[bold]new[/] {escape(comparison.new)}"
    ]
    parts.append(table)
    flips = [(i, "[red]passed → failed[/]") for i in comparison.newly_failed]
    flips += [(i, "[green]failed → passed[/]") for i in comparison.newly_passed]
    if flips:
        flipped = Table(title=f"flipped cases ({len(flips)})", expand=True)
        flipped.add_column("id", no_wrap=True)
        flipped.add_column("change", no_wrap=True)
        flipped.add_column("failures now", ratio=1, overflow="fold")
        for case_id, change in flips[:max_rows]:
            failures = "; ".join(comparison.new_failures.get(case_id, []))
            flipped.add_row(escape(case_id), change, escape(failures))
        parts.append(flipped)
        if len(flips) > max_rows:
            parts.append(f"[dim]… {len(flips) - max_rows} more flipped cases (see --json)[/]")
    else:
        parts.append("[dim]no case flipped[/]")
    for label, ids in (("only in old", comparison.only_old), ("only in new", comparison.only_new)):
        if ids:
            shown = ", ".join(ids[:20]) + (f" … +{len(ids) - 20}" if len(ids) > 20 else "")
            parts.append(f"[dim]{label} ({len(ids)}): {escape(shown)}[/]")
    return Group(*parts)


# -- command line --------------------------------------------------------------------------------
def register(sub: Any) -> argparse.ArgumentParser:
    """Add ``eval`` to the ``kefu`` subparsers (``sub`` from ``add_subparsers``)."""
    from ._cli import _add_settings_options

    p = sub.add_parser(
        "eval",
        help="run an eval suite (or: eval compare OLD.json NEW.json)",
        usage="kefu eval SUITE [--shop DIR] [--json OUT] [--index DIR] [--strict] [options]\n"
        "       kefu eval compare OLD.json NEW.json [--json OUT]",
        description="Run an eval suite — a JSONL file of answer/emotion/reply cases or a "
        "retrieval directory (corpus/queries/qrels.jsonl) — and report per-case results and "
        "metrics; or compare two --json outputs. Exit status 0 even when cases fail.",
    )
    p.add_argument(
        "targets",
        nargs="+",
        metavar="SUITE",
        help="suite file or retrieval directory; or `compare OLD.json NEW.json`",
    )
    p.add_argument("--shop", help="shop directory (needed by answer and reply cases)")
    p.add_argument(
        "--json",
        dest="json_out",
        metavar="OUT",
        help="write the results as JSON to OUT ('-': stdout)",
    )
    p.add_argument(
        "--strict", action="store_true", help="stop at the first malformed suite line (exit 2)"
    )
    p.add_argument("--max-failures", type=int, default=30, help="failed cases to show (default 30)")
    p.add_argument(
        "--judge",
        action="store_true",
        help="also grade answers and replies with the configured LLM (KEFU_LLM_* settings): "
        "judge.empathy, judge.faithful, judge.helpful, judge.next_step, judge.tone, judge.overall",
    )
    _add_settings_options(p)
    p.set_defaults(func=cmd_eval)
    return p


def _llm_judge() -> Any:
    from ._config import resolve_settings
    from ._judge import LLMJudge
    from ._llm import build_llm

    settings = resolve_settings(None)
    llm = build_llm(settings)
    if llm is None:
        raise KefuError(
            "--judge needs an LLM: set KEFU_LLM_PRESET (deepseek, qwen, ...) or "
            "KEFU_LLM_BASE_URL and KEFU_LLM_MODEL, and KEFU_LLM_API_KEY"
        )
    return LLMJudge(llm, prompts_dir=settings.prompts_dir)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ._cli import _console

    console, err = _console(), Console(stderr=True, soft_wrap=True)
    targets = list(args.targets)
    if targets[0] == "compare" and not (len(targets) == 1 and Path("compare").exists()):
        if len(targets) != 3:
            raise KefuError("usage: kefu eval compare OLD.json NEW.json")
        return _cmd_compare(targets[1], targets[2], args.json_out, console)
    if len(targets) != 1:
        raise KefuError(f"give one suite, not {len(targets)} (or: kefu eval compare OLD NEW)")
    to_stdout = args.json_out == "-"
    judges = [_llm_judge()] if getattr(args, "judge", False) else []
    result = run_suite(
        targets[0],
        shop=args.shop,
        index_dir=args.index_dir,
        strict=args.strict,
        progress=console.is_terminal and not to_stdout,
        embed_model=args.embed_model,
        chroma_url=args.chroma_url,
        offline=args.offline,
        auto_threshold=args.auto_threshold,
        draft_threshold=args.draft_threshold,
        judges=judges,
    )
    _print_problems(result, err)
    if to_stdout:
        print(result.to_json())
        return 0
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(result_renderable(result, max_failures=args.max_failures))
    if args.json_out:
        console.print(f"[dim]results written to {result.save(args.json_out)}[/]", highlight=False)
    return 0


def _print_problems(result: EvalResult, err: Any, limit: int = 20) -> None:
    from rich.markup import escape

    for error in result.errors[:limit]:
        err.print(f"[yellow]warning:[/] {escape(str(error))} (line skipped)", highlight=False)
    if len(result.errors) > limit:
        err.print(f"[yellow]warning:[/] … {len(result.errors) - limit} more malformed lines")


def _cmd_compare(old: str, new: str, json_out: str | None, console: Any) -> int:
    from ._eval import atomic_write

    comparison = compare_results(old, new)
    text = json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2)
    if json_out == "-":
        print(text)
        return 0
    console.print(comparison_renderable(comparison))
    if json_out:
        try:
            atomic_write(Path(json_out), text + "\n")
        except OSError as exc:
            raise EvalError(f"cannot write comparison: {exc}", path=json_out) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone ``kefu`` parser with only the ``eval`` command (tests, ``python -m``)."""
    parser = argparse.ArgumentParser(prog="kefu")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    """``kefu eval ...`` on its own: same exit statuses as ``kefu`` (2 on a KefuError)."""
    from ._cli import run_command

    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
