"""The ``grounding`` eval case type: scripted LLM replies through a real loopback server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu_copilot import run_suite
from kefu_copilot.evals._grounding_cases import KINDS, grounding_metrics

ROOT = Path(__file__).resolve().parents[1]


def _suite(tmp_path: Path, cases: list[dict]) -> Path:
    path = tmp_path / "grounding.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases), encoding="utf-8")
    return path


def test_replies_go_through_the_llm_path(tmp_path: Path) -> None:
    cases = [
        {
            "id": "g1",
            "type": "grounding",
            "question": "买多少钱能包邮？",
            "llm_reply": "亲，全场实付满99元就包邮啦（偏远地区除外）。",
            "kind": "faithful",
            "sources": ["faq/faq.csv"],
            "expect": {"decision": ["auto", "draft"]},
        },
        {
            "id": "g2",
            "type": "grounding",
            "question": "买多少钱能包邮？",
            "llm_reply": "好的",
            "kind": "non_answer",
            "expect": {"decision": ["draft", "handoff"]},
        },
    ]
    result = run_suite(
        _suite(tmp_path, cases),
        shop=ROOT / "knowledge",
        index_dir=tmp_path / "i",
        embed_model="none",
    )
    first, second = result.cases
    assert first["kind"] == "faithful" and first["llm_reply"].startswith("亲，全场")
    # the copilot's text is the scripted reply (or, when held back, a handoff), never extractive
    assert first["decision"] == "handoff" or first["text"] == cases[0]["llm_reply"]
    assert "faq/faq.csv" in first["sources"] or first["decision"] == "handoff"
    assert second["kind"] == "non_answer"
    assert {"pass_rate", "faithful_auto_rate", "wrong_auto_rate", "wrong_auto_count"} <= set(
        result.metrics
    )


def test_a_case_without_kind_or_reply_is_reported(tmp_path: Path) -> None:
    bad = {"id": "g1", "type": "grounding", "question": "包邮吗", "expect": {}}
    result = run_suite(
        _suite(tmp_path, [bad, {**bad, "id": "g2", "llm_reply": "x", "kind": "faithful"}]),
        shop=ROOT / "knowledge",
        index_dir=tmp_path / "i",
        embed_model="none",
    )
    assert result.n == 1 and len(result.errors) == 1
    assert "llm_reply" in str(result.errors[0])


@pytest.mark.parametrize("kind", KINDS)
def test_metrics_count_wrong_replies_sent_auto(kind: str) -> None:
    rows = [{"kind": kind, "decision": "auto", "passed": kind == "faithful"}]
    metrics = grounding_metrics(rows)
    assert metrics[f"auto_rate.{kind}"] == 1.0
    assert metrics["wrong_auto_count"] == (0.0 if kind == "faithful" else 1.0)
