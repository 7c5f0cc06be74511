"""The one reader of numbers in Chinese chat text: numerals, discounts, money, body measures,
durations, and numbers with a policy unit (:func:`quantities`).

* numerals: 两 = 2, 十五 = 15, 二十 = 20, 一百零五 = 105, 一百二 = 120 (a digit right after 百/千/万
  counts in the next lower unit, as people say it), 两万五 = 25000. A run of digits without a unit
  is not a numeral: 九五 is a discount (95折), 两三 a range (两三天 = 2–3 days);
* discounts: 九五折 = 95折 = 9.5折 = 0.95, 9折 = 九折 = 0.9;
* money: 100元, 20块钱, ¥20, 2万元, 五十元, 两百块, 十五块; a vague amount (几百块, 十几块) is none;
* heights, weights, lengths: 1米6 = 一米六 = 160 cm, 一米六五 = 1.65m = 165cm = 165 cm;
  55kg = 55公斤 = 110斤 = 55 kg; 30cm, 2米; 2尺4 (市尺, a waist) = 80 cm;
* body measures of a size question (:func:`measures`): every length and weight with its unit,
  and the bare numbers ("身高163", "158 95斤") whose meaning the words before them give;
* size-chart cells (:func:`value_range`): 150-160, 160以上, ≤60, 96, 125–170mm;
* durations (in days): 7天, 一周 = 7, 两个月 = 60, 半年 = 180 (6 months of 30 days), 一年 = 365,
  48小时 = 2.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from ._normalize import normalize, remembered_when_short
from ._patterns import CN_NUMERAL, CN_NUMERAL_START, DIGITS_START, MONEY, YUAN

__all__ = [
    "BodyMeasure",
    "Measure",
    "Quantity",
    "body_measures",
    "budget",
    "budget_about",
    "cn_digits",
    "cn_number",
    "cn_range",
    "dimensions_cm",
    "discount",
    "duration_days",
    "fold",
    "height_cm",
    "lengths_cm",
    "measures",
    "money_amounts",
    "money_spans",
    "number",
    "numbers_in",
    "people_ranges",
    "quantities",
    "unit_in",
    "units_in",
    "value_range",
    "weight_kg",
]

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ARABIC = re.compile(r"\d+(?:\.\d+)?")


class _Taken:
    """The disjoint spans of a text already read: an overlap test is a binary search (a long text
    has thousands of them; a scan of all per new span made reading it quadratic)."""

    __slots__ = ("_ends", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, span: tuple[int, int]) -> bool:
        i = bisect_left(self._starts, span[1])  # the spans starting before this one ends
        return i > 0 and self._ends[i - 1] > span[0]  # disjoint: the last one ends latest

    def add(self, span: tuple[int, int]) -> None:
        i = bisect_left(self._starts, span[0])
        self._starts.insert(i, span[0])
        self._ends.insert(i, span[1])


_NUMERAL = rf"{DIGITS_START}\d+(?:\.\d+)?|{CN_NUMERAL_START}{CN_NUMERAL}+"


def cn_number(text: str) -> int | None:
    """A Chinese numeral: "七" → 7, "十五" → 15, "一百零五" → 105, "一百二" → 120, "两万五" →
    25000. None for anything else, and for a run of digits without a unit ("九五", "两三")."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if (len(text) > 1 and not any(ch in _UNITS for ch in text)) or text[0] == "万":
        return None  # 九五, 两三: digit runs; 万分之五, 万一: idioms
    total, section, digit, last_unit, after_zero = 0, 0, None, 0, False
    for ch in text:
        if ch in _DIGITS:
            if _DIGITS[ch] == 0:
                after_zero = True  # 一百零五: the zero only marks the gap
            elif digit is not None:
                return None  # two digits in a row: 二三十
            else:
                digit = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        if unit == 10000:
            total += (section + (digit or 0)) * unit
            section = 0
        else:
            section += (1 if digit is None else digit) * unit
        digit, last_unit, after_zero = None, unit, False
    if digit is not None and last_unit >= 100 and not after_zero:
        digit *= last_unit // 10  # 一百二 = 120, 两万五 = 25000
    return total + section + (digit or 0)


def cn_digits(text: str) -> int | None:
    """A run of Chinese digits read digit by digit, as in a discount: "九五" → 95."""
    if not text or any(ch not in _DIGITS for ch in text):
        return None
    return int("".join(str(_DIGITS[ch]) for ch in text))


def cn_range(text: str) -> tuple[int, int] | None:
    """Two rising digits saying "about": "两三" → (2, 3), "三五" → (3, 5), "一两" → (1, 2)."""
    if len(text) != 2 or any(ch not in _DIGITS for ch in text):
        return None
    low, high = _DIGITS[text[0]], _DIGITS[text[1]]
    return (low, high) if 0 < low < high else None


def number(text: str) -> float | None:
    """An Arabic (also full-width) or Chinese number: "48" → 48.0, "３.５" → 3.5, "十五" → 15.0."""
    text = normalize(text.strip())
    if _ARABIC.fullmatch(text):
        return float(text)
    value = cn_number(text)
    return None if value is None else float(value)


# -- discounts -----------------------------------------------------------------------------------
_DISCOUNT = re.compile(rf"({_NUMERAL})\s*折")


def discount(text: str) -> float | None:
    """The price factor of the first discount in ``text``: "九五折" / "95折" / "9.5折" → 0.95,
    "9折" / "九折" → 0.9, "八八折" → 0.88."""
    m = _DISCOUNT.search(normalize(text))
    if not m:
        return None
    raw = m.group(1)
    value = float(raw) if _ARABIC.fullmatch(raw) else cn_digits(raw)
    if value is None or value <= 0:
        return None
    while value >= 10:
        value /= 10  # 95折 = 9.5折
    return round(value / 10, 4)


