"""The packaged escalation model, read for scoring only (pure Python, no numpy).

``emotion_flag`` scores one turn at a time; reading the model file into plain dicts keeps that
fast (a dot product over ~70 named features and a handful of text features) and keeps
:mod:`._flag` free of :mod:`._model` (which trains, with numpy, and imports :mod:`._flag`).
The file format is :class:`~kefu_copilot.emotion._model.EscalationModel`'s (``to_dict``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

__all__ = ["LinearScorer", "packaged_scorer"]

FORMAT = "kefu-copilot/escalation-model"


@dataclass(frozen=True)
class LinearScorer:
    """Standardised dense weights + sparse text weights + intercept; ``threshold`` decides."""

    dense: Mapping[str, tuple[float, float, float]]  # feature → (weight, mean, scale)
    grams: Mapping[str, float]
    bias: float
    threshold: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearScorer:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        dense = {
            str(name): (float(p["weight"]), float(p["mean"]), float(p["scale"]) or 1.0)
            for name, p in data["features"].items()
        }
        grams = {str(g): float(w) for g, w in (data.get("grams") or {}).items()}
        return cls(dense, grams, float(data["bias"]), float(data["threshold"]))

    def score_features(
        self, features: Mapping[str, float], grams: Sequence[str] | None = None
    ) -> float:
        """Escalation probability of one turn's features (and text features)."""
        logit = self.bias + sum(
            w * (features.get(name, 0.0) - m) / s for name, (w, m, s) in self.dense.items()
        )
        if grams:
            logit += sum(self.grams.get(g, 0.0) for g in grams) / math.sqrt(len(grams))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))


_CACHE: dict[str, LinearScorer | None] = {}


def packaged_scorer() -> LinearScorer | None:
    """``data/escalation_model.json`` of the package, or None when it is not there."""
    if "model" not in _CACHE:
        resource = files("kefu_copilot") / "data" / "escalation_model.json"
        found = resource.is_file()
        data = json.loads(resource.read_text(encoding="utf-8")) if found else None
        _CACHE["model"] = LinearScorer.from_dict(data) if data else None
    return _CACHE["model"]
