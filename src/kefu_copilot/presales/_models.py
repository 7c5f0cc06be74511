"""The advisor's results: typed, cited, renderable (rich / notebooks through ``present``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .._models import Citation, Decision
from ._needs import Needs

__all__ = ["Comparison", "Pick", "Recommendation", "Suggestion"]


class Pick(BaseModel):
    """One ranked product: why it fits (the deciding facts, quoted and cited) or does not."""

    source: str
    title: str
    score: float
    prices: list[float] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)  # the deciding facts, as the page says them
    misses: list[str] = Field(default_factory=list)  # what it lacks or denies
    citations: list[Citation] = Field(default_factory=list)


class Recommendation(BaseModel):
    """Products ranked against a shopper's needs; ``question`` is the one clarifying question
    when the need is too vague to rank, ``decision`` what may be done with ``text``."""

    needs: Needs
    picks: list[Pick] = Field(default_factory=list)
    text: str = ""
    question: str = ""
    decision: Decision = "draft"
    reasons: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)

    def __rich__(self) -> Any:
        from ..present._presales import recommendation_table

        return recommendation_table(self)

    def _repr_html_(self) -> str:
        from ..present._assist import recommendation_html

        return recommendation_html(self)


class Comparison(BaseModel):
    """Two products (or two versions of one) side by side: ``rows`` are the attributes that
    differ (name, first value, second value), ``text`` two or three sentences for a shopper."""

    names: list[str]
    sources: list[str]
    rows: list[tuple[str, str, str]] = Field(default_factory=list)
    text: str = ""
    citations: list[Citation] = Field(default_factory=list)

    def __rich__(self) -> Any:
        from ..present._presales import comparison_table

        return comparison_table(self)

    def _repr_html_(self) -> str:
        from ..present._assist import comparison_html

        return comparison_html(self)


class Suggestion(BaseModel):
    """A reply to a price objection or a cross-sell question: the shop's own facts, cited."""

    kind: str
    source: str
    title: str
    text: str
    facts: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)

    def __rich__(self) -> Any:
        from ..present._assist import suggestion_panel

        return suggestion_panel(self)

    def _repr_html_(self) -> str:
        from ..present._assist import suggestion_html

        return suggestion_html(self)
