"""Grounded generation with an LLM on top of the extractive pipeline.

The LLM sees only the retrieved knowledge (numbered, delimited as data), the conversation and the
shop persona. Its JSON reply is parsed into a pydantic model (one repair attempt), then checked
by :func:`~kefu_copilot.answer._grounding.check_grounding`, which can only *lower* the decision the
retrieval confidence allows. Any LLM failure degrades to the extractive answer, with the reason,
unless the caller asked for strict mode.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from .._errors import LLMError, LLMResponseError
from .._models import Answer, Citation, Decision, Usage
from ..config._shop import ShopConfig
from ..llm._chat import LLM, ChatMessage
from ..llm._prompts import load_prompt
from ..text._pii import redact
from ._claims import ClaimChecker, Entailment
from ._decision import DecisionModel, decision_model, grounding_measures
from ._extractive import Candidate, Prepared, cite
from ._grounding import check_grounding

__all__ = ["AnswerStream", "GroundedGenerator", "LLMAnswer"]

KNOWLEDGE_CHUNKS = 5
#: A handoff whose best match is supported below this has no knowledge about the question (a
#: product the shop does not sell, a follow-up naming nothing): the LLM is not asked. Half the
#: default draft threshold; weak matches above it may earn a draft from a grounded reply.
MISSING = 0.21
_ORDER: dict[Decision, int] = {"handoff": 0, "draft": 1, "auto": 2}
_RAISE: dict[Decision, Decision] = {"handoff": "draft", "draft": "auto", "auto": "auto"}
_ROLE_LABEL = {"customer": "顾客", "agent": "客服", "bot": "客服", "system": "系统"}


class LLMAnswer(BaseModel):
    """The JSON object the answer prompt asks for."""

    answer: str = Field(min_length=1)
    citations: list[int] = Field(default_factory=list)
    can_answer: bool = True


def _lowest(*decisions: Decision) -> Decision:
    return min(decisions, key=lambda d: _ORDER[d])


def _parse_json_object(text: str) -> Any:
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.S)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    return json.loads(text[start : end + 1])


class GroundedGenerator:
    """Turns a :class:`Prepared` question into an LLM answer that passed the grounding check."""

    def __init__(
        self,
        llm: LLM,
        shop: ShopConfig,
        *,
        prompts_dir: Path | None = None,
        canaries: tuple[str, ...] = (),
        pii_keep: tuple[str, ...] = (),
        entailment: Entailment | None = None,
    ) -> None:
        self.llm = llm
        self.shop = shop
        #: the one claim checker (rule-based entailment unless another is given)
        self.checker = ClaimChecker(shop, entailment)
        #: the fitted auto-or-not decision on a reply the hard rules let through (None: the
        #: rules alone, as before round 19)
        self.model: DecisionModel | None = decision_model()
        self.prompt = load_prompt("answer", prompts_dir)
        self.stream_prompt = load_prompt("answer_stream", prompts_dir)
        self.repair_prompt = load_prompt("repair_json", prompts_dir)
        # A random token in the system prompt: if it ever comes back, the prompt leaked.
        self.guard = secrets.token_hex(6)
        self.canaries = (*canaries, self.guard)
        self.pii_keep = pii_keep
        blank = {
            "knowledge": "",
            "history": "",
            "question": "",
            "guard": self.guard,
            "shop_name": shop.name,
            "persona": shop.persona,
        }
        self.protected = tuple(
            m["content"]
            for t in (self.prompt, self.stream_prompt)
            for m in t.render(**blank)
            if m["role"] == "system"
        )

    # -- prompt ------------------------------------------------------------------------------
    @staticmethod
    def knowledge(prepared: Prepared) -> list[Candidate]:
        return prepared.knowledge()[:KNOWLEDGE_CHUNKS]

    def _values(self, prepared: Prepared) -> dict[str, str]:
        lines = []
        for n, cand in enumerate(self.knowledge(prepared), start=1):
            chunk = cand.hit.chunk
            label = f"{chunk.title} · " if chunk.title else ""
            body = chunk.text if chunk.kind != "faq" else f"问：{chunk.question}\n答：{chunk.text}"
            lines.append(f"[{n}] ({label}{chunk.source} · {chunk.locator})\n{body}")
        history = "\n".join(
            f"{_ROLE_LABEL.get(m.role, m.role)}：{m.text}" for m in prepared.history[-8:]
        )
        values = {
            "shop_name": self.shop.name,
            "persona": self.shop.persona,
            "knowledge": "\n\n".join(lines) or "（无）",
            "history": history or "（无）",
            "question": prepared.question,
            "guard": self.guard,
        }
        # Personal data never goes to the LLM (phones, ID and card numbers, e-mails, addresses).
        for key in ("knowledge", "history", "question"):
            values[key] = redact(values[key], keep=self.pii_keep).text
        return values

    def messages(self, prepared: Prepared) -> list[ChatMessage]:
        return self.prompt.render(**self._values(prepared))

    # -- finishing ---------------------------------------------------------------------------
    def _degrade(self, prepared: Prepared, reason: str, usage: Usage | None = None) -> Answer:
        answer = prepared.extractive.model_copy(deep=True)
        answer.reasons.append(f"LLM not used: {reason}; extractive answer")
        if usage is not None:
            answer.usage = usage
        return answer

    def finish(self, prepared: Prepared, reply: LLMAnswer, usage: Usage) -> Answer:
        extractive = prepared.extractive
        knowledge = self.knowledge(prepared)
        reasons = list(extractive.reasons)
        citations: list[Citation] = []
        bad_refs = [n for n in reply.citations if not 1 <= n <= len(knowledge)]
        for n in dict.fromkeys(reply.citations):
            if 1 <= n <= len(knowledge):
                citations.append(cite(knowledge[n - 1]))
        # a passage's title on its own first line: the checker reads it as the passage's heading
        cited_texts = [
            f"{knowledge[n - 1].hit.chunk.title}\n{knowledge[n - 1].hit.chunk.text}"
            for n in reply.citations
            if 1 <= n <= len(knowledge)
        ]
        # the claims are checked against the cited documents: the cited passages first, then
        # the other retrieved passages of the same sources (a product page's other sections)
        sources = {c.source for c in citations}
        cited_ids = {c.chunk_id for c in citations}
        evidence = cited_texts + [
            f"{c.hit.chunk.title}\n{c.hit.chunk.text}"
            for c in prepared.knowledge()
            if c.hit.chunk.source in sources and c.hit.chunk.id not in cited_ids
        ]
        result = check_grounding(
            reply.answer,
            evidence,
            self.shop,
            question=prepared.question,
            canaries=self.canaries,
            protected=self.protected,
            checker=self.checker,
        )
        check = result.claims
        measures = (
            grounding_measures(
                check,
                reply.answer,
                numbers=result.numbers,
                numbers_unknown=result.numbers_unknown,
                support=prepared.support_confidence,
                support_decision=prepared.support_decision,
                citations=len(citations),
            )
            if check is not None
            else {}
        )
        severe = result.ceiling == "handoff"  # a leak, an injection, a contradiction: hand off
        if not severe and (not reply.can_answer or (check is not None and not check.answers)):
            why = (
                check.non_answer
                if reply.can_answer and check
                else "the LLM judged the knowledge insufficient"
            )
            return self._fallback(prepared, why, usage, measures)
        # retrieval's strength is judged by support, as the reply and pre-sales advisors do: the
        # calibrated probability estimates whether the *extractive* answer is right, not whether
        # the knowledge a grounded reply cites is there
        base = prepared.support_decision
        if result.ok and check is not None and check.grounded and citations and not bad_refs:
            # every checkable claim is entailed by what it cites: one step above what retrieval
            # alone earns (a draft is sent, a weak match becomes a draft)
            base = _RAISE[base]
            reasons.append("grounding: every claim of the reply is entailed by the cited knowledge")
        decision = _lowest(base, result.ceiling)
        if bad_refs:
            decision = _lowest(decision, "draft")
            reasons.append(f"the LLM cited sources that were not retrieved: {bad_refs}")
        reasons += [f"grounding: {p}" for p in result.problems]
        # the hard rules decide alone: a contradiction, a leak, money beyond limits (handoff); a
        # reply citing nothing retrieved is never auto. Otherwise the fitted model says auto or not
        rule = (
            "handoff rule"
            if severe
            else "no citation"
            if not citations or bad_refs
            else "no model"
            if self.model is None or not measures
            else ""
        )
        probability = None
        if not rule and self.model is not None:
            probability = self.model.probability(measures)
            if probability >= self.model.threshold:
                decision = "auto"
                reasons.append(
                    f"grounding model: P(faithful) {probability:.2f} ≥ {self.model.threshold:.2f}"
                )
            elif not self.model.promote_only:
                decision = _lowest(decision, "draft")
                reasons.append(
                    f"grounding model: P(faithful) {probability:.2f} < {self.model.threshold:.2f}"
                )
        if decision == "handoff":
            answer = Answer(
                question=prepared.question,
                text=self.shop.handoff_message,
                decision="handoff",
                confidence=extractive.confidence,
                citations=citations or extractive.citations,
                reasons=reasons,
                mode="llm",
                usage=usage,
            )
        else:
            answer = Answer(
                question=prepared.question,
                text=reply.answer.strip(),
                decision=decision,
                confidence=extractive.confidence,
                citations=citations or extractive.citations,
                reasons=reasons,
                mode="llm",
                usage=usage,
            )
        if extractive.trace is not None:  # explained: the trace ends in the LLM's decision
            answer.trace = extractive.trace.model_copy(
                update={
                    "decision": answer.decision,
                    "reasons": list(answer.reasons),
                    "grounding": measures,
                    "grounding_rule": rule,
                    "grounding_probability": probability,
                }
            )
        return answer

    def _fallback(
        self, prepared: Prepared, why: str, usage: Usage, measures: dict[str, float] | None = None
    ) -> Answer:
        """The LLM reply answers nothing: the extractive answer, never sent automatically."""
        answer = prepared.extractive.model_copy(deep=True)
        answer.decision = _lowest(answer.decision, "draft")
        answer.reasons.append(f"LLM reply not used: {why}; extractive answer")
        answer.usage = usage
        if answer.decision == "handoff":
            answer.text = self.shop.handoff_message
        if answer.trace is not None:
            answer.trace = answer.trace.model_copy(
                update={
                    "decision": answer.decision,
                    "reasons": list(answer.reasons),
                    "grounding": measures or {},
                    "grounding_rule": "not an answer",
                }
            )
        return answer

    def _parse(self, text: str) -> LLMAnswer:
        return LLMAnswer.model_validate(_parse_json_object(text))

    def _repair_messages(self, text: str) -> list[ChatMessage]:
        schema = json.dumps(LLMAnswer.model_json_schema(), ensure_ascii=False)
        return self.repair_prompt.render(schema=schema, output=text[:4000])

    # -- sync / async entry points -----------------------------------------------------------
    @staticmethod
    def settled(prepared: Prepared) -> bool:
        """Rules and missing knowledge are never overridden: no LLM for these. A weak match
        (retrieval found knowledge about the question but would hand off) is not settled: a
        reply every claim of which the cited knowledge entails earns a draft, anything less
        stays a handoff. Retrieval is judged by support whatever the answer mode."""
        return (
            prepared.ruled
            or not prepared.candidates
            or (prepared.support_decision == "handoff" and prepared.support_confidence < MISSING)
        )

    def _parse_repaired(self, text: str) -> LLMAnswer:
        try:
            return self._parse(text)
        except (ValueError, ValidationError) as exc:
            raise LLMResponseError(
                f"the LLM reply is not the JSON asked for, even after a repair: {exc}"
            ) from exc

    def answer(self, prepared: Prepared, *, strict: bool = False) -> Answer:
        if self.settled(prepared):
            return prepared.extractive
        usage = Usage()
        try:
            completion = self.llm.complete(self.messages(prepared), json_mode=True)
            usage = _add(usage, completion.usage)
            try:
                reply = self._parse(completion.text)
            except (ValueError, ValidationError):
                repaired = self.llm.complete(self._repair_messages(completion.text), json_mode=True)
                usage = _add(usage, repaired.usage)
                reply = self._parse_repaired(repaired.text)
        except LLMError as exc:
            if strict:
                raise
            return self._degrade(prepared, str(exc), usage)
        return self.finish(prepared, reply, usage)

    async def aanswer(self, prepared: Prepared, *, strict: bool = False) -> Answer:
        if self.settled(prepared):
            return prepared.extractive
        usage = Usage()
        try:
            completion = await self.llm.acomplete(self.messages(prepared), json_mode=True)
            usage = _add(usage, completion.usage)
            try:
                reply = self._parse(completion.text)
            except (ValueError, ValidationError):
                repaired = await self.llm.acomplete(
                    self._repair_messages(completion.text), json_mode=True
                )
                usage = _add(usage, repaired.usage)
                reply = self._parse_repaired(repaired.text)
        except LLMError as exc:
            if strict:
                raise
            return self._degrade(prepared, str(exc), usage)
        return self.finish(prepared, reply, usage)

    def stream(self, prepared: Prepared, *, strict: bool = False) -> AnswerStream:
        return AnswerStream(self, prepared, strict=strict)


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
    )


_REF = re.compile(r"\[(\d{1,2})\]")


class AnswerStream:
    """Text deltas of a draft for an agent UI; ``.answer`` holds the checked result at the end.

    Iterate it (``for delta in stream``) or ``async for delta in stream``. When the LLM fails
    mid-way the stream ends and ``.answer`` is the extractive fallback (or the error is raised
    in strict mode). Drafts are for agents, so the decision is at most ``draft``.
    """

    def __init__(
        self, generator: GroundedGenerator, prepared: Prepared, *, strict: bool = False
    ) -> None:
        self._gen = generator
        self._prepared = prepared
        self._strict = strict
        self.answer: Answer | None = None
        self._parts: list[str] = []

    def _messages(self) -> list[ChatMessage]:
        return self._gen.stream_prompt.render(**self._gen._values(self._prepared))

    def _skip(self) -> bool:
        if self._gen.settled(self._prepared):
            self.answer = self._prepared.extractive
            return True
        return False

    def _finish(self, error: LLMError | None = None) -> None:
        if error is not None:
            if self._strict:
                raise error
            self.answer = self._gen._degrade(self._prepared, str(error))
            return
        text = "".join(self._parts)
        refs = [int(n) for n in _REF.findall(text)]
        clean = _REF.sub("", text).strip()
        reply = LLMAnswer(
            answer=clean or "（空）", citations=refs, can_answer="需人工确认" not in text
        )
        answer = self._gen.finish(self._prepared, reply, Usage())
        if answer.decision == "auto":
            answer.decision = "draft"
        self.answer = answer

    def __iter__(self) -> Iterator[str]:
        if self._skip():
            return
        try:
            for delta in self._gen.llm.stream(self._messages()):
                self._parts.append(delta)
                yield delta
        except LLMError as exc:
            self._finish(exc)
            return
        self._finish()

    async def __aiter__(self) -> AsyncIterator[str]:
        if self._skip():
            return
        try:
            async for delta in self._gen.llm.astream(self._messages()):
                self._parts.append(delta)
                yield delta
        except LLMError as exc:
            self._finish(exc)
            return
        self._finish()
