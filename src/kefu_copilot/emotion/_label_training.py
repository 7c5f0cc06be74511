"""Fitting the emotion-label model (numpy): weighted multinomial logistic regression.

Dense inputs (:data:`~kefu_copilot.emotion._flag.LABEL_FEATURES`) are standardised and pulled
towards zero with ``l2``; the sparse text features (grams seen in at least ``min_count`` turns)
with ``gram_l2``; labels are balanced (each label weighs as much in total) times the caller's
per-row weights. L-BFGS from zero: deterministic. The result is a
:class:`~kefu_copilot.emotion._labels.LabelScorer` (what ``emotion_flag`` reads).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._labels import LabelScorer, decide
from ._model import _Sparse, _vocabulary, lbfgs

__all__ = ["fit_labels", "predict_labels"]


def fit_labels(
    x: np.ndarray,
    y: Sequence[str],
    grams: Sequence[Sequence[str]],
    names: Sequence[str],
    labels: Sequence[str],
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 10.0,
    gram_l2: float = 2.0,
    min_count: int = 3,
    max_iter: int = 300,
    prior_l2: float | None = None,
) -> LabelScorer:
    """Fit on a dense matrix ``x`` (columns ``names``), text features and string labels.

    ``prior_l2`` (default ``l2``) is the penalty of the rule set's own emotion scores
    (``rule_*`` inputs): lower, they act as a prior the text features correct."""
    index = {label: i for i, label in enumerate(labels)}
    target = np.array([index[label] for label in y])
    n, d, k = len(target), x.shape[1], len(labels)
    onehot = np.eye(k)[target]
    counts = np.bincount(target, minlength=k).astype(float)
    weight = n / (k * np.maximum(counts[target], 1.0))
    if sample_weight is not None:
        weight = weight * sample_weight * n / float(np.sum(sample_weight))
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (x - mean) / scale
    vocab = _vocabulary(grams, min_count) if gram_l2 > 0 else []
    sparse = _Sparse.of(grams, vocab)
    v = len(vocab)
    dense = np.array(
        [prior_l2 if prior_l2 is not None and n.startswith("rule_") else l2 for n in names]
    )
    penalty = np.concatenate([np.full(k, 1e-6), np.repeat(dense, k), np.full(v * k, gram_l2)])

    def unpack(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return coef[:k], coef[k : k + d * k].reshape(d, k), coef[k + d * k :].reshape(v, k)

    def loss_grad(coef: np.ndarray) -> tuple[float, np.ndarray]:
        b, w, g = unpack(coef)
        logit = b + z @ w
        if v:
            logit = logit + np.column_stack([sparse.dot(g[:, j]) for j in range(k)])
        logit -= logit.max(axis=1, keepdims=True)
        log_p = logit - np.log(np.exp(logit).sum(axis=1, keepdims=True))
        nll = -float(np.sum(weight * np.sum(onehot * log_p, axis=1)))
        err = weight[:, None] * (np.exp(log_p) - onehot)
        grad_g = np.column_stack([sparse.tdot(err[:, j]) for j in range(k)]) if v else g
        grad = np.concatenate([err.sum(axis=0), (z.T @ err).ravel(), grad_g.ravel()])
        return nll + 0.5 * float(np.sum(penalty * coef**2)), grad + penalty * coef

    coef = lbfgs(loss_grad, np.zeros(k + d * k + v * k), max_iter)
    b, w, g = unpack(coef)
    params = {
        name: (tuple(round(float(c), 5) for c in w[i]), float(mean[i]), float(scale[i]))
        for i, name in enumerate(names)
    }
    kept = {
        gram: tuple(round(float(c), 4) for c in g[i])
        for i, gram in enumerate(vocab)
        if float(np.abs(g[i]).max()) >= 1e-3
    }
    info = {
        "n_train": n,
        "l2": l2,
        "gram_l2": gram_l2,
        "prior_l2": prior_l2,
        "min_count": min_count,
    }
    return LabelScorer(tuple(labels), params, kept, tuple(float(c) for c in b), info)


def predict_labels(
    model: LabelScorer,
    x: np.ndarray,
    grams: Sequence[Sequence[str]],
    names: Sequence[str],
    escalate: Sequence[bool] | None = None,
) -> list[str]:
    """The label of each row (for cross-validation): the most probable one, or the most
    probable one consistent with each row's escalation decision when ``escalate`` is given."""
    out = []
    for i, (row, gram_row) in enumerate(zip(x, grams, strict=True)):
        proba = model.probabilities(dict(zip(names, row.tolist(), strict=True)), gram_row)
        if escalate is None:
            out.append(max(proba, key=proba.__getitem__))
        else:
            out.append(decide(proba, bool(escalate[i])))
    return out
