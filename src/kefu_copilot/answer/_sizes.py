"""The size advisor: every measure the shopper gives, checked against the product's size chart.

A size question ("1米6 100斤穿什么码", "脚长245穿几码") is read with the one numbers module
(:func:`~kefu_copilot.text._numbers.measures`): a unit decides what a number measures ("160斤"
is a weight, whatever its size), else the cue words next to it (``身高163``), else — for a bare
number with no cue — the dimensions marked ``uncued`` (height). A bare number is tried in each
unit its dimension may be written in (体重52: 斤 or kg) and kept in the one that falls in the
chart; when both or neither do, the reading is a guess.

The answer: one size when every dimension agrees; a draft naming each dimension's size when they
disagree, when a measure falls outside the chart or in a gap, when a measure could not be read,
or when only one number of a several-dimension chart was given — never an automatic answer from
one matched number or from a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..ingest._catalog import ChartColumn, SizeChart, parse_chart
from ..text._normalize import normalize
from ..text._numbers import UNITS, BodyMeasure, body_measures

__all__ = ["SizeAdvice", "advise", "charts_of", "fitting_labels", "is_size_question"]

_CUE_WINDOW = 4  # characters before a number its cue may stand in ("身高:163", "体重是52")


@dataclass
class Given:
    """One measure of the shopper: a dimension, its value in the base unit, as said."""

    dimension: str
    value: float
    said: str
    guessed: bool = False  # the unit was not said and the chart did not settle it


@dataclass
class SizeAdvice:
    """What the chart says about the shopper's measures."""

    chart: SizeChart
    text: str
    sure: bool  # one size, every dimension checked and agreeing, nothing guessed
    rows: list[int] = field(default_factory=list)  # chunk indices of the rows it rests on
    reasons: list[str] = field(default_factory=list)


def charts_of(tables: Sequence[Mapping[str, Any]], rules: Mapping[str, Any]) -> list[SizeChart]:
    """The size charts among a product's typed tables."""
    out = []
    for table in tables:
        rows = table["rows"]
        if not rows:
            continue
        chart = parse_chart(
            table["name"], rows[0][0], [r[1] for r in rows], [r[2] for r in rows], rules
        )
        if chart is not None:
            out.append(chart)
    return out


def is_size_question(normalized: str, rules: Mapping[str, Any]) -> bool:
    size = rules["size"]
    if any(normalize(q) in normalized for q in size["questions"]):
        return True
    if any(m.kind == "weight" and m.value >= 10 for m in body_measures(normalized)):
        return True  # a body weight (110斤, 55kg) is said for a size
    cues = [normalize(c) for spec in size["dimensions"].values() for c in spec["cues"]]
    return any(len(c) > 1 and c in normalized for c in cues)


def _cue(norm: str, m: BodyMeasure, before_end: int, rules: Mapping[str, Any]) -> str:
    """The dimension named right before (else right after) the measure ``m``."""
    dims = rules["size"]["dimensions"]
    window = norm[max(before_end, m.span[0] - _CUE_WINDOW) : m.span[0]]
    after = norm[m.span[1] : m.span[1] + 3]
    best, best_at = "", -1
    for name, spec in dims.items():
        for cue in spec["cues"]:
            at = window.rfind(normalize(cue))
            if at >= 0 and at + len(cue) > best_at:
                best, best_at = str(name), at + len(cue)
    if best:
        return best
    for name, spec in dims.items():
        if any(len(c) > 0 and normalize(c) in after for c in spec["cues"]):
            return str(name)
    return ""


def _span_of(column: ChartColumn) -> tuple[float, float]:
    values = [b for r in column.ranges if r for b in r]
    low = min(values)
    finite = [v for v in values if math.isfinite(v)]
    return low, max(finite) if finite else low


def _read(
    m: BodyMeasure, dimension: str, chart: SizeChart, rules: Mapping[str, Any]
) -> Given | None:
    spec = rules["size"]["dimensions"][dimension]
    if m.kind:
        if (m.kind == "weight") != (dimension == "weight"):
            return None
        return Given(dimension, m.value, f"{_fmt(m.value, m.kind)}")
    column = chart.column(dimension)
    readings = [u for u in spec["readings"] if u in UNITS]
    if column is None or not readings:
        unit = readings[0] if readings else "cm"
        return Given(dimension, m.value * UNITS.get(unit, ("", 1.0))[1], f"{m.value:g}{unit}", True)
    low, high = _span_of(column)
    slack = 0.1 * (high - low) + 1e-9
    fits = [u for u in readings if low - slack <= m.value * UNITS[u][1] <= high + slack]
    unit = fits[0] if fits else readings[0]
    return Given(dimension, m.value * UNITS[unit][1], f"{m.value:g}{unit}", guessed=len(fits) != 1)