# -- money ---------------------------------------------------------------------------------------
def money_amounts(text: str) -> list[float]:
    """Amounts of money (yuan): "100块", "¥20", "2万元", "五十元", "两百块", "十五块". A vague
    amount ("几百块", "十几块") is not read: no suite needs an estimate of it."""
    return [value for value, _, _ in money_spans(normalize(text))]


def money_spans(norm: str) -> list[tuple[float, int, int]]:
    """(amount, start, end) of every amount of money in ``norm`` (normalised text), as
    :func:`money_amounts` reads them: where each is said, for the words before it (a price's
    label: "双支装 ¥299")."""
    out: list[tuple[float, int, int]] = []
    for m in MONEY.finditer(norm):
        if m.group("num") or m.group("signed"):
            value = float(m.group("num") or m.group("signed")) * (10000 if m.group("wan") else 1)
            out.append((value, m.start(), m.end()))
            continue
        run = m.group("cn")
        # the longest numeral ending the run: "一两百块" → 两百, "两三块" → 三
        found = next((v for i in range(len(run)) if (v := cn_number(run[i:])) is not None), None)
        if found is not None:
            out.append((float(found), m.start(), m.end()))
    return out


# -- budgets -------------------------------------------------------------------------------------
_BUDGET_NUM = (
    rf"(?P<{{}}>{DIGITS_START}\d+(?:\.\d+)?\s*万?|{CN_NUMERAL_START}{CN_NUMERAL}+)\s*(?:{YUAN})?"
)
#: a budget: "300以内" / "500内" / "不超过300" / "500左右" / "两百多" / "预算100" / "100块以下"
#: (not the tail of a length said in metres: "5米4左右" is about 5.4 m, not about 4 yuan)
_BUDGET = re.compile(
    rf"(?P<lead>预算|不超过|不超|最多|顶多|控制在|低于|少于)\s*(?:在|是|大概|大约|差不多)?\s*{_BUDGET_NUM.format('num')}"
    rf"\s*(?P<tail>以内|之内|以下|内|左右|上下|多|出头)?"
    rf"|(?<![\d.a-z米])(?!几){_BUDGET_NUM.format('num2')}\s*(?P<tail2>以内|之内|以下|内(?!容)|左右|上下)"
)


def _budget_number(raw: str) -> float | None:
    raw = raw.replace(" ", "")
    wan = raw.endswith("万")
    value = number(raw[:-1] if wan else raw)
    if value is None:  # "两三百": the higher end of a spoken range
        run = raw[:-1] if wan else raw
        value = next((float(v) for i in range(len(run)) if (v := cn_number(run[i:]))), None)
    if value is None:
        return None
    return value * (10000 if wan else 1)


_ABOUT = ("左右", "上下")  # a budget said approximately: up to a fifth more


def budget_about(text: str) -> float | None:
    """The figure of a budget said as an approximation ("300左右", "预算500上下" → 300, 500),
    whose range :func:`budget` widens: a price above the figure is a judgement call. None when
    the budget (if any) is said exactly."""
    for m in _BUDGET.finditer(normalize(text)):
        value = _budget_number(m.group("num") or m.group("num2") or "")
        if not value or value < 1:
            continue
        tail = m.group("tail") or m.group("tail2") or ""
        return value if tail in _ABOUT else None
    return None


def budget(text: str) -> tuple[float, float] | None:
    """The price range (yuan) a shopper's budget allows, or None when none is said: "300以内" /
    "500内" / "不超过300" → (0, 300); "500左右" → (0, 600) (about: up to a fifth more);
    "预算两百多" → (200, 300) (the next step of the same order; "300多" alone is a price said, not
    a budget); "预算100" → (0, 100). A number without a budget word is not a budget (a height,
    a model number, a price quoted back)."""
    for m in _BUDGET.finditer(normalize(text)):
        value = _budget_number(m.group("num") or m.group("num2") or "")
        if not value or value < 1:
            continue
        tail = m.group("tail") or m.group("tail2") or ""
        if tail in _ABOUT:
            return (0.0, value * 1.2)
        if tail in ("多", "出头"):
            step = _vague_step(m.group("num") or "")
            if step is None:
                return (0.0, value)  # 一百二多: not a round number; the budget is what was said
            return (value, value + (step if tail == "多" else step / 2))
        return (0.0, value)
    return None


# -- how many people -----------------------------------------------------------------------------
_PEOPLE = re.compile(
    rf"(?P<a>{DIGITS_START}\d+|{CN_NUMERAL_START}{CN_NUMERAL}+)\s*(?:[-~～—–到至]\s*(?P<b>\d+|{CN_NUMERAL}+))?\s*(?:个)?(?:人|位|口)"
)


def people_ranges(text: str) -> list[tuple[int, int, tuple[int, int]]]:
    """The numbers of people ``text`` says, as (low, high, span): "适合2-3人" → (2, 3),
    "16 位家庭成员" → (16, 16), "三口人" → (3, 3)."""
    out = []
    for m in _PEOPLE.finditer(normalize(text)):
        a = number(m.group("a"))
        b = number(m.group("b")) if m.group("b") else a
        if a is not None and b is not None and 0 < a <= b:
            out.append((int(a), int(b), m.span()))
    return out


# -- heights, weights, lengths -------------------------------------------------------------------
_METRE_AND = re.compile(rf"(\d|[一两二])\s*米\s*(\d{{1,2}}|{CN_NUMERAL}{{1,2}})(?![\d.])")
_LENGTH_UNIT = r"(cm|厘米|公分|mm|毫米|m(?![a-z])|米)"  # keys of _LENGTH_FACTORS
_LENGTH = re.compile(rf"({_NUMERAL})\s*{_LENGTH_UNIT}")
_LENGTH_FACTORS = {"cm": 1.0, "厘米": 1.0, "公分": 1.0, "mm": 0.1, "毫米": 0.1, "m": 100.0}
_LENGTH_FACTORS["米"] = 100.0
_WEIGHT = re.compile(
    rf"({DIGITS_START}\d+(?:\.\d+)?|{CN_NUMERAL_START}{CN_NUMERAL}+?)\s*(kg|公斤|千克|斤|g(?![a-z])|克)"
)
_WEIGHT_FACTORS = {"kg": 1.0, "公斤": 1.0, "千克": 1.0, "斤": 0.5, "g": 0.001, "克": 0.001}


