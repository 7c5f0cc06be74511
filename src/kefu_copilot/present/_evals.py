"""Eval results and comparisons as rich renderables (terminal) and HTML (notebooks)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..evals._compare import EvalComparison
    from ..evals._runner import EvalResult

__all__ = ["comparison_renderable", "result_html", "result_renderable"]


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
    if result.calibration:
        parts.append(calibration_table(result.calibration))
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


def calibration_table(calibration: dict[str, Any]) -> Any:
    """The reliability table of an answer suite: confidence against the share right."""
    from rich.table import Table

    table = Table(
        title=f"calibration ({calibration['n']} weighed answers, ECE {calibration['ece']:.3f})"
    )
    for name in ("confidence bin", "n", "mean confidence", "share right"):
        table.add_column(name, justify="right")
    for b in calibration["bins"]:
        table.add_row(
            f"{b['low']:.1f}–{b['high']:.1f}",
            str(b["n"]),
            f"{b['confidence']:.3f}",
            f"{b['accuracy']:.3f}",
        )
    return table


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
    gained, lost = len(comparison.newly_passed), len(comparison.newly_failed)
    if gained or lost:
        verdict = (
            "[bold]a change[/] (p < 0.05)" if comparison.significant else "[dim]within noise[/]"
        )
        parts.append(
            f"flipped: [green]+{gained}[/] / [red]−{lost}[/] · exact McNemar p = "
            f"{comparison.p_value:.3g} · {verdict}"
        )
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