def _fmt(value: float, kind: str) -> str:
    if kind == "weight":
        return f"{value:g}kg（{value * 2:g}斤）"
    return f"{round(value, 1):g}cm"


def givens(text: str, chart: SizeChart, rules: Mapping[str, Any]) -> tuple[list[Given], int]:
    """The shopper's measures read for ``chart``, and how many numbers could not be read."""
    norm = normalize(text)
    dims = rules["size"]["dimensions"]
    out: list[Given] = []
    unread = 0
    end = 0
    for m in body_measures(text):
        dimension = _cue(norm, m, end, rules)
        end = m.span[1]
        if not dimension:
            if m.kind == "weight":
                dimension = "weight"
            else:
                free = [
                    str(d)
                    for d, spec in dims.items()
                    if spec.get("uncued") and all(g.dimension != d for g in out)
                ]
                dimension = free[0] if free else ""
        given = _read(m, dimension, chart, rules) if dimension else None
        if given is None or any(g.dimension == given.dimension for g in out):
            unread += 1
            continue
        out.append(given)
    return out, unread


def _fitting(column: ChartColumn, value: float) -> tuple[list[int], str]:
    """Rows whose range holds ``value`` (for garment measures: the smallest that is at least
    it), and "" or why none does ("below", "above", "gap")."""
    ranges = column.ranges
    known = [(i, r) for i, r in enumerate(ranges) if r is not None]
    if not known:
        return [], "gap"
    if column.points:
        values = sorted({r[0] for _, r in known})
        if value > values[-1] + 1e-9:
            return [], "above"
        step = (values[-1] - values[0]) / max(1, len(values) - 1) or values[0] * 0.05
        if value < values[0] - 2 * step:
            return [], "below"
        least = min(v for v in values if v >= value - 1e-9)
        return [i for i, r in known if r[0] == least], ""
    # half a step of the unit as written: 150-155 and 156-160 meet at 155.5; 18.0-18.5 and
    # 18.6-19.0 at 18.55
    factor = UNITS[column.unit][1] if column.unit in UNITS else 1.0
    whole = all(round(b / factor, 6).is_integer() for _, r in known for b in r if math.isfinite(b))
    eps = (0.5 if whole else 0.05) * factor
    rows = [i for i, r in known if r[0] - eps <= value <= r[1] + eps]
    if rows:
        return rows, ""
    low, high = _span_of(column)
    if value < low:
        return [], "below"
    if value > high:
        return [], "above"
    return [], "gap"


