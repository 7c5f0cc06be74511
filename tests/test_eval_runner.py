"""The eval runner (issue 3): suites of every type, metrics per the contract, compare, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kefu_copilot import ConfigError, EvalError, compare_results
from kefu_copilot._models import Answer, Citation
from kefu_copilot.cli._eval import main
from kefu_copilot.evals._runner import (
    CASE_TYPES,
    REPLY_UNAVAILABLE,
    CaseType,
    EvalResult,
    register_case_type,
    run_suite,
)
from kefu_copilot.evals._suite import emotion_metrics

from .conftest import STATIC_MODEL, shared_path

ANSWER_METRICS = [
    "auto_rate",
    "auto_precision",
    "handoff_recall",
    "pass_rate",
    "answerable_auto_rate",
]
EMOTION_METRICS = [
    "escalate_precision",
    "escalate_recall",
    "escalate_f1",
    "accuracy",
    "balanced_accuracy",
]
RETRIEVAL_METRICS = ["mrr@10", "recall@1", "recall@5", "recall@10", "ndcg@10"]

ANSWER_CASES = [
    {
        "id": "a1",
        "type": "answer",
        "question": "买多少钱能包邮呀",
        "expect": {"decision": ["auto", "draft"], "sources": ["faq/faq.csv"], "contains": ["99"]},
    },
    {
        "id": "a2",
        "type": "answer",
        "question": "我的订单123456789012到哪了",
        "expect": {"decision": "handoff"},
    },
    {
        "id": "a3",
        "type": "answer",
        "question": "退货运费谁出",
        "expect": {"decision": "auto", "contains": ["一定不会出现的字符串"]},
    },
]
EMOTION_CASES = [
    {
        "id": "e1",
        "type": "emotion",
        "text": "什么破质量，再不处理我就打12315投诉！",
        "expect": {"escalate": True, "emotion": "angry"},
    },
    {"id": "e2", "type": "emotion", "text": "好的，谢谢亲", "expect": {"escalate": False}},
]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fake_answer(question: str, text: str = "亲，全场实付满99元包邮") -> Answer:
    citation = Citation(source="faq/faq.csv", locator="第4行", snippet=text, score=0.9)
    return Answer(
        question=question, text=text, decision="auto", confidence=0.9, citations=[citation]
    )


class FakeCopilot:
    """Answers everything auto; suggests replies with a lint issue when the draft says so."""

    shop = SimpleNamespace(escalation_keywords=["黑猫"])

    def answer(self, question: str, history: Any = None) -> Answer:
        if "crash" in question:
            raise RuntimeError("boom")
        return fake_answer(question)

    def suggest_reply(
        self, conversation: list[dict[str, Any]], draft: str | None = None, n: int = 1
    ):
        lint = (
            [SimpleNamespace(code="empathy", message="no empathy first")] if draft == "bad" else []
        )
        cites = [SimpleNamespace(source="policies/returns.md")]
        return [
            SimpleNamespace(
                text="亲，非常抱歉给您添麻烦了，支持七天无理由退货", citations=cites, lint=lint
            )
        ]


class NoReplyCopilot(FakeCopilot):
    suggest_reply = None  # type: ignore[assignment]


REPLY_CASES = [
    {
        "id": "r1",
        "type": "reply",
        "conversation": [{"role": "customer", "text": "能退吗"}],
        "expect": {"contains": ["七天"], "sources": ["policies/returns.md"]},
    },
    {
        "id": "r2",
        "type": "reply",
        "conversation": [{"role": "customer", "text": "能退吗"}],
        "draft": "bad",
        "expect": {"not_contains": ["抱歉"]},
    },
]


# -- each suite type -----------------------------------------------------------------------------
def test_answer_suite_with_a_copilot(tmp_path: Path, sample_copilot) -> None:
    result = run_suite(write_jsonl(tmp_path / "a.jsonl", ANSWER_CASES), copilot=sample_copilot)
    assert list(result.metrics) == ANSWER_METRICS
    assert [c["id"] for c in result.cases] == ["a1", "a2", "a3"]
    a1, a2, a3 = result.cases
    assert a1["passed"] and a1["decision"] in ("auto", "draft") and "99" in a1["text"]
    assert a2["passed"] and a2["decision"] == "handoff"
    assert not a3["passed"] and any("一定不会出现" in f for f in a3["failures"])
    assert result.metrics["handoff_recall"] == 1.0
    assert result.metrics["pass_rate"] == pytest.approx(2 / 3, abs=1e-6)


def test_answer_suite_builds_its_copilot_from_a_shop(tmp_path: Path, shop: Path) -> None:
    suite = write_jsonl(tmp_path / "a.jsonl", ANSWER_CASES[:2])
    result = run_suite(suite, shop=shop, index_dir=tmp_path / "idx", embed_model="none")
    assert result.n == 2 and result.metrics["pass_rate"] == 1.0
    assert result.notes == ["retrieval: lexical (BM25)"]
    with pytest.raises(EvalError, match="--shop"):
        run_suite(suite)


def test_emotion_suite_typed_and_shared_shape(tmp_path: Path) -> None:
    shared_shape = {
        "id": "j1",
        "text": "好的",
        "context": [],
        "label": "satisfied",
        "escalate": False,
    }
    suite = write_jsonl(tmp_path / "e.jsonl", [*EMOTION_CASES, shared_shape])
    result = run_suite(suite)
    assert list(result.metrics) == EMOTION_METRICS
    e1, _, j1 = result.cases
    assert e1["escalate"] is True and e1["emotion"] == "angry" and e1["passed"]
    assert j1["type"] == "emotion" and j1["expect"] == {"escalate": False}
    assert isinstance(j1["escalate"], bool) and isinstance(j1["emotion"], str)


def test_emotion_metric_definitions() -> None:
    def rec(expected: bool, predicted: bool, passed: bool | None = None) -> dict[str, Any]:
        ok = expected == predicted if passed is None else passed
        return {"expect": {"escalate": expected}, "escalate": predicted, "passed": ok}

    # 3 expect escalation (2 caught), 5 expect none (1 false alarm, 1 emotion mismatch).
    rows = [rec(True, True), rec(True, True), rec(True, False)]
    rows += [rec(False, True), rec(False, False, passed=False)] + [rec(False, False)] * 3
    m = emotion_metrics(rows)
    assert m["escalate_precision"] == pytest.approx(2 / 3)
    assert m["escalate_recall"] == pytest.approx(2 / 3)
    assert m["escalate_f1"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 3 / 5) / 2)


def test_shop_escalation_keywords_reach_the_emotion_flag(tmp_path: Path) -> None:
    suite = write_jsonl(
        tmp_path / "e.jsonl",
        [{"id": "k", "type": "emotion", "text": "我去黑猫说说", "expect": {"escalate": True}}],
    )
    assert run_suite(suite, copilot=FakeCopilot()).cases[0]["escalate"] is True


def test_reply_cases_use_suggest_reply_and_lint(tmp_path: Path) -> None:
    result = run_suite(write_jsonl(tmp_path / "r.jsonl", REPLY_CASES), copilot=FakeCopilot())
    assert result.metrics == {"pass_rate": 0.5, "lint_pass_rate": 0.5}
    r1, r2 = result.cases
    assert r1["passed"] and r1["lint_passed"] and r1["sources"] == ["policies/returns.md"]
    assert r2["lint"] == ["empathy: no empathy first"] and not r2["lint_passed"]
    assert r2["failures"] == ["reply contains forbidden '抱歉'", "lint: empathy: no empathy first"]


def test_reply_cases_without_suggest_reply_fail_cleanly(tmp_path: Path) -> None:
    result = run_suite(write_jsonl(tmp_path / "r.jsonl", REPLY_CASES), copilot=NoReplyCopilot())
    assert [c["failures"] for c in result.cases] == [[REPLY_UNAVAILABLE]] * 2
    assert result.metrics == {"pass_rate": 0.0, "lint_pass_rate": 0.0}
    assert any(REPLY_UNAVAILABLE in note for note in result.notes)


def retrieval_dir(root: Path) -> Path:
    root.mkdir()
    corpus = [
        {"id": "d1", "text": "花呗怎么还款"},
        {"id": "d2", "text": "借呗额度怎么提升"},
        {"id": "d3", "text": "花呗可以分期吗"},
        {"id": "d4", "text": "账户被冻结了怎么办"},
    ]
    queries = [
        {"id": "q1", "text": "花呗如何还钱"},
        {"id": "q2", "text": "借呗能提额吗"},
        {"id": "q3", "text": "x"},
    ]
    qrels = [
        {"query_id": "q1", "doc_id": "d1", "relevance": 1},
        {"query_id": "q2", "doc_id": "d2", "relevance": 1},
    ]
    for name, rows in (("corpus", corpus), ("queries", queries), ("qrels", qrels)):
        write_jsonl(root / f"{name}.jsonl", rows)
    return root


def test_retrieval_directory(tmp_path: Path) -> None:
    result = run_suite(retrieval_dir(tmp_path / "ret"), embed_model="none")
    assert list(result.metrics) == RETRIEVAL_METRICS
    assert [c["id"] for c in result.cases] == ["q1", "q2"]  # q3 has no judgement
    assert result.cases[0]["rank"] == 1 and result.cases[0]["retrieved"][0] == "d1"
    assert result.metrics["mrr@10"] == 1.0
    assert result.notes[0] == "retrieval: lexical (BM25)"
    assert "1 queries without a relevant doc" in result.notes[1]


def test_retrieval_honours_the_embed_model(tmp_path: Path) -> None:
    if not STATIC_MODEL.is_dir():
        pytest.skip("static model not available")
    result = run_suite(retrieval_dir(tmp_path / "ret"), embed_model=str(STATIC_MODEL))
    assert result.notes[0].startswith("retrieval: hybrid (BM25 + static:")
    # a mistyped model path is an error naming it, not a silent switch to lexical retrieval
    with pytest.raises(ConfigError, match="no-model"):
        run_suite(retrieval_dir(tmp_path / "ret2"), embed_model=str(tmp_path / "no-model"))


def test_mixed_suite_namespaces_only_colliding_metrics(tmp_path: Path) -> None:
    suite = write_jsonl(tmp_path / "m.jsonl", [*REPLY_CASES, ANSWER_CASES[0], *EMOTION_CASES])
    result = run_suite(suite, copilot=FakeCopilot())
    assert [c["id"] for c in result.cases] == ["r1", "r2", "a1", "e1", "e2"]
    assert list(result.metrics) == [
        "auto_rate",
        "auto_precision",
        "handoff_recall",
        "answer.pass_rate",
        "answerable_auto_rate",
        *EMOTION_METRICS,
        "reply.pass_rate",
        "lint_pass_rate",
    ]
    no_reply = run_suite(
        write_jsonl(tmp_path / "m2.jsonl", [ANSWER_CASES[0], *EMOTION_CASES]), copilot=FakeCopilot()
    )
    assert list(no_reply.metrics) == ANSWER_METRICS + EMOTION_METRICS


# -- malformed suites, errors --------------------------------------------------------------------
MALFORMED = [
    ANSWER_CASES[0],
    "{oops",
    {"id": "t", "question": "没有类型"},
    {"id": "u", "type": "weird"},
    {"id": "v", "type": "answer", "question": "几天发货", "expect": {"decision": "maybe"}},
    {"id": "w", "type": "emotion", "text": "哼"},
    EMOTION_CASES[1],
]


def test_malformed_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    suite = write_jsonl(tmp_path / "bad.jsonl", MALFORMED)
    result = run_suite(suite, copilot=FakeCopilot())
    assert [c["id"] for c in result.cases] == ["a1", "e2"]
    assert [e.line for e in result.errors] == [2, 3, 4, 5, 6]
    messages = [str(e) for e in result.errors]
    assert all(m.startswith(f"{suite}:") for m in messages)
    assert "missing 'type'" in messages[1] and "'weird'" in messages[2]
    assert "'maybe'" in messages[3] and "escalate" in messages[4]
    with pytest.raises(EvalError, match=r"bad\.jsonl:2"):
        run_suite(suite, copilot=FakeCopilot(), strict=True)
    only_bad = write_jsonl(tmp_path / "worse.jsonl", MALFORMED[1:3])
    with pytest.raises(EvalError, match="no usable cases"):
        run_suite(only_bad)


def test_a_crashing_case_fails_alone(tmp_path: Path) -> None:
    cases = [{"id": "c", "type": "answer", "question": "crash please"}, ANSWER_CASES[0]]
    result = run_suite(write_jsonl(tmp_path / "c.jsonl", cases), copilot=FakeCopilot())
    assert (
        result.cases[0]["failures"] == ["error: RuntimeError: boom"] and result.cases[1]["passed"]
    )


# -- results: JSON, records, HTML, determinism ----------------------------------------------------
def test_json_follows_the_contract(tmp_path: Path) -> None:
    suite = write_jsonl(tmp_path / "m.jsonl", [ANSWER_CASES[0], *EMOTION_CASES])
    result = run_suite(suite, copilot=FakeCopilot())
    data = json.loads(result.to_json())
    assert list(data)[:4] == ["suite", "n", "metrics", "cases"]
    assert data["suite"] == str(suite) and data["n"] == 3 == len(data["cases"])
    assert all(isinstance(v, float) for v in data["metrics"].values())
    answer, emotion, _ = data["cases"]
    assert {"id", "passed", "decision", "text", "failures"} <= set(answer)
    assert {"id", "passed", "escalate", "emotion", "failures"} <= set(emotion)
    saved = result.save(tmp_path / "out.json")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []
    loaded = EvalResult.load(saved)
    assert loaded.to_json() == result.to_json()
    (tmp_path / "junk.json").write_text('{"suite": 1}', encoding="utf-8")
    with pytest.raises(EvalError, match="not an eval result"):
        EvalResult.load(tmp_path / "junk.json")


def test_runs_are_deterministic(tmp_path: Path, sample_copilot) -> None:
    suite = write_jsonl(tmp_path / "m.jsonl", [*ANSWER_CASES, *EMOTION_CASES])
    first = run_suite(suite, copilot=sample_copilot).to_json()
    assert run_suite(suite, copilot=sample_copilot).to_json() == first


def test_records_and_html(tmp_path: Path) -> None:
    cases = [{**ANSWER_CASES[0], "id": "<b>x</b>"}, *EMOTION_CASES]
    result = run_suite(write_jsonl(tmp_path / "m.jsonl", cases), copilot=FakeCopilot())
    records = result.to_records()
    assert len(records) == 3 and records[0]["expect.decision"] == "auto; draft"
    assert all(not isinstance(v, dict | list) for r in records for v in r.values())
    page = result._repr_html_()
    assert page.count("<table>") == 2 and "auto_rate" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(result)
    assert "auto_rate" in console.export_text()


def test_judges_score_answer_and_reply_outputs(tmp_path: Path) -> None:
    def length(case: Any, output: Any) -> dict[str, float]:
        return {"short": float(len(output["text"]) < 100)}

    def broken(case: Any, output: Any) -> dict[str, float]:
        raise ValueError("judge down")

    suite = write_jsonl(tmp_path / "m.jsonl", [ANSWER_CASES[0], REPLY_CASES[0], EMOTION_CASES[1]])
    result = run_suite(suite, copilot=FakeCopilot(), judges=[length, broken])
    assert result.metrics["judge.short"] == 1.0
    assert result.cases[0]["judge"] == {"short": 1.0} and "judge" not in result.cases[2]
    assert result.cases[0]["judge_errors"] == ["ValueError: judge down"]


def test_new_case_types_plug_in(tmp_path: Path) -> None:
    def validate(case: dict[str, Any]) -> None:
        if "word" not in case:
            raise ValueError("needs 'word'")

    def run(case: dict[str, Any], ctx: Any) -> dict[str, Any]:
        return {"input": case["word"], "failures": [] if case["word"] == "ok" else ["not ok"]}

    register_case_type(CaseType("echo", validate, run, lambda rows: {"echo_rate": 1.0}))
    try:
        suite = write_jsonl(
            tmp_path / "x.jsonl",
            [{"id": 1, "type": "echo", "word": "ok"}, {"id": 2, "type": "echo"}],
        )
        result = run_suite(suite)
        assert result.metrics == {"echo_rate": 1.0} and result.n == 1 and result.errors[0].line == 2
    finally:
        CASE_TYPES.pop("echo")


# -- compare -------------------------------------------------------------------------------------
def result_with(metrics: dict[str, float], passed: dict[str, bool]) -> EvalResult:
    cases = [{"id": i, "passed": p, "failures": [] if p else ["wrong"]} for i, p in passed.items()]
    return EvalResult(suite="s.jsonl", n=len(cases), metrics=metrics, cases=cases)


def test_compare_deltas_and_flips(tmp_path: Path) -> None:
    old = result_with(
        {"pass_rate": 0.5, "auto_rate": 0.4}, {"a": True, "b": False, "c": True, "d": True}
    )
    new = result_with(
        {"pass_rate": 0.75, "lint_pass_rate": 1.0}, {"a": False, "b": True, "c": True, "e": True}
    )
    comparison = compare_results(old.save(tmp_path / "old.json"), new.to_dict())
    deltas = {m.name: (m.old, m.new, m.delta) for m in comparison.metrics}
    assert deltas == {
        "pass_rate": (0.5, 0.75, 0.25),
        "auto_rate": (0.4, None, None),
        "lint_pass_rate": (None, 1.0, None),
    }
    assert comparison.newly_failed == ["a"] and comparison.newly_passed == ["b"]
    assert comparison.only_old == ["d"] and comparison.only_new == ["e"]
    assert comparison.new_failures == {"a": ["wrong"]}
    assert comparison.p_value == 1.0 and not comparison.significant  # one each way
    assert comparison.to_dict()["flips"] == {
        "gained": 1,
        "lost": 1,
        "p_value": 1.0,
        "significant": False,
    }


def test_flip_p_value_is_the_exact_two_sided_mcnemar_test() -> None:
    from kefu_copilot.evals._compare import flip_p_value

    assert flip_p_value(0, 0) == 1.0
    assert flip_p_value(3, 1) == pytest.approx(0.625)  # 2 * (1 + 4) / 16
    assert flip_p_value(12, 2) == pytest.approx(2 * (1 + 14 + 91) / 2**14)
    assert flip_p_value(2, 12) == flip_p_value(12, 2)  # which way does not matter
    assert flip_p_value(5, 0) == pytest.approx(0.0625) and flip_p_value(6, 0) < 0.05
    assert flip_p_value(400, 380) > 0.05  # many flips, evenly split: noise


def test_compare_says_whether_the_flips_are_a_change() -> None:
    old = result_with({"pass_rate": 0.0}, {str(i): i >= 14 for i in range(20)})
    new = result_with({"pass_rate": 0.6}, {str(i): i < 12 or i >= 16 for i in range(20)})
    comparison = compare_results(old, new)
    assert (len(comparison.newly_passed), len(comparison.newly_failed)) == (12, 2)
    assert comparison.significant
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None)
    console.print(comparison)
    shown = console.export_text()
    assert "+12 / −2" in shown and "a change" in shown


# -- command line --------------------------------------------------------------------------------
def test_cli_eval_and_compare(tmp_path: Path, shop: Path, capsys) -> None:
    suite = write_jsonl(tmp_path / "m.jsonl", [*ANSWER_CASES, *EMOTION_CASES, "{oops"])
    out = tmp_path / "out.json"
    args = ["eval", str(suite), "--shop", str(shop), "--index", str(tmp_path / "idx")]
    assert main([*args, "--embed-model", "none", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "auto_rate" in captured.out and "a3" in captured.out  # metrics, then failed cases
    assert f"{suite}:6" in captured.err and "warning" in captured.err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["n"] == 5 and "answer.pass_rate" not in data["metrics"]

    assert main([*args, "--embed-model", "none", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"] == data["metrics"]

    assert main([*args, "--embed-model", "none", "--strict"]) == 2
    assert f"{suite}:6" in capsys.readouterr().err

    old = result_with({"pass_rate": 0.9}, {"a1": True, "a3": True}).save(tmp_path / "old.json")
    assert main(["eval", "compare", str(old), str(out)]) == 0
    text = capsys.readouterr().out
    assert "pass_rate" in text and "-0.233" in text and "passed → failed" in text and "a3" in text
    assert main(["eval", "compare", str(old)]) == 2
    assert main(["eval", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("kefu: error:")


# -- the shared data sets (skipped without ../shared) ---------------------------------------------
def test_shared_emotion_set_runs() -> None:
    path = shared_path("evaldata", "emotion", "jddc_satisfaction_turns.jsonl")
    result = run_suite(path)
    assert result.n == 500 and not result.errors and list(result.metrics) == EMOTION_METRICS
    print("jddc satisfaction:", {k: round(v, 3) for k, v in result.metrics.items()})