def lengths_cm(text: str) -> list[float]:
    """Lengths in centimetres: "1米6" / "一米六" → 160, "一米六五" / "1.65m" → 165, "30cm" → 30,
    "2米" → 200."""
    norm = normalize(text)
    out: list[tuple[int, float]] = []
    taken = _Taken()
    for m in _METRE_AND.finditer(norm):
        metres = number(m.group(1))
        rest = m.group(2)
        cm = float(rest) if rest.isdigit() else cn_digits(rest)
        if metres is None or cm is None:
            continue
        out.append((m.start(), metres * 100 + (cm * 10 if len(rest) == 1 else cm)))
        taken.add(m.span())
    for m in _LENGTH.finditer(norm):
        if taken.overlaps((m.start(), m.start() + 1)):
            continue
        value = number(m.group(1))
        if value is not None:
            out.append((m.start(), round(value * _LENGTH_FACTORS[m.group(2)], 4)))
    return [value for _, value in sorted(out)]


_TIMES_SIGN = "[×xX*＊]"  # the "by" of a size written as a product (1.5×2.0m)
_DIMENSIONS = re.compile(
    rf"(?<![\d.])(?<!{_TIMES_SIGN})(\d+(?:\.\d+)?)((?:\s*{_TIMES_SIGN}\s*\d+(?:\.\d+)?)+)\s*{_LENGTH_UNIT}"
)
_TIMES = re.compile(rf"\s*{_TIMES_SIGN}\s*")


def dimensions_cm(text: str) -> list[float]:
    """Every figure of a size written as a product, in centimetres: "1.5×2.0m" → 150, 200;
    "120×60×75cm" → 120, 60, 75 (``lengths_cm`` reads only the last, the one the unit ends)."""
    out: list[float] = []
    for m in _DIMENSIONS.finditer(normalize(text)):
        factor = _LENGTH_FACTORS[m.group(3)]
        for raw in [m.group(1), *_TIMES.split(m.group(2))[1:]]:
            out.append(round(float(raw) * factor, 4))
    return out


def height_cm(text: str) -> float | None:
    """A person's height in centimetres (the first length from 1 m to 2.5 m): "身高1米6" → 160."""
    return next((v for v in lengths_cm(text) if 100 <= v <= 250), None)


def weight_kg(text: str) -> float | None:
    """The first weight in kilograms: "55kg" / "55公斤" → 55, "110斤" / "一百一十斤" → 55."""
    for m in _WEIGHT.finditer(normalize(text)):
        value = number(m.group(1))
        if value is not None:
            return round(value * _WEIGHT_FACTORS[m.group(2)], 4)
    return None


# -- body measures and size-chart cells -----------------------------------------------------
#: Units of a body measure → (kind, factor to the kind's base unit: cm for a length, kg for a
#: weight). 尺 is the 市尺 (1/3 m) people give a waist in.
UNITS: dict[str, tuple[str, float]] = {
    "cm": ("length", 1.0), "厘米": ("length", 1.0), "公分": ("length", 1.0),
    "mm": ("length", 0.1), "毫米": ("length", 0.1), "m": ("length", 100.0),
    "米": ("length", 100.0), "尺": ("length", 100 / 3),
    "kg": ("weight", 1.0), "公斤": ("weight", 1.0), "千克": ("weight", 1.0),
    "斤": ("weight", 0.5), "g": ("weight", 0.001), "克": ("weight", 0.001),
}  # fmt: skip
_SHI_CHI = re.compile(r"(\d|[一二两三四])\s*尺\s*(\d|[一二三四五六七八九])?(?![\d寸码])")
_BARE = re.compile(
    r"(?<![\d.a-z])\d+(?:\.\d+)?(?![\d.a-z%])(?!\s*(?:码|号|元|块|折|天|个|件|岁|年|月|次|寸|度|℃|[-~—–至到]))"
)


@dataclass(frozen=True)
class BodyMeasure:
    """A number of a size question at ``span`` of the *normalised* text: ``kind`` "length"
    (``value`` in cm), "weight" (kg), or "" for a bare number (``value`` as written: the words
    before it say what it measures, :mod:`kefu_copilot.answer._sizes` reads them)."""

    value: float
    kind: str
    span: tuple[int, int]
    unit: str = ""


_Read = TypeVar("_Read")
_MEMO_CHARS = 64  # a question's clause, a table cell, a rule phrase: read again and again


def _short_texts_remembered(
    maxsize: int,
) -> Callable[[Callable[[str], list[_Read]]], Callable[[str], list[_Read]]]:
    """A reading of a text (a list of frozen items) remembered for short texts (see
    :func:`~._normalize.remembered_when_short`), each caller getting a list of its own. The
    reading itself is ``__wrapped__``."""

    def remember(read: Callable[[str], list[_Read]]) -> Callable[[str], list[_Read]]:
        frozen = remembered_when_short(_MEMO_CHARS, maxsize)(lambda text: tuple(read(text)))

        @wraps(read)
        def reading(text: str) -> list[_Read]:
            return list(frozen(text))

        return reading

    return remember


