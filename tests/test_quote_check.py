"""The structural check of a retrieved quote against what the question asks (answer/_values)
and the typed catalogue's price of a named variant."""

from __future__ import annotations

from typing import Any

import pytest

from kefu_copilot._data import packaged_rules
from kefu_copilot.answer._attributes import Attributes
from kefu_copilot.answer._values import QuoteCheck

_HEADER_STYLE = ["款式", "颜色", "价格"]
_TABLES: dict[str, list[dict[str, Any]]] = {
    "shoe.html": [
        {
            "name": "款式与价格",
            "rows": [
                [_HEADER_STYLE, ["标准版", "火山橙", "599"], 1],
                [_HEADER_STYLE, ["GTX防水版", "曜石黑", "799"], 2],
            ],
        },
    ]
}
_FACTS: dict[str, list[list[Any]]] = {
    "shoe.html": [["防水", "GTX防水版内置防水透气膜", 3], ["重量", "约310g", 4]]
}


@pytest.fixture(scope="module")
def attributes() -> Attributes:
    return Attributes(_FACTS, _TABLES, packaged_rules("attributes"))


def test_the_price_of_the_variant_named(attributes) -> None:
    found = attributes.answer("越野鞋GTX防水版多少钱", "shoe.html", "山脊越野鞋")
    assert found is not None and "799" in found.text and "599" not in found.text


@pytest.mark.parametrize(
    ("question", "products", "context", "held"),
    [
        # a product named, or an earlier turn: the subject is known
        ("床垫送上楼多少钱", ["mattress.md"], False, ""),
        # about the price, not asking one of anything
        ("价格保护怎么申请", [], False, ""),
        # an attribute asked of nothing named, no earlier turn
        ("那个多少钱", [], False, "nothing"),
        ("那个多少钱", [], True, ""),
        ("运费多少钱", [], False, ""),
        # asked of the shop, not a quantity of a product
        ("什么时候发货", [], False, ""),
    ],
)
def test_quote_check(attributes, question, products, context, held) -> None:
    why = QuoteCheck(attributes).held(question, products, context=context)
    assert (held in why) if held else not why, why
