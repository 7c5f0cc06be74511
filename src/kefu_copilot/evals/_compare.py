"""Comparing two eval runs: per-metric deltas and the cases that flipped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._runner import EvalResult

__all__ = ["EvalComparison", "MetricDelta", "ResultLike", "compare_results"]


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