@_short_texts_remembered(maxsize=1024)  # a size question: its check, its advice, what it adds
def body_measures(text: str) -> list[BodyMeasure]:
    """Every length, weight and bare number of ``text`` in reading order: "1米6 100斤" →
    160 cm and 50 kg; "160斤穿什么码" → a weight (the unit decides, not the size of the number);
    "2尺4的腰" → 80 cm; "身高163" → a bare 163. Size labels (36码), money and durations are not
    measures."""
    norm = normalize(text)
    out: list[BodyMeasure] = []
    taken = _Taken()

    def free(span: tuple[int, int]) -> bool:
        return not taken.overlaps(span)

    def keep(value: float, kind: str, span: tuple[int, int], unit: str) -> None:
        out.append(BodyMeasure(round(value, 4), kind, span, unit))
        taken.add(span)

    for m in _METRE_AND.finditer(norm):
        metres, rest = number(m.group(1)), m.group(2)
        cm = float(rest) if rest.isdigit() else cn_digits(rest)
        if metres is not None and cm is not None:
            keep(metres * 100 + (cm * 10 if len(rest) == 1 else cm), "length", m.span(), "米")
    for m in _SHI_CHI.finditer(norm):
        chi, cun = number(m.group(1)), m.group(2)
        tenths = (number(cun) or 0.0) if cun else 0.0
        if chi is not None and free(m.span()):
            keep((chi + tenths / 10) * 100 / 3, "length", m.span(), "尺")
    for pattern, factors, kind in ((_WEIGHT, _WEIGHT_FACTORS, "weight"),
                                   (_LENGTH, _LENGTH_FACTORS, "length")):  # fmt: skip
        for m in pattern.finditer(norm):
            value = number(m.group(1))
            if value is not None and free(m.span()):
                keep(value * factors[m.group(2)], kind, m.span(), m.group(2))
    for m in _BARE.finditer(norm):
        if free(m.span()):
            keep(float(m.group()), "", m.span(), "")
    return sorted(out, key=lambda x: x.span)


_UNIT_IN = re.compile(
    r"(cm|厘米|公分|mm|毫米|kg|公斤|千克|斤|(?<![a-z])m(?![a-z])|米|(?<![a-z])g(?![a-z])|克)"
)
_RANGE = re.compile(
    r"(?P<pre>[≤<≥>]=?|不超过|不低于)?\s*(?P<a>\d+(?:\.\d+)?)\s*(?P<ua>[a-z斤克米厘公分毫千]*)"
    r"(?:\s*(?:[-~—–至到]|以内)\s*(?P<b>\d+(?:\.\d+)?)\s*(?P<ub>[a-z斤克米厘公分毫千]*))?"
    r"\s*(?P<post>以上|以下|以内|及以上|及以下|\+)?"
)


def unit_in(text: str) -> str:
    """The first measuring unit written in ``text`` ("建议体重(斤)" → "斤", "脚长(mm)" → "mm",
    "尺码表（单位：cm）" → "cm"), or ""."""
    m = _UNIT_IN.search(normalize(text))
    return m.group(1) if m else ""


def units_in(text: str) -> list[str]:
    """Every measuring unit written in ``text``, in order: "尺码表（单位：cm，体重单位：斤）" →
    ["cm", "斤"]."""
    return [m.group(1) for m in _UNIT_IN.finditer(normalize(text))]


def value_range(cell: str) -> tuple[float, float, str] | None:
    """A size-chart cell as (low, high, unit written in it or ""): "150-160" → (150, 160, ""),
    "160cm以上" → (160, inf, "cm"), "≤60" → (0, 60, ""), "96" → (96, 96, ""), "125–170mm" →
    (125, 170, "mm"). None for a cell that is not one number or range ("均码", "S")."""
    norm = normalize(cell).strip().replace(" ", "")
    m = _RANGE.fullmatch(norm)
    if not m:
        return None
    unit = m.group("ua") or m.group("ub") or ""
    if unit and unit not in UNITS:
        return None
    low = float(m.group("a"))
    high = float(m.group("b")) if m.group("b") else low
    pre, post = m.group("pre") or "", m.group("post") or ""
    if m.group("b") and (pre or post in ("以上", "及以上", "+")):
        return None
    if pre.startswith(("≥", ">", "不低于")) or post in ("以上", "及以上", "+"):
        high = float("inf")
    elif pre.startswith(("≤", "<", "不超过")) or post in ("以下", "及以下", "以内"):
        low, high = 0.0, low
    if high < low:
        low, high = high, low
    return low, high, unit


# -- durations -----------------------------------------------------------------------------------
_DURATION = re.compile(
    rf"(?P<n>{_NUMERAL}|半)\s*(?P<half>个半)?\s*"
    r"(?P<unit>个工作日|工作日|个小时|小时|分钟|天|日|周|星期|礼拜|个月|(?<=半)月|年)"
)
_DAYS = {"小时": 1 / 24, "个小时": 1 / 24, "分钟": 1 / 1440, "天": 1.0, "日": 1.0, "周": 7.0}
_DAYS |= {"星期": 7.0, "礼拜": 7.0, "个月": 30.0, "月": 30.0, "年": 365.0}


def duration_days(text: str) -> float | None:
    """The first duration in days: "7天", "一周" → 7, "两个月" → 60, "一个半月" → 45, "半年" → 180
    (six months of 30 days), "一年" → 365, "48小时" → 2. Working days (3个工作日) are not calendar
    days: None."""
    for m in _DURATION.finditer(normalize(text)):
        raw, unit = m.group("n"), m.group("unit")
        if "工作日" in unit:
            return None
        if raw == "半" and unit == "年":
            return 180.0
        value = 0.5 if raw == "半" else number(raw)
        if value is not None:
            return round((value + (0.5 if m.group("half") else 0)) * _DAYS[unit], 4)
    return None


