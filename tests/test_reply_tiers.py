"""The policy's tier a bare-number draft is about, and products named by a short form of their
title (reply/_tiers.py, ReplyAdvisor._products)."""

from __future__ import annotations

from collections import Counter

import pytest

from kefu_copilot.reply._advisor import _distinct_parts, _series
from kefu_copilot.reply._tiers import tier_of

MEMBERS = "满¥3000金卡95折，满¥8000黑金92折。会员折扣可以和店铺优惠券叠加，但不与秒杀价叠加。"
REGIONS = (
    "一般地区实付满59元包邮，不满59元运费6元；新疆、西藏、青海、甘肃实付满199元包邮，"
    "不满收运费15元；港澳台及海外暂不支持配送。"
)


def test_the_tier_stating_the_drafts_number_is_said_and_its_siblings_are_not() -> None:
    assert tier_of(MEMBERS, {95.0}) == (
        "满¥3000金卡95折。会员折扣可以和店铺优惠券叠加，但不与秒杀价叠加。"
    )
    assert tier_of(REGIONS, {59.0}) == (
        "一般地区实付满59元包邮，不满59元运费6元；港澳台及海外暂不支持配送。"
    )


def test_a_tiers_condition_stays_with_its_value() -> None:
    policy = "新疆、西藏实付满199元包邮，不满收20元；青海、甘肃实付满199元包邮，不满收15元。"
    assert tier_of(policy, {20.0}) == "新疆、西藏实付满199元包邮，不满收20元。"


@pytest.mark.parametrize(
    ("policy", "numbers"),
    [
        ("7天无理由退货，质量问题15天内可换货。", {7.0}),  # no parallel tier
        (MEMBERS, {90.0}),  # no tier states the number
        (MEMBERS, set()),
    ],
)
def test_a_policy_without_a_tier_of_the_number_is_said_whole(policy, numbers) -> None:
    assert tier_of(policy, numbers) == policy


def test_a_series_name_is_the_short_part_after_the_brand() -> None:
    titles = ["野径 速开 全自动家庭帐篷", "野径 云栖2 双人帐篷", "山间一叶 靖江猪肉脯 原味"]
    titles.append("山间一叶 奶油味夏威夷果 大果")  # the brand: the part the titles share
    shared = Counter(g for t in titles for g in set(t.split()))
    assert _series(titles[0].split(), shared) == {"速开"}
    assert _series(titles[1].split(), shared) == {"云栖2", "云栖"}
    assert _series(titles[2].split(), shared) == {"靖江猪肉脯", "猪肉脯"}
    assert _series("野径 全自动家庭帐篷 免搭建".split(), shared) == set()  # no short name


def test_a_distinct_part_is_one_only_one_title_has() -> None:
    parts = _distinct_parts({"a": "3e椰棕硬床垫", "b": "独立袋装弹簧床垫"})
    assert parts["椰棕"] == "a" and parts["弹簧"] == "b"
    assert "床垫" not in parts


def test_products_are_named_by_short_forms_not_by_a_lone_character(sample_copilot) -> None:
    from kefu_copilot._models import Message

    advisor = sample_copilot._reply_advisor()
    titles = advisor.answerer.products.titles
    for source in advisor._names:
        head = advisor._heads[source]
        if len(head) == 1:  # a one-character head names its product only with its neighbour
            assert not advisor._head_in(source, head, f"这个{head}吗")
    named = advisor._products([Message(role="customer", text="快递什么时候到")])
    assert named == set()
    assert all(source in titles for source in advisor._distinct.values())
