"""Calibrated confidence: the probability that an extractive answer is right.

Support (:mod:`._scoring`) ranks candidates well, but its value means different things on
different shops: 0.8 can be a sure FAQ match on one and a product page that merely shares two
words on another. A logistic model over measures of the decision (the best support and its
margin, the dense cosine, the chunk's kind, how high the lexical retriever ranks it and whether
the dense one agrees, how much of the question the quote and its heading say, whether the quote
names the attribute and the product asked) turns them into the probability that sending the
answer would be right.

The model is fitted across several shops, never one (``benchmarks/fit_calibration.py``: the
sample shop and the twelve dev shops; the shops held out from reading stay out), and reported
leave-one-shop-out: the figures of each shop come from a model that never saw it. The fitted coefficients ship as
``data/calibration.json`` with the thresholds chosen on the out-of-shop predictions
(:func:`choose_auto_threshold`) and the precision/coverage curve. It is used when
``Settings.calibrated`` is on, with those thresholds as ``auto_threshold`` / ``draft_threshold``
(their meaning is unchanged: confidence at or above is sent as is / drafted); off, confidence
is the best candidate's support. See ``docs/calibration.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .._data import DATA_DIR
from ..config._settings import SUPPORT_THRESHOLDS

__all__ = [
    "FEATURES",
    "SUPPORT_THRESHOLDS",
    "Calibrator",
    "Decided",
    "choose_auto_threshold",
    "choose_draft_threshold",
    "decided_cut",
    "fit_logistic",
    "packaged_calibrator",
    "reliability",
    "threshold_cut",
]

#: A threshold "reaches" a precision only when it sends at least this many answers: above it,
#: a handful of the surest answers decides nothing. Below the target everywhere, the threshold
#: is the one that sends the most at FALLBACK_PRECISION.
MIN_SENT = 20
FALLBACK_PRECISION = 0.95

#: The measures a calibrator reads, in order (see :meth:`Answerer.features`).
FEATURES = (
    "support",
    "margin",
    "dense",
    "terms",
    "kind_faq",
    "kind_product",
    "kind_table_row",
    "kind_policy",
    "exception",
    "numbers",
    "numeric",
    "tie",
    "attribute_in_chunk",
    "product_match",
    "quote_length",
    "question_length",
    "quantity_answered",
    "quote_covers",
    "title_covers",
    "variant_in_quote",
    "sources_close",
    "numbers_unmet",
    "agree",
    "faq_both",
    "lexical_rr",
    "topic_match",
)


@dataclass(frozen=True)
class Calibrator:
    """A logistic model over standardised :data:`FEATURES`."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    report: Mapping[str, Any] = field(default_factory=dict)

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (float(values.get(name, 0.0)) - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "report": dict(self.report),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        return cls(
            features=tuple(str(f) for f in data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            coef=tuple(float(x) for x in data["coef"]),
            intercept=float(data["intercept"]),
            report=dict(data.get("report") or {}),
        )


@cache
def packaged_calibrator() -> Calibrator:
    """The calibrator shipped in ``data/calibration.json``."""
    data = json.loads((DATA_DIR / "calibration.json").read_text(encoding="utf-8"))
    return Calibrator.from_dict(data)


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    *,
    features: Sequence[str] = FEATURES,
    l2: float = 1.0,
    iterations: int = 50,
) -> Calibrator:
    """An L2-regularised logistic regression (Newton's method) of ``labels`` on ``rows``."""
    import numpy as np

    x = np.array([[float(r.get(f, 0.0)) for f in features] for r in rows], dtype=float)
    y = np.asarray(labels, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -40, 40)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibrator(
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in w[1:]),
        intercept=float(w[0]),
    )


def threshold_cut(
    probabilities: Sequence[float], labels: Sequence[int], threshold: float
) -> dict[str, Any]:
    """What ``threshold`` sends as is: how many answers, the share of them right (auto
    precision, None when none is sent) and the share of the right answers it sends
    (coverage)."""
    sent = [y for p, y in zip(probabilities, labels, strict=True) if p >= threshold]
    right = sum(labels)
    return {
        "threshold": round(threshold, 4),
        "auto": len(sent),
        "auto_precision": round(sum(sent) / len(sent), 4) if sent else None,
        "coverage": round(sum(sent) / right, 4) if right else None,
    }