# -- quantities with a policy unit ---------------------------------------------------------------
_QUANTITY = re.compile(
    rf"(?<![\d.a-z])(?P<a>{_NUMERAL})(?:\s*[-~—–至到]\s*(?P<b>{_NUMERAL}))?\s*"
    r"(?P<unit>个工作日|工作日|个小时|小时|元|块钱|块(?!儿)|天|日|周|个月|%|折)"
)
_YEN = re.compile(r"[¥](?P<a>\d+(?:\.\d+)?)")
_CANONICAL = {"个工作日": "工作日", "个小时": "小时", "块钱": "元", "块": "元", "日": "天"}


@dataclass(frozen=True)
class Quantity:
    """A number (or range) with a unit at ``span`` of the text: "48小时", "1-3个工作日", "¥20"."""

    low: float
    high: float
    unit: str
    span: tuple[int, int]
    text: str


class _Folded(dict[int, str]):
    """Each character's folded form, worked out when first met (``str.translate`` reads it)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch).lower()
        out = folded if len(folded) == 1 else ch
        if len(self) < _FOLDED_MAX:  # bounded whatever characters a message holds
            self[code] = out
        return out


_FOLDED_MAX = 1 << 16


_FOLDED = _Folded()


def fold(text: str) -> str:
    """Full-width → half-width and lower case, character by character (same length as ``text``,
    so a match's span is a span of the original). One table lookup a character: a question's
    quote is folded a few times on the way (~0.1 ms each when each character was normalised)."""
    return text.translate(_FOLDED)


def quantities(text: str) -> list[Quantity]:
    """Numbers with a policy-relevant unit (money, durations, percentages, discounts); spans index
    ``text``. A Chinese digit run ("两三天", "九五折") is not a single number and is left out."""
    folded, out = fold(text), []
    for m in _QUANTITY.finditer(folded):
        a, b, unit = m.group("a"), m.group("b"), m.group("unit")
        if unit == "日" and folded[max(0, m.start() - 1) : m.start()] == "月":
            continue  # a date: 12月31日
        if unit == "块" and not a[0].isdigit():
            continue  # "一块用" is "together", not one yuan
        low, high = number(a), number(b) if b else None
        if low is None or (b and high is None):
            continue
        canonical = _CANONICAL.get(unit, unit)
        out.append(Quantity(low, high if high is not None else low, canonical, m.span(), m.group()))
    for m in _YEN.finditer(folded):
        value = float(m.group("a"))
        out.append(Quantity(value, value, "元", m.span(), m.group()))
    return sorted(out, key=lambda q: q.span)


# -- every number of a text (grounding) ----------------------------------------------------------
# A Chinese numeral only counts as a number before a unit (七天, 三个工作日, 五折), so that 一下/一起
# and the like are not mistaken for quantities.
_CN_QUANTITY = re.compile(
    rf"(?<!\d){CN_NUMERAL_START}({CN_NUMERAL}+)(?=[个天日周月年小时分钟秒元块件次折倍%％])"
)
_WAN = re.compile(rf"{DIGITS_START}(\d+(?:\.\d+)?)\s*万")


def numbers_in(text: str) -> set[float]:
    """Every number stated in ``text``: Arabic (also full-width; 10万 is 10 and 100000), and
    Chinese numerals before a unit — a numeral (十五天), a range (两三天 → 2 and 3) or a digit run (九五折 → 95, 二〇二四年)."""
    norm = normalize(text)
    values = {float(m) for m in _ARABIC.findall(norm)}
    values |= {float(m) * 10000 for m in _WAN.findall(norm)}  # 10万元: 10 and 100000
    for match in _CN_QUANTITY.finditer(norm):
        run = match.group(1)
        value = cn_number(run)
        pair = cn_range(run) if value is None else None
        if pair is not None:
            values.update(map(float, pair))
            continue
        value = cn_digits(run) if value is None else value
        if value is not None:
            values.add(float(value))
    return values


# -- measures: every quantity of a text, typed and normalised (grounding) -----------------------
# A number as written: Arabic (3.5, 1,000), a Chinese numeral (十五, 两万, 九五 before 折), with
# 万 after Arabic digits (2万), or 半 alone (半个月).
_MEASURE_NUM = rf"(?:{DIGITS_START}\d+(?:\.\d+)?\s*万?|{CN_NUMERAL_START}{CN_NUMERAL}+|半)"
#: unit spelling → (dimension, factor to the dimension's base unit). Bases: 元, price factor
#: (折), percent, hours, working days, clock hours, cm, kg, ℃ and one base per counted unit.
_MEASURE_UNITS: dict[str, tuple[str, float]] = {
    "元": ("money", 1),
    "块钱": ("money", 1),
    "块": ("money", 1),
    "rmb": ("money", 1),
    "%": ("percent", 1),
    "％": ("percent", 1),
    "秒": ("time", 1 / 3600),
    "秒钟": ("time", 1 / 3600),
    "分钟": ("time", 1 / 60),
    "小时": ("time", 1),
    "个小时": ("time", 1),
    "钟头": ("time", 1),
    "个钟头": ("time", 1),
    "h": ("time", 1),
    "天": ("time", 24),
    "日": ("time", 24),
    "整天": ("time", 24),
    "周": ("time", 168),
    "星期": ("time", 168),
    "个星期": ("time", 168),
    "礼拜": ("time", 168),
    "个礼拜": ("time", 168),
    "个月": ("time", 720),
    "月": ("time", 720),
    "年": ("time", 8760),
    "工作日": ("workday", 1),
    "个工作日": ("workday", 1),
    "mm": ("length", 0.1),
    "毫米": ("length", 0.1),
    "cm": ("length", 1),
    "厘米": ("length", 1),
    "公分": ("length", 1),
    "m": ("length", 100),
    "米": ("length", 100),
    "kg": ("weight", 1),
    "公斤": ("weight", 1),
    "千克": ("weight", 1),
    "斤": ("weight", 0.5),
    "g": ("weight", 0.001),
    "克": ("weight", 0.001),
    "℃": ("temperature", 1),
    "°c": ("temperature", 1),
    "度": ("temperature", 1),
    "mah": ("charge", 1),
    "毫安时": ("charge", 1),
    "毫安": ("charge", 1),
    "wh": ("energy", 1),
    "w": ("power", 1),
    "瓦": ("power", 1),
    "kw": ("power", 1000),
    "千瓦": ("power", 1000),
    "db": ("loudness", 1),
    "分贝": ("loudness", 1),
    "ml": ("volume", 1),
    "毫升": ("volume", 1),
    "l": ("volume", 1000),
    "升": ("volume", 1000),
    "v": ("voltage", 1),
    "伏": ("voltage", 1),
    "hz": ("frequency", 1),
    "赫兹": ("frequency", 1),
    "㎡": ("area", 1),
    "m²": ("area", 1),
    "平方米": ("area", 1),
    "平米": ("area", 1),
    "平方": ("area", 1),
    "平": ("area", 1),
    "英寸": ("inch", 1),
    "寸": ("inch", 1),
    "码": ("size", 1),
    "倍": ("times", 1),
    "积分": ("points", 1),
    "分": ("points", 1),
}
for _counted in "个件次张组双只台根条包盒瓶袋片套支颗粒枚":
    _MEASURE_UNITS.setdefault(_counted, (f"count:{_counted}", 1))
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _MEASURE_UNITS), key=len, reverse=True))
_MEASURE = re.compile(
    # 正负 is ±, a tolerance (正负0.1℃ = ±0.1℃), not a negative value
    rf"(?<!第)(?P<neg>零下|(?<!正)负|-)?(?P<a>{_MEASURE_NUM})"
    rf"(?:\s*(?:-|~|～|—|–|至|到)\s*(?:零下|负|-)?(?P<b>{_MEASURE_NUM}))?"
    rf"\s*(?P<half>个半|倍半)?\s*(?P<unit>{_UNIT_RE})(?P<half2>半)?(?![a-z])"
    # 平 (square metres: 客厅25平) only where it ends the word: not 3平台, 2平板
    r"(?!(?<=平)[台板底衡时常安价均面稳整])"
)
#: a range stating its unit at both ends: 3000元-9999元, 5天到10天
_RANGE_BOTH = re.compile(
    rf"(?<!第)(?P<a>{_MEASURE_NUM})\s*(?P<unit>{_UNIT_RE})\s*(?:-|~|～|—|–|至|到)\s*"
    rf"(?P<b>{_MEASURE_NUM})\s*(?P=unit)(?![a-z])"
)
#: money with its jiao after 块: 39块9 = 39.9元, 三块五 = 3.5元
_KUAI_JIAO = re.compile(
    rf"(?P<a>{_MEASURE_NUM})\s*块\s*(?P<j>[1-9一二三四五六七八九])(?:毛|角)?"
    rf"(?![\d.十百千万])(?!\s*(?:{_UNIT_RE}))"
)
#: a vague amount with its unit: two rising digits (两三天, 二三十度, 三四百块) or a round number
#: with 多/几/来 after it (十几度, 二十多天, 两百多块, 20多度, 一百五十来块), or 几 before a
#: place (几十块, 几百块)
_APPROX = re.compile(
    rf"(?<!第)(?P<neg>零下|负)?(?:{CN_NUMERAL_START}(?P<pair>几[十百千万]|[一二两三四五六七八九]{{2}})"
    rf"(?P<place>[十百千万])?|(?P<n>{DIGITS_START}\d+|{CN_NUMERAL_START}{CN_NUMERAL}+?)"
    rf"(?P<vague>多|几|来))\s*(?P<unit>{_UNIT_RE})(?![a-z])"
)
#: What every quantity :func:`measures` reads holds: an Arabic digit, a Chinese numeral (or a
#: place, 几十 included) or 半 (半个月) — a text without any states no quantity.
_ANY_FIGURE = re.compile(rf"\d|{CN_NUMERAL}|半")
_PERCENT_CN = re.compile(rf"百分之(?P<a>{_MEASURE_NUM})")
_FRACTION = re.compile(rf"{CN_NUMERAL_START}(?P<d>{CN_NUMERAL}+)分之(?P<n>{CN_NUMERAL}+)")
_CLOCK = re.compile(r"(?<![\d.])(?P<h>[01]?\d|2[0-4])[:：](?P<m>[0-5]\d)(?!\d)")
_CLOCK_CN = re.compile(
    rf"(?P<ampm>凌晨|早上|上午|中午|下午|傍晚|晚上)?(?P<h>\d{{1,2}}|{CN_NUMERAL}{{1,3}})点"
    r"(?P<half>半)?(?!\d)"
)
_PM = {"下午", "傍晚", "晚上"}
_YEN_SIGN = re.compile(r"[¥￥]\s*(?P<a>\d+(?:\.\d+)?)")
# A money threshold or reduction written without 元: "满200可用", "满199减20".
_THRESHOLD = re.compile(rf"(?:满|减)\s*(?P<a>\d+(?:\.\d+)?)(?![\d.]|\s*(?:{_UNIT_RE}|万|折|%))")
# A table cell whose unit is in its header: "腰围(cm)：69", "建议体重(斤)：98-105"; a rate's header
# gives the unit of its count (转速(次/分)：2700, 雾量(ml/h)：100), and an approximate or bounding
# cell states its number in that unit (满水续航(小时)：约40, 表面温度(℃)：约53-58, 噪音(dB)：≤46).
_HEADER_UNIT = re.compile(
    rf"[(（](?:单位[:：]\s*)?(?P<unit>{_UNIT_RE})(?:\s*/\s*[^)）/]{{1,4}})?[)）]\s*[:：]\s*"
    r"(?:约|大约|≤|≥|<|>|<=|>=)?\s*"
    r"(?P<a>\d+(?:\.\d+)?)(?:\s*[-~～—–]\s*(?P<b>\d+(?:\.\d+)?))?(?![\d.])"
)


@dataclass(frozen=True)
class Measure:
    """A quantity in its dimension's base unit: ``low``–``high`` (equal for one value).

    Dimensions: ``money`` (元), ``discount`` (price factor: 85折 = 0.85), ``percent``, ``time``
    (hours: 一周 = 168, 两个月 = 1440), ``workday``, ``clock`` (hour of the day, 16:00 = 16),
    ``length`` (cm), ``weight`` (kg), ``temperature`` (℃), ``charge`` (mAh), ``energy`` (Wh),
    ``power`` (W), ``loudness`` (dB), ``volume`` (ml), ``size`` (码), ``times`` (倍), ``points``
    and ``count:<measure word>`` (3组 → ``count:组``). ``span`` indexes the text.
    """

    dim: str
    low: float
    high: float
    span: tuple[int, int]
    text: str

    def within(self, other: Measure, tolerance: float = 0.02) -> bool:
        """Whether ``other`` states this value: same dimension, this value (or range) inside
        ``other``'s range, allowing ``tolerance`` (1年 = 12个月, 半年 = 6个月). Clock hours are
        compared on a 12-hour dial (四点 = 16:00)."""
        if self.dim != other.dim:
            return False
        low, high, olow, ohigh = self.low, self.high, other.low, other.high
        if self.dim == "clock":
            low, high, olow, ohigh = low % 12, high % 12, olow % 12, ohigh % 12
        slack = tolerance * max(abs(olow), abs(ohigh), 1e-9)
        return olow - slack <= low and high <= ohigh + slack


def _measure_number(raw: str) -> float | None:
    raw = raw.strip()
    if raw == "半":
        return 0.5
    if raw.endswith("万") and raw[:-1].strip() and _ARABIC.fullmatch(raw[:-1].strip()):
        return float(raw[:-1].strip()) * 10000
    return number(raw)


def _discount_value(raw: str) -> float | None:
    value = float(raw) if _ARABIC.fullmatch(raw) else cn_digits(raw) or cn_number(raw)
    if not value or value <= 0:
        return None
    value = float(value)
    while value >= 10:
        value /= 10  # 95折 = 9.5折
    return round(value / 10, 4)


@_short_texts_remembered(maxsize=8192)  # a variant's cells, the question's own clauses
def measures(text: str) -> list[Measure]:
    """Every quantity of ``text`` with its unit, normalised to its dimension's base unit:
    "九五折" = "95折" (0.95), "半个月" = "15天" (360 hours), "一个半月", "三个半小时", "一倍半"
    (1.5倍), "百分之三" = "3%", "五分之一" = "20%", "下午四点" = "16:00", "零下5度" = "-5℃",
    "两万毫安" = "20000mAh", ranges ("1-3个工作日", "5到10天"), "¥20". A Chinese digit run is
    read as such only before 折 (九五折). A vague amount is the range it allows: 两三天 = 2–3天,
    十几度 = 10–20度, 两百多块 = 200–300元, 零下二三十度 = -30–-20℃. Dates (12月31日) and clock
    times are not durations."""
    folded = fold(text)
    out: list[Measure] = []
    if not _ANY_FIGURE.search(folded):
        return out  # every pattern below needs a figure: most clauses and cells have none
    taken = _Taken()

    def add(dim: str, low: float, high: float, span: tuple[int, int]) -> None:
        if taken.overlaps(span):
            return
        taken.add(span)
        out.append(Measure(dim, round(low, 6), round(high, 6), span, text[span[0] : span[1]]))

    for m in _CLOCK.finditer(folded):
        add("clock", int(m.group("h")) + int(m.group("m")) / 60, 0, m.span())
        out[-1] = Measure("clock", out[-1].low, out[-1].low, out[-1].span, out[-1].text)
    for m in _CLOCK_CN.finditer(folded):
        hour = number(m.group("h"))
        if hour is None or hour > 24:
            continue
        if m.group("h") == "一" and not (
            m.group("ampm") or m.group("half") or folded.startswith("钟", m.end())
        ):
            continue  # 一点 alone is "a little" (便宜一点, 快一点): one o'clock is 一点钟
        hour += (12 if m.group("ampm") in _PM and hour < 12 else 0) + (
            0.5 if m.group("half") else 0
        )
        add("clock", hour, hour, m.span())
    for m in _HEADER_UNIT.finditer(folded):
        dim, factor = _MEASURE_UNITS[m.group("unit")]
        first = float(m.group("a"))
        last = float(m.group("b")) if m.group("b") else first
        add(dim, first * factor, last * factor, (m.start("a"), m.end()))
    for m in _METRE_AND.finditer(folded):
        metres, rest = number(m.group(1)), m.group(2)
        cm = float(rest) if rest.isdigit() else cn_digits(rest)
        if metres is not None and cm is not None:
            length = metres * 100 + (cm * 10 if len(rest) == 1 else cm)
            add("length", length, length, m.span())
    for m in _FRACTION.finditer(folded):
        d, n = cn_number(m.group("d")), cn_number(m.group("n"))
        if d and n is not None:
            add("percent", 100 * n / d, 100 * n / d, m.span())
    for m in _KUAI_JIAO.finditer(folded):
        yuan, jiao = _measure_number(m.group("a")), _measure_number(m.group("j"))
        if yuan is not None and jiao is not None:
            add("money", yuan + jiao / 10, yuan + jiao / 10, m.span())
    for m in _RANGE_BOTH.finditer(folded):
        unit = m.group("unit")
        if unit in ("月", "日", "折", "点", "分", "度", "℃", "°c") or not m.group("a")[0].isdigit():
            continue  # dates, discounts and temperatures are read below
        dim, factor = _MEASURE_UNITS[unit]
        low, high = _measure_number(m.group("a")), _measure_number(m.group("b"))
        if low is not None and high is not None and low <= high:
            add(dim, low * factor, high * factor, m.span())
    for m in _APPROX.finditer(folded):
        approx = _approximate(m)
        if approx is not None:
            add(*approx, (m.start(), m.end()))
    for m in _PERCENT_CN.finditer(folded):
        percent = _measure_number(m.group("a"))
        if percent is not None:
            add("percent", percent, percent, m.span())
    for m in _MEASURE.finditer(folded):
        unit, a, b = m.group("unit"), m.group("a"), m.group("b")
        start = m.start("a") if not m.group("neg") else m.start()
        if unit == "日" and folded[max(0, m.start() - 1) : m.start()] == "月":
            continue  # a date: 12月31日
        if unit == "月" and not m.group("half") and a != "半":
            continue  # 3月: a month of the year, not three months (3个月)
        if unit == "周" and folded[m.end() : m.end() + 1] == "岁":
            continue  # 12周岁: an age, not twelve weeks
        if unit in ("块", "分", "度", "点") and not a[0].isdigit() and a in ("一", "几"):
            continue  # 一块 (together), 一分 (a bit), 一度 (once)
        if unit == "折":
            continue  # read below
        if unit in ("m", "l", "v", "g", "h", "w") and not a[0].isdigit():
            continue
        dim, factor = _MEASURE_UNITS[unit]
        if dim == "points" and unit == "分":
            continue  # 分 alone: minutes or points, too vague
        low = _measure_number(a) if not (len(a) > 1 and cn_range(a)) else None
        high = _measure_number(b) if b else low
        if low is None or high is None:
            continue
        extra = 0.5 if (m.group("half") or m.group("half2")) else 0.0
        if m.group("neg") and dim == "temperature":
            low = -low
            high = low if not b else high
            if b and re.match(r"\s*(?:零下|负)", folded[m.end("a") :].lstrip("-~～—–至到 ")):
                high = -high
        elif dim == "temperature" and b and "零下" in folded[m.end("a") : m.start("b")]:
            high = -high
        add(dim, (low + extra) * factor, (high + extra) * factor, (start, m.end()))
    for m in _DISCOUNT.finditer(folded):
        price_factor = _discount_value(m.group(1))
        if price_factor is not None:
            add("discount", price_factor, price_factor, m.span())
    for m in _YEN_SIGN.finditer(folded):
        value = float(m.group("a"))
        add("money", value, value, m.span())
    for m in _THRESHOLD.finditer(folded):
        value = float(m.group("a"))
        add("money", value, value, m.span("a"))
    _merge_compound_times(out)
    _merge_ranges(out, folded)
    return sorted(out, key=lambda q: q.span)


def _vague_step(raw: str) -> float | None:
    """How far "<raw>多" reaches above ``raw``: the place of its last non-zero digit — 150多 =
    150–160, 两百多 / 200多 = 200–300, 1000多 = 1000–2000, 一百五十多 = 150–160; None for a
    number that is not round at a place (一百二多). One rule for budgets and measures."""
    raw = raw.replace(" ", "")
    scale = 1.0
    if len(raw) > 1 and raw.endswith("万") and raw[:-1].isdigit():  # 1万多 = 10000–20000
        raw, scale = raw[:-1], 10000.0
    if raw.isdigit():
        return scale * 10 ** (len(raw) - len(raw.rstrip("0")))
    if raw and raw[-1] in _UNITS:
        return float(_UNITS[raw[-1]])
    return None


def _approximate(m: re.Match[str]) -> tuple[str, float, float] | None:
    """(dimension, low, high) of a vague amount matched by ``_APPROX``, in the base unit."""
    unit = m.group("unit")
    if unit in ("月", "日", "分", "折") or unit not in _MEASURE_UNITS:
        return None  # dates, points and discounts are not vague amounts
    low: float
    high: float
    if m.group("pair") and m.group("pair")[0] == "几":  # 几十: some tens
        place = _UNITS[m.group("pair")[1]]
        low, high = place, place * 10
    elif m.group("pair"):
        pair = cn_range(m.group("pair"))
        if pair is None:
            return None
        place = _UNITS[m.group("place")] if m.group("place") else 1
        low, high = pair[0] * place, pair[1] * place
    else:
        n = m.group("n")
        value = number(n)
        step = _vague_step(n)
        if not value or step is None:
            return None
        low, high = value, value + step
    dim, factor = _MEASURE_UNITS[unit]
    if m.group("neg") and dim == "temperature":
        low, high = -high, -low
    return dim, low * factor, high * factor


_RANGE_GAP = re.compile(r"\s*(?:-|~|～|—|–|至|到)\s*")


def _merge_ranges(out: list[Measure], folded: str) -> None:
    """ "零下25度到零下5度" is one range, as is "-25℃~-5℃"."""
    i = 0
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        if a.dim == b.dim and _RANGE_GAP.fullmatch(folded[a.span[1] : b.span[0]]):
            span = (a.span[0], b.span[1])
            out[i] = Measure(
                a.dim,
                min(a.low, b.low),
                max(a.high, b.high),
                span,
                a.text + folded[a.span[1] : b.span[0]] + b.text,
            )
            del out[i + 1]
            continue
        i += 1


def _merge_compound_times(out: list[Measure]) -> None:
    """ "一小时二十分钟" is one duration (80 minutes), not two."""
    out.sort(key=lambda q: q.span)
    i = 0
    while i < len(out) - 1:
        a, b = out[i], out[i + 1]
        if (
            a.dim == b.dim == "time"
            and a.low == a.high
            and b.low == b.high
            and a.span[1] == b.span[0]
            and b.low < a.low
        ):
            out[i] = Measure(
                "time", a.low + b.low, a.low + b.low, (a.span[0], b.span[1]), a.text + b.text
            )
            del out[i + 1]
            continue
        i += 1
