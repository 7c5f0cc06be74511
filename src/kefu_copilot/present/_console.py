"""Rich rendering: progress bars and tables (imported lazily, only when something is shown)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._models import Answer, IngestReport

__all__ = ["answer_panel", "answers_table", "ingest_table", "rich_progress"]

_DECISION_STYLE = {"auto": "green", "draft": "yellow", "handoff": "red"}
_PHASES = {"parse": "读取文件 parse", "tokenize": "分词 tokenize", "embed": "向量 embed"}


@contextmanager
def rich_progress(console: Any = None) -> Iterator[Any]:
    """A progress callback ``(phase, done, total)`` drawing one rich bar per phase."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def callback(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield callback


def answer_panel(answer: Answer) -> Any:
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_row("[bold]答复[/]", answer.text)
    style = _DECISION_STYLE[answer.decision]
    grid.add_row(
        "[bold]决定[/]", f"[{style}]{answer.decision}[/] (confidence {answer.confidence:.2f})"
    )
    for c in answer.citations:
        grid.add_row("[bold]出处[/]", f"{c.source} · {c.locator}")
    for r in answer.reasons:
        grid.add_row("[dim]原因[/]", f"[dim]{r}[/]")
    return Panel(grid, title=answer.question, title_align="left")


def answers_table(answers: list[Answer], title: str = "kefu-copilot") -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("问题 question", ratio=2, overflow="fold")
    table.add_column("答复 answer", ratio=5, overflow="fold")
    table.add_column("决定", justify="center", no_wrap=True)
    table.add_column("置信", justify="right", no_wrap=True)
    table.add_column("出处 citations", ratio=3, overflow="fold")
    for a in answers:
        style = _DECISION_STYLE[a.decision]
        cites = "\n".join(f"{c.source} · {c.locator}" for c in a.citations[:2]) or "—"
        text = escape(a.text)
        if a.decision == "handoff" and a.reasons:
            text += f"\n[dim]→ {escape(a.reasons[0])}[/]"
            cites = "—" if not a.citations else f"[dim](closest) {cites}[/]"
        table.add_row(
            escape(a.question), text, f"[{style}]{a.decision}[/]", f"{a.confidence:.2f}", cites
        )
    return table


def ingest_table(report: IngestReport) -> Any:
    from rich.table import Table

    table = Table(title=f"ingest → {report.index_dir} (generation {report.generation})")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("files")
    for label, files in (
        ("added", report.files_added),
        ("updated", report.files_updated),
        ("removed", report.files_removed),
        ("unchanged", report.files_unchanged),
    ):
        shown = ", ".join(files[:4]) + (f" … +{len(files) - 4}" if len(files) > 4 else "")
        table.add_row(label, str(len(files)), shown)
    table.add_row("chunks", str(report.chunks_total), f"{report.chunks_embedded} embedded now")
    table.add_row(
        "retrieval", "", "hybrid (BM25 + dense)" if report.dense else "lexical only (BM25)"
    )
    for issue in report.issues[:20]:
        table.add_row(f"[yellow]{issue.kind}[/]", "", f"{issue.source}: {issue.problem}")
    if len(report.issues) > 20:
        table.add_row("[yellow]…[/]", str(len(report.issues) - 20), "more issues")
    table.add_row("seconds", f"{report.seconds:.2f}", "")
    return table
