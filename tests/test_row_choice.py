"""The typed answer's row ranker (answer/_rows.py): which row of a product's table is read when
the question names none of them alone."""

from __future__ import annotations

import pytest

from kefu_copilot.answer._rows import RowChoice, row_features, row_model
from kefu_copilot.text._ranker import LineRanker

_MAT = [
    ["厚度", "价格", "库存"],
    ["6mm", "129", "210"],
    ["8mm", "149", "180"],
    ["10mm", "169", "0"],
    ["6mm 定制刻字款", "144", "999"],
]
_SHOE = [
    ["颜色", "价格", "库存"],
    ["曜石黑", "459", "全码有货"],
    ["荧光绿", "469", "39码缺货"],
    ["樱花粉", "499", "少量"],
]


def _attributes(rows: list[list[str]], *, model: bool = True):
    from kefu_copilot._data import packaged_rules
    from kefu_copilot.answer._attributes import Attributes

    table = [{"name": "products/p.md/规格", "rows": [(rows[0], row, 1) for row in rows[1:]]}]
    attributes = Attributes({"p": []}, {"p": table}, packaged_rules("attributes"))
    if not model:
        attributes.row_choice = None
    return attributes


def test_the_shipped_model_reads_features_the_ranker_makes() -> None:
    model = row_model()
    assert model is not None and 0.5 <= model.threshold < 1
    made = row_features("6mm多少钱", "那8mm呢", "瑜伽垫", [["6mm"], ["8mm"]], [["6mm"], ["8mm"]])
    names = {k for f in made for k in f}
    assert set(model.ranker.weights) <= names, set(model.ranker.weights) - names


def test_a_row_named_inside_another_rows_name_is_read_alone_as_a_draft() -> None:
    """ "6mm" is the whole name of one row and a piece of another's (6mm 定制刻字款): the words
    name no row alone, the model reads the one whose name the question says whole."""
    found = _attributes(_MAT).answer("瑜伽垫6mm价格多少", "p", "瑜伽垫")
    assert found is not None and "129" in found.text, found
    assert "144" not in found.text and "149" not in found.text, found.text
    assert not found.sure and any("row model" in r for r in found.reasons), found.reasons
    # without the model every row is listed, as before
    listed = _attributes(_MAT, model=False).answer("瑜伽垫6mm价格多少", "p", "瑜伽垫")
    assert listed is not None and "144" in listed.text and "129" in listed.text


def test_a_row_named_by_some_of_its_characters() -> None:
    found = _attributes(_SHOE).answer("跑鞋黑色的多少钱", "p", "跑鞋")
    assert found is not None and "459" in found.text and "499" not in found.text, found.text


def test_a_question_naming_no_row_lists_every_row() -> None:
    found = _attributes(_MAT).answer("瑜伽垫多少钱", "p", "瑜伽垫")
    assert found is not None
    assert all(v in found.text for v in ("129", "149", "169", "144")), found.text


def test_rows_alike_are_never_read_alone() -> None:
    choice = RowChoice(LineRanker({"said": 1.0}), 0.6)
    assert choice.choose([{"said": 1.0}, {"said": 1.0}]) is None
    assert choice.choose([{"said": 5.0}]) is None  # one row: nothing to choose
    assert choice.choose([{"said": 3.0}, {"said": 0.0}]) == pytest.approx((0, 0.9526), abs=1e-4)


def test_a_row_named_in_the_previous_turn_is_read() -> None:
    """A row named the turn before: "那个多少钱" after "荧光绿的还有吗"."""
    found = _attributes(_SHOE).answer("那个多少钱", "p", "跑鞋", ["荧光绿的还有吗"])
    assert found is not None and "469" in found.text, found.text
    assert "459" not in found.text and "499" not in found.text and not found.sure
    # no earlier turn naming a row: every row
    alone = _attributes(_SHOE).answer("那个多少钱", "p", "跑鞋", ["跑鞋透气吗"])
    assert alone is not None and all(v in alone.text for v in ("459", "469", "499")), alone
