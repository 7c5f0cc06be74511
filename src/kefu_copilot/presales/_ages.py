"""How old the one a product is for is, read from the shopper's words ("1岁半的宝宝", "8个月")
and matched to the ages a page states ("适合3岁以上", "3岁以下不建议", "适用年龄：1-12岁").

An age is a need like a household size: a page clause whose age range holds the shopper's age
states it — unless the clause negates it ("3岁以下儿童不建议食用整粒坚果": the page denies it
for a child of 1½); a page stating ages none of which holds it denies it; a page stating no age
says nothing. The units and bound words are the ``ages`` entry of ``data/presales.yaml``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._data import compiled
from ..text._normalize import normalize
from ._match import CLAUSE, Found
from ._profiles import Profile

__all__ = ["age_of", "for_age", "held"]

_NUM = r"(?<![\d.])(\d+(?:\.\d+)?)"  # from a number's start: linear on a long digit run


def _pattern(spec: Mapping[str, Any]) -> re.Pattern[str]:
    units = "|".join(sorted((re.escape(str(u)) for u in spec["units"]), key=len, reverse=True))
    bounds = [str(b) for b in (*spec["below"], *spec["above"])]
    bound = "|".join(sorted((re.escape(b) for b in bounds), key=len, reverse=True))
    return re.compile(
        rf"(?:{_NUM}\s*(?:-|~|～|—|–|至|到)\s*)?{_NUM}\s*(?P<unit>{units})(?P<half>半)?"
        rf"\s*(?P<bound>{bound})?"
    )


def _labelled(spec: Mapping[str, Any]) -> re.Pattern[str]:
    """A label naming the unit of its bare value ("参考年龄(岁)：4-10", a size chart's column)."""
    units = "|".join(sorted((re.escape(str(u)) for u in spec["units"]), key=len, reverse=True))
    value = rf"{_NUM}(?:\s*(?:-|~|～|—|–|至|到)\s*{_NUM})?"
    return re.compile(
        rf"[(（](?P<unit>{units})[)）]\s*(?P<colon>[:：]\s*)(?P<value>{value})(?![\d.])"
        rf"(?!\s*(?:{units}))"
    )


def _unit_labels(text: str, spec: Mapping[str, Any]) -> str:
    """``text`` normalised, each bare value under a label naming its unit given the unit
    ("参考年龄(岁)：4-10" → "参考年龄：4-10岁")."""
    return compiled(spec, _labelled).sub(
        lambda m: f"{m.group('colon')}{m.group('value')}{m.group('unit')}", normalize(text)
    )


def _ranges(text: str, spec: Mapping[str, Any]) -> list[tuple[float, float, str]]:
    """(low, high, said) of every age ``text`` states, in years — a bare value under a label
    naming its unit ("参考年龄(岁)：4-10") in that unit."""
    below = {str(b) for b in spec["below"]}
    out: list[tuple[float, float, str]] = []
    for m in compiled(spec, _pattern).finditer(_unit_labels(text, spec)):
        scale = float(spec["units"][m.group("unit")])
        value = float(m.group(2)) * scale + (0.5 * scale if m.group("half") else 0.0)
        if m.group(1):
            out.append((float(m.group(1)) * scale, value, m.group(0)))
        elif m.group("bound"):
            low, high = (0.0, value) if m.group("bound") in below else (value, math.inf)
            out.append((low, high, m.group(0)))
        else:
            out.append((value, value, m.group(0)))
    return out


def age_of(text: str, spec: Mapping[str, Any]) -> float | None:
    """The age the shopper states ("1岁半" → 1.5), in years; None if none or several."""
    ages = {low for low, high, _ in _ranges(text, spec) if low == high}
    return ages.pop() if len(ages) == 1 else None


def _holds(age: float, low: float, high: float) -> bool:
    return low <= age < high or (high == age and not math.isinf(high))


def held(age: float, text: str, spec: Mapping[str, Any]) -> bool:
    """Whether ``text`` (a version's row: "儿童枕 … 3–10岁儿童") states an age range holding
    ``age``."""
    return any(low < high and _holds(age, low, high) for low, high, _ in _ranges(text, spec))


def for_age(
    age: float, profile: Profile, spec: Mapping[str, Any], negations: Sequence[str]
) -> Found | None:
    """Whether the page of ``profile`` states it is for someone ``age`` years old (see the
    module's docstring); None when it states no age."""
    positive: list[tuple[int, str]] = []
    negative: list[tuple[int, str]] = []
    for index, text in profile.parts:
        for clause in CLAUSE.split(_unit_labels(text, spec)):
            for low, high, _ in _ranges(clause, spec):
                if low == high:
                    continue  # a bare age ("25岁") is no range it is for
                holds = _holds(age, low, high)
                denied = any(n in clause for n in negations)
                if holds and not denied:
                    positive.append((index, clause.strip()))
                elif holds or not denied:
                    negative.append((index, clause.strip()))
    if not positive and not negative:
        return None
    said = f"{age:g}岁"
    return Found(said, False, positive, [] if positive else negative)
