"""Comparing two eval runs: per-metric deltas and the cases that flipped."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._runner import EvalResult

__all__ = ["EvalComparison", "MetricDelta", "ResultLike", "compare_results", "flip_p_value"]

#: Below this, a comparison's flips are reported as a change rather than noise.
SIGNIFICANT = 0.05


def flip_p_value(gained: int, lost: int) -> float:
    """Two-sided exact McNemar test of paired pass/fail outcomes: the probability of a split of
    the flipped cases at least this uneven (``gained`` failed → passed, ``lost`` passed →
    failed) if the change made no difference and each flip went either way with equal chance.
    1.0 when nothing flipped. Cases that pass or fail in both runs say nothing of the change."""
    n = gained + lost
    if n == 0:
        return 1.0
    k = min(gained, lost)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2.0 * tail)


# -- comparing two runs --------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricDelta:
    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else round(self.new - self.old, 6)


@dataclass
class EvalComparison:
    """Metric deltas and the cases that flipped between two runs (cases matched by id)."""

    old: str
    new: str
    metrics: list[MetricDelta]
    newly_failed: list[str]
    newly_passed: list[str]
    only_old: list[str]
    only_new: list[str]
    new_failures: dict[str, list[str]] = field(default_factory=dict)  # of the newly failed

    @property
    def p_value(self) -> float:
        """:func:`flip_p_value` of the cases that flipped: how likely a split this uneven is
        by chance (e.g. 3 gained, 1 lost: 0.62 — within noise; 12 gained, 2 lost: 0.013)."""
        return flip_p_value(len(self.newly_passed), len(self.newly_failed))

    @property
    def significant(self) -> bool:
        """Whether the flips are unlikely to be chance (``p_value`` < 0.05)."""
        return self.p_value < SIGNIFICANT

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "metrics": {
                m.name: {"old": m.old, "new": m.new, "delta": m.delta} for m in self.metrics
            },
            "newly_failed": self.newly_failed,
            "newly_passed": self.newly_passed,
            "only_old": self.only_old,
            "only_new": self.only_new,
            "new_failures": self.new_failures,
            "flips": {
                "gained": len(self.newly_passed),
                "lost": len(self.newly_failed),
                "p_value": round(self.p_value, 6),
                "significant": self.significant,
            },
        }

    def __rich__(self) -> Any:
        from ..present._evals import comparison_renderable

        return comparison_renderable(self)


ResultLike = EvalResult | str | Path | Mapping[str, Any]


def _as_result(value: ResultLike) -> EvalResult:
    if isinstance(value, EvalResult):
        return value
    if isinstance(value, Mapping):
        return EvalResult.from_dict(value)
    return EvalResult.load(value)


def compare_results(old: ResultLike, new: ResultLike) -> EvalComparison:
    """Per-metric deltas (``new - old``) and the ids of cases that flipped, in ``new``'s order.

    ``old``/``new``: :class:`EvalResult` objects, result dicts or paths of ``--json`` files.
    """
    a, b = _as_result(old), _as_result(new)
    before = {str(c["id"]): bool(c["passed"]) for c in a.cases}
    after = {str(c["id"]): bool(c["passed"]) for c in b.cases}
    newly_failed = [i for i, ok in after.items() if not ok and before.get(i) is True]
    failures = {str(c["id"]): [str(f) for f in c.get("failures") or []] for c in b.cases}
    return EvalComparison(
        old=a.suite,
        new=b.suite,
        metrics=[
            MetricDelta(k, a.metrics.get(k), b.metrics.get(k))
            for k in dict.fromkeys([*a.metrics, *b.metrics])
        ],
        newly_failed=newly_failed,
        newly_passed=[i for i, ok in after.items() if ok and before.get(i) is False],
        only_old=[i for i in before if i not in after],
        only_new=[i for i in after if i not in before],
        new_failures={i: failures[i] for i in newly_failed},
    )
