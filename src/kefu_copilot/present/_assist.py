"""What the agent-side helpers return, for a terminal (rich) and a notebook (HTML): reply
drafts, emotion flags, handoff packets, lint issues and the pre-sales advisor's results.

Imported only when one is shown. Everything shown is escaped: drafts quote customer messages
and the shop's knowledge, neither of which may inject rich markup or HTML into the display.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._console import add_citation_rows
from ._html import Row, card, citation_rows, decision_badge, esc, handoff_pre, lines
from ._text import describe_emotion

if TYPE_CHECKING:
    from ..agent._handoff import HandoffPacket
    from ..emotion._flag import EmotionFlag
    from ..presales._models import Comparison, Recommendation, Suggestion
    from ..reply._models import Draft, LintIssue

__all__ = [
    "comparison_html",
    "draft_html",
    "draft_panel",
    "flag_html",
    "flag_panel",
    "handoff_html",
    "lint_table",
    "recommendation_html",
    "suggestion_html",
    "suggestion_panel",
]

_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}
_PRIORITY_STYLE = {"urgent": "bold red", "high": "red", "normal": "green"}
_RED = "#c53030"


# -- terminal ----------------------------------------------------------------------------------
def _grid() -> Any:
    from rich.table import Table

    return Table.grid(padding=(0, 1))


def lint_table(issues: Sequence[LintIssue], text: str | None = None) -> Any:
    """Lint issues one per row: severity, code, the span of ``text`` they point at (when the
    text is given), the message and the fix."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="lint", title_justify="left", expand=True, show_lines=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    if text is not None:
        table.add_column("where", ratio=2, overflow="fold")
    table.add_column("problem", ratio=3, overflow="fold")
    table.add_column("fix", ratio=3, overflow="fold")
    for issue in issues:
        style = _SEVERITY_STYLE.get(issue.severity, "")
        cells = [f"[{style}]{issue.severity}[/]" if style else issue.severity, issue.code]
        if text is not None:
            cells.append(escape(text[issue.span[0] : issue.span[1]]) or "—")
        cells += [escape(issue.message), escape(issue.suggestion)]
        table.add_row(*cells)
    return table


def draft_panel(draft: Draft) -> Any:
    """A reply draft for the agent: the text, what was changed in the agent's own draft and why,
    the knowledge it cites, similar past cases and any lint left."""
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel

    grid = _grid()
    grid.add_row("[bold]草稿[/]", escape(draft.text))
    grid.add_row("[bold]情绪[/]", escape(draft.emotion))
    for change in draft.changes:
        what = f"{change.before} → {change.after}" if change.before else f"+ {change.after}"
        grid.add_row(
            f"[bold]改动[/] {escape(change.kind)}",
            f"{escape(what)} [dim]({escape(change.reason)})[/]",
        )
    add_citation_rows(grid, draft.citations)
    for case in draft.similar_cases[:3]:
        grid.add_row("[dim]相似案例[/]", f"[dim]{escape(case.id)}: {escape(case.snippet)}[/]")
    title = "reply draft" + (" · llm" if draft.mode == "llm" else "")
    panel = Panel(grid, title=title, title_align="left", border_style="yellow")
    if not draft.lint:
        return panel
    return Group(panel, lint_table(draft.lint, draft.text))


def flag_panel(flag: EmotionFlag, text: str = "") -> Any:
    """An emotion flag: emotion and intensity, the escalation score and decision, the risk flags
    and priority, and the cues that fired."""
    from rich.markup import escape
    from rich.panel import Panel

    grid = _grid()
    grid.add_row("[bold]情绪[/]", escape(describe_emotion(flag)))
    style = _PRIORITY_STYLE.get(flag.priority, "")
    grid.add_row("[bold]优先级[/]", f"[{style}]{flag.priority}[/]" if style else flag.priority)
    if flag.risk:
        grid.add_row("[bold]风险[/]", f"[red]{escape(', '.join(flag.risk))}[/]")
    for signal in flag.signals:
        grid.add_row("[dim]信号[/]", f"[dim]{escape(signal)}[/]")
    border = "red" if flag.escalate else "green"
    title = escape(text) if text else ("escalate" if flag.escalate else "no escalation")
    return Panel(grid, title=title, title_align="left", border_style=border)


def suggestion_panel(suggestion: Suggestion) -> Any:
    """A reply to a price objection or a cross-sell question, with its facts and citations."""
    from rich.markup import escape
    from rich.panel import Panel

    grid = _grid()
    grid.add_row("[bold]答复[/]", escape(suggestion.text))
    for fact in suggestion.facts:
        grid.add_row("[bold]依据[/]", escape(fact))
    add_citation_rows(grid, suggestion.citations)
    for reason in suggestion.reasons:
        grid.add_row("[dim]原因[/]", f"[dim]{escape(reason)}[/]")
    title = f"{suggestion.kind} · {suggestion.title}"
    return Panel(grid, title=escape(title), title_align="left")


