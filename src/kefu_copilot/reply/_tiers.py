"""The tier of a policy the agent's draft is about.

A policy often lists parallel tiers of one quantity — member levels ("满¥3000金卡95折，满¥8000黑金
92折"), regions ("一般地区满59元包邮…；新疆…满199元包邮…"), thresholds. When the agent answered with a
bare number ("95", "59") and the policy is said for it, only the tier stating that number is the
answer: the other tiers' values read as a second, contradicting answer ("95折" then "92折").

The policy is read from its sentences down to their clauses (sentences, then parts between
semicolons, then clauses): at each level, a part is left out when it states values of a unit for
which a sibling part states the draft's number, none of its own values of that unit is one of the
draft's numbers, and it is worded like that sibling (a parallel tier: most of their characters,
digits aside, shared both ways — "满¥8000黑金92折" beside "满¥3000金卡95折";
"质量问题15天内可换货" is no tier of "7天无理由退货"). Parts without such values (the conditions, what
the tiers share) stay; a part stating the number is read at the next level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._models import quantities

__all__ = ["spans_in", "tier_of"]

_CJK = re.compile(r"[\u4e00-\u9fff]")
#: The levels a policy is read at: sentences, parts between semicolons, clauses
_LEVELS = (
    re.compile(r"[^。！？!?\n]+[。！？!?\n]*"),
    re.compile(r"[^；;]+[；;]*"),
    re.compile(r"[^，,]+[，,]*"),
)
_ENDS = "。！？!?；;\n"
#: Share of characters (Dice) two parts share to be parallel tiers
_PARALLEL = 0.5


def tier_of(policy: str, numbers: set[float], level: int = 0) -> str:
    """``policy`` with the tiers stating none of ``numbers`` left out (see module docstring);
    ``policy`` itself when no tier states one of them."""
    if not numbers or level >= len(_LEVELS):
        return policy
    parts = _LEVELS[level].findall(policy)
    if len(parts) < 2:
        return tier_of(policy, numbers, level + 1)
    values = [_values(p) for p in parts]
    stating = [p for p, v in zip(parts, values, strict=True) if _states(v, numbers)]
    if not stating:
        return policy
    answered = {u for v in values for u, vs in v.items() if vs & numbers}
    out = ""
    for part, v in zip(parts, values, strict=True):
        if part in stating:
            out += tier_of(part, numbers, level + 1)
            continue
        other = any(u in answered and not (vs & numbers) for u, vs in v.items())
        if not other or not any(_parallel(s, part) for s in stating):
            out += part
        elif part.rstrip()[-1:] in _ENDS and out[-1:] in "，,；;":
            out = out[:-1] + part.rstrip()[-1]  # the sentence ends where its kept tier does
    return out


def _states(values: dict[str, set[float]], numbers: set[float]) -> bool:
    return any(vs & numbers for vs in values.values())


def _parallel(stating: str, part: str) -> bool:
    """Whether ``part`` is worded like ``stating``: their characters (digits aside) mostly
    shared, both ways (a Dice share)."""
    a, b = set(_CJK.findall(stating)), set(_CJK.findall(part))
    return bool(a and b) and 2 * len(a & b) / (len(a) + len(b)) >= _PARALLEL


def _values(part: str) -> dict[str, set[float]]:
    """The values a part states, by unit."""
    out: dict[str, set[float]] = {}
    for q in quantities(part):
        if q.unit and q.low == q.high:
            out.setdefault(q.unit, set()).add(q.low)
    return out


def spans_in(text: str, patterns: Mapping[str, re.Pattern[str]]) -> list[tuple[float, float, str]]:
    """The spans of time ``text`` bounds, as (low, high, unit), by the ``spans`` patterns of
    data/reply.yaml: ``between`` "第8天至第15天" → (8, 15, 天), ``within`` "7天内" → (0, 7, 天),
    ``beyond`` "15天以后" → (15, inf, 天); a ``between`` span is not read again as either end's."""
    out: list[tuple[float, float, str]] = []
    taken: list[tuple[int, int]] = []
    for name in ("between", "within", "beyond"):
        pattern = patterns.get(name)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            found = {k: v for k, v in m.groupdict().items() if v}
            a = float(found.get("a") or found.get("a2") or 0)
            unit = found.get("unit") or found.get("unit2") or ""
            if name == "between":
                low, high = sorted((a, float(found["b"])))
            elif name == "within":
                low, high = 0.0, a
            else:
                low, high = a, float("inf")
            out.append((low, high, unit))
            taken.append(m.span())
    return out
