"""Trainable, calibrated escalation: logistic regression over the emotion rule features (numpy).

:class:`EscalationModel` learns weights for :data:`kefu_copilot.emotion._flag.FEATURE_NAMES` from
labelled customer turns (L2-regularised, balanced class weights, Newton / IRLS — deterministic),
then moves the intercept back to the training prior so :meth:`~EscalationModel.predict_proba` is
a probability, and picks the decision ``threshold`` that maximises F1 on the training data with
precision at least ``min_precision``. Models are saved as versioned JSON.

:func:`train_escalation` trains from emotion-suite JSONL files (both the contract shape
``{"type": "emotion", "text", "context", "expect": {"escalate"}}`` and the dev-data shape
``{id, text, context, label, escalate}``); :func:`cross_validate` gives grouped k-fold figures.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from ._cues import STRONG_CUES, lexicon
from ._flag import FEATURE_NAMES, escalation_features

__all__ = [
    "EmotionCase",
    "EscalationModel",
    "cross_validate",
    "escalation_metrics",
    "read_emotion_cases",
    "train_escalation",
]

FORMAT = "kefu-copilot/escalation-model"
VERSION = 1
Context = Sequence[Mapping[str, Any]] | None
Example = tuple[str, Context, bool]
Prior = Literal["rules", "zero"]
Rules = Mapping[str, Any] | None  # a shop's merged `emotion` rule set; None: the packaged one


@dataclass(frozen=True)
class EmotionCase:
    """One labelled customer turn from an emotion suite."""

    id: str
    text: str
    context: list[dict[str, Any]] = field(default_factory=list)
    escalate: bool = False
    emotion: str | None = None


class EscalationModel:
    """Logistic regression on the rule features, with a chosen decision threshold.

    ``l2`` is the ridge penalty on the standardised weights (not the intercept), pulling them
    towards the hand-set rule weights (``prior="rules"``, so little data stays close to the
    rules) or towards zero (``prior="zero"``); ``min_precision`` bounds the threshold search;
    ``seed`` is recorded and used for cross-validation folds. Fitting is deterministic (Newton).
    """

    def __init__(
        self,
        *,
        l2: float = 30.0,
        min_precision: float = 0.35,
        prior: Prior = "rules",
        seed: int = 0,
        max_iter: int = 100,
    ) -> None:
        if l2 < 0 or not 0.0 <= min_precision <= 1.0 or prior not in ("rules", "zero"):
            raise ValueError("need l2 >= 0, min_precision within 0..1, prior 'rules' or 'zero'")
        self.l2, self.min_precision, self.seed, self.max_iter = l2, min_precision, seed, max_iter
        self.prior: Prior = prior
        self.feature_names: tuple[str, ...] = FEATURE_NAMES
        self.weights = np.zeros(len(FEATURE_NAMES))
        self.bias = 0.0
        self.mean = np.zeros(len(FEATURE_NAMES))
        self.scale = np.ones(len(FEATURE_NAMES))
        self.threshold = 0.5
        self.fitted = False
        self.info: dict[str, Any] = {}

    # ------------------------------------------------------------------ training
    def fit(self, examples: Iterable[Example], *, rules: Rules = None) -> Self:
        """Learn from ``(text, context, escalate)`` triples (features read with the emotion
        ``rules`` the model will score with); returns ``self``."""
        rows, labels = [], []
        for text, context, label in examples:
            rows.append(self._vector(escalation_features(text, context, rules=rules)))
            labels.append(bool(label))
        return self.fit_matrix(
            np.asarray(rows, dtype=float).reshape(-1, len(FEATURE_NAMES)),
            np.asarray(labels, dtype=bool),
        )

    def fit_matrix(self, x: np.ndarray, y: np.ndarray) -> Self:
        """Learn from a precomputed feature matrix (``FEATURE_NAMES`` columns) and labels."""
        n_pos, n = int(y.sum()), len(y)
        if n_pos == 0 or n_pos == n:
            raise ValueError("training needs both escalate=true and escalate=false examples")
        self.mean = x.mean(axis=0)
        scale = x.std(axis=0)
        self.scale = np.where(scale > 1e-9, scale, 1.0)
        z = (x - self.mean) / self.scale
        sample_weight = np.where(y, n / (2 * n_pos), n / (2 * (n - n_pos)))
        prior = np.zeros(len(FEATURE_NAMES))
        if self.prior == "rules":  # the packaged hand-set weights, in standardised units
            weights = lexicon().weights
            prior = np.array([weights[name] for name in FEATURE_NAMES]) * self.scale
        coef = _newton_logistic(z, y.astype(float), sample_weight, self.l2, prior, self.max_iter)
        # Balanced weights fit a 50/50 prior; shift the intercept back to the real one.
        self.weights, self.bias = coef[1:], float(coef[0] + math.log(n_pos / (n - n_pos)))
        self.fitted = True
        proba = self._proba(x)
        self.threshold = _pick_threshold(proba, y, self.min_precision)
        self.info = {
            "n_train": n,
            "n_positive": n_pos,
            "train": escalation_metrics(y, proba >= self.threshold),
        }
        return self

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, text: str, context: Context = None, *, rules: Rules = None) -> float:
        """Calibrated probability that this customer turn should be escalated."""
        return self.score_features(escalation_features(text, context, rules=rules))

    def predict(self, text: str, context: Context = None, *, rules: Rules = None) -> bool:
        """``predict_proba(...) >= threshold``."""
        return self.predict_proba(text, context, rules=rules) >= self.threshold

    def score_features(self, features: Mapping[str, float]) -> float:
        """Probability from an :func:`~kefu_copilot.emotion._flag.escalation_features` mapping."""
        return float(self._proba(self._vector(features)[None, :])[0])

    def _vector(self, features: Mapping[str, float]) -> np.ndarray:
        return np.array([float(features.get(name, 0.0)) for name in FEATURE_NAMES])

    def _proba(self, x: np.ndarray) -> np.ndarray:
        if not self.fitted:
            raise ValueError("EscalationModel is not fitted; call fit() or load()")
        logit = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0)))

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (format name, version, per-feature parameters)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "threshold": self.threshold,
            "bias": self.bias,
            "l2": self.l2,
            "min_precision": self.min_precision,
            "prior": self.prior,
            "seed": self.seed,
            "class_weight": "balanced",
            "info": self.info,
            "features": {
                name: {"weight": float(w), "mean": float(m), "scale": float(s)}
                for name, w, m, s in zip(
                    FEATURE_NAMES, self.weights, self.mean, self.scale, strict=True
                )
            },
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as JSON atomically (temporary file in the same folder + replace)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, ensure_ascii=False, indent=1)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EscalationModel:
        """Read a model written by :meth:`save`; ``ValueError`` if it is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read escalation model {path}: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscalationModel:
        """Inverse of :meth:`to_dict`. Features unknown to this version are an error."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        if data.get("version") != VERSION:
            raise ValueError(f"unsupported escalation model version {data.get('version')!r}")
        features = data.get("features")
        if not isinstance(features, Mapping):
            raise ValueError("escalation model has no 'features'")
        unknown = sorted(set(features) - set(FEATURE_NAMES))
        if unknown:
            raise ValueError(f"escalation model uses unknown features {unknown}; retrain it")
        model = cls(
            l2=float(data.get("l2", 30.0)),
            min_precision=float(data.get("min_precision", 0.35)),
            prior=data.get("prior", "rules"),
            seed=int(data.get("seed", 0)),
        )
        params = [
            features.get(name, {"weight": 0.0, "mean": 0.0, "scale": 1.0}) for name in FEATURE_NAMES
        ]
        model.weights = np.array([float(p["weight"]) for p in params])
        model.mean = np.array([float(p["mean"]) for p in params])
        model.scale = np.array([float(p["scale"]) or 1.0 for p in params])
        model.bias, model.threshold = float(data["bias"]), float(data["threshold"])
        model.info = dict(data.get("info") or {})
        model.fitted = True
        return model


def _newton_logistic(
    z: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float, prior: np.ndarray, max_iter: int
) -> np.ndarray:
    """Weighted logistic regression, L2 pull towards ``prior``; damped Newton (backtracking).

    Returns ``[intercept, *weights]``; the intercept is (almost) not penalised.
    """
    x = np.hstack([np.ones((len(z), 1)), z])
    center = np.concatenate([[0.0], prior])
    penalty = np.full(x.shape[1], float(l2))
    penalty[0] = 1e-6

    def loss(coef: np.ndarray) -> float:
        logit = x @ coef
        nll = np.sum(sw * (np.logaddexp(0.0, logit) - y * logit))
        return float(nll + 0.5 * np.sum(penalty * (coef - center) ** 2))

    coef, current = center.copy(), loss(center)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ coef, -30.0, 30.0)))
        grad = x.T @ (sw * (p - y)) + penalty * (coef - center)
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step, size = np.linalg.solve(hess, grad), 1.0
        while size > 1e-4 and loss(coef - size * step) > current:
            size /= 2
        coef = coef - size * step
        previous, current = current, loss(coef)
        if previous - current < 1e-10 * max(1.0, abs(current)):
            break
    return coef


def _pick_threshold(proba: np.ndarray, y: np.ndarray, min_precision: float) -> float:
    """Threshold with the best F1 among those with precision >= min_precision."""
    best: tuple[float, float] | None = None
    fallback: tuple[float, float] = (-1.0, 0.5)
    for t in np.unique(np.round(proba, 6)):
        m = escalation_metrics(y, proba >= t)
        if m["precision"] >= min_precision and (best is None or m["f1"] > best[0]):
            best = (m["f1"], float(t))
        if m["precision"] > fallback[0]:
            fallback = (m["precision"], float(t))
    return (best or fallback)[1]


def escalation_metrics(
    y_true: Sequence[bool] | np.ndarray, y_pred: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """Precision, recall, F1, accuracy and balanced accuracy of escalate decisions."""
    t, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    tp, fp = int(np.sum(t & p)), int(np.sum(~t & p))
    fn, tn = int(np.sum(t & ~p)), int(np.sum(~t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (tp + tn) / len(t) if len(t) else 0.0,
        "balanced_accuracy": (recall + specificity) / 2,
        "n": float(len(t)),
    }


# ---------------------------------------------------------------------------- data
_TURN_SUFFIX = re.compile(r"[-_:]t\d+$")


def read_emotion_cases(path: str | os.PathLike[str]) -> list[EmotionCase]:
    """Emotion cases of a JSONL suite; other case types and blank lines are skipped.

    Accepts ``{"type": "emotion", ..., "expect": {"escalate", "emotion"?}}`` and the dev-data
    shape ``{id, text, context, label, escalate}``. ``ValueError`` names the bad line.
    """
    cases: list[EmotionCase] = []
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                case = _parse_case(json.loads(line), number)
            except (json.JSONDecodeError, TypeError, KeyError) as exc:
                raise ValueError(f"{path}:{number}: not an emotion case ({exc})") from None
            if case is not None:
                cases.append(case)
    return cases


def _parse_case(obj: Mapping[str, Any], number: int) -> EmotionCase | None:
    if obj.get("type", "emotion") != "emotion":
        return None
    expect = obj.get("expect")
    if isinstance(expect, Mapping):
        escalate, emotion = expect["escalate"], expect.get("emotion")
    else:
        escalate, emotion = obj["escalate"], None
    context = [dict(m) for m in obj.get("context") or [] if isinstance(m, Mapping)]
    return EmotionCase(
        id=str(obj.get("id", f"line{number}")),
        text=str(obj["text"]),
        context=context,
        escalate=bool(escalate),
        emotion=emotion,
    )


def dialogue_group(case_id: str) -> str:
    """Grouping key for cross-validation: ``jddc-valid-d000-t08`` → ``jddc-valid-d000``."""
    return _TURN_SUFFIX.sub("", case_id)


def train_escalation(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    rules: Rules = None,
    **options: Any,
) -> EscalationModel:
    """Fit an :class:`EscalationModel` on the emotion cases of one or more JSONL files.

    ``rules`` is the shop's merged ``emotion`` rule set the features are read with (default:
    the packaged one); ``options`` go to :class:`EscalationModel` (``l2``, ``min_precision``,
    ``prior``, ``seed``).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    cases = [case for path in paths for case in read_emotion_cases(path)]
    examples = ((c.text, c.context, c.escalate) for c in cases)
    return EscalationModel(**options).fit(examples, rules=rules)


