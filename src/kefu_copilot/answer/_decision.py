"""The fitted decision on a grounded LLM reply: auto or not, from the claim checker's measures.

:func:`grounding_measures` reads the measures the claim check already computed (claims found,
entailed / unsupported / neutral verdicts by what the claim states — a value, a yes or no, an
offer, a code —, subjects the reply names, the share of its words the knowledge says, whether it
answers, numbers the knowledge knows) and retrieval's support into one vector; it is left in the
answer's trace. :class:`DecisionModel` — a logistic model over those measures, fitted by
``scripts/train_grounding_model.py`` on the dev shops' grounding cases leave-one-shop-out and
shipped as ``data/grounding_model.json`` — says whether a reply may go out automatically. The
hard rules stay overrides outside it: a contradiction, a leak or money beyond ``shop.yaml``
limits hands off, a non-answer falls back, a reply citing nothing is never auto.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .._data import DATA_DIR
from .._errors import ConfigError
from .._models import Decision
from ._claims import ClaimCheck

__all__ = ["FORMAT", "MEASURES", "DecisionModel", "decision_model", "grounding_measures"]

FORMAT = "kefu-grounding-decision/1"

_STATES = ("value", "yesno", "offer", "code", "option")
_VERDICTS = ("entailed", "unsupported", "neutral")

#: the measures, in order: the model file names the ones it weighs
MEASURES: tuple[str, ...] = (
    "clauses",
    "checkable",
    "verdicts",
    *_VERDICTS,
    "entailed_share",
    *(f"{v}_{s}" for v in _VERDICTS for s in _STATES),
    "stated",
    "entailed_stated",
    "unsupported_stated",
    "offers",
    "said",
    "worded",
    "asked",
    "answers",
    "numbers",
    "numbers_unknown",
    "numbers_known_share",
    "chars",
    "support",
    "support_auto",
    "support_draft",
    "citations",
    "grounded",
)


def _states(claim: Any) -> tuple[str, ...]:
    return tuple(
        name
        for name, on in (
            ("value", bool(claim.measures or claim.numbers)),
            ("yesno", bool(claim.polarity)),
            ("offer", bool(claim.offer)),
            ("code", bool(claim.codes)),
            ("option", bool(claim.options)),
        )
        if on
    )


def grounding_measures(
    check: ClaimCheck,
    text: str,
    *,
    numbers: int,
    numbers_unknown: int,
    support: float,
    support_decision: Decision,
    citations: int,
) -> dict[str, float]:
    """The decision model's measures of one reply, from the claim check already made (nothing
    is read twice: counts over its verdicts and claims, and retrieval's support)."""
    out: dict[str, float] = dict.fromkeys(MEASURES, 0.0)
    out["clauses"] = float(len(check.claims))
    out["checkable"] = float(sum(1 for c in check.claims if c.checkable))
    out["verdicts"] = float(len(check.verdicts))
    for v in check.verdicts:
        if v.verdict not in _VERDICTS:
            continue
        out[v.verdict] += 1
        for state in _states(v.claim):
            out[f"{v.verdict}_{state}"] += 1
        if v.claim.stated and v.verdict in ("entailed", "unsupported"):
            out[f"{v.verdict}_stated"] += 1
    out["entailed_share"] = out["entailed"] / out["verdicts"] if check.verdicts else 0.0
    out["stated"] = float(sum(1 for c in check.claims if c.stated))
    out["offers"] = float(sum(1 for c in check.claims if c.offer))
    out["said"] = check.said
    out["worded"] = check.worded
    out["asked"] = check.asked
    out["answers"] = float(check.answers)
    out["numbers"] = float(numbers)
    out["numbers_unknown"] = float(numbers_unknown)
    out["numbers_known_share"] = 1.0 - numbers_unknown / numbers if numbers else 1.0
    out["chars"] = math.log1p(len(text))
    out["support"] = support
    out["support_auto"] = float(support_decision == "auto")
    out["support_draft"] = float(support_decision == "draft")
    out["citations"] = float(citations)
    out["grounded"] = float(check.grounded)
    return out


@dataclass(frozen=True)
class DecisionModel:
    """Logistic model: P(the reply is faithful) from standardised measures; auto at
    ``threshold`` or above (below it, not auto — or, ``promote_only``, what the rules said)."""

    measures: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)
    #: only raise a reply the rules hold back to auto, never hold back one they send
    promote_only: bool = False

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias
        for name, m, s, w in zip(self.measures, self.mean, self.scale, self.weights, strict=True):
            z += w * (values.get(name, 0.0) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def auto(self, values: Mapping[str, float]) -> bool:
        return self.probability(values) >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "measures": list(self.measures),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "promote_only": self.promote_only,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionModel:
        if data.get("format") != FORMAT:
            raise ConfigError(
                f"grounding decision model format {data.get('format')!r} is not {FORMAT!r}; "
                "refit it with scripts/train_grounding_model.py"
            )
        names = tuple(str(n) for n in data["measures"])
        unknown = sorted(set(names) - set(MEASURES))
        if unknown:
            raise ConfigError(
                f"grounding decision model weighs unknown measures {unknown}; refit it with "
                "scripts/train_grounding_model.py"
            )
        columns = [tuple(float(x) for x in data[k]) for k in ("mean", "scale", "weights")]
        if any(len(c) != len(names) for c in columns) or any(s <= 0 for s in columns[1]):
            raise ConfigError(
                "grounding decision model columns do not match its measures; refit it with "
                "scripts/train_grounding_model.py"
            )
        return cls(
            measures=names,
            mean=columns[0],
            scale=columns[1],
            weights=columns[2],
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            info=dict(data.get("info") or {}),
            promote_only=bool(data.get("promote_only", False)),
        )

    @classmethod
    def load(cls, path: str | Path) -> DecisionModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"cannot read grounding decision model {path}: {exc}; refit it with "
                "scripts/train_grounding_model.py"
            ) from None
        return cls.from_dict(data)


@cache
def decision_model() -> DecisionModel | None:
    """The packaged model (``data/grounding_model.json``), or ``None`` without one."""
    path = Path(DATA_DIR) / "grounding_model.json"
    return DecisionModel.load(path) if path.exists() else None
