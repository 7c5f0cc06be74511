"""Whether a retrieved quote states the value the question asks, checked against structure.

Retrieval finds the right *source* far more often than the right *detail*: the answers that
were sent as is and were wrong quoted the product's page or the shop's policy, but another
sentence of it (the delivery rule without its fee), another variant, or an attribute asked of
nothing at all. A retrieval score cannot see that; the question's structure can. Each check
here reads the question as the typed catalogue reads it (:class:`._attributes.Attributes`:
the attribute's cue, its qualifiers, filler) and returns why the quote cannot be sent as is,
or "" when nothing contradicts it. A reason makes the answer a draft for an agent; none of
them ever makes an answer more sure.

- **The kind of value asked is not in the quote.** An attribute asked as a quantity (the cue
  of an attribute with ``measures`` — 多少钱 a money amount, 能用多久 a duration — said with an
  interrogative) and a quote that states no quantity of that kind.
- **A quantity asked of nothing.** "那个多少钱" (an attribute with a kind of quantity) with no
  product in it or in the earlier turns, and nothing else said: whatever was retrieved is a
  guess at the subject. ("什么时候发货", asked of the shop, has no kind of quantity: not held.)
- **A variant the product does not have.** A quantity the question names as a qualifier
  ("5斤装", "500ml的") of a dimension the product's page states values of, none of them
  this one (nor a range holding it): the page quoted is about the product's other variants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..text._normalize import normalize
from ._attributes import Attributes

__all__ = ["QuoteCheck"]

# an interrogative asking for an amount: a quantity cue said with one asks for a value of the
# attribute's kind ("价格多少" / "多少钱"), not about it ("价格保护怎么申请")
_AMOUNT = re.compile("多少|几|多久|多长|多大|多重|多高|多宽|什么价")
# dimensions a product's variants differ by (a pack weight, a volume, a count, a capacity);
# money, time and the like are what is asked, not which variant; a length is as often a
# constraint the shopper gives ("床底净高30cm 放哪个") as a variant
_VARIANT_DIMS = ("weight", "volume", "charge")


class QuoteCheck:
    """The checks of one snapshot's catalogue (see the module docstring)."""

    def __init__(self, attributes: Attributes) -> None:
        self.attributes = attributes

    def held(
        self,
        question: str,
        quote: str,
        products: Sequence[str],
        *,
        context: bool,
        page: Callable[[], str] = str,
    ) -> str:
        """Why ``quote`` cannot be sent as the answer to ``question`` ("" when nothing says
        so). ``products``: the products the question is about; ``context``: whether earlier
        turns give it a subject; ``page``: the text of the one product's page (read only when a
        check needs it)."""
        norm = normalize(question)
        asked = self.attributes.asked(norm, "")
        if asked is not None:
            spec = self.attributes.rules["attributes"].get(asked.label) or {}
            kinds = [str(k) for k in [*spec.get("measures", ()), *spec.get("quoted", ())]]
            if kinds and _AMOUNT.search(norm) and not _states_kind(quote, kinds):
                return f"the {asked.label} asked, and the quote states no {' or '.join(kinds)}"
            if (
                kinds  # a quantity of a product ("那个多少钱"), not "什么时候发货" of the shop
                and not products
                and not context
                and not self.attributes._residual(norm, "", list(asked.spans))
            ):
                return f"the {asked.label} asked of nothing the question or earlier turns name"
        if len(products) == 1:
            missing = _unstated_variant(norm, page)
            if missing:
                return f"the question names {missing}, which the product's page does not state"
        return ""


def _states_kind(text: str, kinds: Sequence[str]) -> bool:
    from ..text._numbers import measures

    return any(m.dim in kinds for m in measures(normalize(text)))


def _unstated_variant(norm: str, page: Callable[[], str]) -> str:
    """A quantity of ``norm`` of a variant dimension that ``page`` states other values of but
    not this one (nor a range holding it); "" when there is none. (A size question's body
    measures never reach here: the answer to one is held back before.)"""
    from ..text._numbers import measures

    said = [m for m in measures(norm) if m.dim in _VARIANT_DIMS and m.low == m.high]
    if not said:
        return ""
    stated = measures(normalize(page()))
    for q in said:
        same = [m for m in stated if m.dim == q.dim]
        if same and not any(q.within(m) for m in same):
            return q.text
    return ""