def cross_validate(
    cases: Sequence[EmotionCase],
    *,
    folds: int = 5,
    seed: int = 0,
    rules: Rules = None,
    **options: Any,
) -> dict[str, Any]:
    """Grouped k-fold cross-validation (groups = dialogues, from case ids); deterministic.

    ``options`` go to :class:`EscalationModel`; ``seed`` fixes which dialogues share a fold;
    ``rules`` is the emotion rule set the features are read with (default: the packaged one).
    Returns ``{"metrics": {...}, "proba": [...], "predicted": [...], "thresholds": [...]}`` with
    out-of-fold probabilities and decisions (each fold's threshold chosen on its training part).
    """
    rows = (escalation_features(c.text, c.context, rules=rules) for c in cases)
    x = np.array([[row[name] for name in FEATURE_NAMES] for row in rows], dtype=float)
    x = x.reshape(-1, len(FEATURE_NAMES))
    y = np.array([c.escalate for c in cases], dtype=bool)
    groups = sorted({dialogue_group(c.id) for c in cases})
    order = np.random.default_rng(seed).permutation(len(groups))
    fold_of_group = {groups[g]: k % folds for k, g in enumerate(order)}
    fold = np.array([fold_of_group[dialogue_group(c.id)] for c in cases])
    # Threats, profanity and requests for a human escalate whatever the model says.
    forced = np.any(x[:, [FEATURE_NAMES.index(name) for name in STRONG_CUES]] > 0, axis=1)
    proba, predicted, thresholds = np.zeros(len(cases)), np.zeros(len(cases), bool), []
    for k in range(folds):
        test = fold == k
        if not test.any():
            continue
        model = EscalationModel(seed=seed, **options)
        model.fit_matrix(x[~test], y[~test])
        proba[test] = model._proba(x[test])
        predicted[test] = (proba[test] >= model.threshold) | forced[test]
        thresholds.append(model.threshold)
    metrics = escalation_metrics(y, predicted)
    metrics["brier"] = float(np.mean((proba - y) ** 2))
    return {
        "metrics": metrics,
        "proba": proba.tolist(),
        "predicted": predicted.tolist(),
        "thresholds": thresholds,
    }
