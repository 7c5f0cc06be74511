"""``explain=True``: a trace of how an answer was reached, and nothing extra without it."""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from pathlib import Path

from kefu_copilot import Message, Trace
from kefu_copilot.answer._scoring import SCORING, Scoring
from kefu_copilot.cli._main import main


def test_the_trace_names_the_cited_candidate_with_its_scores(sample_copilot) -> None:
    answer = sample_copilot.answer("退货运费谁出", explain=True)
    trace = answer.trace
    assert isinstance(trace, Trace)
    assert trace.question == "退货运费谁出" and trace.normalized == "退货运费谁出"
    assert trace.rule == "thresholds" and trace.decision == answer.decision
    assert trace.confidence == answer.confidence
    best = trace.candidates[0]
    assert best.rank == 1 and best.cited
    assert best.chunk_id == answer.citations[0].chunk_id
    assert best.source == "faq/faq.csv" and best.kind == "faq"
    # the retrievers' evidence: raw scores with their ranks, and the fused score
    assert best.bm25 > 0 and best.ranks["bm25"] >= 1
    assert best.faq > 0 and best.ranks["faq"] >= 1
    assert best.score > 0 and best.retrieved is not None
    # the support breakdown ends in the support the answer's reasons name (confidence is the
    # calibrated probability since round 8; it is the support with calibrated=False)
    assert best.basis == "faq phrasing"
    assert {"forward", "backward", "faq phrasing"} <= set(best.steps)
    assert f"support {best.support:.2f}" in answer.reasons[0]
    assert list(best.steps.values())[-1] == best.support
    assert [c.rank for c in trace.candidates] == list(range(1, len(trace.candidates) + 1))
    assert trace.scored >= len(trace.candidates) > 1
    settings = sample_copilot.settings
    assert (trace.auto_threshold, trace.draft_threshold) == (
        settings.auto_threshold,
        settings.draft_threshold,
    )


def test_the_trace_names_the_rule_of_a_handoff(sample_copilot) -> None:
    answer = sample_copilot.answer("我要投诉你们", explain=True)
    assert answer.decision == "handoff" and answer.trace is not None
    assert answer.trace.rule == "handoff_rule" and answer.trace.decision == "handoff"
    assert any("keyword" in r for r in answer.trace.reasons)
    assert answer.trace.candidates == []
    assert answer.trace.auto_threshold == sample_copilot.settings.auto_threshold

    courtesy = sample_copilot.answer("谢谢", explain=True)
    assert courtesy.trace is not None and courtesy.trace.rule == "courtesy"

    unknown = sample_copilot.answer("你们卖笔记本电脑吗", explain=True)
    assert unknown.decision == "handoff" and unknown.trace is not None
    assert unknown.trace.rule in ("thresholds", "no_match", "nothing_asked")
    assert unknown.trace.confidence < unknown.trace.draft_threshold


def test_the_trace_shows_the_product_and_the_aspect_asked_about(sample_copilot) -> None:
    trace = sample_copilot.answer("卫衣会起球吗", explain=True).trace
    assert trace is not None and trace.products == ["products/mm-hd-003.md"]
    assert "起球" in trace.terms
    assert any(c.basis == "product aspect" for c in trace.candidates)
    page = [c for c in trace.candidates if c.retrieved is None]
    assert all(c.source == "products/mm-hd-003.md" for c in page)

    history = [Message(role="customer", text="纯棉圆领T恤还有货吗")]
    followup = sample_copilot.answer("那它能机洗吗", history, explain=True).trace
    assert followup is not None and followup.products == ["products/mm-ts-001.md"]
    assert followup.context


def test_answers_without_explain_are_unchanged(sample_copilot) -> None:
    for question in ["啥时候发货啊", "180的男生卫衣穿什么码", "转人工", "支持花呗分期吗"]:
        plain = sample_copilot.answer(question)
        assert plain.trace is None and "trace" not in plain.model_dump()
        assert "trace" not in json.loads(plain.model_dump_json())
        explained = sample_copilot.answer(question, explain=True)
        assert explained.trace is not None
        assert explained.model_dump(exclude={"trace"}) == plain.model_dump()
        assert sample_copilot.answer(question, explain=False) == plain


