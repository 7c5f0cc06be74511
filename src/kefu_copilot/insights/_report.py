"""The :class:`InsightsReport` model, the service figures it holds (summarised from one row per
conversation). Its renderings (HTML page, rich tables) live in :mod:`kefu_copilot.present._insights`."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ._logfile import LogIssue, write_text_atomic

_COLUMNS = "hour day frt fart aht bot agent esc resolved rating upset".split()

__all__ = [
    "ComplaintTheme",
    "Complaints",
    "Figures",
    "HourFigures",
    "InsightsReport",
    "KnowledgeGap",
    "ProposedFAQ",
    "QuestionCluster",
    "Stat",
    "service_figures",
]


class Stat(BaseModel):
    """Seconds: how many values, mean, median and 90th percentile."""

    n: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class Figures(BaseModel):
    """Service figures of a set of conversations (rates are 0–1, ``None`` when undefined)."""

    conversations: int = 0
    first_response_s: Stat = Field(default_factory=Stat)
    first_agent_response_s: Stat = Field(default_factory=Stat)
    handling_s: Stat = Field(default_factory=Stat)
    bot_conversations: int = 0
    auto_rate: float | None = None
    escalation_rate: float | None = None
    resolution_rate: float | None = None
    rated: int = 0
    rating_mean: float | None = None
    satisfied_share: float | None = None
    upset_rate: float | None = None  # emotion_flag escalates a customer turn


class HourFigures(Figures):
    hour: int
    peak: bool = False


class QuestionCluster(BaseModel):
    """A group of customer questions asking the same thing."""

    label: str
    keywords: list[str] = Field(default_factory=list)
    count: int
    share: float
    examples: list[str] = Field(default_factory=list)
    distinct: int = 1
    decisions: dict[str, int] = Field(default_factory=dict)
    citation: str | None = None


class ProposedFAQ(BaseModel):
    question: str
    answer: str = Field(
        description="the copilot's own cited answer to the most confidently drafted question of "
        "the gap, to be reviewed; empty when the knowledge supports none of them"
    )
    source: str | None = None
    locator: str | None = None
    needs_review: bool = True


class KnowledgeGap(QuestionCluster):
    """Questions the copilot hands off or answers with low confidence, grouped."""

    mean_confidence: float = 0.0
    proposed_faq: ProposedFAQ


class ComplaintTheme(BaseModel):
    cause: str
    subject: str | None = None
    count: int
    emotions: dict[str, int] = Field(default_factory=dict)
    risks: dict[str, int] = Field(default_factory=dict)
    escalated: int = 0
    peak_day: date | None = None
    peak_day_count: int = 0
    examples: list[str] = Field(default_factory=list)


class Complaints(BaseModel):
    conversations: int = 0
    rate: float = 0.0
    by_cause: list[ComplaintTheme] = Field(default_factory=list)
    by_product: list[ComplaintTheme] = Field(default_factory=list)
    themes: list[ComplaintTheme] = Field(default_factory=list)


class InsightsReport(BaseModel):
    """What :func:`kefu_copilot.analyze` found in a conversation log."""

    source: str
    shop: str | None = None
    generated_at: datetime
    seconds: float = 0.0
    conversations: int = 0
    customer_messages: int = 0
    questions: int = 0
    distinct_questions: int = 0
    answered_questions: int = 0
    unchecked_questions: int = 0
    clusters: int = 0
    malformed_lines: int = 0
    issues: list[LogIssue] = Field(default_factory=list)
    overall: Figures = Field(default_factory=Figures)
    by_hour: list[HourFigures] = Field(default_factory=list)
    peak_hours: list[int] = Field(default_factory=list)
    by_day: dict[date, int] = Field(default_factory=dict)  # every day from first to last
    peak_days: list[date] = Field(default_factory=list)
    top_questions: list[QuestionCluster] = Field(default_factory=list)
    gaps: list[KnowledgeGap] = Field(default_factory=list)
    complaints: Complaints = Field(default_factory=Complaints)
    handoff_reasons: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def save(self, path: str | Path) -> Path:
        """Write the report as JSON, atomically."""
        return write_text_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> InsightsReport:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def to_html(self, *, title: str | None = None) -> str:
        """A complete, self-contained HTML page (needs matplotlib: ``kefu-copilot[insights]``)."""
        from ..present._insights import report_html

        return report_html(self, title=title)

    def save_html(self, path: str | Path, *, title: str | None = None) -> Path:
        return write_text_atomic(path, self.to_html(title=title))

    def _repr_html_(self) -> str:
        from ..present._insights import report_html

        return report_html(self, fragment=True)

    def __rich__(self) -> Any:
        from ..present._insights import report_renderable

        return report_renderable(self)


# -- figures from per-conversation rows ------------------------------------------------------
def _stat(values: np.ndarray) -> Stat:
    values = values[~np.isnan(values) & (values >= 0)]
    if not len(values):
        return Stat()
    mean, median, p90 = values.mean(), np.median(values), np.percentile(values, 90)
    return Stat(n=len(values), mean=round(mean, 1), median=round(median, 1), p90=round(p90, 1))


def _share(part: float, whole: float) -> float | None:
    return round(float(part) / whole, 4) if whole else None


def _figures(cols: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    bot, agent = cols["bot"] & mask, cols["agent"] & mask
    resolved, rating = cols["resolved"][mask], cols["rating"][mask]
    resolved, rating = resolved[~np.isnan(resolved)], rating[~np.isnan(rating)]
    n, n_bot = int(mask.sum()), int(bot.sum())
    return {
        "conversations": n,
        "first_response_s": _stat(cols["frt"][mask]),
        "first_agent_response_s": _stat(cols["fart"][mask]),
        "handling_s": _stat(cols["aht"][mask]),
        "bot_conversations": n_bot,
        "auto_rate": _share(int((bot & ~agent).sum()), n_bot),
        "escalation_rate": _share(int((cols["esc"] & mask).sum()), n_bot),
        "resolution_rate": _share(float(resolved.sum()), len(resolved)),
        "rated": len(rating),
        "rating_mean": round(float(rating.mean()), 2) if len(rating) else None,
        "satisfied_share": _share(int((rating >= 4).sum()), len(rating)),
        "upset_rate": _share(int((cols["upset"] & mask).sum()), n),
    }


def _peaks(volumes: list[int], top: int = 3) -> set[int]:
    """Indices whose volume is above mean + 1 sd; else the ``top`` busiest non-empty ones."""
    arr = np.asarray(volumes, dtype=float)
    if not arr.any():
        return set()
    peaks = {int(i) for i in np.flatnonzero(arr > arr.mean() + arr.std())}
    return peaks or {int(i) for i in np.argsort(-arr, kind="stable")[:top] if arr[i] > 0}


def service_figures(
    rows: list[tuple[Any, ...]],
) -> tuple[Figures, list[HourFigures], dict[date, int], list[date]]:
    """Overall and hourly figures (peak hours marked), conversations per day and the peak days,
    from one row per conversation: hour, day, first response, first agent response, handling
    (seconds), bot, agent, escalated, resolved, rating, upset (NaN/None where unknown)."""
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(_COLUMNS):
        flag = name in ("bot", "agent", "esc", "upset")
        kind: Any = bool if flag else object if name == "day" else int if name == "hour" else float
        cols[name] = np.array([r[j] for r in rows], dtype=kind)
    overall = Figures(**_figures(cols, np.ones(len(rows), dtype=bool)))
    volumes = [int((cols["hour"] == h).sum()) for h in range(24)]
    peak_hours = _peaks(volumes)
    by_hour = {h: _figures(cols, cols["hour"] == h) for h in range(24 if any(volumes) else 0)}
    hours = [HourFigures(hour=h, peak=h in peak_hours, **f) for h, f in by_hour.items()]
    seen = Counter(d for d in cols["day"] if d is not None)
    days: dict[date, int] = {}
    if seen:
        first, last = min(seen), max(seen)
        days = {first + timedelta(days=i): 0 for i in range((last - first).days + 1)} | seen
    peaks = _peaks(list(days.values()), top=1)
    return overall, hours, days, [d for i, d in enumerate(days) if i in peaks]
