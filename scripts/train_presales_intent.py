"""Train the packaged pre-sales intent model (src/kefu_copilot/data/presales_intent.json).

    python scripts/train_presales_intent.py [--shops a,b,...] [--out FILE] [--no-save]

Data: the questions of the dev shops' pre-sales suites (evals/shops/<shop>/presales.jsonl and
the sample's evals/presales.jsonl) — needs, label 1 — against those of their answer suites
(answer.jsonl, evals/answer.jsonl) — order, policy and product questions, label 0; one group per
shop. The held-out shops are never read.

Features: kefu_copilot.presales._intent.intent_features (character 1–2-grams, digits as one
class), kept only when they occur in MIN_SHOPS shops of the training rows (a shop's product
words carry no weight). Logistic regression, L2, classes weighed equally. The threshold is the
lowest probability at which leave-one-shop-out precision on label 1 reaches TARGET_PRECISION:
a message of another kind taken for a need becomes a draft naming products, not a handoff.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from folds import dev_shops  # noqa: E402

from kefu_copilot.presales._intent import FORMAT, intent_features  # noqa: E402

# the dev shops of the folds (evals/shops/folds.json: 37 from round 21) and the sample shop
DEV = [*dev_shops(), "sample"]
MIN_SHOPS = 3
L2 = 1.0
TARGET_PRECISION = 0.9


def rows(shop: str) -> list[tuple[str, int]]:
    base = ROOT / "evals" if shop == "sample" else ROOT / "evals/shops" / shop
    out = []
    for suite, label in (("presales", 1), ("answer", 0)):
        path = base / f"{suite}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and (case := json.loads(line)).get("question"):
                out.append((str(case["question"]), label))
    return out


def fit(data: list[tuple[set[str], int]], vocab: list[str]) -> tuple[float, np.ndarray]:
    # the design matrix is binary and sparse (a message has tens of n-grams of thousands): held
    # as the (row, column) pairs of its ones, x @ w and x.T @ g are sums over them (the same
    # descent as with the dense matrix, in a fraction of the time on the 37 dev shops)
    index = {g: i for i, g in enumerate(vocab)}
    pairs = [(r, index[g]) for r, (grams, _) in enumerate(data) for g in grams if g in index]
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    cols = np.array([c for _, c in pairs], dtype=np.int64)
    n, v = len(data), len(vocab)
    y = np.array([label for _, label in data], float)
    weight = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))
    w, b = np.zeros(v), 0.0
    for _ in range(400):  # gradient descent on the weighted log-loss (small problem)
        z = np.bincount(rows, weights=w[cols], minlength=n) + b
        p = 1 / (1 + np.exp(-z))
        g = (p - y) * weight
        w -= 2.0 * (np.bincount(cols, weights=g[rows], minlength=v) + L2 * w / len(data))
        b -= 2.0 * g.sum()
    return b, w


def vocabulary(groups: dict[str, list[tuple[set[str], int]]]) -> list[str]:
    shops = Counter(g for rows in groups.values() for g in {g for grams, _ in rows for g in grams})
    return sorted(g for g, n in shops.items() if n >= MIN_SHOPS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", default=",".join(DEV))
    parser.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/presales_intent.json"))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    shops = args.shops.split(",")
    groups = {s: [(intent_features(q), y) for q, y in rows(s)] for s in shops}
    # leave one shop out: the probability each message gets from the others' fit
    scored: list[tuple[float, int]] = []
    for shop in shops:
        train = {s: r for s, r in groups.items() if s != shop}
        vocab = vocabulary(train)
        b, w = fit([r for rs in train.values() for r in rs], vocab)
        index = {g: i for i, g in enumerate(vocab)}
        for grams, y in groups[shop]:
            z = b + sum(w[index[g]] for g in grams if g in index)
            scored.append((1 / (1 + np.exp(-z)), y))
    threshold = 0.5
    for t in sorted({round(p, 3) for p, _ in scored}):
        taken = [y for p, y in scored if p >= t]
        if taken and sum(taken) / len(taken) >= TARGET_PRECISION:
            threshold = t
            break
    taken = [y for p, y in scored if p >= threshold]
    needs = sum(y for _, y in scored)
    info = {
        "shops": shops,
        "n_train": sum(len(r) for r in groups.values()),
        "cv": "leave-one-shop-out",
        "cv_precision": round(sum(taken) / max(len(taken), 1), 4),
        "cv_recall": round(sum(taken) / max(needs, 1), 4),
        "min_shops": MIN_SHOPS,
        "l2": L2,
    }
    vocab = vocabulary(groups)
    b, w = fit([r for rs in groups.values() for r in rs], vocab)
    weights = {g: round(float(v), 4) for g, v in zip(vocab, w, strict=True) if abs(v) >= 1e-3}
    model = {"format": FORMAT, "version": 1, "threshold": threshold, "bias": round(float(b), 4)}
    model |= {"info": info, "weights": weights}
    print(json.dumps({"threshold": threshold, **info}, ensure_ascii=False))
    if not args.no_save:
        Path(args.out).write_text(
            json.dumps(model, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