# -- notebook ----------------------------------------------------------------------------------
def _lint_rows(issues: Sequence[LintIssue], text: str) -> list[Row]:
    rows: list[Row] = []
    for issue in issues:
        color = _RED if issue.severity == "error" else "#b7791f"
        where = text[issue.span[0] : issue.span[1]]
        cell = (
            f"<b style='color:{color}'>{esc(issue.code)}</b> "
            + (f"「{esc(where)}」 " if where else "")
            + f"{esc(issue.message)}<br><span class='dim'>{esc(issue.suggestion)}</span>"
        )
        rows.append((f"lint {issue.severity}", cell))
    return rows


def draft_html(draft: Draft) -> str:
    """A reply draft: text, changes with their reasons, citations, similar cases, lint."""
    rows: list[Row] = [("草稿 draft", esc(draft.text)), ("情绪 emotion", esc(draft.emotion))]
    for change in draft.changes:
        what = f"{change.before} → {change.after}" if change.before else f"+ {change.after}"
        rows.append(
            (f"改动 {change.kind}", f"{esc(what)} <span class='dim'>({esc(change.reason)})</span>")
        )
    rows += citation_rows(draft.citations)
    rows += [
        ("相似案例 case", f"<span class='dim'>{esc(c.id)}: {esc(c.snippet)}</span>")
        for c in draft.similar_cases[:3]
    ]
    rows += _lint_rows(draft.lint, draft.text)
    return card("kefu-draft", "reply draft" + (" · llm" if draft.mode == "llm" else ""), rows)


def flag_html(flag: EmotionFlag, text: str = "") -> str:
    """An emotion flag: emotion, escalation, priority, risk flags and the cues that fired."""
    rows: list[Row] = [("情绪 emotion", esc(describe_emotion(flag)))]
    priority = esc(flag.priority)
    rows.append(
        (
            "优先级 priority",
            f"<b style='color:{_RED}'>{priority}</b>" if flag.priority != "normal" else priority,
        )
    )
    if flag.risk:
        rows.append(("风险 risks", f"<b style='color:{_RED}'>{esc(', '.join(flag.risk))}</b>"))
    if flag.signals:
        rows.append(("信号 signals", lines(flag.signals, "dim")))
    title = text or ("escalate" if flag.escalate else "no escalation")
    return card("kefu-flag", title, rows)


def handoff_html(packet: HandoffPacket) -> str:
    """The packet for the human agent, as rendered by the shop's handoff rules."""
    return card("kefu-handoff", "转人工 handoff packet", [], handoff_pre(packet))


def suggestion_html(suggestion: Suggestion) -> str:
    rows: list[Row] = [("答复 reply", esc(suggestion.text))]
    rows += [("依据 fact", esc(f)) for f in suggestion.facts]
    rows += citation_rows(suggestion.citations)
    if suggestion.reasons:
        rows.append(("原因 reasons", lines(suggestion.reasons, "dim")))
    return card("kefu-suggestion", f"{suggestion.kind} · {suggestion.title}", rows)


def recommendation_html(rec: Recommendation) -> str:
    """The need as read, then the ranked products with price and deciding facts."""
    needs = rec.needs
    rows: list[Row] = [
        ("需求 need", esc(needs.text)),
        ("决定 decision", decision_badge(rec.decision)),
    ]
    if needs.budget:
        rows.append(("预算 budget", f"{needs.budget[0]:g}–{needs.budget[1]:g} 元"))
    for label, value in (
        ("for", needs.groups),
        ("features", needs.features),
        ("not wanted", needs.avoid),
    ):
        if value:
            rows.append((label, esc(" · ".join(value))))
    for rank, pick in enumerate(rec.picks, start=1):
        prices = "/".join(f"{p:g}" for p in pick.prices)
        misses = (
            f"<br><span style='color:{_RED}'>✗ {esc('、'.join(pick.misses))}</span>"
            if pick.misses
            else ""
        )
        cell = (
            f"<b>{esc(pick.title)}</b> <span class='dim'>{esc(prices)} · score "
            f"{pick.score:.2f}</span><br>{esc('；'.join(pick.facts))}{misses}"
        )
        rows.append((f"#{rank}", cell))
    if rec.text or rec.question:
        rows.append(("答复 reply", esc(rec.text or rec.question)))
    return card("kefu-recommendation", "recommendation", rows)


def comparison_html(comparison: Comparison) -> str:
    """The attributes that differ as a table, the two products as columns."""
    head = "".join(f"<th>{esc(name)}</th>" for name in comparison.names)
    body = "".join(
        f"<tr><th>{esc(name) or '<span class=dim>page</span>'}</th><td>{esc(a)}</td>"
        f"<td>{esc(b)}</td></tr>"
        for name, a, b in comparison.rows
    )
    table = f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
    text = f"<p>{esc(comparison.text)}</p>" if comparison.text else ""
    return card(
        "kefu-comparison",
        " vs ".join(comparison.names),
        citation_rows(comparison.citations),
        table,
        text,
    )
