"""The hook :meth:`Copilot.answer` calls: the advisor's answer to a pre-sales question, with
``explain=True`` a :class:`~kefu_copilot._models.Trace` whose rule is ``presales`` and whose
reasons show the needs as read and the ranking."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from .._models import Answer, Trace
from ..answer._extractive import Prepared
from ._advisor import Advisor
from ._intent import presales_intent
from ._needs import Needs

__all__ = ["presales_answer"]


class _Passages(Mapping[str, list[int]]):
    """:meth:`Advisor.passages` of a question's candidates, read when first asked: most
    questions are routed elsewhere before any recommendation reads them (~0.07 ms an answer
    at 10k chunks when read for every question)."""

    def __init__(self, read: Callable[[], dict[str, list[int]]]) -> None:
        self._read = read
        self._value: dict[str, list[int]] | None = None

    def _all(self) -> dict[str, list[int]]:
        if self._value is None:
            self._value = self._read()
        return self._value

    def __getitem__(self, source: str) -> list[int]:
        return self._all()[source]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _needs_lines(needs: Needs) -> list[str]:
    lines = [f"needs: {', '.join(needs.kinds()) or 'recommend'}"]
    if needs.budget:
        lines.append(f"budget: {needs.budget[0]:g}–{needs.budget[1]:g} 元")
    for label, value in (
        ("for", needs.groups),
        ("features", needs.features),
        ("words", needs.words),
    ):
        if value:
            lines.append(f"{label}: {' · '.join(value)}")
    if needs.household:
        lines.append(f"household: {needs.household}")
    return lines


def _held(advisor: Advisor, prepared: Prepared) -> Answer:
    answer = prepared.extractive
    if answer.decision == "handoff" and (knowledge := prepared.knowledge()):
        # support would send it, the calibrated probability hands it off: the agent still gets
        # the knowledge's answer to check, with that probability
        proposal = advisor.answerer.propose(prepared.question, knowledge)
        answer = proposal.model_copy(update={"confidence": answer.confidence})
    settings = advisor.answerer.settings
    middle = (settings.auto_threshold + settings.draft_threshold) / 2
    return answer.model_copy(
        update={
            "decision": "draft",
            "confidence": round(min(answer.confidence, middle), 4),
            "reasons": [*answer.reasons, "a wish to buy: an agent checks the answer"],
        }
    )


def presales_answer(
    advisor: Advisor, prepared: Prepared, *, explain: bool = False
) -> Answer | None:
    """The advisor's answer to ``prepared.question``, or None when it is not a pre-sales one
    (the knowledge's draft to a need then gets the cited product's price in
    ``prepared.extractive``: see :meth:`Advisor.priced`)."""
    support: dict[str, float] = {}
    for candidate in prepared.candidates:
        source = candidate.hit.chunk.source
        support[source] = max(support.get(source, 0.0), candidate.support)
    if prepared.page is not None and prepared.page[1]:
        support.setdefault(prepared.page[0], 0.0)  # the typed answer's page: found, unscored
    # judged by support whatever the answer mode: routing keeps its meaning when calibrated
    knowledge = prepared.support_decision
    held = knowledge != "handoff" and prepared.extractive.decision == "handoff"
    if held:
        # the calibrated answer hands it off whatever support says: nothing the knowledge
        # would send stands in the advisor's way — but its answer is for an agent (below)
        knowledge = "handoff"
    typed = bool(prepared.candidates) and prepared.candidates[0].basis == "typed"
    passages = _Passages(lambda: advisor.passages(prepared.knowledge()))
    routed = advisor.route(
        prepared.question,
        prepared.history,
        support,
        knowledge=knowledge,
        typed=typed,
        passages=passages,
    )
    if routed is None:
        # what the question says by the rules' cues (who for, a wish, a budget): its content
        # words are segmented only when a wish asks whether it names a kind of product
        said = advisor.said(prepared.question) if knowledge == "auto" else None
        unfit = advisor.unfit(said, prepared.extractive) if said is not None else []
        if unfit:
            # a sure answer about products the shopper's own constraints rule out (a women's
            # size table for 男生): never sent as is
            return advisor.refit(prepared.question, unfit, support, passages)
        if (
            said is not None
            and advisor.wishes(said)
            and (said.budget is not None or advisor.names_a_kind(advisor.needs(prepared.question)))
        ):
            # a wish to buy a kind of product the advisor did not take: the knowledge's answer
            # goes to an agent (sent as is only when one product clearly fits), priced
            held_answer = _held(advisor, prepared)
            return advisor.priced(prepared.question, held_answer) or held_answer
        if knowledge == "handoff" and prepared.extractive.decision == "handoff":
            # neither the advisor's cues nor the knowledge answer it: the products that fit
            # the need said, for an agent, rather than an empty handoff
            routed = advisor.fallback(prepared.question, support, passages)
        if routed is None:
            if prepared.extractive.decision == "draft" and presales_intent().is_need(
                prepared.question
            ):
                # the knowledge's draft for a need: the agent also gets what the product costs.
                # It stays the knowledge's answer (not the advisor's): an LLM still words it,
                # and falls back to it priced
                priced = advisor.priced(prepared.question, prepared.extractive)
                if priced is not None:
                    prepared.extractive = priced
            return None
    answer, needs = routed
    if held and answer.decision == "auto":
        # the calibrated probability doubts the question: never sent as is on the advisor's word
        answer = advisor.held_back(answer, "the calibrated answer handed the question off")
    if explain:
        settings = advisor.answerer.settings
        before = prepared.extractive.trace
        answer.trace = Trace(
            question=prepared.question,
            normalized=before.normalized if before else "",
            terms=list(before.terms) if before else [],
            products=list(before.products) if before else [],
            rule="presales",
            reasons=[*_needs_lines(needs), *answer.reasons],
            auto_threshold=settings.auto_threshold,
            draft_threshold=settings.draft_threshold,
            confidence=answer.confidence,
            decision=answer.decision,
        )
    return answer
