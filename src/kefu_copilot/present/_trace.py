"""Rich rendering of a :class:`~kefu_copilot._models.Trace` (imported only when one is shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._models import Trace

__all__ = ["trace_table"]

_DECISION_STYLE = {"auto": "green", "draft": "yellow", "handoff": "red"}


def trace_table(trace: Trace) -> Any:
    """The question as read, the scored candidates and the decision, as one rich group."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    head = Table.grid(padding=(0, 1))
    head.add_row("[bold]question[/]", escape(trace.question))
    head.add_row("[bold]normalized[/]", escape(trace.normalized))
    if trace.terms:
        head.add_row("[bold]terms[/]", escape(" · ".join(trace.terms)))
    head.add_row("[bold]products[/]", escape(", ".join(trace.products)) or "—")
    if trace.context:
        head.add_row("[bold]context[/]", escape(trace.context))

    parts: list[Any] = [head]
    if trace.candidates:
        table = Table(
            title=f"candidates (best {len(trace.candidates)} of {trace.scored})",
            title_justify="left",
            expand=True,
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("chunk", ratio=3, overflow="fold")
        table.add_column("kind", no_wrap=True)
        table.add_column("retr.", justify="right", no_wrap=True)
        table.add_column("bm25", justify="right", no_wrap=True)
        table.add_column("faq", justify="right", no_wrap=True)
        table.add_column("dense", justify="right", no_wrap=True)
        table.add_column("fused", justify="right", no_wrap=True)
        table.add_column("support", ratio=3, overflow="fold")
        for c in trace.candidates:
            mark = "[bold green]✓[/] " if c.cited else ""
            steps = " → ".join(f"{escape(k)} {v:.3f}" for k, v in c.steps.items())
            table.add_row(
                str(c.rank),
                f"{mark}{escape(c.source)} · {escape(c.locator)}",
                c.kind,
                "page" if c.retrieved is None else str(c.retrieved),
                _score(c.bm25, c.ranks.get("bm25")),
                _score(c.faq, c.ranks.get("faq")),
                _score(c.dense, c.ranks.get("dense")),
                f"{c.score:.3f}",
                f"[bold]{c.support:.3f}[/] [dim]{steps or escape(c.basis)}[/]",
            )
        parts.append(table)

    style = _DECISION_STYLE[trace.decision]
    tail = Table.grid(padding=(0, 1))
    tail.add_row("[bold]rule[/]", escape(trace.rule))
    for reason in trace.reasons:
        tail.add_row("", f"[dim]{escape(reason)}[/]")
    tail.add_row(
        "[bold]thresholds[/]",
        f"auto ≥ {trace.auto_threshold:.2f} · draft ≥ {trace.draft_threshold:.2f}",
    )
    tail.add_row(
        "[bold]decision[/]",
        f"[{style}]{trace.decision}[/] (confidence {trace.confidence:.4f})",
    )
    parts.append(tail)
    return Group(*parts)


def _score(value: float, rank: int | None) -> str:
    """A retriever's raw score with its rank among that retriever's results, or a dash."""
    if not rank:
        return "—"
    return f"{value:.3f} [dim]#{rank}[/]"
