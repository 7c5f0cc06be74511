"""The one reader of numbers in Chinese chat text (kefu_copilot.text._numbers)."""

from __future__ import annotations

import pytest

from kefu_copilot.text._numbers import (
    cn_digits,
    cn_number,
    cn_range,
    discount,
    duration_days,
    height_cm,
    lengths_cm,
    money_amounts,
    number,
    numbers_in,
    quantities,
    weight_kg,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("一百二", 120),  # as people say it
        ("一百二十", 120),
        ("一百零五", 105),
        ("三千零五", 3005),
        ("两万五", 25000),
        ("九五", None),  # a digit run: a discount
        ("两三", None),  # a range
        ("万一", None),
        ("七天", None),
    ],
)
def test_cn_number(text: str, value: int | None) -> None:
    assert cn_number(text) == value


def test_digit_runs_ranges_and_numbers() -> None:
    assert cn_digits("九五") == 95 and cn_digits("十五") is None
    assert cn_range("两三") == (2, 3) and cn_range("一两") == (1, 2) and cn_range("九五") is None
    assert number("３.５") == 3.5 and number("十五") == 15 and number("几") is None


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        *[("九五折", 0.95), ("95折", 0.95), ("9.5折", 0.95), ("9折", 0.9), ("九折", 0.9)],
        *[("八八折", 0.88), ("不打折", None)],
    ],
)
def test_discount(text: str, rate: float | None) -> None:
    assert discount(text) == rate


def test_money_amounts() -> None:
    text = "100块，¥20，五十元，两百块，十五块，2万元"
    assert money_amounts(text) == [100, 20, 50, 200, 15, 20000]
    assert money_amounts("赔我几百块，十几块也行") == []  # vague: no amount
    assert money_amounts("双支装 50ml×2 ¥299") == [299]  # a multiplier's count is no amount


@pytest.mark.parametrize(
    ("text", "cm"),
    [
        *[("1米6", 160), ("一米六", 160), ("一米六五", 165), ("1米65", 165), ("165cm", 165)],
        *[("1.65m", 165), ("165公分", 165), ("30厘米", 30), ("2米", 200)],
    ],
)
def test_lengths(text: str, cm: float) -> None:
    assert lengths_cm(text) == [cm]


def test_height_and_weight() -> None:
    assert height_cm("身高1米6体重110斤，腰围70cm") == 160
    weights = ["55kg", "55公斤", "110斤", "一百一十斤", "五十五千克"]
    assert [weight_kg(w) for w in weights] == [55] * 5
    assert weight_kg("身高160") is None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        *[("七天无理由", 7), ("一周", 7), ("两周", 14), ("两个月", 60), ("一个半月", 45)],
        *[("半个月", 15), ("半年", 180), ("一年", 365), ("48小时", 2), ("3个工作日", None)],
    ],
)
def test_durations(text: str, days: float | None) -> None:
    assert duration_days(text) == days


def test_quantities() -> None:
    found = [(q.low, q.high, q.unit) for q in quantities("银行卡1-3个工作日到账，七天无理由，¥20")]
    assert found == [(1, 3, "工作日"), (7, 7, "天"), (20, 20, "元")]
    assert [(q.low, q.unit) for q in quantities("一百零五元，两三天")] == [(105, "元")]
    assert quantities("次年12月31日清零，可以一块用") == []


def test_numbers_in() -> None:
    assert numbers_in("九五折，两三天，10万元，一下，４８小时") == {95, 2, 3, 10, 100000, 48}


# ------------------------------------------------------------------------------ measures
from kefu_copilot.text._numbers import measures  # noqa: E402