def choose_auto_threshold(
    probabilities: Sequence[float],
    labels: Sequence[int],
    precision: float,
    *,
    min_sent: int = MIN_SENT,
    fallback: float = FALLBACK_PRECISION,
) -> tuple[float, str]:
    """The auto threshold read off out-of-shop ``probabilities`` and why: the one that sends the
    most right answers at precision ``precision`` or more (sending at least ``min_sent``);
    else the same at ``fallback``; else 1.0 (nothing is sent as is). Coverage is not traded for
    precision: what the target costs is reported beside it (the curve), not hidden by a
    lower target."""
    cuts = [
        threshold_cut(probabilities, labels, t)
        for t in sorted({round(p, 4) for p in probabilities}, reverse=True)
    ]
    for target in (precision, fallback):
        ok = [c for c in cuts if c["auto"] >= min_sent and (c["auto_precision"] or 0.0) >= target]
        if ok:
            best = max(ok, key=lambda c: (c["coverage"] or 0.0, c["threshold"]))
            return best["threshold"], (
                f"the most right answers at precision >= {target}: {best['auto']} sent, "
                f"precision {best['auto_precision']}, coverage {best['coverage']}"
            )
    return 1.0, f"no threshold sending {min_sent} reaches precision {fallback}"


@dataclass(frozen=True)
class Decided:
    """One question that reached a retrieval decision, as the draft threshold is fitted on it:
    its out-of-shop probability, its support, whether a gate after the decision holds an auto
    answer back (then a draft), and whether the case passes with the proposed answer sent as
    is, offered as a draft, or with a handoff."""

    probability: float
    support: float
    held: bool
    right: bool
    draft_passes: bool
    handoff_passes: bool
    handoff_only: bool  # the case accepts nothing but a handoff


def decided_cut(
    cases: Sequence[Decided], auto: float, draft: float, *, by_support: bool = False
) -> dict[str, Any]:
    """What the thresholds ``auto`` / ``draft`` do to ``cases`` (on their probability, or on
    their support with ``by_support``): how many are sent as is and the share of them right,
    the share of the handoff-only cases handed off (handoff recall) and how many pass."""
    sent = right = passed = handed = handoff_only = 0
    for case in cases:
        score = min(1.0, case.support) if by_support else case.probability
        decision = "auto" if score >= auto else "draft" if score >= draft else "handoff"
        if decision == "auto" and case.held:
            decision = "draft"
        ok = {"auto": case.right, "draft": case.draft_passes}.get(decision, case.handoff_passes)
        sent += decision == "auto"
        right += decision == "auto" and case.right
        passed += ok
        handoff_only += case.handoff_only
        handed += case.handoff_only and decision == "handoff"
    return {
        "auto": sent,
        "auto_precision": round(right / sent, 4) if sent else None,
        "handoff_recall": round(handed / handoff_only, 4) if handoff_only else None,
        "passed": passed,
        "cases": len(cases),
    }


def choose_draft_threshold(
    cases: Sequence[Decided], auto: float, baseline: tuple[float, float] = SUPPORT_THRESHOLDS
) -> tuple[float, str]:
    """The draft threshold under ``auto`` read off out-of-shop probabilities, and why: the one
    with the most cases passing among those that hand off at least the share of the handoff-only
    cases that support with the ``baseline`` thresholds hands off (the highest of equals).

    A draft below the auto threshold costs a right answer nothing (an agent sends it) and a
    handoff-only question its handoff; so the threshold is as low as the handoffs allow, rather
    than one leaving a fixed share of handoffs below it (which turned right drafts into
    handoffs: the calibrated probability of a right answer is often 0.3-0.6)."""
    today = decided_cut(cases, *baseline, by_support=True)
    floor = today["handoff_recall"] or 0.0
    best: tuple[tuple[int, float], dict[str, Any]] | None = None
    for t in sorted({round(c.probability, 4) for c in cases if c.probability < auto} | {auto}):
        cut = decided_cut(cases, auto, t)
        if (cut["handoff_recall"] or 0.0) < floor:
            continue
        if best is None or (cut["passed"], t) > best[0]:
            best = ((cut["passed"], t), cut)
    if best is None:
        return auto, "no draft threshold hands off as many handoff-only cases as support does"
    (_, threshold), cut = best
    return threshold, (
        f"the most cases passing ({cut['passed']} of {cut['cases']}; support at "
        f"{baseline[0]}/{baseline[1]}: {today['passed']}) at handoff recall >= support's "
        f"({cut['handoff_recall']} >= {floor})"
    )


def reliability(
    probabilities: Sequence[float], labels: Sequence[int], bins: int = 10
) -> list[dict[str, float]]:
    """The reliability table: per confidence bin, how many answers, their mean confidence and
    the share that was right (a calibrated model has the two close)."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            (p, y)
            for p, y in zip(probabilities, labels, strict=True)
            if low <= p < high or (b == bins - 1 and p == 1.0)
        ]
        if not inside:
            continue
        table.append(
            {
                "low": round(low, 2),
                "high": round(high, 2),
                "n": len(inside),
                "confidence": round(sum(p for p, _ in inside) / len(inside), 4),
                "accuracy": round(sum(y for _, y in inside) / len(inside), 4),
            }
        )
    return table
