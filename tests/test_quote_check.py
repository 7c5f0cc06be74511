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


# -- round 10: what the quote itself says (answer/_values.several_values) -------------------------
@pytest.mark.parametrize(
    ("question", "quote", "held"),
    [
        # a list of every kind's period quoted for one kind: which value is the answer is a guess
        (
            "粉底开封后可以放多久",
            "开封后使用期限：粉底液、面霜均为12个月；精华、眼霜为6个月；口红为24个月。",
            True,
        ),
        # the rule and its exception, two values of the kind asked
        ("价保几天啊", "付款后15天内（黑钻会员30天）降价可申请价保。", True),
        # one value of the kind asked
        ("精华开封后多久要用完", "开封后请在6个月内用完。", False),
        # a circumstance given as a number, weighed against the rule and its exception
        ("买了10天 降价了 能保价吗", "付款15天内可以申请价保；618期间付款的订单延长至30天。", True),
        # the question's own number is not a second value ("买了10天")
        ("买了10天 还能退吗 几天内可以退", "签收后10天内可以退货，", False),
        # values of another kind than the one asked (a price beside the period)
        ("保修多久", "整机保修1年，延保服务99元。", False),
        # no kind of quantity asked
        ("支持七天无理由吗", "支持7天无理由，15天内可换货。", False),
    ],
)
def test_several_values_of_the_kind_asked(question, quote, held) -> None:
    from kefu_copilot.answer._values import several_values

    why = several_values(question, quote)
    assert bool(why) is held, why


@pytest.mark.parametrize(
    ("question", "sure"),
    [
        ("越野鞋GTX防水版多少钱", True),
        # one character the lookup does not account for: 多少米 is not 多少钱
        ("山脊越野鞋GTX防水版多少米", False),
        # a particle or the 色 of a colour named asks nothing more
        ("越野鞋曜石黑色多少钱啦", True),
    ],
)
def test_a_typed_answer_is_sure_only_of_the_whole_question(attributes, question, sure) -> None:
    found = attributes.answer(question, "shoe.html", "山脊越野鞋")
    # 多少米 of the GTX防水版: its 防水 names the variant, not the 防水 fact (no typed answer)
    assert (found is not None and found.sure) is sure, found


def test_title_characters_count_as_the_product_only_in_the_titles_order() -> None:
    """A run of the question's characters names the product when they come in the title's order
    (跑鞋 of 跑步鞋); the same characters out of order (鞋跑) are something else the question asks."""
    attrs = Attributes({"s.md": [["重量", "约250g", 1]]}, {}, packaged_rules("attributes"))
    in_order = attrs.answer("跑鞋重量多少", "s.md", "轻弹缓震跑步鞋")
    out_of_order = attrs.answer("鞋跑重量多少", "s.md", "轻弹缓震跑步鞋")
    assert in_order is not None and in_order.sure
    assert out_of_order is not None and not out_of_order.sure


def test_two_parts_of_one_page_fitting_as_well_hold_the_answer_back(sample_copilot) -> None:
    """Another row of the page quoted with (almost) the same support: which one the question
    means is a guess, so the answer is not sent as is; a part of another source, or a clear
    margin, does not hold it."""
    from kefu_copilot._models import Chunk
    from kefu_copilot.answer._extractive import Candidate
    from kefu_copilot.retrieval._hybrid import Hit

    answerer = sample_copilot._generation()[0]
    query = answerer.read("羽绒服充绒量多少")

    def cand(source: str, row: int, support: float) -> Candidate:
        text = f"第{row}行：充绒量 {100 + row}g"
        chunk = Chunk(id=f"{source}#{row}", kind="table_row", source=source,
                      locator=f"第{row}行", text=text)  # fmt: skip
        return Candidate(Hit(chunk=chunk, score=0.0), support, text, text)

    tied = [cand("products/a.json", 1, 0.80), cand("products/a.json", 2, 0.795)]
    assert "fits the question as well" in answerer._quote_held(query, tied)
    other_source = [cand("products/a.json", 1, 0.80), cand("products/b.json", 2, 0.80)]
    assert not answerer._quote_held(query, other_source)
    margin = [cand("products/a.json", 1, 0.80), cand("products/a.json", 2, 0.70)]
    assert not answerer._quote_held(query, margin)


@pytest.mark.parametrize(
    ("question", "quote", "held"),
    [
        # the attribute asked, another row of the page quoted
        ("面霜多少钱", "项目：备案编号，说明：沪G妆网备字2023031215。", True),
        ("羽绒服充绒量多少克", "含绒量：90%白鸭绒。", True),
        # named in the quote, or a value of its kind stated
        ("羽绒服充绒量多少克", "充绒量：M码约180克。", False),
        ("生日券多少钱", "券种：生日券，面额：30元。", False),
        ("保修多久", "整机保修1年。", False),
        # no attribute asked
        ("支持七天无理由吗", "支持7天无理由退货。", False),
    ],
)
def test_a_quote_that_says_nothing_of_the_attribute_asked_is_held(
    attributes, question, quote, held
) -> None:
    why = QuoteCheck(attributes).unanswered(question, quote)
    assert bool(why) is held, why
