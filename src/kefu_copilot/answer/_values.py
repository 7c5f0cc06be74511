"""Whether a retrieved quote states the value the question asks, checked against structure.

Retrieval finds the right *source* far more often than the right *detail*: the answers that
were sent as is and were wrong quoted the product's page or the shop's policy, but another
sentence of it (the delivery rule without its fee), another variant, or an attribute asked of
nothing at all. A retrieval score cannot see that; the question's structure can. Each check
here reads the question as the typed catalogue reads it (:class:`._attributes.Attributes`:
the attribute's cue, its qualifiers, filler) and returns why the quote cannot be sent as is,
or "" when nothing contradicts it. A reason makes the answer a draft for an agent; none of
them ever makes an answer more sure.

- **A quantity asked of nothing.** "那个多少钱" (an attribute with a kind of quantity) with no
  product in it or in the earlier turns, and nothing else said: whatever was retrieved is a
  guess at the subject. ("什么时候发货", asked of the shop, has no kind of quantity: not held.)

Two read the quote too (round 10), for what retrieval cannot tell apart:

- **Several values of the kind asked.** "粉底开封后能放多久" answered with a list of every
  product's period (12个月 … 6个月 … 24个月), "价保几天" with the rule and its exception (15天 …
  30天): the quote states two or more different values of the kind of quantity the question
  asks (the claim rules' ``asks``), besides the ones the question gives itself. Which one answers
  it is for an agent to pick (:func:`several_values`).
- **The attribute asked, not answered.** "充绒量多少克" answered with the page's 含绒量 row,
  "多少钱" with its 备案编号 row: the question says a cue of an attribute (the ``attributes``
  rule set) and the quote neither names it (its name, names or cues) nor states a value of its
  kind of quantity (``measures``, ``quoted``) (:meth:`QuoteCheck.unanswered`).
- **Two parts of one page fit as well** (in :mod:`._extractive`): the row or section quoted
  and another of the same source have (almost) the same support, so which one is meant is a
  guess.

Two more checks were built and measured in round 6 and dropped because they turned right
answers of never-read shops into drafts: a quote stating no quantity of the kind asked
(多少钱 answered without a money amount), and a pack size the product's page never states
(有5斤装的吗). See docs/calibration.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..config._shop import ShopConfig
from ..text._normalize import normalize
from ..text._numbers import fold, measures
from ._attributes import Attributes
from ._claims import claim_rules

__all__ = ["QuoteCheck", "quantity_kinds", "several_values"]


def quantity_kinds(question: str, shop: ShopConfig | None = None) -> frozenset[str]:
    """The kinds of quantity ``question`` asks (the claim rules' ``asks``, with what else
    answers them) or gives as a number ("买了10天": time)."""
    rules = claim_rules(shop)
    asked = fold(question)
    dims: set[str] = {m.dim for m in measures(asked)}
    for dim, pattern in rules.asks:
        if pattern.pattern and pattern.search(asked):
            dims |= rules.answer_dims.get(dim, frozenset([dim]))
    return frozenset(dims)


def several_values(
    question: str,
    quote: str,
    shop: ShopConfig | None = None,
    kinds: frozenset[str] | None = None,
) -> str:
    """Why ``quote`` cannot be sent as the answer to ``question`` because it states several
    different values of the kind of quantity the question asks ("多久" → 12个月, 6个月) or
    gives ("买了10天 能保价吗" → 15天, 30天), not counting the values the question gives
    itself; "" when it states one or none, or the question asks and gives no quantity.
    ``kinds``: :func:`quantity_kinds` of the question, when already known."""
    dims = quantity_kinds(question, shop) if kinds is None else kinds
    if not dims:
        return ""
    # a circumstance the question gives as a number ("买了10天") is weighed against the
    # quote's values of that kind: the rule's 15天 beside its exception's 30天 is a guess too
    given = {(m.dim, m.low, m.high) for m in measures(fold(question))}
    stated = [m for m in measures(fold(quote)) if m.dim in dims]
    values = {(m.dim, m.low, m.high) for m in stated} - given
    if len(values) < 2:
        return ""
    said = sorted({m.text for m in stated if (m.dim, m.low, m.high) in values})
    return f"the quote states several values of the kind asked ({'、'.join(said[:4])})"


def _any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``patterns`` (None when there are none)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


_Predicate = tuple[str, re.Pattern[str] | None, re.Pattern[str] | None]


class QuoteCheck:
    """The checks of one snapshot's catalogue (see the module docstring)."""

    def __init__(self, attributes: Attributes) -> None:
        self.attributes = attributes
        # per attribute: its cues, the words that name it in a quote, its kinds of quantity
        self._words: list[tuple[str, list[str], list[str], frozenset[str]]] | None = None
        # per predicate: the question's words asking it, the quote's words answering it
        self._predicates: list[_Predicate] | None = None

    def held(self, question: str, products: Sequence[str], *, context: bool) -> str:
        """Why a retrieved quote cannot be sent as the answer to ``question`` ("" when nothing
        says so). ``products``: the products the question is about; ``context``: whether
        earlier turns give it a subject. Every check kept is of the question's structure, so
        the quote itself is not read."""
        norm = normalize(question)
        asked = self.attributes.asked(norm, "")
        if asked is None or products or context:
            return ""
        spec = self.attributes.rules["attributes"].get(asked.label) or {}
        kinds = [str(k) for k in [*spec.get("measures", ()), *spec.get("quoted", ())]]
        # a quantity of a product ("那个多少钱"), not "什么时候发货" of the shop
        if kinds and not self.attributes._residual(norm, "", list(asked.spans)):
            return f"the {asked.label} asked of nothing the question or earlier turns name"
        return ""

    def unstated(self, question: str, quote: str) -> str:
        """Why ``quote`` does not answer the yes-or-no ``question`` asks of things together
        ("能一起用吗"): the question says a predicate's ``asks`` and the quote none of its
        ``states`` ("" otherwise) — the attributes rule set's ``predicates``."""
        if self._predicates is None:
            spec = self.attributes.rules.get("predicates") or {}
            self._predicates = [
                (str(name), _any(p.get("asks") or ()), _any(p.get("states") or ()))
                for name, p in spec.items()
            ]
        norm, said = normalize(question), normalize(quote)
        for name, asks, states in self._predicates:
            if asks is not None and asks.search(norm) and not (states and states.search(said)):
                return f"the question asks whether things {name}; the quote does not say"
        return ""

    def unanswered(self, question: str, quote: str) -> str:
        """Why ``quote`` does not answer the attribute ``question`` asks: it says a cue of one or
        more attributes and the quote names none of them and states no value of their kinds of
        quantity ("" when it does, or no attribute is asked)."""
        if self._words is None:
            spec = self.attributes.rules["attributes"]
            self._words = [
                (
                    str(attr),
                    [c for c in (normalize(str(c)) for c in [attr, *s["cues"]]) if c],
                    [n for n in (normalize(str(n)) for n in [attr, *s["names"], *s["cues"]]) if n],
                    frozenset(str(k) for k in [*s.get("measures", ()), *s.get("quoted", ())]),
                )
                for attr, s in spec.items()
            ]
        norm, said = normalize(question), normalize(quote)
        asked = [
            (a, names, kinds)
            for a, cues, names, kinds in self._words
            if any(c in norm for c in cues)
        ]
        if not asked:
            return ""
        dims = {m.dim for m in measures(fold(quote))}
        if any(any(n in said for n in names) or kinds & dims for _, names, kinds in asked):
            return ""
        return f"the quote says nothing of the {'、'.join(a for a, _, _ in asked)} asked"
