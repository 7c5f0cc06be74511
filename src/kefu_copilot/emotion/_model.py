"""Trainable, calibrated escalation: logistic regression over the emotion rule features (numpy).

:class:`EscalationModel` learns weights for :data:`kefu_copilot.emotion._flag.FEATURE_NAMES` from
labelled customer turns (L2-regularised, balanced class weights, Newton / IRLS — deterministic),
then moves the intercept back to the training prior so :meth:`~EscalationModel.predict_proba` is
a probability, and picks the decision ``threshold`` that maximises F1 on the training data with
precision at least ``min_precision``. Models are saved as versioned JSON.

:func:`train_escalation` trains from emotion-suite JSONL files (both the contract shape
``{"type": "emotion", "text", "context", "expect": {"escalate"}}`` and the dev-data shape
``{id, text, context, label, escalate}``) and, given enough turns, moves the threshold to the one
chosen on out-of-fold probabilities; :func:`cross_validate` gives grouped k-fold figures.
``scripts/train_emotion_model.py`` trains the packaged model with leave-one-shop-out selection.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from .._errors import IngestError
from ..text._normalize import decode_bytes
from ._cues import FORCING, lexicon
from ._flag import FEATURE_NAMES, escalation_features, escalation_grams

__all__ = [
    "EmotionCase",
    "EscalationModel",
    "cross_validate",
    "escalation_metrics",
    "plain_question",
    "read_emotion_cases",
    "train_escalation",
]

FORMAT = "kefu-copilot/escalation-model"
VERSION = 2  # 2: sparse text features (``grams``); version 1 files still load
Context = Sequence[Mapping[str, Any]] | None
Example = tuple[str, Context, bool]
GramRows = Sequence[Sequence[str]]
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
        text: bool = False,
        gram_l2: float = 2.0,
        min_count: int = 3,
    ) -> None:
        if l2 < 0 or not 0.0 <= min_precision <= 1.0 or prior not in ("rules", "zero"):
            raise ValueError("need l2 >= 0, min_precision within 0..1, prior 'rules' or 'zero'")
        self.l2, self.min_precision, self.seed, self.max_iter = l2, min_precision, seed, max_iter
        self.text, self.gram_l2, self.min_count = text, gram_l2, min_count
        self.grams: dict[str, float] = {}  # sparse text-feature weights (text=True)
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
    def fit(
        self,
        examples: Iterable[Example],
        *,
        rules: Rules = None,
        sample_weight: Sequence[float] | None = None,
    ) -> Self:
        """Learn from ``(text, context, escalate)`` triples (features read with the emotion
        ``rules`` the model will score with); returns ``self``."""
        rows, labels, grams = [], [], []
        for text, context, label in examples:
            rows.append(self._vector(escalation_features(text, context, rules=rules)))
            if self.text:
                grams.append(escalation_grams(text, context, rules=rules))
            labels.append(bool(label))
        return self.fit_matrix(
            np.asarray(rows, dtype=float).reshape(-1, len(FEATURE_NAMES)),
            np.asarray(labels, dtype=bool),
            grams=grams if self.text else None,
            sample_weight=None if sample_weight is None else np.asarray(sample_weight, float),
            rules=rules,
        )

    def fit_matrix(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        grams: GramRows | None = None,
        sample_weight: np.ndarray | None = None,
        rules: Rules = None,
        vocabulary: Collection[str] | None = None,
    ) -> Self:
        """Learn from a precomputed feature matrix (``FEATURE_NAMES`` columns) and labels, with
        the rows' sparse text features (``escalation_grams``) when the model reads text, and
        per-row weights (a source's share of the data); ``rules``: the emotion rule set whose
        weights are the prior (default: the packaged one). ``vocabulary`` restricts which text
        features get a weight (e.g. those seen across several shops or verticals, so that one
        vertical's product words are not learnt as cues); a row's other grams still count in its
        length normalisation, as they do when the model scores a turn."""
        n_pos, n = int(y.sum()), len(y)
        if n_pos == 0 or n_pos == n:
            raise ValueError(
                "training needs both escalate=true and escalate=false examples; label some of each"
            )
        self.mean = x.mean(axis=0)
        scale = x.std(axis=0)
        self.scale = np.where(scale > 1e-9, scale, 1.0)
        z = (x - self.mean) / self.scale
        balance = np.where(y, n / (2 * n_pos), n / (2 * (n - n_pos)))
        if sample_weight is not None:
            balance = balance * sample_weight * n / float(np.sum(sample_weight))
        prior = np.zeros(len(FEATURE_NAMES))
        if self.prior == "rules":  # the hand-set weights (the shop's rules), standardised units
            weights = lexicon(rules).weights
            prior = np.array([weights[name] for name in FEATURE_NAMES]) * self.scale
        self.grams = {}
        if grams is not None:
            vocab = _vocabulary(grams, self.min_count)
            if vocabulary is not None:
                vocab = [g for g in vocab if g in vocabulary]
            sparse = _Sparse.of(grams, vocab)
            coef = _lbfgs_logistic(
                z, sparse, y.astype(float), balance, (self.l2, self.gram_l2), prior, self.max_iter
            )
            dense, text = coef[: 1 + len(FEATURE_NAMES)], coef[1 + len(FEATURE_NAMES) :]
            self.grams = {
                g: round(float(w), 4) for g, w in zip(vocab, text, strict=True) if abs(w) >= 1e-3
            }
        else:
            dense = _newton_logistic(z, y.astype(float), balance, self.l2, prior, self.max_iter)
        # Balanced weights fit a 50/50 prior; shift the intercept back to the real one.
        self.weights, self.bias = dense[1:], float(dense[0] + math.log(n_pos / (n - n_pos)))
        self.fitted = True
        proba = self._proba(x, grams)
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
        grams = escalation_grams(text, context, rules=rules) if self.grams else None
        return self.score_features(escalation_features(text, context, rules=rules), grams)

    def predict(self, text: str, context: Context = None, *, rules: Rules = None) -> bool:
        """``predict_proba(...) >= threshold``."""
        return self.predict_proba(text, context, rules=rules) >= self.threshold

    def score_features(
        self, features: Mapping[str, float], grams: Sequence[str] | None = None
    ) -> float:
        """Probability from an :func:`~kefu_copilot.emotion._flag.escalation_features` mapping
        (and its :func:`~kefu_copilot.emotion._flag.escalation_grams`, for a text model)."""
        return float(self._proba(self._vector(features)[None, :], [grams or []])[0])

    def _vector(self, features: Mapping[str, float]) -> np.ndarray:
        return np.array([float(features.get(name, 0.0)) for name in FEATURE_NAMES])

    def _proba(self, x: np.ndarray, grams: GramRows | None = None) -> np.ndarray:
        if not self.fitted:
            raise ValueError("EscalationModel is not fitted; call fit() or load()")
        logit = ((x - self.mean) / self.scale) @ self.weights + self.bias
        if self.grams and grams is not None:
            get = self.grams.get
            logit = logit + np.array(
                [sum(get(g, 0.0) for g in row) / math.sqrt(max(1, len(row))) for row in grams]
            )
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
            "gram_l2": self.gram_l2,
            "min_count": self.min_count,
            "info": self.info,
            "features": {
                name: {"weight": float(w), "mean": float(m), "scale": float(s)}
                for name, w, m, s in zip(
                    FEATURE_NAMES, self.weights, self.mean, self.scale, strict=True
                )
            },
            "grams": dict(sorted(self.grams.items())),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as JSON atomically (temporary file in the same folder + replace)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                data = self.to_dict()
                grams = data.pop("grams")
                text = json.dumps(data, ensure_ascii=False, indent=1)
                # one line for the (many) text weights keeps the file small and diffable enough
                text = text[:-2] + ',\n "grams": ' + json.dumps(grams, ensure_ascii=False) + "\n}"
                fh.write(text + "\n")
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
        if data.get("version") not in (1, VERSION):
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
            gram_l2=float(data.get("gram_l2", 2.0)),
            min_count=int(data.get("min_count", 3)),
        )
        grams = data.get("grams") or {}
        if not isinstance(grams, Mapping):
            raise ValueError("escalation model 'grams' is not a mapping")
        model.grams = {str(g): float(w) for g, w in grams.items()}
        model.text = bool(model.grams)
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


#: Features whose weight stays the rule set's: structure whose direction the data cannot teach
#: (JDDC has no safety incidents or damaged floors; there a complaint about a courier is one
#: about JD itself, but a shop's customer annoyed by their boss is not complaining about the shop).
PINNED = ("safety", "other_target", "withdrawn", "property_damage")


def _dense_penalty(l2: float) -> np.ndarray:
    penalty = np.full(len(FEATURE_NAMES), float(l2))
    penalty[[FEATURE_NAMES.index(name) for name in PINNED]] = 1e6
    return penalty


def _newton_logistic(
    z: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float, prior: np.ndarray, max_iter: int
) -> np.ndarray:
    """Weighted logistic regression, L2 pull towards ``prior``; damped Newton (backtracking).

    Returns ``[intercept, *weights]``; the intercept is (almost) not penalised.
    """
    x = np.hstack([np.ones((len(z), 1)), z])
    center = np.concatenate([[0.0], prior])
    penalty = np.concatenate([[1e-6], _dense_penalty(l2)])

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


def _vocabulary(rows: GramRows, min_count: int) -> list[str]:
    """Grams in at least ``min_count`` rows, sorted (deterministic)."""
    counts: dict[str, int] = {}
    for row in rows:
        for gram in set(row):
            counts[gram] = counts.get(gram, 0) + 1
    return sorted(g for g, c in counts.items() if c >= min_count)


@dataclass(frozen=True)
class _Sparse:
    """Rows of binary grams, each scaled by 1/sqrt(grams in the row), as (row, column) pairs."""

    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    n_rows: int
    n_cols: int

    @classmethod
    def of(cls, rows: GramRows, vocab: Sequence[str]) -> _Sparse:
        index = {g: i for i, g in enumerate(vocab)}
        r, c, v = [], [], []
        for i, row in enumerate(rows):
            scale = 1.0 / math.sqrt(max(1, len(row)))
            for g in row:
                if g in index:
                    r.append(i)
                    c.append(index[g])
                    v.append(scale)
        return cls(np.array(r, int), np.array(c, int), np.array(v), len(rows), len(vocab))

    def dot(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, self.value * w[self.col], minlength=self.n_rows)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        return np.bincount(self.col, self.value * g[self.row], minlength=self.n_cols)


def _lbfgs_logistic(
    z: np.ndarray,
    sparse: _Sparse,
    y: np.ndarray,
    sw: np.ndarray,
    l2: tuple[float, float],
    prior: np.ndarray,
    max_iter: int,
    memory: int = 10,
) -> np.ndarray:
    """Weighted logistic regression over dense (L2 towards ``prior``) and sparse text features
    (L2 towards 0), by L-BFGS with backtracking; returns ``[intercept, *dense, *sparse]``."""
    d = z.shape[1]
    center = np.concatenate([[0.0], prior, np.zeros(sparse.n_cols)])
    penalty = np.concatenate([[1e-6], _dense_penalty(l2[0]), np.full(sparse.n_cols, l2[1])])

    def loss_grad(coef: np.ndarray) -> tuple[float, np.ndarray]:
        logit = coef[0] + z @ coef[1 : 1 + d] + sparse.dot(coef[1 + d :])
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0)))
        nll = float(np.sum(sw * (np.logaddexp(0.0, logit) - y * logit)))
        g = sw * (p - y)
        grad = np.concatenate([[g.sum()], z.T @ g, sparse.tdot(g)]) + penalty * (coef - center)
        return nll + 0.5 * float(np.sum(penalty * (coef - center) ** 2)), grad

    return lbfgs(loss_grad, center.copy(), max(max_iter, 200), memory)


def lbfgs(
    loss_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    max_iter: int,
    memory: int = 10,
) -> np.ndarray:
    """Minimise a smooth convex loss (``loss_grad`` gives the value and the gradient) by
    L-BFGS with backtracking from ``start``; deterministic."""
    coef = start
    f, grad = loss_grad(coef)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(max_iter):
        q = grad.copy()
        alphas = []
        for s_k, y_k in reversed(steps):
            a = float(s_k @ q) / float(y_k @ s_k)
            alphas.append(a)
            q -= a * y_k
        if steps:
            s_k, y_k = steps[-1]
            q *= float(s_k @ y_k) / float(y_k @ y_k)
        for (s_k, y_k), a in zip(steps, reversed(alphas), strict=True):
            q += s_k * (a - float(y_k @ q) / float(y_k @ s_k))
        direction, size = -q, 1.0 if steps else 1.0 / max(1.0, float(np.abs(grad).max()))
        while True:
            new = coef + size * direction
            f_new, g_new = loss_grad(new)
            if f_new <= f + 1e-4 * size * float(grad @ direction) or size < 1e-10:
                break
            size /= 2
        s_new, y_new = new - coef, g_new - grad
        if float(s_new @ y_new) > 1e-12:
            steps = [*steps, (s_new, y_new)][-memory:]
        converged = f - f_new < 1e-9 * max(1.0, abs(f))
        coef, f, grad = new, f_new, g_new
        if converged:
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

    Accepts ``{"type": "emotion", ..., "expect": {"escalate", "emotion"?}}``, the dev-data
    shape ``{id, text, context, label, escalate}`` and the questions of an answer / pre-sales
    suite that the shop may answer itself (``expect.decision`` with ``auto``; see
    :func:`plain_question`), read as turns that do not escalate. The file is decoded as a
    knowledge file is (UTF-8 with or without BOM, GB18030 / GBK, Big5, UTF-16). ``ValueError``
    names the file and the bad line: not JSON, no label, a label that is not true / false,
    binary or undecodable content. ``OSError`` when the file cannot be opened.
    """
    try:
        text = decode_bytes(Path(path).read_bytes(), path=str(path))
    except IngestError as exc:  # binary, or no encoding reads it
        raise ValueError(str(exc)) from None
    cases: list[EmotionCase] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = _parse_case(json.loads(line), number)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        except KeyError as exc:
            raise ValueError(
                f"{path}:{number}: no {exc.args[0]!r}; each turn needs text and "
                '"expect": {"escalate": true|false} (or a top-level "escalate")'
            ) from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not an emotion case ({exc})") from None
        if case is not None:
            cases.append(case)
    return cases


def plain_question(obj: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """(question, history) of an ``answer`` case the shop may answer itself (``auto`` among its
    expected decisions), else None. Such a question is a labelled non-escalation: a customer
    asking it is not to be handed to a human for their mood — the same turns the 2 % bound on
    false escalations is measured on, and negatives in the same voice as the shop's turns."""
    if obj.get("type") != "answer" or not isinstance(obj.get("question"), str):
        return None
    expect = obj.get("expect")
    decision = expect.get("decision") if isinstance(expect, Mapping) else None
    decisions = decision if isinstance(decision, list) else [decision]
    if "auto" not in decisions or not obj["question"].strip():
        return None
    history = [dict(m) for m in obj.get("history") or [] if isinstance(m, Mapping)]
    return obj["question"], history


def _parse_case(obj: Mapping[str, Any], number: int) -> EmotionCase | None:
    plain = plain_question(obj)
    if plain is not None:  # an answer / pre-sales question the shop answers itself
        return EmotionCase(id=str(obj.get("id", f"line{number}")), text=plain[0], context=plain[1])
    if obj.get("type", "emotion") != "emotion":
        return None
    expect = obj.get("expect")
    if isinstance(expect, Mapping):
        escalate, emotion = expect["escalate"], expect.get("emotion")
    else:
        escalate, emotion = obj["escalate"], None
    if not isinstance(escalate, bool):  # "false" or 0 would read as a label silently
        raise TypeError(f"escalate is {escalate!r}, not true or false")
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
    cv_folds: int = 5,
    **options: Any,
) -> EscalationModel:
    """Fit an :class:`EscalationModel` on the emotion cases of one or more JSONL files.

    ``rules`` is the shop's merged ``emotion`` rule set the features are read with (default:
    the packaged one); ``options`` go to :class:`EscalationModel` (``l2``, ``min_precision``,
    ``prior``, ``seed``, ``text``). The decision threshold is picked on out-of-fold
    probabilities of a ``cv_folds``-fold cross-validation grouped by dialogue — a threshold
    picked on the training turns themselves is too sure of itself on the next conversation —
    when there are enough dialogues and turns of each label (else on the training turns);
    ``model.info`` says which, with the cross-validated figures.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    cases = [case for path in paths for case in read_emotion_cases(path)]
    if not cases:
        names = ", ".join(str(p) for p in paths)
        raise ValueError(
            f"no labelled turns in {names}: give emotion cases with an escalate label, or an "
            "answer / pre-sales suite with questions the shop answers itself (auto)"
        )
    examples = ((c.text, c.context, c.escalate) for c in cases)
    model = EscalationModel(**options).fit(examples, rules=rules)
    y = np.array([c.escalate for c in cases], dtype=bool)
    groups = {dialogue_group(c.id) for c in cases}
    if cv_folds >= 2 and len(groups) >= cv_folds and min(y.sum(), (~y).sum()) >= cv_folds:
        rest = {k: v for k, v in options.items() if k != "seed"}
        cv = cross_validate(cases, folds=cv_folds, seed=model.seed, rules=rules, **rest)
        score = np.where(cv["forced"], 1.0, np.asarray(cv["proba"]))
        model.threshold = _pick_threshold(score, y, model.min_precision)
        model.info["threshold_from"] = f"{cv_folds}-fold cross-validation grouped by dialogue"
        model.info["cv"] = escalation_metrics(y, score >= model.threshold)
    else:
        model.info["threshold_from"] = "the training turns (too few for cross-validation)"
    return model


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
    Returns ``{"metrics": {...}, "proba": [...], "predicted": [...], "thresholds": [...],
    "forced": [...]}`` with out-of-fold probabilities and decisions (each fold's threshold chosen
    on its training part; ``forced``: turns a hard cue escalates whatever the model says).
    """
    rows = (escalation_features(c.text, c.context, rules=rules) for c in cases)
    x = np.array([[row[name] for name in FEATURE_NAMES] for row in rows], dtype=float)
    x = x.reshape(-1, len(FEATURE_NAMES))
    text = bool(options.get("text"))
    grams = [escalation_grams(c.text, c.context, rules=rules) for c in cases] if text else []
    y = np.array([c.escalate for c in cases], dtype=bool)
    groups = sorted({dialogue_group(c.id) for c in cases})
    order = np.random.default_rng(seed).permutation(len(groups))
    fold_of_group = {groups[g]: k % folds for k, g in enumerate(order)}
    fold = np.array([fold_of_group[dialogue_group(c.id)] for c in cases])
    # Threats, profanity, requests for a human, safety incidents and property damage escalate
    # whatever the model says (``FORCING``).
    hard = [FEATURE_NAMES.index(name) for name in FORCING]
    forced = np.any(x[:, hard] > 0, axis=1)
    proba, predicted, thresholds = np.zeros(len(cases)), np.zeros(len(cases), bool), []
    for k in range(folds):
        test = fold == k
        if not test.any():
            continue
        model = EscalationModel(seed=seed, **options)
        train_grams = [grams[i] for i in np.flatnonzero(~test)] if text else None
        model.fit_matrix(x[~test], y[~test], grams=train_grams, rules=rules)
        test_grams = [grams[i] for i in np.flatnonzero(test)] if text else None
        proba[test] = model._proba(x[test], test_grams)
        predicted[test] = (proba[test] >= model.threshold) | forced[test]
        thresholds.append(model.threshold)
    metrics = escalation_metrics(y, predicted)
    metrics["brier"] = float(np.mean((proba - y) ** 2))
    return {
        "metrics": metrics,
        "proba": proba.tolist(),
        "predicted": predicted.tolist(),
        "thresholds": thresholds,
        "forced": forced.tolist(),
    }
