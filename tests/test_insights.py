"""Insights over conversation logs (issue 9): a generated 5,000-conversation log with planted
questions, gaps, complaint themes and peaks must come back out of the report."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kefu_copilot.insights._analyze import analyze, normalize_question
from kefu_copilot.insights._logfile import (
    ConversationLog,
    ConversationRecord,
    read_logs,
    validate_logs,
)
from kefu_copilot.insights._report import InsightsReport

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_logs", ROOT / "examples/generate_logs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("logs") / "logs.jsonl"
    planted = _generator().generate(ROOT / "knowledge", out, 5000, 7)
    return out, json.loads(planted.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def report(generated: tuple[Path, dict[str, Any]], sample_copilot: Any) -> InsightsReport:
    # the calibrated default: insights judges the answers by support whatever the answer mode
    return analyze(generated[0], sample_copilot)


def _forms(texts: list[str]) -> set[str]:
    return {normalize_question(t) for t in texts}


def test_generated_log_is_valid_and_big_enough(generated: tuple[Path, dict[str, Any]]) -> None:
    path, planted = generated
    assert planted["n"] >= 5000
    assert validate_logs(path) == []
    record = next(iter(read_logs(path)))
    assert record.messages[0].ts is not None and record.messages[0].ts.utcoffset() is not None


def test_top_questions_are_the_planted_frequent_ones(
    report: InsightsReport, generated: tuple[Path, dict[str, Any]]
) -> None:
    planted = generated[1]["frequent_questions"]
    top3 = report.top_questions[:3]
    for question in planted:
        phrasings = _forms(question["phrasings"])
        found = [c for c in top3 if _forms(c.examples) & phrasings]
        assert len(found) == 1, (question["question"], [c.label for c in top3])
        assert found[0].count >= 0.9 * question["count"]
        assert found[0].decisions.get("auto", 0) >= 0.8 * found[0].count
    assert report.conversations == 5000 and report.questions >= 4900
    assert report.top_questions[0].citation  # answered from the shop's own words


def test_gaps_are_the_planted_ones(
    report: InsightsReport, generated: tuple[Path, dict[str, Any]]
) -> None:
    frequent = _forms([p for q in generated[1]["frequent_questions"] for p in q["phrasings"]])
    for gap in generated[1]["gaps"]:
        phrasings = _forms(gap["phrasings"])
        groups = [g for g in report.gaps if _forms(g.examples) & phrasings]
        assert groups, gap["topic"]
        assert sum(g.count for g in groups) >= 0.6 * gap["count"], gap["topic"]
    assert _forms(report.gaps[0].examples) & _forms(
        [p for gap in generated[1]["gaps"] for p in gap["phrasings"]]
    )
    for g in report.gaps:
        assert not _forms(g.examples) & frequent  # covered questions are not gaps
        assert g.proposed_faq.needs_review and g.proposed_faq.question.endswith("？")
        assert g.decisions and set(g.decisions) <= {"handoff", "draft"}


def test_peaks_are_the_planted_hours_and_day(
    report: InsightsReport, generated: tuple[Path, dict[str, Any]]
) -> None:
    planted = generated[1]
    assert set(planted["peak_hours"]) <= set(report.peak_hours)
    assert len(report.peak_hours) <= 4
    assert planted["spike_day"] in {d.isoformat() for d in report.peak_days}
    hours = {h.hour: h for h in report.by_hour}
    assert len(hours) == 24 and all(hours[h].peak for h in planted["peak_hours"])
    busy, quiet = hours[20].first_agent_response_s.median, hours[15].first_agent_response_s.median
    assert busy is not None and quiet is not None and busy > quiet  # agents are slower at peaks


def test_complaint_themes_are_found(
    report: InsightsReport, generated: tuple[Path, dict[str, Any]]
) -> None:
    courier, quality = generated[1]["complaint_themes"]
    themes = {(t.cause.split()[0], t.subject): t for t in report.complaints.themes}
    slow = themes[("courier", courier["subject"])]
    assert slow.count >= 0.8 * courier["count"]
    assert slow.peak_day is not None and slow.peak_day.isoformat() in courier["days"]
    products = [t for t in report.complaints.themes if t.cause.startswith("quality")]
    assert products[0].subject and quality["title"] in products[0].subject
    assert products[0].count >= 0.6 * quality["count"]
    assert report.complaints.themes[0] in (slow, products[0])
    assert sum(products[0].emotions.values()) == products[0].count
    assert report.complaints.by_product[0].subject == products[0].subject


def test_service_figures(report: InsightsReport) -> None:
    o = report.overall
    assert o.conversations == 5000 and o.bot_conversations == 5000
    for rate in (o.auto_rate, o.escalation_rate, o.resolution_rate, o.satisfied_share):
        assert rate is not None and 0 < rate < 1
    assert o.auto_rate + o.escalation_rate == pytest.approx(1.0, abs=1e-3)
    assert o.first_response_s.median is not None and o.first_response_s.median <= 3
    assert o.rating_mean is not None and 1 <= o.rating_mean <= 5
    assert sum(h.conversations for h in report.by_hour) == 5000
    assert sum(report.by_day.values()) == 5000


def test_json_round_trip(report: InsightsReport, tmp_path: Path) -> None:
    path = report.save(tmp_path / "out" / "report.json")
    loaded = InsightsReport.load(path)
    assert loaded == report
    assert json.loads(path.read_text(encoding="utf-8"))["conversations"] == 5000


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_html_report_opens_offline(report: InsightsReport, tmp_path: Path) -> None:
    path = report.save_html(tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 5
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.stack and {"html", "body", "table", "svg", "figure"} <= checker.tags
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "http://" not in page and "https://" not in page
    fragment = report._repr_html_()
    assert "<svg" in fragment and "<html" not in fragment


def test_html_without_matplotlib_says_which_extra(
    report: InsightsReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu_copilot import MissingExtraError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError) as info:
        report.to_html()
    assert info.value.extra == "insights" and "matplotlib" in str(info.value)


def _line(cid: str, text: str = "几天能发货", **extra: Any) -> str:
    messages = [{"role": "customer", "text": text, "ts": "2024-11-11T20:00:00+08:00"}]
    messages.append(
        {"role": "bot", "text": "亲，48小时内发货哦", "ts": "2024-11-11T20:00:02+08:00"}
    )
    return json.dumps({"id": cid, "messages": messages, **extra}, ensure_ascii=False)


def test_malformed_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    lines = [
        _line("a", rating=5, resolved=True),
        "{not json",
        "",
        _line("b", rating=9),
        json.dumps({"id": "c", "messages": [{"role": "robot", "text": "hi"}]}),
        _line("d", "卫衣会起球吗"),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = analyze(path)
    assert result.conversations == 2 and result.malformed_lines == 3
    assert [i.line for i in result.issues] == [2, 4, 5]
    assert "rating" in result.issues[1].problem and "role" in result.issues[2].problem
    assert str(result.issues[0]).startswith(f"{path}:2: not valid JSON")
    assert result.overall.first_response_s.median == 2.0
    assert result.notes  # no shop: says what was not analysed
    with pytest.raises(ValueError, match=":2:"):
        list(read_logs(path, strict=True))


def test_empty_log_gives_a_clear_report(tmp_path: Path, sample_copilot: Any) -> None:
    from rich.console import Console

    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    result = analyze(path, sample_copilot)
    assert result.conversations == 0 and result.questions == 0 and result.top_questions == []
    assert result.overall.auto_rate is None and result.peak_hours == [] and result.by_day == {}
    assert result.complaints.conversations == 0 and result.gaps == []
    page = result.to_html()
    assert "No knowledge gaps found" in page
    console = Console(record=True, width=120)
    console.print(result)
    assert "0 conversations" in console.export_text()


def test_in_memory_conversations_and_jddc_shape() -> None:
    from kefu_copilot import Conversation

    jddc = {
        "dialogue_id": "d1",
        "overall_label": "dissatisfied",
        "turns": [
            {"role": "customer", "text": "快递太慢了，都五天了还没到", "intent": "x"},
            {"role": "agent", "text": "亲，帮您催一下"},
        ],
    }
    items = [Conversation.of("包邮吗"), jddc, {"messages": "nope"}]
    result = analyze(items)
    assert result.conversations == 2 and result.malformed_lines == 1
    assert result.complaints.conversations == 1
    assert result.complaints.by_cause[0].examples == ["快递太慢了，都五天了还没到"]


def test_conversation_log_appends_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "live" / "log.jsonl"
    path.parent.mkdir()
    path.write_text(_line("old") + "\n" + _line("torn")[:25], encoding="utf-8")  # a crash
    log = ConversationLog(path, fsync=True)

    def worker(n: int) -> None:
        for i in range(40):
            record = ConversationRecord.model_validate(json.loads(_line(f"t{n}-{i}")))
            log.append(record, rating=4, resolved=True, tags=["live"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    reader = read_logs(path)
    records = list(reader)
    assert len(records) == 241 and log.appended == 240
    assert [i.line for i in reader.issues] == [2]  # only the torn line is lost
    assert all(r.tags == ["live"] and r.rating == 4 for r in records[1:])
    with ConversationLog(path) as again, pytest.raises(ValueError):
        again.append({"id": "x", "messages": []})  # validated first: nothing is written
    assert path.read_text(encoding="utf-8").endswith("\n")


def test_record_timing() -> None:
    record = ConversationRecord.model_validate(
        {
            "id": "t",
            "messages": [
                {"role": "customer", "text": "在吗", "ts": "2024-11-11T10:00:00"},
                {"role": "bot", "text": "在的", "ts": "2024-11-11T10:00:03"},
                {"role": "agent", "text": "您好", "ts": "2024-11-11T10:01:00"},
                {"role": "customer", "text": "谢谢", "ts": "2024-11-11T10:05:00"},
            ],
        }
    )
    t = record.timing()
    assert (t.first_response_s, t.first_agent_response_s, t.handling_s) == (3.0, 60.0, 300.0)
    assert t.bot and t.agent and t.escalated


def test_cli_writes_json_and_html(
    generated: tuple[Path, dict[str, Any]], sample_copilot: Any, tmp_path: Path
) -> None:
    from kefu_copilot.cli._insights import main

    small = tmp_path / "small.jsonl"
    small.write_text(
        "".join(generated[0].read_text(encoding="utf-8").splitlines(True)[:300]) + "{oops\n",
        encoding="utf-8",
    )
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    argv = ["insights", str(small), "--shop", str(sample_copilot.shop_dir)]
    argv += ["--index", str(sample_copilot.index_dir), "--embed-model", "none"]
    assert main([*argv, "--json", str(out_json), "--html", str(out_html)]) == 0
    assert InsightsReport.load(out_json).conversations == 300
    assert InsightsReport.load(out_json).malformed_lines == 1
    assert "<svg" in out_html.read_text(encoding="utf-8")
    assert main(["insights", str(tmp_path / "missing.jsonl")]) == 2