def advise(
    text: str, title: str, charts: Sequence[SizeChart], rules: Mapping[str, Any]
) -> SizeAdvice | None:
    """The size for the shopper's measures in ``text``, or None when it gives none the
    product's charts measure."""
    best: tuple[int, int, SizeChart, list[Given], int] | None = None
    for n, chart in enumerate(charts):
        found, unread = givens(text, chart, rules)
        checked = sum(chart.column(g.dimension) is not None for g in found)
        if checked and (best is None or (checked, -n) > (best[0], -best[1])):
            best = (checked, n, chart, found, unread)
    if best is None:
        return None
    _, _, chart, found, unread = best
    reasons: list[str] = []
    per_dim: list[tuple[Given, list[int], str]] = []
    for g in found:
        column = chart.column(g.dimension)
        if column is None:
            reasons.append(f"the chart has no {g.dimension} column to check {g.said}")
            continue
        rows, why = _fitting(column, g.value)
        per_dim.append((g, rows, why))
        if column.assumed or column.mixed:
            reasons.append(f"the chart's {column.header} column has no clear unit")
        if g.guessed:
            reasons.append(f"the unit of {g.said} is a guess")
    if unread:
        reasons.append(f"{unread} number(s) of the question could not be read as a measure")
    labels = chart.labels
    outside = [(g, why) for g, rows, why in per_dim if not rows]
    cited = sorted({chart.rows[i] for _, rows, _ in per_dim for i in rows if i < len(chart.rows)})
    said = "、".join(_said(g, chart) for g, _, _ in per_dim)
    if outside:
        g, why = outside[0]
        column = chart.column(g.dimension)
        assert column is not None
        low, high = _span_of(column)
        where = {"above": "超出了", "below": "低于", "gap": "不在"}[why]
        reasons.insert(0, f"{g.said} is {why} the chart")
        text_out = (
            f"亲，您的{_said(g, chart)}{where}这款{title}尺码表的范围"
            f"（{column.header}：{_range_text(column, low, high)}），"
            "为了不让您买错，小二帮您转人工确认一下哦～"
        )
        return SizeAdvice(chart, text_out, False, cited or chart.rows[:1], reasons)
    sets = [set(rows) for _, rows, _ in per_dim]
    common = set.intersection(*sets) if sets else set()
    if len(common) == 1:
        (row,) = common
        dims_checked = {g.dimension for g, _, _ in per_dim}
        one_number = len(dims_checked) < min(2, len(chart.columns))
        if one_number:
            reasons.append("one measure of a chart that measures several: not enough alone")
        if not any(rows == [row] for _, rows, _ in per_dim):
            # every measure sits on a boundary (165 of 160-165 / 165-170): no measure decides
            reasons.append("no measure points to this size alone")
        basis = "，".join(
            f"{h}：{c}" for h, c in zip(chart.header, chart.cells[row], strict=False) if h and c
        )
        size = _size(chart, labels[row])
        text_out = f"亲，按这款{title}的尺码表，{said}建议选{size}（{basis}）。"
        rows_cited = [chart.rows[row]] if row < len(chart.rows) else []
        return SizeAdvice(chart, text_out, not reasons, rows_cited, reasons)
    if common:
        names = "或".join(_size(chart, labels[i]) for i in sorted(common))
        reasons.insert(0, f"the measures fit {len(common)} sizes")
        text_out = (
            f"亲，按这款{title}的尺码表，{said}在{names}之间，喜欢宽松选大一码、合身选小一码哦～"
        )
        return SizeAdvice(chart, text_out, False, cited, reasons)
    parts = [
        f"按{_said(g, chart)}建议{'或'.join(_size(chart, labels[i]) for i in rows)}"
        for g, rows, _ in per_dim
    ]
    reasons.insert(0, "the measures point to different sizes")
    text_out = f"亲，这款{title}{'，'.join(parts)}，两者不一致，建议参考胸围/腰围等实际尺寸再确认，或由客服帮您判断哦～"
    return SizeAdvice(chart, text_out, False, cited, reasons)


def fitting_labels(
    text: str, charts: Sequence[SizeChart], rules: Mapping[str, Any]
) -> list[tuple[str, int]]:
    """(label, chunk) of the rows of ``charts`` every measure of ``text`` a chart measures
    falls in (身高130 → 36寸 of a 125-145 row): what a recommendation picks the version by.
    Empty when no chart measures one, or the measures agree on no row."""
    for chart in charts:
        found, _ = givens(text, chart, rules)
        sets = [
            set(_fitting(column, g.value)[0])
            for g in found
            if (column := chart.column(g.dimension)) is not None
        ]
        common = set.intersection(*sets) if sets else set()
        if common:
            return [
                (chart.labels[i], chart.rows[i] if i < len(chart.rows) else -1)
                for i in sorted(common)
            ]
    return []


_NAMES = {"height": "身高", "weight": "体重", "foot": "脚长"}


def _said(g: Given, chart: SizeChart) -> str:
    column = chart.column(g.dimension)
    name = re.sub(r"[（(].*", "", column.header) if column else g.dimension
    for prefix in ("建议", "适合", "参考"):
        name = name.removeprefix(prefix)
    return f"{name}{g.said}"


def _size(chart: SizeChart, label: str) -> str:
    """A size as said: "M码", "27码（M）"; a row named by another column ("标准款") as is."""
    if not chart.sized:
        return label
    head, _, rest = label.partition("（")
    return f"{head}码" + (f"（{rest}" if rest else "")


def _range_text(column: ChartColumn, low: float, high: float, factor: float | None = None) -> str:
    if factor is None:
        factor = UNITS[column.unit][1] if column.unit in UNITS else 1.0
    lo = f"{round(low / factor, 1):g}"
    if not math.isfinite(high):
        return f"{lo}以上"
    hi = f"{round(high / factor, 1):g}"
    return lo if lo == hi else f"{lo}-{hi}"
