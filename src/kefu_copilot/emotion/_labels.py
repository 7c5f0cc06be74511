"""The learned emotion label of a customer turn, read for scoring only (pure Python, no numpy).

The hand-set ``emotion_weights`` of ``data/emotion.yaml`` call most turns ``neutral``: a safety
incident, a demand for money or a third broken delivery has no anger or worry *word*, so on
customer turns written outside the project the label was right 54–69 % of the time, mostly
angry / anxious / confused read as neutral. :class:`LabelScorer` is a multinomial logistic
regression over what :func:`~kefu_copilot.emotion._flag.emotion_inputs` reads (the escalation
features of the message and its context, the rule set's own emotion scores) and the sparse text
features of :func:`~kefu_copilot.emotion._flag.escalation_grams`, fitted by
``scripts/train_emotion_model.py`` (:mod:`._label_training`, with numpy) on labelled shop turns
with leave-one-vertical-out selection, and shipped as ``data/emotion_labels.json``. A shop that
changes its ``emotion_weights`` gets its rules instead (see ``emotion_flag``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

__all__ = ["ALLOWED", "LABEL_FORMAT", "LabelScorer", "decide", "packaged_labels"]

LABEL_FORMAT = "kefu-copilot/emotion-label-model"
LABEL_FILE = "emotion_labels.json"


@dataclass(frozen=True)
class LabelScorer:
    """Per label: standardised dense weights, sparse text weights and an intercept."""

    labels: tuple[str, ...]
    dense: Mapping[str, tuple[tuple[float, ...], float, float]]  # name → (weights, mean, scale)
    grams: Mapping[str, tuple[float, ...]]
    bias: tuple[float, ...]
    info: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelScorer:
        """Read the JSON shape :meth:`to_dict` writes; ``ValueError`` if it is not one."""
        if not isinstance(data, Mapping) or data.get("format") != LABEL_FORMAT:
            raise ValueError(f"not a {LABEL_FORMAT} file")
        labels = tuple(str(label) for label in data["labels"])
        k = len(labels)

        def row(values: Sequence[float]) -> tuple[float, ...]:
            if len(values) != k:
                raise ValueError(f"emotion label model: {len(values)} weights for {k} labels")
            return tuple(float(v) for v in values)

        dense = {
            str(name): (row(p["weights"]), float(p["mean"]), float(p["scale"]) or 1.0)
            for name, p in data["features"].items()
        }
        grams = {str(g): row(w) for g, w in (data.get("grams") or {}).items()}
        return cls(labels, dense, grams, row(data["bias"]), dict(data.get("info") or {}))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (format name, labels, per-feature parameters)."""
        return {
            "format": LABEL_FORMAT,
            "labels": list(self.labels),
            "bias": list(self.bias),
            "info": dict(self.info),
            "features": {
                name: {"weights": list(w), "mean": m, "scale": s}
                for name, (w, m, s) in self.dense.items()
            },
            "grams": {g: list(w) for g, w in sorted(self.grams.items())},
        }

    def probabilities(
        self, inputs: Mapping[str, float], grams: Sequence[str] | None = None
    ) -> dict[str, float]:
        """Each label's probability for one turn's inputs (and text features)."""
        logits = list(self.bias)
        k = range(len(logits))
        for name, (weights, mean, scale) in self.dense.items():
            z = (inputs.get(name, 0.0) - mean) / scale
            if z:
                for i in k:
                    logits[i] += weights[i] * z
        if grams:
            norm = 1.0 / math.sqrt(len(grams))
            for gram in grams:
                found = self.grams.get(gram)
                if found is not None:
                    for i in k:
                        logits[i] += found[i] * norm
        top = max(logits)
        exp = [math.exp(v - top) for v in logits]
        total = sum(exp)
        return {label: e / total for label, e in zip(self.labels, exp, strict=True)}


#: The labels a turn may get given the escalation decision: in the labelling scheme a turn that
#: goes to a human is angry or anxious, and an angry turn always goes to a human (README of
#: evals/training; the blind shop suites agree on 409 of 412 turns).
ALLOWED: dict[bool, frozenset[str]] = {
    True: frozenset({"angry", "anxious"}),
    False: frozenset({"anxious", "confused", "neutral", "satisfied"}),
}


def decide(proba: Mapping[str, float], escalate: bool) -> str:
    """The most probable label consistent with the escalation decision (:data:`ALLOWED`)."""
    allowed = [label for label in proba if label in ALLOWED[escalate]] or list(proba)
    return max(allowed, key=proba.__getitem__)


_CACHE: dict[str, LabelScorer | None] = {}


def packaged_labels() -> LabelScorer | None:
    """``data/emotion_labels.json`` of the package, or None when it is not there."""
    if "model" not in _CACHE:
        resource = files("kefu_copilot") / "data" / LABEL_FILE
        data = json.loads(resource.read_text(encoding="utf-8")) if resource.is_file() else None
        _CACHE["model"] = LabelScorer.from_dict(data) if data else None
    return _CACHE["model"]
