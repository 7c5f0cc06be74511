"""A price questioned (贵在哪, 别家便宜): the product's own selling points and its price list.

Nothing is invented and nothing is offered: the selling points are the page's facts (its first
``selling_points`` facts that are not bookkeeping — 货号, 分类, 注意 …), the prices are its
variants' (a set or a cheaper version is a fact of the page, not a discount). A discount is for
an agent: the reply is a draft, and the answer checker holds back any amount beyond the
``shop.yaml`` compensation limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._models import Citation
from ._models import Suggestion
from ._profiles import Profile

__all__ = ["answer_objection"]

Cite = Callable[[int, float], Citation]


def _price_list(profile: Profile) -> tuple[str, list[int]]:
    priced = [v for v in profile.variants if v.price is not None]
    if len({v.price for v in priced}) < 2:
        return "", []
    seen: dict[str, float] = {}
    for v in priced:
        if v.name and v.price is not None:
            seen.setdefault(v.name, v.price)
    shown = list(seen.items())[:6]
    text = "价格：" + "；".join(f"{n} {p:g}元" for n, p in shown) + "。"
    return text, [v.chunk for v in priced][:6]


def answer_objection(profile: Profile, rules: Mapping[str, Any], cite: Cite) -> Suggestion:
    skip = {str(s) for s in rules["not_selling_points"]}
    facts = profile.points(skip)[: int(rules["selling_points"])]
    prices, price_chunks = _price_list(profile)
    text = str(rules["texts"]["objection"]).format(
        title=profile.title, facts="；".join(f.text for f in facts), prices=prices
    )
    chunks = list(dict.fromkeys([*(f.chunk for f in facts), *price_chunks]))
    return Suggestion(
        kind="objection",
        source=profile.source,
        title=profile.title,
        text=text,
        facts=[f.text for f in facts],
        citations=[cite(c, 1.0) for c in chunks],
        reasons=["a price objection: the product's own selling points, no discount offered"],
    )
