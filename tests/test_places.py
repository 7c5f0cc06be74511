"""Places a shopper names are matched as the province the shop's rules speak of."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import Copilot
from kefu_copilot._data import merge_rules
from kefu_copilot.text._places import places
from kefu_copilot.text._query import QueryRewriter

from .conftest import make_shop


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("我在乌鲁木齐，包邮吗", [("乌鲁木齐", "新疆")]),
        ("发货到喀什要几天", [("喀什", "新疆")]),
        ("拉萨能发吗", [("拉萨", "西藏")]),
        ("我们这边是内蒙古包头", [("内蒙古", "内蒙古"), ("包头", "内蒙古")]),
        ("深圳市南山区", [("深圳", "广东")]),
        ("中山装有吗", []),  # a word that begins with a city's name is not the city
        ("黄山毛峰多少钱", []),
    ],
)
def test_a_place_is_found_only_where_it_reads_as_one(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert [(p.name, p.province) for p in places().find(text)] == found


def test_a_shop_adds_places() -> None:
    own = places(merge_rules("places", {"provinces": {"新疆": ["可克达拉"]}}))
    assert [p.province for p in own.find("寄到可克达拉")] == ["新疆"]
    assert places().find("寄到可克达拉") == []


def _rewriter(*known: str) -> QueryRewriter:
    words = set(known)
    return QueryRewriter(known=words.__contains__, places=places())


def test_a_city_brings_the_province_the_knowledge_names() -> None:
    rewrite = _rewriter("新疆", "包邮")("我在乌鲁木齐，包邮吗")
    assert rewrite.text == "我在新疆,包邮吗" and "place: 我在新疆,包邮吗" in rewrite.repairs


def test_a_masked_address_keeps_its_province() -> None:
    rewrite = _rewriter("西藏")("收货地址：西藏拉萨市城关区北京中路12号，运费多少")
    assert "北京中路" not in rewrite.text and rewrite.text.endswith("西藏")
    assert any(r.startswith("personal data masked") for r in rewrite.repairs)


@pytest.mark.parametrize(
    ("known", "question"),
    [
        ((), "我在乌鲁木齐，包邮吗"),  # the knowledge does not name the province
        (("新疆", "乌鲁木齐"), "我在乌鲁木齐，包邮吗"),  # it names the city itself
        (("新疆",), "新疆包邮吗"),  # the province is already asked
        (("云南", "普洱"), "寄普洱"),
    ],
)
def test_nothing_is_added_when_the_knowledge_would_not_use_it(
    known: tuple[str, ...], question: str
) -> None:
    rewrite = _rewriter(*known)(question)
    assert not any(r.startswith("place:") for r in rewrite.repairs)


def test_a_city_is_answered_with_its_region_rule(tmp_path: Path) -> None:
    make_shop(
        tmp_path,
        {
            "policies/运费.md": "# 运费说明\n\n- 全场实付满99元包邮（偏远地区除外）。\n"
            "- 偏远地区包括新疆、西藏，偏远地区运费为15元，实付满299元包邮。\n"
        },
    )
    copilot = Copilot(tmp_path, index_dir=tmp_path / ".index", embed_model="none")
    try:
        copilot.ingest()
        city = copilot.answer("我在乌鲁木齐，包邮吗").text
        assert "299" in city and "全场" not in city  # the region's rule, not the general one
        assert "全场实付满99元包邮" in copilot.answer("包邮吗").text
    finally:
        copilot.close()


def test_a_region_is_a_province_listed_with_another() -> None:
    regions = places().regions(["冷链商品不发新疆、西藏、青海", "四川眉山丹棱果冻橙", "广东顺德产"])
    assert regions == {"新疆", "西藏", "青海"}


def test_a_province_named_only_as_an_origin_is_not_brought_in() -> None:
    rewriter = QueryRewriter(
        known={"四川", "新疆"}.__contains__, places=places(), regions=lambda: {"新疆", "西藏"}
    )
    assert rewriter("寄到成都要几天").repairs == ()
    assert rewriter("寄到乌鲁木齐要几天").text == "寄到新疆要几天"


def test_a_place_is_read_as_its_province_only_in_a_question_about_delivery() -> None:
    rewriter = _rewriter("西藏", "新疆")
    assert rewriter("我在拉萨，电饭煲能用吗").repairs == ()
    assert rewriter("我在拉萨，能发货吗").text == "我在西藏,能发货吗"
