"""Whether a message reads as a shopper's pre-sales need (which product to buy, what to buy
with it, which version) rather than a question about an order, a policy or a product already
bought: a logistic regression over the message's character 1–2-grams, fitted by
``scripts/train_presales_intent.py`` on the dev shops' pre-sales suites (needs) against their
answer suites (other questions), the n-grams kept only where they occur in several shops — a
shop's own product words carry no weight. The file is ``data/presales_intent.json``; the
held-out shops are never read."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

from .._data import DATA_DIR
from ..text._normalize import normalize

__all__ = ["FORMAT", "IntentModel", "intent_features", "presales_intent"]

FORMAT = "kefu-copilot/presales-intent"


def intent_features(text: str) -> set[str]:
    """The character 1–2-grams of ``text`` normalised, digits read as one class (a figure's
    value says nothing of the intent; that a figure is said may)."""
    norm = "".join("0" if ch.isdigit() else ch for ch in normalize(text))
    norm = " ".join(norm.split())
    grams = set(norm) - {" "}
    grams |= {norm[i : i + 2] for i in range(len(norm) - 1) if " " not in norm[i : i + 2]}
    return grams


class IntentModel:
    """The fitted weights: :meth:`probability` that a message is a pre-sales need."""

    def __init__(self, data: dict) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        self.bias = float(data["bias"])
        self.weights: dict[str, float] = {str(k): float(v) for k, v in data["weights"].items()}
        self.threshold = float(data["threshold"])
        self.info: dict = dict(data.get("info", {}))

    def probability(self, text: str) -> float:
        z = self.bias + sum(self.weights.get(g, 0.0) for g in intent_features(text))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def is_need(self, text: str) -> bool:
        return self.probability(text) >= self.threshold


@cache
def presales_intent(path: str | None = None) -> IntentModel:
    """The packaged model (``data/presales_intent.json``), or the one at ``path``."""
    file = Path(path) if path else DATA_DIR / "presales_intent.json"
    return IntentModel(json.loads(file.read_text(encoding="utf-8")))
