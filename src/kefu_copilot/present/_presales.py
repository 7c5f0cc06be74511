"""Rich rendering of the pre-sales advisor's results (imported only when one is shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..presales._models import Comparison, Recommendation

__all__ = ["comparison_table", "recommendation_table"]


def recommendation_table(rec: Recommendation) -> Any:
    """The needs as read, then the ranked products with their deciding facts."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    needs = rec.needs
    head = Table.grid(padding=(0, 1))
    head.add_row("[bold]need[/]", escape(needs.text))
    if needs.budget:
        head.add_row("[bold]budget[/]", f"{needs.budget[0]:g}–{needs.budget[1]:g} 元")
    for label, value in (
        ("for", needs.groups),
        ("features", needs.features),
        ("words", needs.words),
        ("phrases", needs.phrases),
        ("not wanted", needs.avoid),
    ):
        if value:
            head.add_row(f"[bold]{label}[/]", escape(" · ".join(value)))
    table = Table(title=f"{rec.decision}", title_justify="left", expand=True)
    table.add_column("#", justify="right")
    table.add_column("product", ratio=2, overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("price")
    table.add_column("deciding facts", ratio=4, overflow="fold")
    for rank, pick in enumerate(rec.picks, start=1):
        prices = "/".join(f"{p:g}" for p in pick.prices)
        facts = "；".join(pick.facts) + (
            f" [red]✗ {'、'.join(pick.misses)}[/]" if pick.misses else ""
        )
        table.add_row(str(rank), escape(pick.title), f"{pick.score:.2f}", prices, facts)
    parts: list[Any] = [head, table]
    if rec.text or rec.question:
        parts.append(escape(rec.text or rec.question))
    return Group(*parts)


def comparison_table(comparison: Comparison) -> Any:
    """The attributes that differ, one row each, the two products as columns."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(expand=True)
    table.add_column("attribute", no_wrap=True)
    for name in comparison.names:
        table.add_column(escape(name), ratio=1, overflow="fold")
    for name, a, b in comparison.rows:
        # a row with no attribute is the page's own sentence about both
        table.add_row(escape(name) or "[dim]page[/]", escape(a), escape(b))
    return table
