"""The insights report rendered: a self-contained HTML page with matplotlib charts (SVG inlined;
no scripts, no network; opens offline and in notebooks) and rich tables for the terminal."""

from __future__ import annotations

import html
import io
import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import MissingExtraError

if TYPE_CHECKING:
    from ..insights._report import InsightsReport, KnowledgeGap

__all__ = ["report_html", "report_renderable"]


# -- shared formatting ----------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    if value is None or value < 120:
        return "—" if value is None else f"{value:.0f}s"
    return f"{value / 60:.1f}min" if value < 7200 else f"{value / 3600:.1f}h"


def _rating(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _counts(d: dict[str, int], limit: int = 4) -> str:
    return " · ".join(f"{k} {v}" for k, v in list(d.items())[:limit]) or "—"


def _kpis(r: InsightsReport) -> list[tuple[str, str]]:
    o = r.overall
    return [
        ("conversations 对话", f"{r.conversations:,}"),
        ("first response 首响 (median)", _secs(o.first_response_s.median)),
        ("first agent response 人工首响", _secs(o.first_agent_response_s.median)),
        ("handling time 处理时长 (mean)", _secs(o.handling_s.mean)),
        ("bot auto-answer 机器人独立解答", _pct(o.auto_rate)),
        ("escalation 转人工", _pct(o.escalation_rate)),
        ("resolution 解决率", _pct(o.resolution_rate)),
        ("rating 评分 (≥4)", f"{_rating(o.rating_mean)} ({_pct(o.satisfied_share)})"),
        ("emotion escalations 情绪/风险升级", _pct(o.upset_rate)),
        ("complaints 投诉/抱怨", f"{r.complaints.conversations:,} ({_pct(r.complaints.rate)})"),
    ]


# -- charts ----------------------------------------------------------------------------------
_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"]
_FONTS += ["WenQuanYi Micro Hei", "SimHei", "DejaVu Sans"]
_ACCENT, _BASE = "#d1495b", "#2e86ab"
_RC = {"svg.fonttype": "none", "font.family": _FONTS, "font.size": 9}
_RC |= {"axes.spines.top": False, "axes.spines.right": False}


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("the HTML insights report", "matplotlib", "insights") from None
    return matplotlib, Figure


def _svg(fig: Any, n: int) -> str:
    """The figure as inline SVG: text kept as text (CJK fonts from the browser), unique ids."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg[svg.index("<svg") :], flags=re.S)
    svg = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", svg)  # inline SVG needs no namespaces
    svg = svg.replace('id="', f'id="c{n}-').replace("url(#", f"url(#c{n}-")
    return svg.replace('href="#', f'href="#c{n}-')


def _hour_charts(r: InsightsReport, Figure: Any) -> list[tuple[str, str]]:
    hours = [h.hour for h in r.by_hour]
    fig = Figure(figsize=(9.5, 3.0))
    ax = fig.subplots()
    colors = [_ACCENT if h.peak else _BASE for h in r.by_hour]
    ax.bar(hours, [h.conversations for h in r.by_hour], color=colors)
    ax.set_xticks(hours, [f"{h:02d}" for h in hours])
    ax.set_xlabel("hour of day 时段 (red: peak)")
    ax.set_ylabel("conversations")
    agent = [h.first_agent_response_s for h in r.by_hour]
    waits = [s.median if s.n >= 10 else None for s in agent]  # medians of >= 10 waits only
    if any(w is not None for w in waits):
        ax2 = ax.twinx()
        minutes = [w / 60 if w is not None else float("nan") for w in waits]
        ax2.plot(hours, minutes, color="#333333", marker="o", markersize=3, linewidth=1.2)
        ax2.set_ylabel("agent first response, median (min)")
        ax2.spines["top"].set_visible(False)
    return [("Conversations by hour · 每小时对话量与人工首响", _svg(fig, 1))]


def _bars(Figure: Any, items: list[tuple[str, int]], color: str, n: int) -> str:
    fig = Figure(figsize=(9.5, 0.32 * len(items) + 0.6))
    ax = fig.subplots()
    labels = [label if len(label) <= 24 else label[:23] + "…" for label, _ in items]
    ax.barh(labels[::-1], [v for _, v in items][::-1], color=color)
    ax.bar_label(ax.containers[0], padding=3, fontsize=8)
    return _svg(fig, n)


def _charts(r: InsightsReport) -> list[tuple[str, str]]:
    """(caption, inline SVG) of every chart that has data."""
    matplotlib, Figure = _matplotlib()
    out: list[tuple[str, str]] = []
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)  # "font family not found" for the fonts we do not have
    try:
        with matplotlib.rc_context(_RC), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # glyphs missing from the measuring font
            if r.by_hour:
                out += _hour_charts(r, Figure)
            if r.by_day:
                fig = Figure(figsize=(9.5, 2.6))
                ax = fig.subplots()
                colors = [_ACCENT if d in r.peak_days else _BASE for d in r.by_day]
                days = [d.isoformat()[5:] for d in r.by_day]
                ax.bar(days, list(r.by_day.values()), color=colors)
                ax.tick_params(axis="x", labelrotation=45 if len(r.by_day) > 10 else 0)
                out.append(("Conversations by day · 每日对话量 (red: peak)", _svg(fig, 3)))
            causes = [(t.cause, t.count) for t in r.complaints.by_cause]
            bars = [
                ("Top questions · 热门问题", [(c.label, c.count) for c in r.top_questions[:12]]),
                ("Knowledge gaps · 知识缺口", [(g.label, g.count) for g in r.gaps[:10]]),
                ("Complaint causes · 投诉原因", causes),
            ]
            for n, (caption, items) in enumerate(bars, start=4):
                if items:
                    out.append((caption, _bars(Figure, items, _ACCENT if n == 5 else _BASE, n)))
    finally:
        font_log.setLevel(level)
    return out


# -- HTML -------------------------------------------------------------------------------------
_CSS = """.kefu-insights{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",
sans-serif;color:#1f2933;max-width:1180px;margin:0 auto;padding:16px;line-height:1.45}
.kefu-insights h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #e4e7eb}
.kefu-insights .meta{color:#616e7c;font-size:13px} .kefu-insights .kpi span{font-size:12px}
.kefu-insights .kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0} .kefu-insights h1{margin:0}
.kefu-insights .kpi{background:#f5f7fa;border-radius:8px;padding:8px 12px;min-width:150px}
.kefu-insights .kpi b{display:block;font-size:20px} .kefu-insights th{background:#f5f7fa}
.kefu-insights table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px}
.kefu-insights td,.kefu-insights th{border-bottom:1px solid #e4e7eb;padding:5px 7px;text-align:left}
.kefu-insights td{vertical-align:top} .kefu-insights td.n{text-align:right}
.kefu-insights .review{color:#b7791f} .kefu-insights figure{margin:8px 0}
.kefu-insights .peak{color:#d1495b;font-weight:bold} .kefu-insights svg{max-width:100%;height:auto}
.kefu-insights figcaption{font-weight:bold;font-size:14px}"""
_esc = html.escape


Column = tuple[str, Callable[[Any], str]]  # header, cell (HTML) of an item
_N = "#"  # headers starting with this are right-aligned (numbers)


def _table(items: list[Any], columns: list[Column]) -> str:
    head = "".join(f"<th>{_esc(h.lstrip(_N))}</th>" for h, _ in columns)
    td = {True: "<td class=n>{}</td>", False: "<td>{}</td>"}
    body = "".join(
        "<tr>" + "".join(td[h.startswith(_N)].format(cell(x)) for h, cell in columns) + "</tr>"
        for x in items
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _gap_cell(g: KnowledgeGap) -> str:
    faq = g.proposed_faq
    answer = _esc(faq.answer) or "<i>no related knowledge: write the answer</i>"
    where = _esc(f"{faq.source or '—'} {faq.locator or ''}")
    return (
        f"<b>Q:</b> {_esc(faq.question)}<br><b>A:</b> {answer}<br>"
        f"<span class='review'>needs review · closest: {where}</span>"
    )


_QUESTION: list[Column] = [
    ("question 问题", lambda c: f"<b>{_esc(c.label)}</b>"),
    ("#n", lambda c: str(c.count)),
    ("#share", lambda c: _pct(c.share)),
    ("decisions", lambda c: _esc(_counts(c.decisions))),
    ("keywords", lambda c: _esc(" ".join(c.keywords))),
    ("examples", lambda c: _esc(" | ".join(c.examples))),
]
_GAP: list[Column] = [
    *_QUESTION[:2],
    _QUESTION[3],
    ("#confidence", lambda g: f"{g.mean_confidence:.2f}"),
    ("examples", lambda g: _esc(" | ".join(g.examples))),
    ("proposed FAQ entry (draft from the closest knowledge)", _gap_cell),
]
_THEME: list[Column] = [
    ("cause", lambda t: _esc(t.cause)),
    ("subject", lambda t: _esc(t.subject or "—")),
    ("#n", lambda t: str(t.count)),
    ("emotions", lambda t: _esc(_counts(t.emotions))),
    ("risks", lambda t: _esc(_counts(t.risks))),
    ("#escalated", lambda t: str(t.escalated)),
    ("peak day", lambda t: f"{t.peak_day or '—'} ({t.peak_day_count})"),
    ("examples", lambda t: _esc(" | ".join(t.examples[:3]))),
]
_HOUR: list[Column] = [
    (
        "hour",
        lambda h: f"<span class='peak'>{h.hour:02d}:00 ★</span>" if h.peak else f"{h.hour:02d}:00",
    ),
    ("#n", lambda h: str(h.conversations)),
    ("#first resp.", lambda h: _secs(h.first_response_s.median)),
    ("#agent first resp.", lambda h: _secs(h.first_agent_response_s.median)),
    ("#handling", lambda h: _secs(h.handling_s.median)),
    ("#auto", lambda h: _pct(h.auto_rate)),
    ("#escalated", lambda h: _pct(h.escalation_rate)),
    ("#resolved", lambda h: _pct(h.resolution_rate)),
    ("#rating", lambda h: _rating(h.rating_mean)),
    ("#≥4", lambda h: _pct(h.satisfied_share)),
]


def _sections(r: InsightsReport) -> list[str]:
    c = r.complaints
    cited = ("answered from", lambda q: _esc(q.citation or "—"))
    out = ["<h2>Top questions · 热门问题</h2>", _table(r.top_questions, [*_QUESTION, cited])]
    out.append("<h2>Knowledge gaps · 知识缺口 (proposed FAQ entries need review)</h2>")
    out.append(_table(r.gaps, _GAP) if r.gaps else "<p>No knowledge gaps found.</p>")
    out.append(f"<h2>Complaints · 投诉与抱怨: {c.conversations:,} ({_pct(c.rate)})</h2>")
    for heading, themes in (("by cause and subject", c.themes), ("by cause", c.by_cause)):
        out += [f"<h3>{heading}</h3>", _table(themes, _THEME)] if themes else []
    if c.by_product:
        out += ["<h3>by product</h3>", _table(c.by_product, _THEME[1:])]
    if r.by_hour:
        out += ["<h2>Service by hour · 分时段服务</h2>", _table(r.by_hour, _HOUR)]
    if r.handoff_reasons:
        reasons: list[Column] = [("reason", lambda kv: _esc(kv[0])), ("#n", lambda kv: str(kv[1]))]
        out.append("<h2>Other handoffs · 其他转人工原因</h2>")
        out.append(_table(list(r.handoff_reasons.items()), reasons))
    notes = [*r.notes, *(f"skipped {i}" for i in r.issues[:50])]
    if notes:
        out.append("<h2>Notes · 说明</h2><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in notes))
        out.append("</ul>")
    return out


def report_html(r: InsightsReport, *, title: str | None = None, fragment: bool = False) -> str:
    """The report as HTML: charts (inline SVG) and tables. ``fragment``: a ``<div>`` only."""
    charts = _charts(r)
    name = _esc(title or f"客服洞察 Insights · {Path(r.source).name}")
    meta = (
        f"{_esc(r.source)} · shop {_esc(r.shop or '—')} · generated "
        f"{r.generated_at:%Y-%m-%d %H:%M} in {r.seconds:.1f}s · {r.questions:,} questions "
        f"({r.distinct_questions:,} distinct, {r.clusters:,} clusters) · "
        f"{r.malformed_lines} malformed lines skipped"
    )
    out = [f"<div class='kefu-insights'><style>{_CSS}</style><h1>{name}</h1>"]
    out += [f"<p class='meta'>{meta}</p><div class='kpis'>"]
    out += [f"<div class='kpi'><b>{_esc(v)}</b><span>{_esc(k)}</span></div>" for k, v in _kpis(r)]
    out.append("</div>")
    if r.peak_hours or r.peak_days:
        hours = ", ".join(f"{h:02d}:00–{h + 1:02d}:00" for h in r.peak_hours) or "—"
        days = ", ".join(d.isoformat() for d in r.peak_days) or "—"
        out.append(f"<p>Peak hours 高峰时段: <span class='peak'>{hours}</span> · ")
        out.append(f"peak days 高峰日: <span class='peak'>{days}</span></p>")
    out += [f"<figure><figcaption>{_esc(t)}</figcaption>{svg}</figure>" for t, svg in charts]
    body = "".join([*out, *_sections(r), "</div>"])
    if fragment:
        return body
    head = "<meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
    return (
        f"<!DOCTYPE html>\n<html lang='zh-CN'><head>{head}<title>{name}</title></head>"
        f"<body>{body}</body></html>\n"
    )


# -- rich ---------------------------------------------------------------------------------------
def _rich_table(title: str, columns: str, rows: list[list[str]], **options: Any) -> Any:
    """A rich table; ``columns`` separated by "|", a leading "#" right-aligns (numbers)."""
    from rich.table import Table

    table = Table(title=title, **options)
    for name in columns.split("|"):
        right = name.startswith("#") and len(name) > 1
        table.add_column(name.lstrip("#") or "#", justify="right" if right else "left")
    for row in rows:
        table.add_row(*row)
    return table


def report_renderable(r: Any, *, rows: int = 12) -> Any:
    """Rich tables: headline figures, top questions, gaps, complaint themes, hours."""
    from rich.console import Group
    from rich.markup import escape as esc

    skipped = f" · [yellow]{r.malformed_lines} malformed lines skipped[/]"
    parts: list[Any] = [
        f"[bold]{esc(r.source)}[/] · {r.conversations:,} conversations · "
        f"{r.questions:,} questions ({r.distinct_questions:,} distinct) · {r.seconds:.1f}s"
        + (skipped if r.malformed_lines else ""),
        _rich_table("service 服务", "figure|#value", [list(kv) for kv in _kpis(r)]),
    ]
    questions = [
        [
            str(i),
            esc(c.label),
            str(c.count),
            _pct(c.share),
            _counts(c.decisions),
            " ".join(c.keywords),
        ]
        for i, c in enumerate(r.top_questions[:rows], 1)
    ]
    head = "#|question|#n|#share|decisions|keywords"
    parts.append(_rich_table("top questions 热门问题", head, questions, expand=True))
    gaps = []
    for i, g in enumerate(r.gaps[:rows], 1):
        faq = g.proposed_faq
        answer = esc(faq.answer[:120] or "— (no related knowledge)")
        where = esc(f"{faq.source or ''} {faq.locator or ''}")
        gaps.append([str(i), esc(g.label), str(g.count), f"{g.mean_confidence:.2f}", answer, where])
    head = "#|question|#n|#conf|proposed answer (needs review)|from"
    none = "[dim]no knowledge gaps found[/]"
    parts.append(_rich_table("knowledge gaps 知识缺口", head, gaps, expand=True) if gaps else none)
    themes = [
        [
            esc(t.cause),
            esc(t.subject or "—"),
            str(t.count),
            _counts(t.emotions),
            _counts(t.risks, 3),
            f"{t.peak_day or '—'} ({t.peak_day_count})",
            esc(t.examples[0] if t.examples else ""),
        ]
        for t in (r.complaints.themes or r.complaints.by_cause)[:rows]
    ]
    head = "cause|subject|#n|emotions|risks|peak day|example"
    parts.append(_rich_table("complaint themes 投诉主题", head, themes, expand=True))
    hours = [
        [
            f"{'★ ' if h.peak else ''}{h.hour:02d}:00",
            str(h.conversations),
            _secs(h.first_response_s.median),
            _secs(h.first_agent_response_s.median),
            _pct(h.auto_rate),
            _pct(h.resolution_rate),
            _rating(h.rating_mean),
        ]
        for h in r.by_hour
    ]
    head = "#hour|#n|#first resp.|#agent resp.|#auto|#resolved|#rating"
    parts += [_rich_table("by hour 按小时 (★ peak)", head, hours)] if hours else []
    parts += [f"[yellow]{esc(str(i))}[/]" for i in r.issues[:10]]
    parts += [f"[dim]note: {esc(n)}[/]" for n in r.notes]
    return Group(*parts)
