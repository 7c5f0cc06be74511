"""Answers, routed turns and ingestion reports as HTML, for notebooks (``_repr_html_``).

Everything shown is escaped: answer text and citations come from the shop's knowledge files and
customer messages, neither of which may inject markup or script into a notebook.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ._text import describe_call, describe_emotion

if TYPE_CHECKING:
    from .._models import Answer, Citation, IngestReport
    from ..agent._handoff import HandoffPacket
    from ..agent._router import Turn

__all__ = [
    "Row",
    "answer_html",
    "card",
    "citation_rows",
    "decision_badge",
    "esc",
    "handoff_pre",
    "ingest_html",
    "lines",
    "turn_html",
]

_DECISION_COLOR = {"auto": "#2f855a", "draft": "#b7791f", "handoff": "#c53030"}
_STYLE = (
    "<style>.kefu-card{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;"
    "border:1px solid #e4e7eb;border-radius:8px;padding:8px 12px;margin:4px 0;max-width:960px}"
    ".kefu-card table{border-collapse:collapse;font-size:13px}"
    ".kefu-card th{text-align:left;vertical-align:top;padding:3px 10px 3px 0;white-space:nowrap;"
    "color:#52606d;font-weight:600}.kefu-card td{padding:3px 0;vertical-align:top}"
    ".kefu-card .dim{color:#7b8794}.kefu-card pre{white-space:pre-wrap;margin:0;"
    "font-family:inherit}.kefu-card h4{margin:2px 0 6px}</style>"
)
Row = tuple[str, str]  # a label (plain text) and a cell (HTML, already escaped)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def card(kind: str, title: str, rows: Iterable[Row], *extra: str) -> str:
    """A titled box of label / value rows; ``extra`` HTML goes below the table."""
    body = "".join(f"<tr><th>{esc(label)}</th><td>{cell}</td></tr>" for label, cell in rows)
    return (
        f"{_STYLE}<div class='kefu-card {kind}'><h4>{esc(title)}</h4>"
        f"<table><tbody>{body}</tbody></table>{''.join(extra)}</div>"
    )


def decision_badge(decision: str, confidence: float | None = None) -> str:
    badge = f"<b style='color:{_DECISION_COLOR.get(decision, '#1f2933')}'>{esc(decision)}</b>"
    return badge if confidence is None else f"{badge} (confidence {confidence:.2f})"


def lines(items: Sequence[str], css: str = "") -> str:
    attr = f" class='{css}'" if css else ""
    return "<br>".join(f"<span{attr}>{esc(item)}</span>" for item in items)


def citation_rows(citations: Sequence[Citation]) -> list[Row]:
    return [
        (
            "出处 citation",
            f"{esc(c.source)} · {esc(c.locator)}<br>"
            f"<span class='dim'>{esc(c.snippet[:160])}</span>",
        )
        for c in citations
    ]


def _answer_rows(answer: Answer, text: str, decided: str) -> list[Row]:
    rows = [
        ("答复 reply", esc(text)),
        (decided, decision_badge(answer.decision, answer.confidence)),
    ]
    rows += citation_rows(answer.citations)
    if answer.mode == "llm":
        usage = answer.usage
        rows.append(("LLM", f"{usage.prompt_tokens} + {usage.completion_tokens} tokens"))
    return rows


def answer_html(answer: Answer) -> str:
    """The answer, its decision and confidence, its citations and the reasons behind them."""
    rows = _answer_rows(answer, answer.text, "决定 decision")
    if answer.reasons:
        rows.append(("原因 reasons", lines(answer.reasons, "dim")))
    return card("kefu-answer", answer.question, rows)


def turn_html(turn: Turn) -> str:
    """A routed message: the decision, reply, emotion and risks, tool calls, writes awaiting
    approval and — on a handoff — the packet for the human agent."""
    rows: list[Row] = [("路由 decision", decision_badge(turn.decision))]
    rows += _answer_rows(turn.answer, turn.text, "知识答复 answer")
    rows.append(("情绪 emotion", esc(describe_emotion(turn.emotion))))
    if turn.emotion.risk:
        risks = esc(", ".join(turn.emotion.risk))
        rows.append(("风险 risks", f"<b style='color:{_DECISION_COLOR['handoff']}'>{risks}</b>"))
    if turn.intent:
        rows.append(("意图 intent", esc(turn.intent)))
    for result in turn.tool_results:
        outcome = "ok" if result.ok else f"failed: {result.error}"
        call = describe_call(result.name, result.arguments)
        rows.append(("工具 tool", f"{esc(call)} → {esc(outcome)}"))
    for action in turn.pending_actions:
        what = action.summary or describe_call(action.tool, action.arguments)
        rows.append(
            ("待审批 pending", f"{esc(what)} <span class='dim'>(id {esc(action.id)})</span>")
        )
    if turn.asked_for:
        rows.append(("追问 asks for", esc(turn.asked_for)))
    if turn.reasons:
        rows.append(("原因 reasons", lines(turn.reasons, "dim")))
    packet = ""
    if turn.handoff is not None:
        packet = f"<h4>转人工 handoff packet</h4>{handoff_pre(turn.handoff)}"
    return card("kefu-turn", turn.message, rows, packet)


def handoff_pre(packet: HandoffPacket) -> str:
    """A handoff packet as the shop's handoff rules render it, preformatted and escaped."""
    return f"<pre class='kefu-handoff'>{esc(packet.render())}</pre>"


def ingest_html(report: IngestReport) -> str:
    """What an ingestion run changed, the chunks indexed and the files it skipped or flagged."""

    def files(names: Sequence[str]) -> str:
        shown = ", ".join(names[:6]) + (f" … +{len(names) - 6}" if len(names) > 6 else "")
        return f"{len(names)} <span class='dim'>{esc(shown)}</span>"

    rows: list[Row] = [
        ("added", files(report.files_added)),
        ("updated", files(report.files_updated)),
        ("removed", files(report.files_removed)),
        ("unchanged", files(report.files_unchanged)),
        ("chunks", f"{report.chunks_total} ({report.chunks_embedded} embedded now)"),
        ("retrieval", "hybrid (BM25 + dense)" if report.dense else "lexical only (BM25)"),
        ("seconds", f"{report.seconds:.2f}"),
    ]
    rows += [(f"{i.kind}", f"{esc(i.source)}: {esc(i.problem)}") for i in report.issues[:50]]
    if len(report.issues) > 50:
        rows.append(("…", f"{len(report.issues) - 50} more issues"))
    title = f"ingest → {report.index_dir} (generation {report.generation})"
    return card("kefu-ingest", title, rows)
