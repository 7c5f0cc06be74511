"""Notebook display: Answer, Turn and IngestReport render as escaped, well-formed HTML."""

from __future__ import annotations

from html.parser import HTMLParser

from kefu_copilot import Answer, IngestReport
from kefu_copilot._models import Citation, FileIssue

_VOID = {"br", "meta", "hr", "img", "input", "link"}
SCRIPT = "<script>alert('x')</script>"


class _Balance(HTMLParser):
    """Every element opened is closed, in order; collects the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Balance:
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert not checker.problems and not checker.stack, (checker.problems, checker.stack)
    return checker


def _answer(text: str = "付款后48小时内发货。") -> Answer:
    return Answer(
        question="几天发货？<b>",
        text=text,
        decision="draft",
        confidence=0.72,
        citations=[
            Citation(source="faq/faq.csv", locator="第3行", snippet="48小时内发货", score=0.8)
        ],
        reasons=["best match: faq/faq.csv"],
    )


def test_answer_html_shows_decision_and_citations() -> None:
    page = _answer()._repr_html_()
    doc = parse(page)
    text = "".join(doc.text)
    assert "draft" in text and "0.72" in text
    assert "faq/faq.csv" in text and "第3行" in text and "付款后48小时内发货" in text
    assert "几天发货？<b>" in text  # the question is shown as text, not markup
    assert "script" not in doc.tags


def test_answer_html_escapes_script_in_untrusted_text() -> None:
    answer = _answer(f"亲，{SCRIPT}")
    answer.citations[0] = answer.citations[0].model_copy(update={"snippet": SCRIPT})
    page = answer._repr_html_()
    assert SCRIPT not in page and "&lt;script&gt;" in page
    doc = parse(page)
    assert "script" not in doc.tags and SCRIPT in "".join(doc.text)


def test_turn_html_shows_routing_emotion_and_handoff_packet(sample_copilot) -> None:
    turn = sample_copilot.handle("不赔我100块我就给差评，叫人工来")
    assert turn.decision == "handoff" and turn.handoff is not None
    doc = parse(turn._repr_html_())
    text = "".join(doc.text)
    assert "handoff" in text and turn.emotion.emotion in text
    assert "bad_review_threat" in text  # risk flags
    assert "转人工 handoff packet" in text and "建议下一步" in text


def test_turn_html_escapes_script(sample_copilot) -> None:
    turn = sample_copilot.handle("纯棉圆领T恤会缩水吗")
    turn = turn.model_copy(update={"text": SCRIPT, "message": SCRIPT})
    page = turn._repr_html_()
    assert SCRIPT not in page
    doc = parse(page)
    assert "script" not in doc.tags and turn.decision in "".join(doc.text)


def test_ingest_report_html() -> None:
    report = IngestReport(
        shop_dir="shop",
        index_dir="shop/.kefu-index",
        generation=3,
        files_added=["faq/faq.csv"],
        files_unchanged=["policies/退货.md"],
        chunks_total=12,
        issues=[FileIssue(source=f"faq/{SCRIPT}.csv", problem="not UTF-8")],
    )
    page = report._repr_html_()
    assert SCRIPT not in page
    text = "".join(parse(page).text)
    assert "generation 3" in text and "faq/faq.csv" in text and "12" in text
    assert f"faq/{SCRIPT}.csv" in text and "not UTF-8" in text


# -- the agent-side results: drafts, flags, packets, the pre-sales advisor ---------------------
def _rendered(value: object) -> str:
    """``value`` as a terminal shows it (rich, no colour), to check the text is there."""
    from rich.console import Console

    console = Console(width=160, record=True, color_system=None)
    console.print(value)
    return console.export_text()


def test_draft_html_and_rich_show_changes_citations_and_lint(sample_copilot) -> None:
    draft = sample_copilot.suggest_reply("衣服买回来不喜欢可以退吗", draft="不行，这是规定")[0]
    draft = draft.model_copy(
        update={
            "similar_cases": [c.model_copy(update={"snippet": SCRIPT}) for c in draft.similar_cases]
        }
    )
    page = draft._repr_html_()
    assert SCRIPT not in page
    doc = parse(page)
    text = "".join(doc.text)
    assert draft.text in text and "policies/returns.md" in text
    assert any(c.reason in text for c in draft.changes) and "script" not in doc.tags
    shown = _rendered(draft)
    assert "reply draft" in shown and "policies/returns.md" in shown
    linted = draft.model_copy(update={"lint": sample_copilot.lint_reply("亲,不可以的哦")})
    assert "banned_phrase" in "".join(parse(linted._repr_html_()).text)
    assert "banned_phrase" in _rendered(linted)


def test_flag_and_handoff_packet_render(sample_copilot) -> None:
    flag = sample_copilot.emotion_flag(f"你们再不处理我就打12315投诉{SCRIPT}")
    assert flag.escalate
    page = flag._repr_html_()
    assert SCRIPT not in page
    text = "".join(parse(page).text)
    assert "complaint_threat" in text and "escalate" in text
    assert "complaint_threat" in _rendered(flag)
    turn = sample_copilot.handle("不赔我100块我就给差评，叫人工来")
    assert turn.handoff is not None
    packet_text = "".join(parse(turn.handoff._repr_html_()).text)
    assert turn.handoff.render() in packet_text
    assert "建议下一步" in _rendered(turn.handoff)


def test_recommendation_and_comparison_render(sample_copilot) -> None:
    rec = sample_copilot.recommend("想给妈妈买件卫衣 预算200")
    assert rec.picks
    text = "".join(parse(rec._repr_html_()).text)
    assert rec.picks[0].title in text and "200" in text
    comparison = sample_copilot.compare("卫衣", "跑步鞋")
    doc = parse(comparison._repr_html_())
    text = "".join(doc.text)
    assert all(name in text for name in comparison.names)
    assert all(a in text and b in text for _, a, b in comparison.rows)
    assert "价格" in _rendered(comparison)
