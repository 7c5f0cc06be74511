"""The clauses of an agent's draft, each classified: fact, action, question, refusal, blame,
dismissal, filler or banned.

Classes come from general cue patterns (``clause_classes`` in ``data/reply.yaml``, extended per
shop) and the shop's banned phrases — not from drafts seen before. A rewrite keeps facts,
actions and questions (numbers and terms verbatim), replaces a refusal by the policy the
knowledge states, and drops blame, dismissal, banned and filler clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._models import clause_spans, fold, is_question, quantities
from ._phrases import Phrases, shop_phrases

if TYPE_CHECKING:
    from ..config._shop import ShopConfig

__all__ = [
    "DROPPED",
    "KEPT",
    "Clause",
    "ClauseKind",
    "classify_clauses",
    "has_facts",
    "has_numbers",
]

ClauseKind = Literal[
    "fact", "action", "question", "refusal", "blame", "dismissal", "filler", "banned"
]
#: Clauses a rewrite keeps as they are (cold wording inside them is still softened).
KEPT = frozenset({"fact", "action", "question"})
#: Clauses that never reach the output.
DROPPED = frozenset({"blame", "dismissal", "filler", "banned"})

_CONTENT = re.compile(r"[^亲的哦呢了啊呀哈啦嘛吧也就是真这个那\s,.!?;~，。！？；～、]")
_DIGIT = re.compile(r"\d|[一二两三四五六七八九十百千半]+(?:个|天|年|月|周|小时|元|块|件|张)")


@dataclass(frozen=True)
class Clause:
    """One clause of a draft: ``text`` (with its delimiter) at ``span``, its ``kind`` and the
    cue that decided it (``"refusal.no_with_verb"``, ``"banned:自己看"``); ``rest`` is the clause
    without the cue (what a refusal keeps when it states numbers: "超过一年不管" → "超过一年")."""

    text: str
    kind: ClauseKind
    span: tuple[int, int]
    cue: str = ""
    rest: str = ""


def has_numbers(text: str) -> bool:
    """Digits, counted Chinese numerals ("一年", "两件") or quantities: facts a rewrite keeps."""
    return bool(_DIGIT.search(text) or quantities(text))


def has_facts(text: str, phrases: Phrases) -> bool:
    """Numbers or policy terms (吊牌, 运费险...): what a rewrite must keep."""
    return has_numbers(text) or any(term in fold(text) for term in phrases.policy_terms)


def classify_clauses(text: str, shop: ShopConfig | None = None) -> list[Clause]:
    """The clauses of ``text`` in order, each with its class (see module docstring)."""
    phrases = shop_phrases(shop)
    banned = [fold(p.strip()) for p in (shop.banned_phrases if shop else []) if p.strip()]
    out = []
    for start, end in clause_spans(text):
        out.append(_classify(text[start:end], (start, end), phrases, banned))
    return out


def _classify(clause: str, span: tuple[int, int], phrases: Phrases, banned: list[str]) -> Clause:
    folded = fold(clause)
    body = folded.strip(" ,.!?;~。\n\t")
    hit = next((b for b in banned if b and b in folded), None)
    if hit is not None:
        rest = _without(clause, folded, folded.index(hit), len(hit))
        if has_facts(rest, phrases):  # a banned phrase inside a fact: the fact stays
            inner = _classify(rest, span, phrases, [b for b in banned if b != hit])
            if inner.kind in KEPT:
                return inner
        return Clause(clause, "banned", span, f"banned:{hit}", rest)
    for kind, cues in phrases.clause_classes.items():
        for name, pattern in cues.items():
            m = pattern.search(body)
            if m is None:
                continue
            offset = folded.index(body) if body else 0
            rest = _without(clause, folded, offset + m.start(), m.end() - m.start())
            return Clause(clause, kind, span, f"{kind}.{name}", rest)  # type: ignore[arg-type]
    if is_question(body):
        return Clause(clause, "question", span)
    return Clause(clause, "fact" if _CONTENT.search(body) else "filler", span)


def _without(clause: str, folded: str, start: int, length: int) -> str:
    """The clause with ``folded[start:start + length]`` cut out, tidied."""
    rest = clause[:start] + clause[start + length :]
    rest = re.sub(r"^[\s,，、]+|[\s,，、了的]+(?=[。！？!?.;；]?\s*$)", "", rest)
    return rest if _CONTENT.search(fold(rest)) else ""
