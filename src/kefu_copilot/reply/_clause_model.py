"""A fitted clause classifier: the class of a draft clause from its characters, its structure
and the cue patterns' verdict.

The cue patterns of ``clause_classes`` (``data/reply.yaml``) know the cold clauses someone wrote a
pattern for; a clause said in other words ("没熟呗", "你运气不好", "碎了就碎了") matched none and
was kept as a fact. The model reads what the patterns cannot list: character 1–3-grams (digits
and Latin letters folded to one symbol each, kept only when they recur in several shops),
structural features (``clause_features`` of ``data/reply.yaml``: the shopper addressed, an
imperative, a negation with no reason, a rhetorical question, a number, a policy term...) and the
patterns' class as a prior. It is a multinomial logistic regression fitted by
``scripts/train_clause_model.py`` on clauses labelled from the dev shops' drafts
(``evals/training/clause_labels.jsonl``) and real agent replies (research data: they fit weights
and are never shipped), cross-validated by shop; the file is ``data/clause_model.json``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._data import DATA_DIR

if TYPE_CHECKING:
    from ._phrases import Phrases

__all__ = ["FORMAT", "KINDS", "ClauseModel", "clause_features", "clause_model", "normalise"]

FORMAT = "kefu-copilot/clause-model"
#: The classes the model tells apart (``banned`` is the shop's list, never a guess).
KINDS = ("fact", "action", "question", "refusal", "answer", "blame", "dismissal", "filler")

_PLACEHOLDER = re.compile(r"\[(?:数字|金额|时间|日期)x?\]")
_SLOT = re.compile(r"\[[^\[\]]{1,16}\]|#e-s\d?\[[^\]]{0,12}\]")
_DIGITS = re.compile(r"\d+(?:[.:]\d+)?")
_LATIN = re.compile(r"[a-z]+")
_PUNCT = re.compile(r"[\s,.!?;~。、:：\"'“”‘’()（）…-]+")


def normalise(body: str) -> str:
    """A folded clause as the model reads it: a number is ``0``, a Latin word ``a``, a
    placeholder slot ``#``, punctuation removed."""
    text = _PLACEHOLDER.sub("0", body)
    text = _SLOT.sub("#", text)
    text = _DIGITS.sub("0", text)
    text = _LATIN.sub("a", text)
    return _PUNCT.sub("", text)


def clause_features(
    body: str, rule: str, cue: str, phrases: Phrases, *, numbers: bool, facts: bool
) -> list[str]:
    """The features of a folded clause ``body`` whose cue patterns gave class ``rule`` (cue
    ``cue``, "" when none matched) and that states ``numbers`` / ``facts`` (numbers or policy
    terms: ``_clauses.has_numbers`` / ``has_facts``): n-grams ``g:``, structure ``s:``, the
    prior ``r:``."""
    text = normalise(body)
    padded = f"^{text}$"
    out = [f"r:{rule}"]
    if cue:
        out.append(f"c:{cue}")
    for n in (1, 2, 3):
        out.extend(f"g:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    on = {name for name, pattern in phrases.clause_features.items() if pattern.search(text)}
    if numbers:
        on.add("number")
    if facts:
        on.add("facts")
    if "negation" in on and not on & {"reason", "number"}:
        on.add("negation_without_reason")
    if "second_person" in on:
        on.update(f"you+{name}" for name in ("negation", "particle_end", "certainty") if name in on)
    length = len(text)
    on.add(
        "len:1-2"
        if length <= 2
        else "len:3-4"
        if length <= 4
        else "len:5-8"
        if length <= 8
        else "len:9+"
    )
    out.extend(f"s:{name}" for name in sorted(on))
    return out


@dataclass(frozen=True)
class ClauseModel:
    """Weights per feature (one per class of ``kinds``), a bias per class, and the
    ``threshold`` the model's class must reach to overrule the cue patterns (``overrule``: the
    pattern classes it may overrule, "" for a clause no cue matched); ``thresholds`` raises it
    for some classes (a refusal replaces the agent's clause by the policy: "没货了" is the
    answer to "没货了吗", not a refusal the model may guess at a coin's toss)."""

    kinds: tuple[str, ...]
    weights: Mapping[str, tuple[float, ...]]
    bias: tuple[float, ...]
    threshold: float
    overrule: frozenset[str]
    info: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def probabilities(self, features: Sequence[str]) -> dict[str, float]:
        """The class probabilities of a clause's features (softmax of the linear scores)."""
        scores = list(self.bias)
        for name in features:
            w = self.weights.get(name)
            if w is not None:
                for k, v in enumerate(w):
                    scores[k] += v
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {kind: e / total for kind, e in zip(self.kinds, exp, strict=True)}

    def verdict(self, features: Sequence[str], rule: str) -> tuple[str, float] | None:
        """The model's class and probability when it overrules the patterns' ``rule``, else
        ``None``."""
        if rule not in self.overrule:
            return None
        probs = self.probabilities(features)
        kind = max(probs, key=probs.__getitem__)
        if kind == rule or probs[kind] < self.thresholds.get(kind, self.threshold):
            return None
        return kind, probs[kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": 1,
            "kinds": list(self.kinds),
            "threshold": self.threshold,
            "thresholds": dict(sorted(self.thresholds.items())),
            "overrule": sorted(self.overrule),
            "bias": [round(b, 5) for b in self.bias],
            "info": dict(self.info),
            "weights": {k: [round(x, 5) for x in w] for k, w in sorted(self.weights.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClauseModel:
        """Inverse of :meth:`to_dict`; ``ValueError`` if it is not a clause model."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        kinds = tuple(str(k) for k in data["kinds"])
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"clause model has unknown classes {unknown}; retrain it")
        weights = {str(k): tuple(float(x) for x in w) for k, w in data["weights"].items()}
        odd = sorted(set(data.get("thresholds") or {}) - set(kinds))
        if odd:
            raise ValueError(f"clause model has thresholds for unknown classes {odd}; retrain it")
        if any(len(w) != len(kinds) for w in weights.values()) or len(data["bias"]) != len(kinds):
            raise ValueError("clause model weights do not match its classes")
        return cls(
            kinds=kinds,
            weights=weights,
            bias=tuple(float(b) for b in data["bias"]),
            threshold=float(data["threshold"]),
            overrule=frozenset(str(k) for k in data.get("overrule", ())),
            info=dict(data.get("info") or {}),
            thresholds={str(k): float(v) for k, v in (data.get("thresholds") or {}).items()},
        )

    @classmethod
    def load(cls, path: str | Path) -> ClauseModel:
        """Read a model file written by ``scripts/train_clause_model.py``."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read clause model {path}: {exc}") from None
        return cls.from_dict(data)


@cache
def clause_model() -> ClauseModel | None:
    """The packaged clause model (``data/clause_model.json``), or ``None`` without one."""
    path = Path(DATA_DIR) / "clause_model.json"
    return ClauseModel.load(path) if path.exists() else None