def test_a_trace_renders_as_a_rich_table(sample_copilot) -> None:
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(sample_copilot.answer("买多少钱能包邮呀", explain=True).trace)
    text = console.export_text()
    for label in ("normalized", "candidates", "bm25", "support", "rule", "thresholds", "auto"):
        assert label in text
    assert "faq/faq.csv" in text


def test_each_stage_logs_at_debug_level(sample_copilot, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="kefu_copilot"):
        sample_copilot.answer("退货运费谁出")
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("read '退货运费谁出'") for m in messages)
    assert any(m.startswith("retrieve '退货运费谁出'") for m in messages)
    assert any(m.startswith("decision auto") for m in messages)


def test_retrieval_takes_the_query_as_read(sample_copilot) -> None:
    answerer = sample_copilot._current()[1]
    query = answerer.read("退货运费谁出")
    assert query.search_tokens == query.tokens and query.numbers == ()
    by_query = answerer.retriever.retrieve(query, k=5)
    by_text = answerer.retriever.retrieve(query.search_text, k=5)
    assert [(h.chunk.id, h.score) for h in by_query] == [(h.chunk.id, h.score) for h in by_text]
    assert answerer.read("180的男生卫衣穿什么码").numbers == (180.0,)


def test_scoring_blends_sum_to_one() -> None:
    assert isinstance(SCORING, Scoring) and fields(Scoring)
    for a, b in [("word", "bigram"), ("faq_forward", "faq_backward"), ("dense_keep", "dense")]:
        assert abs(getattr(SCORING, a) + getattr(SCORING, b) - 1) < 1e-9
    assert abs(SCORING.aspect_floor + SCORING.aspect_scale - 1) < 1e-9


def test_kefu_ask_explain_prints_the_trace(shop: Path, tmp_path: Path, capsys) -> None:
    common = ["--shop", str(shop), "--index", str(tmp_path / "idx"), "--embed-model", "none"]
    assert main(["ask", "退货运费谁出", *common, "--explain"]) == 0
    out = capsys.readouterr().out
    for label in ("candidates", "bm25", "rule", "thresholds", "thresholds", "decision"):
        assert label in out
    assert main(["ask", "退货运费谁出", *common]) == 0
    assert "thresholds" not in capsys.readouterr().out
    assert main(["ask", "退货运费谁出", *common, "--explain", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trace"]["rule"] == "thresholds" and data["trace"]["candidates"]


def test_an_llm_answer_keeps_the_trace_with_its_own_decision(tmp_path: Path) -> None:
    from kefu_copilot import Copilot
    from kefu_copilot.testing import LoopbackLLMServer

    from .conftest import KNOWLEDGE

    with LoopbackLLMServer() as server:
        copilot = Copilot(
            KNOWLEDGE,
            index_dir=tmp_path / "idx",
            embed_model="none",
            llm_base_url=server.base_url,
            llm_api_key="test",
            llm_model="loopback",
        )
        copilot.ingest()
        server.reply(
            json.dumps(
                {
                    "answer": "亲，现货商品付款后48小时内发货哦。",
                    "citations": [1],
                    "can_answer": False,
                },
                ensure_ascii=False,
            )
        )
        answer = copilot.answer("啥时候发货啊", explain=True)
        # can_answer: false falls back to the extractive answer, never sent on its own (issue 16)
        assert answer.mode == "extractive" and answer.decision != "auto"
        assert answer.trace is not None
        assert answer.trace.decision == answer.decision
        assert answer.trace.reasons == answer.reasons
        server.reply(
            json.dumps({"answer": "亲，48小时内发货。", "citations": [1], "can_answer": True})
        )
        answer = copilot.answer("啥时候发货啊", explain=True)
        assert answer.mode == "llm" and answer.trace is not None
        assert answer.trace.decision == answer.decision
        assert answer.trace.reasons == answer.reasons
        assert copilot.answer("啥时候发货啊").trace is None
