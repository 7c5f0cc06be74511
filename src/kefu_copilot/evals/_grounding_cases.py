"""``grounding`` eval cases: a scripted LLM reply, and what the copilot's checks do with it.

A case (an extension of the contract's section 2)::

    {"id": "g001", "type": "grounding", "question": "金卡打几折", "history": [...]?,
     "llm_reply": "金卡会员享9折哦",
     "kind": "faithful" | "numeral" | "unit" | "subject_swap" | "polarity" | "invented_offer"
             | "non_answer",
     "sources": ["policies/membership.md"]?,
     "expect": {"decision": ["draft", "handoff"]}}

The run points the copilot's LLM at a real OpenAI-compatible server on 127.0.0.1
(:class:`~kefu_copilot.testing.LoopbackLLMServer`) that answers every generation request with
the case's ``llm_reply`` as the answer JSON the prompt asks for, citing the retrieved passages
from the case's ``sources`` (all passages when it names none, or none of them were retrieved).
Everything after the LLM — grounding check, decision — is the copilot's own.

Metrics: ``pass_rate``; ``faithful_auto_rate`` and ``faithful_sent_rate`` (auto or draft) over
faithful replies; ``wrong_auto_rate`` (contradictions and non-answers sent auto — the
number that must be 0) and ``wrong_auto_count``; ``auto_rate.<kind>`` per kind.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from . import _suite as ev

__all__ = ["KINDS", "grounding_metrics", "run_grounding_case", "validate_grounding_case"]

KINDS = ("faithful", "numeral", "unit", "subject_swap", "polarity", "invented_offer", "non_answer")
_PASSAGE = re.compile(r"^\[(\d+)\] \((?:[^)]*?)([^\s()]+/[^\s()·]+) · ", re.M)


def validate_grounding_case(case: dict[str, Any]) -> None:
    """Raise ValueError when a ``grounding`` case cannot be run."""
    ev.validate_answer_case(case)
    if not isinstance(case.get("llm_reply"), str):
        raise ValueError("grounding case needs a string 'llm_reply'")
    if case.get("kind") not in KINDS:
        raise ValueError(f"grounding case 'kind' must be one of {', '.join(KINDS)}")


def _sources(case: dict[str, Any]) -> list[str]:
    value = case.get("sources") or case.get("source") or (case.get("expect") or {}).get("sources")
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


class _ScriptedLLM:
    """One loopback server for a run; the reply is that of the case being run."""

    def __init__(self) -> None:
        from ..testing import LoopbackLLMServer

        self._local = threading.local()
        self.server = LoopbackLLMServer(model="scripted-grounding").start()
        self.server.respond_with(self._respond)

    def set_case(self, case: dict[str, Any]) -> None:
        self._case = case

    def _respond(self, request: Any) -> str:
        case = self._case
        system = "\n".join(
            str(m.get("content") or "") for m in request.messages if m.get("role") == "system"
        )
        wanted = set(_sources(case))
        passages = [(int(n), src) for n, src in _PASSAGE.findall(system)]
        cited = [n for n, src in passages if src in wanted] or [n for n, _ in passages]
        return json.dumps(
            {"answer": case["llm_reply"], "citations": cited, "can_answer": True},
            ensure_ascii=False,
        )

    def close(self) -> None:
        self.server.close()


def _scripted_copilot(ctx: Any) -> Any:
    """A copilot on the run's index whose LLM is the scripted server (built once per run)."""
    cached = ctx.cache.get("grounding")
    if cached is None:
        from .._copilot import Copilot

        base = ctx.copilot
        scripted = _ScriptedLLM()
        ctx.closers.append(scripted.close)
        settings = base.settings.model_copy(
            update={
                "llm_preset": None,
                "llm_base_url": scripted.server.base_url,
                "llm_api_key": "scripted",
                "llm_model": scripted.server.model,
                "llm_max_retries": 0,
            }
        )
        copilot = Copilot(base.shop_dir, settings=settings)
        cached = ctx.cache["grounding"] = (copilot, scripted)
    return cached


def run_grounding_case(case: dict[str, Any], ctx: Any) -> dict[str, Any]:
    copilot, scripted = _scripted_copilot(ctx)
    scripted.set_case(case)
    # explained: the trace carries the grounding measures and the rule or model that decided
    answer = copilot.answer(case["question"], case.get("history"), explain=True)
    trace = answer.trace
    expect = case.get("expect") or {}
    failures = ev.check_answer_case({"expect": {"decision": expect.get("decision")}}, answer)
    return {
        "input": case["question"],
        "expect": expect,
        "kind": case["kind"],
        "llm_reply": case["llm_reply"],
        "decision": answer.decision,
        "confidence": round(float(answer.confidence), 4),
        "text": answer.text,
        "sources": list(dict.fromkeys(c.source for c in answer.citations)),
        "reasons": [str(r) for r in answer.reasons],
        "failures": failures,
        "measures": dict(trace.grounding) if trace is not None else {},
        "rule": trace.grounding_rule if trace is not None else "",
        "probability": trace.grounding_probability if trace is not None else None,
    }


def _rate(rows: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> float:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else 0.0


def grounding_metrics(records: list[dict[str, Any]]) -> dict[str, float]:
    faithful = [r for r in records if r.get("kind") == "faithful"]
    wrong = [r for r in records if r.get("kind") not in (None, "faithful")]
    out = {
        "pass_rate": _rate(records, lambda r: bool(r["passed"])),
        "faithful_auto_rate": _rate(faithful, lambda r: r.get("decision") == "auto"),
        "faithful_sent_rate": _rate(faithful, lambda r: r.get("decision") in ("auto", "draft")),
        "wrong_auto_rate": _rate(wrong, lambda r: r.get("decision") == "auto"),
        "wrong_auto_count": float(sum(1 for r in wrong if r.get("decision") == "auto")),
    }
    for kind in KINDS:
        rows = [r for r in records if r.get("kind") == kind]
        if rows:
            out[f"auto_rate.{kind}"] = _rate(rows, lambda r: r.get("decision") == "auto")
    return out
