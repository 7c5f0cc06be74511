"""An LLM judge for eval suites: grades answers and reply drafts against a rubric.

``run_suite(..., judges=[LLMJudge(llm)])`` (or ``kefu eval SUITE --judge``) asks the LLM to
score each answer or reply case's output from 1 to 5 on empathy, faithfulness to the shop's
knowledge, helpfulness, a next step and tone (``prompts/judge.md``). Scores are scaled to
0..1 and averaged by the runner as ``judge.<criterion>``, plus ``judge.overall`` (their mean).
Personal data is redacted before anything reaches the LLM; a malformed reply is repaired
once, then reported as the case's judge error (the run goes on).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import LLMResponseError
from ..llm._chat import LLM
from ..llm._prompts import load_prompt
from ..text._pii import redact

__all__ = ["CRITERIA", "LLMJudge"]

CRITERIA = ("empathy", "faithful", "helpful", "next_step", "tone")
_ROLES = {"customer": "顾客", "user": "顾客", "agent": "客服", "assistant": "客服"}
_SCHEMA = (
    '{"empathy": 1-5, "faithful": 1-5, "helpful": 1-5, "next_step": 1-5, "tone": 1-5, '
    '"reason": "..."}'
)


class LLMJudge:
    """Scores the output of an answer or reply case with ``llm`` (see module docstring).

    ``reference`` adds knowledge the judge may check facts against, keyed by case id (for
    example the shop's policy text); by default the case's expected phrases and sources are
    given as the reference."""

    def __init__(
        self,
        llm: LLM,
        *,
        prompts_dir: Path | None = None,
        reference: Mapping[str, str] | None = None,
        max_tokens: int = 300,
    ) -> None:
        self.llm = llm
        self.prompt = load_prompt("judge", prompts_dir)
        self.repair_prompt = load_prompt("repair_json", prompts_dir)
        self.reference = dict(reference or {})
        self.max_tokens = max_tokens

    def __call__(self, case: Mapping[str, Any], output: Mapping[str, Any]) -> dict[str, float]:
        reply = str(output.get("text") or "").strip()
        if not reply:
            raise ValueError("the case produced no text to judge")
        values = {
            "conversation": _conversation(case),
            "reply": reply,
            "reference": self.reference.get(str(case.get("id")), "") or _reference(case),
        }
        values = {k: redact(v).text for k, v in values.items()}
        messages = self.prompt.render(**values)
        text = self.llm.complete(messages, json_mode=True, max_tokens=self.max_tokens).text
        try:
            scores = _scores(text)
        except ValueError:
            repair = self.repair_prompt.render(schema=_SCHEMA, output=text[:2000])
            text = self.llm.complete(repair, json_mode=True, max_tokens=self.max_tokens).text
            try:
                scores = _scores(text)
            except ValueError as exc:
                raise LLMResponseError(
                    f"the judge's reply is not the rubric's JSON: {exc}"
                ) from None
        scores["overall"] = round(sum(scores.values()) / len(scores), 4)
        return scores


def _conversation(case: Mapping[str, Any]) -> str:
    turns = case.get("conversation")
    if isinstance(turns, list) and turns:
        lines = []
        for turn in turns:
            if isinstance(turn, Mapping):
                role = _ROLES.get(str(turn.get("role", "customer")), str(turn.get("role")))
                lines.append(f"{role}：{turn.get('text', '')}")
        return "\n".join(lines)
    history = case.get("history") or []
    lines = [
        f"{_ROLES.get(str(t.get('role')), '顾客')}：{t.get('text', '')}"
        for t in history
        if isinstance(t, Mapping)
    ]
    lines.append(f"顾客：{case.get('question') or case.get('text') or ''}")
    return "\n".join(lines)


def _reference(case: Mapping[str, Any]) -> str:
    expect = case.get("expect") or {}
    parts = []
    if expect.get("contains"):
        parts.append("正确回复应包含：" + "、".join(map(str, expect["contains"])))
    if expect.get("sources"):
        parts.append("依据的资料：" + "、".join(map(str, expect["sources"])))
    if case.get("draft"):
        parts.append(f"客服原稿（待改写）：{case['draft']}")
    return "\n".join(parts) or "（无）"


def _scores(text: str) -> dict[str, float]:
    """The rubric's five scores from the judge's reply, scaled from 1..5 to 0..1."""
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        raise ValueError("no JSON object")
    data = json.loads(match.group())
    if not isinstance(data, dict):
        raise ValueError("not an object")
    out = {}
    for name in CRITERIA:
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 5:
            raise ValueError(f"{name}: expected a score from 1 to 5, got {value!r}")
        out[name] = round((float(value) - 1) / 4, 4)
    return out
