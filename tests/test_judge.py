"""The LLM judge, through a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu_copilot import Copilot, LLMJudge, OpenAIChatModel, OpenAIProvider, run_suite
from kefu_copilot.cli._main import main
from kefu_copilot.testing import LoopbackLLMServer

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"

SCORES = {"empathy": 5, "faithful": 4, "helpful": 3, "next_step": 1, "tone": 5, "reason": "无"}


@pytest.fixture
def server():
    with LoopbackLLMServer() as srv:
        yield srv


def _llm(server: LoopbackLLMServer) -> OpenAIChatModel:
    provider = OpenAIProvider(base_url=server.base_url, api_key="test", timeout=5.0, max_retries=0)
    return OpenAIChatModel(provider, "loopback")


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "suite.jsonl"
    cases = [
        {
            "id": "a1",
            "type": "answer",
            "question": "卫衣会起球吗？我电话13812345678",
            "expect": {"decision": ["auto", "draft"]},
        },
        {
            "id": "r1",
            "type": "reply",
            "conversation": [{"role": "customer", "text": "衣服10天了还能退吗"}],
            "draft": "亲,不可以的哦",
            "expect": {"contains": ["7天"]},
        },
        {"id": "e1", "type": "emotion", "text": "谢谢", "expect": {"escalate": False}},
    ]
    suite.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases), "utf-8")
    return suite


def _run(server: LoopbackLLMServer, tmp_path: Path):
    copilot = Copilot(KNOWLEDGE, index_dir=tmp_path / "ix", embed_model="none")
    copilot.ingest()
    return run_suite(_suite(tmp_path), copilot=copilot, judges=[LLMJudge(_llm(server))])


def test_judge_scores_answers_and_replies(server: LoopbackLLMServer, tmp_path: Path) -> None:
    server.reply_json(SCORES, times=2)
    result = _run(server, tmp_path)
    assert result.metrics["judge.empathy"] == 1.0
    assert result.metrics["judge.faithful"] == 0.75
    assert result.metrics["judge.next_step"] == 0.0
    assert result.metrics["judge.overall"] == pytest.approx((1 + 0.75 + 0.5 + 0 + 1) / 5)
    requests = server.requests
    assert len(requests) == 2  # the emotion case is not judged
    sent = json.dumps([r.messages for r in requests], ensure_ascii=False)
    assert "13812345678" not in sent  # personal data never reaches the LLM
    assert "亲,不可以的哦" in sent  # the agent's draft is part of the reference
    emotion = next(c for c in result.cases if c["id"] == "e1")
    assert "judge" not in emotion


def test_a_malformed_verdict_is_repaired_once_then_reported(
    server: LoopbackLLMServer, tmp_path: Path
) -> None:
    server.reply("很好，给满分")  # no JSON
    server.reply_json(SCORES)  # the repair
    server.reply("还是没有 JSON")
    server.reply_json({**SCORES, "tone": 9})  # out of range after the repair too
    result = _run(server, tmp_path)
    first, second = (c for c in result.cases if c["type"] in ("answer", "reply"))
    assert first["judge"]["tone"] == 1.0
    assert second["judge"] == {} and "tone" in second["judge_errors"][0]
    assert result.metrics["judge.tone"] == 1.0  # the mean of the cases that were judged


def test_kefu_eval_judge_uses_the_configured_llm(
    server: LoopbackLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    server.respond_with(
        lambda req: (
            json.dumps(SCORES)
            if "质检" in json.dumps(req.messages, ensure_ascii=False)
            else json.dumps({"answer": "不会起球哦", "citations": [1], "can_answer": True})
        )
    )
    monkeypatch.setenv("KEFU_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("KEFU_LLM_MODEL", "loopback")
    monkeypatch.setenv("KEFU_LLM_API_KEY", "test")
    out = tmp_path / "out.json"
    code = main(
        [
            "eval",
            str(_suite(tmp_path)),
            "--shop",
            str(KNOWLEDGE),
            "--index",
            str(tmp_path / "ix"),
            "--embed-model",
            "none",
            "--judge",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    metrics = json.loads(out.read_text(encoding="utf-8"))["metrics"]
    assert metrics["judge.empathy"] == 1.0


def test_kefu_eval_judge_without_an_llm_names_the_settings(tmp_path: Path, capsys) -> None:
    code = main(["eval", str(_suite(tmp_path)), "--shop", str(KNOWLEDGE), "--judge"])
    assert code != 0
    assert "KEFU_LLM" in capsys.readouterr().err
