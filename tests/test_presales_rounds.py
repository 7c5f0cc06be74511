"""The pre-sales advisor's round-5 behaviours: a few products fitting a need equally are each
shown to the agent, a cross-sell quotes what the bought product's own page says is bought
besides it, and someone bought for ("给我妈买") is no haggling."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import Copilot, read_needs
from kefu_copilot._data import packaged_rules

from .conftest import make_shop
from .test_presales import _shop

RULES = packaged_rules("presales")

TENT = """---
title: 山野 双人帐篷 轻量
sku: SY-TENT
price: 399
category: 帐篷
---

# 山野 双人帐篷

双层防雨，2人。地钉为铝合金款；防潮地垫需另购，店铺内单独购买 59元。

## 参数

| 参数 | 数值 |
|---|---|
| 重量 | 1.8kg |
| 保修 | 1年 |
"""


@pytest.fixture(scope="module")
def copilot(tmp_path_factory: pytest.TempPathFactory) -> Copilot:
    root = tmp_path_factory.mktemp("presales-rounds")
    c = Copilot(_shop(root / "shop"), index_dir=root / "index", embed_model="none")
    c.ingest()
    return c


def test_products_fitting_equally_are_each_shown_in_a_draft(copilot: Copilot) -> None:
    rec = copilot.recommend("想买个防汗的耳机 预算500以内")
    assert rec.decision == "draft" and not rec.question
    assert "极光 Pro" in rec.text and "极光 Lite" in rec.text
    assert {c.source for c in rec.citations} == {"products/jg-pro.json", "products/jg-lite.json"}
    assert "149" in rec.text and "399" in rec.text  # each with its price within the budget


def test_more_products_fitting_equally_than_are_shown_get_the_clarifying_question(
    tmp_path: Path,
) -> None:
    extra = "rules:\n  presales:\n    tied_shown: 1\n"
    c = Copilot(_shop(tmp_path / "shop", extra), index_dir=tmp_path / "i", embed_model="none")
    c.ingest()
    rec = c.recommend("想买个防汗的耳机 预算500以内")
    assert rec.question and not rec.citations


def test_cross_sell_quotes_what_the_bought_page_says_is_bought_besides_it(tmp_path: Path) -> None:
    shop = make_shop(
        tmp_path / "shop",
        {"shop.yaml": "name: 山野户外\n", "products/sy-tent.md": TENT},
    )
    c = Copilot(shop, index_dir=tmp_path / "i", embed_model="none")
    c.ingest()
    answer = c.answer("买了双人帐篷 还需要买点啥")
    assert answer.decision == "draft"
    assert "防潮地垫需另购" in answer.text and "59" in answer.text
    assert {x.source for x in answer.citations} == {"products/sy-tent.md"}


def test_a_page_saying_nothing_is_bought_besides_it_has_no_such_clause(copilot: Copilot) -> None:
    from kefu_copilot.presales._crosssell import sold_separately

    advisor = copilot.advisor()
    assert sold_separately(advisor.product("JG-BANK"), advisor.rules) == []


def test_someone_bought_for_is_no_haggling() -> None:
    needs = read_needs("想给我妈买床被子当礼物", RULES)
    assert needs.recipient and not needs.cues.get("bargain")
    assert read_needs("给我便宜点吧", RULES).cues.get("bargain")
    assert read_needs("给我妈买的 再给我便宜点", RULES).cues.get("bargain")