@pytest.mark.parametrize(
    ("text", "dim", "low", "high"),
    [
        ("九五折", "discount", 0.95, 0.95),
        ("95折", "discount", 0.95, 0.95),
        ("九折", "discount", 0.9, 0.9),
        ("半个月内", "time", 360, 360),
        ("一周", "time", 168, 168),
        ("两个月", "time", 1440, 1440),
        ("一个半月", "time", 1080, 1080),
        ("三个半小时", "time", 3.5, 3.5),
        ("一小时二十分钟", "time", 4 / 3, 4 / 3),
        ("1-3个工作日", "workday", 1, 3),
        ("5到10天", "time", 120, 240),
        ("下午四点前", "clock", 16, 16),
        ("16:00", "clock", 16, 16),
        ("百分之三", "percent", 3, 3),
        ("五分之一", "percent", 20, 20),
        ("一倍半", "times", 1.5, 1.5),
        ("零下25度到零下5度", "temperature", -25, -5),
        ("两万毫安", "charge", 20000, 20000),
        ("1米6", "length", 160, 160),
        ("腰围(cm)：69", "length", 69, 69),
        # a header's unit for an approximate or bounding cell, and a rate's count
        ("满水续航(小时)：约40", "time", 40, 40),
        ("表面温度(℃)：约53-58", "temperature", 53, 58),
        ("噪音(dB)：≤46", "loudness", 46, 46),
        ("转速(次/分)：2700", "count:次", 2700, 2700),
        ("正负0.1℃", "temperature", 0.1, 0.1),  # 正负 is ±, not a negative value
        ("满200可用", "money", 200, 200),
        ("¥20", "money", 20, 20),
        ("二十块钱", "money", 20, 20),
        ("39块9", "money", 39.9, 39.9),  # 块 with its jiao
        ("三块五", "money", 3.5, 3.5),
        ("3000元-9999元", "money", 3000, 9999),  # a range stating its unit at both ends
        ("5天到10天", "time", 120, 240),
        # a vague amount is the range it allows
        ("两三天", "time", 48, 72),
        ("十几度", "temperature", 10, 20),
        ("零下二三十度", "temperature", -30, -20),
        ("两百多块", "money", 200, 300),
        ("20多度", "temperature", 20, 30),
        ("一百五十来块", "money", 150, 160),
        ("几十块", "money", 10, 100),
        # an area: a room's size as shoppers say it, and a page's 适用面积
        ("客厅25平", "area", 25, 25),
        ("适用面积(㎡)：20-30", "area", 20, 30),
        ("15-30㎡", "area", 15, 30),
        ("40平方米", "area", 40, 40),
        # one o'clock said as a time: with the part of the day, 钟 or 半
        ("下午一点发货", "clock", 13, 13),
        ("一点钟到", "clock", 1, 1),
        ("一点半", "clock", 1.5, 1.5),
        ("十一点前", "clock", 11, 11),
    ],
)
def test_measures_are_typed_and_normalised(text: str, dim: str, low: float, high: float) -> None:
    (m,) = measures(text)
    assert (m.dim, m.low, m.high) == (dim, pytest.approx(low, 1e-4), pytest.approx(high, 1e-4))


@pytest.mark.parametrize(
    "text",
    [
        "12月31日",
        "3月份",
        "第二天",
        "第二三天",
        "几天",
        "好几天",
        "一块用",
        "12周岁以上",
        "3平台",
        "能便宜一点吗",
        "快一点",
        "一点点",  # 一点 alone is "a little", not one o'clock
    ],
)
def test_not_measures(text: str) -> None:
    assert measures(text) == []


def test_within_allows_calendar_rounding_and_the_twelve_hour_dial() -> None:
    (year,), (months,) = measures("1年"), measures("12个月")
    assert months.within(year) and year.within(months)
    (four,), (sixteen,) = measures("四点"), measures("16:00")
    assert four.within(sixteen)
    (nine,), (ninety_five,) = measures("9折"), measures("95折")
    assert not nine.within(ninety_five)


# -- body measures and size-chart cells (issue 15) ------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1米6 100斤", [(160.0, "length"), (50.0, "weight")]),
        ("165cm 55kg", [(165.0, "length"), (55.0, "weight")]),
        ("一米六五 110斤", [(165.0, "length"), (55.0, "weight")]),
        ("160斤穿什么码", [(80.0, "weight")]),  # a weight: the unit decides, not the magnitude
        ("身高163 體重52公斤", [(163.0, ""), (52.0, "weight")]),  # a bare number: its cue decides
        ("男裤 2尺4的腰", [(80.0, "length")]),
        ("孩子脚长18.2cm", [(18.2, "length")]),
        ("有36码吗 多少钱 399元", []),  # size labels and money are not measures
        ("R10 Pro 续航", []),
    ],
)
def test_body_measures(text: str, expected: list[tuple[float, str]]) -> None:
    from kefu_copilot.text._numbers import body_measures

    assert [(m.value, m.kind) for m in body_measures(text)] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("150-160", (150.0, 160.0, "")),
        ("160cm以上", (160.0, float("inf"), "cm")),
        ("≤60", (0.0, 60.0, "")),
        ("96", (96.0, 96.0, "")),
        ("125–170mm", (125.0, 170.0, "mm")),
        ("85~92斤", (85.0, 92.0, "斤")),
        ("均码", None),
        ("3-6个月", None),
    ],
)
def test_value_range(cell: str, expected: tuple[float, float, str] | None) -> None:
    from kefu_copilot.text._numbers import value_range

    assert value_range(cell) == expected


def test_unit_in() -> None:
    from kefu_copilot.text._numbers import unit_in

    assert [unit_in(h) for h in ("建议体重(斤)", "脚长(mm)", "尺码表（单位：cm）", "适合腕围")] == [
        "斤",
        "mm",
        "cm",
        "",
    ]


def test_body_measures_of_a_short_text_are_remembered_not_shared() -> None:
    from kefu_copilot.text._numbers import body_measures

    _body_measures = body_measures.__wrapped__  # read afresh
    text = "身高1米6 体重110斤 穿什么码"
    first = body_measures(text)
    assert first == _body_measures(text)
    first.clear()  # a caller's list is its own: the remembered reading is untouched
    assert body_measures(text) == _body_measures(text) != []
