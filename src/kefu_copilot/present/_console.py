"""Rich rendering: progress bars and tables (imported lazily, only when something is shown)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._text import describe_call, describe_emotion

if TYPE_CHECKING:
    from .._models import Answer, Citation, IngestReport
    from ..agent._handoff import HandoffPacket
    from ..agent._router import Turn

__all__ = [
    "add_citation_rows",
    "answer_panel",
    "answers_table",
    "handoff_panel",
    "ingest_table",
    "rich_progress",
    "turn_panel",
]

_DECISION_STYLE = {"auto": "green", "draft": "yellow", "handoff": "red"}
_DECISION_LABEL = {"auto": "自动发送", "draft": "草稿待客服确认", "handoff": "转人工"}
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


def _answer_rows(grid: Any, answer: Answer, text: str, decided: str = "决定") -> None:
    """The reply, the answer's decision and its citations as rows of a grid (escaped: knowledge
    and customer text may hold rich markup). ``decided`` labels the decision row."""
    from rich.markup import escape

    grid.add_row("[bold]答复[/]", escape(text))
    style = _DECISION_STYLE[answer.decision]
    grid.add_row(
        f"[bold]{decided}[/]", f"[{style}]{answer.decision}[/] (confidence {answer.confidence:.2f})"
    )
    add_citation_rows(grid, answer.citations)


def add_citation_rows(grid: Any, citations: Sequence[Citation]) -> None:
    """A row per citation (source · locator) added to a rich grid, escaped."""
    from rich.markup import escape

    for c in citations:
        grid.add_row("[bold]出处[/]", escape(f"{c.source} · {c.locator}"))


def _reason_rows(grid: Any, reasons: list[str]) -> None:
    from rich.markup import escape

    for r in reasons:
        grid.add_row("[dim]原因[/]", f"[dim]{escape(r)}[/]")


def answer_panel(answer: Answer) -> Any:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    _answer_rows(grid, answer, answer.text)
    _reason_rows(grid, answer.reasons)
    return Panel(grid, title=escape(answer.question), title_align="left")


def turn_panel(turn: Turn) -> Any:
    """One routed customer message for a terminal: the router's decision, the reply, emotion and
    risk flags, tool calls and writes awaiting approval, and — on a handoff — the packet the
    human agent receives."""
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    style = _DECISION_STYLE[turn.decision]
    grid.add_row(
        "[bold]路由[/]", f"[bold {style}]{turn.decision}[/] · {_DECISION_LABEL[turn.decision]}"
    )
    _answer_rows(grid, turn.answer, turn.text, decided="知识答复")
    grid.add_row("[bold]情绪[/]", escape(describe_emotion(turn.emotion)))
    if turn.emotion.risk:
        grid.add_row("[bold]风险[/]", f"[red]{escape(', '.join(turn.emotion.risk))}[/]")
    if turn.intent:
        grid.add_row("[bold]意图[/]", escape(turn.intent))
    for result in turn.tool_results:
        outcome = "ok" if result.ok else f"[red]failed: {escape(str(result.error))}[/]"
        grid.add_row(
            "[bold]工具[/]", f"{escape(describe_call(result.name, result.arguments))} → {outcome}"
        )
    for action in turn.pending_actions:
        what = escape(action.summary or describe_call(action.tool, action.arguments))
        grid.add_row("[bold yellow]待审批[/]", f"{what} [dim](id {escape(action.id)})[/]")
    if turn.asked_for:
        grid.add_row("[bold]追问[/]", escape(turn.asked_for))
    _reason_rows(grid, turn.reasons)
    panel = Panel(grid, title=escape(turn.message), title_align="left", border_style=style)
    if turn.handoff is None:
        return panel
    return Group(panel, handoff_panel(turn.handoff))


def handoff_panel(packet: HandoffPacket) -> Any:
    """The brief a human agent receives, as the shop's handoff rules render it (a safety
    incident's packet, urgent, in bold)."""
    from rich.markup import escape
    from rich.panel import Panel

    border = "bold red" if packet.priority == "urgent" else "red"
    return Panel(
        escape(packet.render()),
        title="转人工 handoff packet",
        title_align="left",
        border_style=border,
    )


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
