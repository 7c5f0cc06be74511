"""The shipped evaluation suites: well-formed, and the copilot's figures on them do not regress."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import EvalError
from kefu_copilot.evals._suite import answer_metrics, check_answer_case, read_suite

from .conftest import KNOWLEDGE, ROOT

ANSWER_SUITE = ROOT / "evals" / "answer.jsonl"


def test_answer_suite_is_well_formed() -> None:
    cases, errors = read_suite(ANSWER_SUITE, strict=True)
    assert not errors and len(cases) >= 100
    handoffs = [c for c in cases if c["expect"]["decision"] == "handoff"]
    assert len(handoffs) >= 30
    for case in cases:
        assert case["type"] == "answer" and case["question"]
        for source in case["expect"].get("sources", []):
            assert (KNOWLEDGE / source).is_file(), (case["id"], source)


def test_answer_suite_figures(sample_copilot) -> None:
    cases, _ = read_suite(ANSWER_SUITE)
    rows = []
    for case in cases:
        answer = sample_copilot.answer(case["question"], case.get("history"))
        rows.append((case, answer, check_answer_case(case, answer)))
    metrics = answer_metrics(rows)
    print("answer suite (lexical only):", {k: round(v, 3) for k, v in metrics.items()})
    # Calibrated (the default since round 8), measured 2026-12: auto_precision 1.00,
    # handoff_recall 1.00, pass_rate 0.82, auto_rate 0.20. (Support, calibrated=False, as
    # until round 8: 0.96, 1.00, 0.82, 0.45.) Calibration sends fewer answers as is, more of
    # them right. Round 12 (refitted on 13 shops, the auto threshold at pooled out-of-shop
    # precision 0.98: 0.9289 instead of 0.8795): 1.00, 1.00, 0.83, 0.135 — fewer again.
    assert metrics["auto_precision"] >= 0.97
    assert metrics["handoff_recall"] >= 0.97
    assert metrics["pass_rate"] >= 0.80
    assert metrics["auto_rate"] >= 0.13


def test_malformed_suite_lines_name_file_and_line(tmp_path: Path) -> None:
    suite = tmp_path / "s.jsonl"
    suite.write_text(
        '{"id": "a", "type": "answer"}\n{oops\n[1]\n{"type": "answer"}\n{"id": "a"}\n',
        encoding="utf-8",
    )
    cases, errors = read_suite(suite)
    assert [c["id"] for c in cases] == ["a"]
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert all(str(suite) in str(e) for e in errors)
    with pytest.raises(EvalError, match=r"s\.jsonl:2"):
        read_suite(suite, strict=True)
