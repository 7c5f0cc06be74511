"""Grounding check for generated text, independent of the LLM that wrote it.

With a :class:`~kefu_copilot.answer._claims.ClaimChecker` (answers), every claim of the reply is
judged against the knowledge it cites: a contradicted claim (another value, another subject's
value, the opposite polarity) or money beyond ``shop.yaml`` limits hands off; a claim with no
support (a value, a code, an offer the knowledge does not state), a reply that answers nothing
or one stating nothing the knowledge could confirm is a draft. Without one (tool results of the
agent), every number must be traceable to the evidence. Instruction-like text and prompt leaks
must never appear. The result says how far the decision must drop: ``auto`` (fine), ``draft``
(an agent must check) or ``handoff``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._models import Decision
from ..config._shop import ShopConfig
from ..text._injection import find_injection
from ..text._normalize import normalize
from ..text._numbers import numbers_in
from ..text._patterns import YUAN
from ._claims import ClaimCheck, ClaimChecker

__all__ = ["GroundingResult", "check_grounding", "numbers_in"]

_MONEY_PROMISE = re.compile(
    r"(赔|补偿|赔偿|返现|返还|补贴|送|退|给您|给你|发您|发放|补发)[^。！？\n]{0,10}?"
    rf"(\d+(?:\.\d+)?)\s*{YUAN}"
)
_LEAK = re.compile(r"(系统提示|提示词|system\s*prompt|<knowledge>|规则（必须遵守）)", re.I)


#: the share of its words the knowledge must say too for a reply stating nothing checkable (no
#: value, yes or no, code or offer) to pass: most of them — a restated sentence of the knowledge
WORDED = 0.5
LEAK_RUN = 12
_SQUEEZE = re.compile(r"\s+")


def _copied_run(text: str, protected: Iterable[str], allowed: Iterable[str]) -> str | None:
    """A LEAK_RUN-character run of ``text`` found in a protected text but not in ``allowed``."""
    reply = _SQUEEZE.sub("", normalize(text))
    if len(reply) < LEAK_RUN:
        return None
    sources = [_SQUEEZE.sub("", normalize(p)) for p in protected]
    if not any(sources):
        return None
    allowed_text = _SQUEEZE.sub("", normalize(" ".join(allowed)))
    for i in range(len(reply) - LEAK_RUN + 1):
        run = reply[i : i + LEAK_RUN]
        if any(run in source for source in sources) and run not in allowed_text:
            return run
    return None


def _shop_numbers(shop: ShopConfig) -> set[float]:
    values = {shop.compensation.max_coupon_yuan, shop.compensation.max_cash_yuan}
    for text in (shop.service_hours or "", shop.handoff_message, shop.persona):
        values |= numbers_in(text)
    return {float(v) for v in values}


@dataclass
class GroundingResult:
    """``ceiling``: the best decision the text still allows; ``problems``: why it is lower."""

    ceiling: Decision = "auto"
    problems: list[str] = field(default_factory=list)
    claims: ClaimCheck | None = None  # the claim check, when a checker was given
    numbers: int = 0  # the numbers the text states
    numbers_unknown: int = 0  # ... that neither the cited knowledge, the question nor shop.yaml do

    def lower(self, to: Decision, problem: str) -> None:
        order = {"auto": 2, "draft": 1, "handoff": 0}
        if order[to] < order[self.ceiling]:
            self.ceiling = to
        self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_grounding(
    text: str,
    cited_texts: Iterable[str],
    shop: ShopConfig,
    *,
    question: str = "",
    canaries: Iterable[str] = (),
    protected: Iterable[str] = (),
    checker: ClaimChecker | None = None,
) -> GroundingResult:
    """Check a generated answer against the knowledge it cites.

    ``protected``: texts that must never be quoted (the system prompt): a reply sharing a run
    of :data:`LEAK_RUN` characters with one of them that the cited knowledge does not also
    contain is a leak.
    """
    result = GroundingResult()
    cited = list(cited_texts)
    allowed = _shop_numbers(shop) | numbers_in(question)
    for source in cited:
        allowed |= numbers_in(source)

    injected = find_injection(text, shop.rule_set("injection"))
    if injected:
        result.lower("handoff", f"the reply repeats an instruction-like text: {injected[:40]}")
    if _LEAK.search(text):
        result.lower("handoff", "the reply mentions the system prompt or its rules")
    for canary in canaries:
        if canary and canary in text:
            result.lower("handoff", "the reply leaks protected text")

    leaked = _copied_run(text, protected, cited)
    if leaked:
        result.lower("handoff", f"the reply copies the system prompt: {leaked}")

    stated = numbers_in(text)
    result.numbers = len(stated)
    result.numbers_unknown = len(stated - allowed)
    if checker is not None:
        _check_claims(result, checker.check(text, cited, question=question))
        if not cited:
            result.lower("draft", "the reply cites no knowledge")
        return result

    limit = shop.compensation.max_any_yuan
    for match in _MONEY_PROMISE.finditer(normalize(text)):
        amount = float(match.group(2))
        if amount > limit and not any(amount in numbers_in(s) for s in cited):
            result.lower(
                "handoff",
                f"the reply promises {amount:g} 元, above the shop's limit of {limit:g} 元",
            )

    unsupported = sorted(stated - allowed)
    if unsupported:
        shown = ", ".join(f"{n:g}" for n in unsupported[:5])
        result.lower("draft", f"numbers not found in the cited knowledge: {shown}")
    if not cited:
        result.lower("draft", "the reply cites no knowledge")
    return result


def _check_claims(result: GroundingResult, check: ClaimCheck) -> None:
    result.claims = check
    for verdict in check.contradicted:
        result.lower("handoff", f"contradicts the cited knowledge: {verdict.reason}")
    for problem in check.over_limit:
        result.lower("handoff", f"the reply {problem}")
    for verdict in check.unsupported:
        result.lower("draft", f"not supported by the cited knowledge: {verdict.reason}")
    if not check.answers:
        result.lower("draft", f"not an answer: {check.non_answer}")
    if not check.verdicts and check.worded < WORDED:
        # no value, yes or no, code or offer the knowledge could judge, and not the knowledge's
        # own words either ("稍等，我去问问同事"): confirmed by nothing
        result.lower("draft", "the reply states nothing the cited knowledge can confirm")
    elif check.verdicts and not check.entailed:
        result.lower("draft", "nothing the reply states is confirmed by the cited knowledge")
