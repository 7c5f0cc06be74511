"""The clauses of an agent's draft, each classified: fact, action, question, refusal, answer,
blame, dismissal, filler or banned.

Classes come from general cue patterns (``clause_classes`` in ``data/reply.yaml``, extended per
shop) and the shop's banned phrases — not from drafts seen before. A rewrite keeps facts,
actions and questions (numbers and terms verbatim), replaces a refusal — and a bare yes that
states nothing ("能。", "要") — by the policy the knowledge states, and drops blame, dismissal,
banned and filler clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._clause_model import ClauseModel, clause_features, clause_model, normalise
from ._models import clause_spans, fold, is_question, quantities
from ._phrases import Phrases, shop_phrases

if TYPE_CHECKING:
    from ..config._shop import ShopConfig

__all__ = [
    "DROPPED",
    "DROPPED_WHY",
    "KEPT",
    "Clause",
    "ClauseKind",
    "Split",
    "classify_clauses",
    "has_facts",
    "has_numbers",
    "split_draft",
]

ClauseKind = Literal[
    "fact", "action", "question", "refusal", "answer", "blame", "dismissal", "filler", "banned"
]
#: Clauses a rewrite keeps as they are (cold wording inside them is still softened).
KEPT = frozenset({"fact", "action", "question"})
#: Clauses that never reach the output.
DROPPED = frozenset({"blame", "dismissal", "filler", "banned"})

_CONTENT = re.compile(r"[^亲的哦呢了啊呀哈啦嘛吧也就是真这个那\s,.!?;~，。！？；～、]")
_DIGIT = re.compile(
    r"\d|(?<![一二两三四五六七八九十百千半])[一二两三四五六七八九十百千半]+(?:个|天|年|月|周|小时|元|块|件|张)"
)


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


def classify_clauses(
    text: str, shop: ShopConfig | None = None, *, fitted: bool = True
) -> list[Clause]:
    """The clauses of ``text`` in order, each with its class (see module docstring). With
    ``fitted`` (the default) the packaged clause model may overrule the cue patterns' class
    (cue ``model.<class>``); the shop's banned phrases are never overruled."""
    phrases = shop_phrases(shop)
    banned = [fold(p.strip()) for p in (shop.banned_phrases if shop else []) if p.strip()]
    model = clause_model() if fitted else None
    out = []
    for start, end in clause_spans(text):
        clause = _classify(text[start:end], (start, end), phrases, banned)
        out.append(_refit(clause, phrases, model) if model is not None else clause)
    return out


def _refit(clause: Clause, phrases: Phrases, model: ClauseModel) -> Clause:
    """The clause with the fitted model's class when it overrules the patterns'. A clause made
    a refusal or dropped keeps its numbers as its ``rest`` (a fact never gets lost)."""
    if clause.kind == "banned":
        return clause
    body = fold(clause.text).strip(" ,.!?;~。\n\t")
    if not body or _only_terms(body, phrases):
        # a clause that only names a policy term ("质量问题") states it: nothing else is said
        # for the model to read as cold, and a rewrite keeps every term of the draft
        return clause
    features = clause_features(
        body,
        clause.kind,
        clause.cue,
        phrases,
        numbers=has_numbers(body),
        facts=has_facts(body, phrases),
    )
    verdict = model.verdict(features, clause.kind)
    if verdict is None:
        return clause
    kind, _ = verdict
    if kind == "blame" and not phrases.blamed.search(normalise(body)):
        return clause  # a guess about the item blames no one ("肯定是磕坏的吧")
    # the whole clause is its own remainder: kept only for its numbers (a fact never gets
    # lost), not for a policy term alone ("便宜货还想包邮？" is no fact about 包邮)
    rest = clause.text if kind not in KEPT and has_numbers(clause.text) else ""
    return Clause(clause.text, kind, clause.span, f"model.{kind}", rest)  # type: ignore[arg-type]


def _only_terms(body: str, phrases: Phrases) -> bool:
    """Whether ``body`` (folded) is policy terms and nothing else said (punctuation aside)."""
    rest = body
    for term in sorted(phrases.policy_terms, key=lambda t: (-len(t), t)):
        rest = rest.replace(term, " ")
    return rest != body and not any(ch.isalnum() for ch in rest)


