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
