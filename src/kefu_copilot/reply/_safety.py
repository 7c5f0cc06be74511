"""Draft actions the knowledge forbids for the customer's situation.

A rule such as "鼓包…请立即停止使用、不要充电、不要寄快递" forbids actions; a draft that tells the
customer to do one ("寄回来我们检测一下") must not reach them, however polite its wording. A
prohibition is a cue (``prohibition`` in ``data/reply.yaml``: 不要, 请勿, 切勿, 禁止…) and what
follows it up to the next delimiter; its verb is the action after the shop's manner words (自行,
再, 继续…): its first character when the action is longer than two ("寄快递" → 寄), else all of it
("充电"). A draft clause does the forbidden thing when it has that verb — outside the names of
products ("充电宝" is no 充电) — and no negation just before it ("不用寄回" is fine).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._models import fold
from ._phrases import Phrases

__all__ = ["Prohibition", "forbidding", "prohibitions"]


@dataclass(frozen=True)
class Prohibition:
    """One forbidden action of a rule: ``what`` (寄快递) and its ``verb`` (寄)."""

    what: str
    verb: str


def prohibitions(text: str, phrases: Phrases) -> list[Prohibition]:
    """The actions ``text`` forbids, in order ("不要充电、不要寄快递" → 充电, 寄快递)."""
    out: list[Prohibition] = []
    for m in phrases.prohibition.finditer(fold(text)):
        what = m.group("what")
        bare = phrases.manner.sub("", what)
        if bare and not any(p.what == what for p in out):
            out.append(Prohibition(what=what, verb=bare[0] if len(bare) > 2 else bare))
    return out


def forbidding(
    clause: str, rules: list[Prohibition], phrases: Phrases, nouns: Iterable[str] = ()
) -> Prohibition | None:
    """The first of ``rules`` whose action ``clause`` tells the customer to do, if any
    (``nouns``: product names, blanked out first)."""
    folded = fold(clause)
    if phrases.prohibition.search(folded):
        return None  # the clause forbids it itself ("不要再充电了")
    for noun in sorted((fold(n) for n in nouns if n), key=len, reverse=True):
        folded = folded.replace(noun, "□" * len(noun))
    for rule in rules:
        for m in re.finditer(re.escape(rule.verb), folded):
            if not phrases.negation.search(folded[max(0, m.start() - 3) : m.start()]):
                return rule
    return None