def _classify(clause: str, span: tuple[int, int], phrases: Phrases, banned: list[str]) -> Clause:
    folded = fold(clause)
    body = folded.strip(" ,.!?;~。\n\t")
    hit = next((b for b in banned if b and b in folded), None)
    if hit is not None:
        rest = clause
        while hit in fold(rest):  # every time it is said ("不可以的哦7天无理由不可以的哦")
            rest = _without(rest, fold(rest), fold(rest).index(hit), len(hit))
        if has_facts(rest, phrases):  # a banned phrase inside a fact: the fact stays
            inner = _classify(rest, span, phrases, [b for b in banned if b != hit])
            if inner.kind in KEPT or has_facts(inner.rest, phrases):  # its remainder's facts
                return inner  # stay too ("不可以的哦是您自己7天无理由": a blame keeping 7天…)
        return Clause(clause, "banned", span, f"banned:{hit}", rest)
    for kind, cues in phrases.clause_classes.items():
        for name, pattern in cues.items():
            m = pattern.search(body)
            if m is None or (kind == "refusal" and phrases.conditional.search(body[: m.start()])):
                continue
            offset = folded.index(body) if body else 0
            rest = _without(clause, folded, offset + m.start(), m.end() - m.start())
            return Clause(clause, kind, span, f"{kind}.{name}", rest)  # type: ignore[arg-type]
    if is_question(body, phrases):
        return Clause(clause, "question", span)
    return Clause(clause, "fact" if _CONTENT.search(body) else "filler", span)


def _without(clause: str, folded: str, start: int, length: int) -> str:
    """The clause with ``folded[start:start + length]`` cut out, tidied."""
    rest = clause[:start] + clause[start + length :]
    rest = re.sub(r"^[\s,，、]+|[\s,，、了的]+(?=[。！？!?.;；]?\s*$)", "", rest)
    return rest if _CONTENT.search(fold(rest)) else ""


#: Why a dropped clause never reaches the customer (the reason of its ``Change``).
DROPPED_WHY = {
    "blame": "指责顾客的话不发给顾客",
    "dismissal": "推脱、打发或敷衍顾客的话不发给顾客",
    "banned": "店铺禁用语不发给顾客",
    "filler": "没有内容的口头语",
}


@dataclass
class Split:
    """A draft sorted for a rewrite: the clauses ``kept`` (text, in order), the bare
    ``refusals`` (with the index in ``kept`` where each stood) to be replaced by the policy,
    the clauses ``dropped``, and the ``facts`` kept (fact clauses: does the draft say anything?).
    A bare answer ("能。") stands with the refusals: the policy says it instead, with its terms."""

    kept: list[str] = field(default_factory=list)
    refusals: list[tuple[int, Clause]] = field(default_factory=list)
    #: refusals kept because they name a policy term ("吊牌剪了就不能退了"): the agent's summary
    #: of a rule, said by the rule itself when the reply states it
    reasoned: list[str] = field(default_factory=list)
    dropped: list[Clause] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    refused: bool = False
    dismissed: bool = False


def split_draft(text: str, shop: ShopConfig | None = None) -> Split:
    """The clauses of a draft sorted for a rewrite. Facts, actions and questions are kept; a
    refusal that states its reason ("吊牌剪了就不能退了") is kept too; a bare refusal is set
    apart (its numbers kept: "超过一年不管" → "超过一年"); blame, dismissal, banned and filler
    clauses are dropped, keeping only a remainder with facts ("说了只能用一张" → "只能用一张")."""
    phrases, out = shop_phrases(shop), Split()
    for clause in classify_clauses(text, shop):
        if clause.kind in KEPT:
            out.kept.append(clause.text)
            out.facts += [clause.text] if clause.kind == "fact" else []
        elif clause.kind == "answer":  # said by the policy, or kept when there is none
            out.refusals.append((len(out.kept), clause))
        elif clause.kind == "refusal":
            out.refused = True
            if has_facts(clause.text, phrases) and not has_numbers(clause.text):
                out.kept.append(clause.text)
                out.reasoned.append(clause.text)
                continue
            out.refusals.append((len(out.kept), clause))
            if clause.rest and has_numbers(clause.rest):
                out.kept.append(clause.rest)
            elif has_numbers(clause.text):  # the cue took its numbers ("1元不行"): the clause
                out.kept.append(clause.text)  # stays for them, its cold words softened
        else:
            out.dismissed = out.dismissed or clause.kind != "filler"
            if clause.kind != "banned" and _substantial(clause.rest, phrases):
                out.kept.append(clause.rest)
            out.dropped.append(clause)
    return out


def _substantial(text: str, phrases: Phrases) -> bool:
    """A remainder worth keeping: any fact (a number or a policy term: "是您自己1元" keeps
    "1元" — a fact of the draft never gets lost with the blame around it)."""
    return bool(text) and has_facts(text, phrases)
