"""A fitted line ranker: a conditional logit's weights over named features of the candidate
lines of one choice (which line of a page a reply quotes). The weights ship as a small JSON in
``data/`` and are refitted by a ``scripts/train_*.py``; the features are the caller's."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._data import DATA_DIR

__all__ = ["LineRanker", "load_ranker", "ranker_file"]


@dataclass(frozen=True)
class LineRanker:
    weights: dict[str, float]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> LineRanker:
        """The ranker of a model file's contents (its ``weights``)."""
        return cls({str(k): float(v) for k, v in data["weights"].items()})

    def scores(self, features: Sequence[Mapping[str, float]]) -> list[float]:
        return [sum(self.weights.get(k, 0.0) * v for k, v in f.items()) for f in features]

    def order(self, features: Sequence[Mapping[str, float]]) -> list[int]:
        """The lines' indices, the most likely quoted first (their order among equals)."""
        scores = self.scores(features)
        return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def ranker_file(name: str) -> dict[str, Any] | None:
    """The package's ``data/<name>`` (a ranker's ``weights`` and what its module reads beside
    them: a threshold, a margin), or None when it is not there."""
    path = DATA_DIR / name
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_ranker(name: str) -> LineRanker | None:
    """The ranker of the package's ``data/<name>``, or None when it is not there."""
    data = ranker_file(name)
    return None if data is None else LineRanker.of(data)
