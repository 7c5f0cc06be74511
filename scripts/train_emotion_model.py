"""Train the packaged escalation model (src/kefu_copilot/data/escalation_model.json).

    python scripts/train_emotion_model.py [--evaldata ../shared/evaldata] [--out PATH] [--folds 5]

Data (labelled customer turns; the JDDC and review texts are research-only: they fit weights and
are never shipped):
  * the sample suite evals/emotion.jsonl (shop-style turns written for this project);
  * JDDC: every rated customer turn of the 230 case-library dialogues (case_library/
    jddc_dialogues.jsonl, context = the 20 turns before it) and the "train" half of
    emotion/jddc_satisfaction_turns.jsonl (kefu_copilot.emotion._corpus.jddc_split; the other
    half is never read here) — escalate = dissatisfied;
  * emotion/review_sentiment.jsonl — negative product reviews as weak positives, low weight.
The blind shop turns (evals/shops/*) are not used. Sources are weighted so that each counts
about as much as its weight below whatever its size. The decision threshold is chosen on
grouped k-fold out-of-fold probabilities (not on the training fit), maximising the mean F1 of
the sample suite and of JDDC, weighted as the sources. Prints the cross-validated figures per source.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu_copilot.emotion._corpus import jddc_split  # noqa: E402
from kefu_copilot.emotion._cues import STRONG_CUES  # noqa: E402
from kefu_copilot.emotion._flag import (  # noqa: E402
    FEATURE_NAMES,
    escalation_features,
    escalation_grams,
)
from kefu_copilot.emotion._model import EscalationModel, escalation_metrics  # noqa: E402

WEIGHTS = {"sample": 2.0, "jddc": 1.0, "reviews": 0.15}
OPTIONS: dict[str, Any] = {"text": True, "l2": 30.0, "gram_l2": 2.0, "min_count": 3}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def load(evaldata: Path) -> list[dict[str, Any]]:
    """Training turns: {text, context, y, source, group}."""
    out: list[dict[str, Any]] = []
    for case in _rows(ROOT / "evals/emotion.jsonl"):
        out.append(
            {
                "text": case["text"],
                "context": case.get("context") or [],
                "y": bool(case["expect"]["escalate"]),
                "source": "sample",
                "group": case["id"],
            }
        )
    for dialogue in _rows(evaldata / "case_library/jddc_dialogues.jsonl"):
        turns = dialogue["turns"]
        for i, turn in enumerate(turns):
            if turn["role"] == "customer" and turn.get("label"):
                context = [
                    {"role": t["role"], "text": t["text"]} for t in turns[max(0, i - 20) : i]
                ]
                out.append(
                    {
                        "text": turn["text"],
                        "context": context,
                        "y": turn["label"] == "dissatisfied",
                        "source": "jddc",
                        "group": dialogue["dialogue_id"],
                    }
                )
    for case in _rows(evaldata / "emotion/jddc_satisfaction_turns.jsonl"):
        if jddc_split(case["id"]) == "train":
            out.append(
                {
                    "text": case["text"],
                    "context": case["context"],
                    "y": bool(case["escalate"]),
                    "source": "jddc",
                    "group": case["id"].rsplit("-t", 1)[0],
                }
            )
    for case in _rows(evaldata / "emotion/review_sentiment.jsonl"):
        out.append(
            {
                "text": case["text"][:200],
                "context": [],
                "y": case["label"] == "negative",
                "source": "reviews",
                "group": case["id"],
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--evaldata", default=str(ROOT.parent / "shared" / "evaldata"))
    ap.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/escalation_model.json"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-text", action="store_true", help="dense cue features only")
    args = ap.parse_args()
    options = dict(OPTIONS, text=not args.no_text)
    data = load(Path(args.evaldata))
    x = np.array(
        [[escalation_features(d["text"], d["context"])[n] for n in FEATURE_NAMES] for d in data]
    )
    grams = [escalation_grams(d["text"], d["context"]) for d in data] if options["text"] else None
    y = np.array([d["y"] for d in data])
    source = np.array([d["source"] for d in data])
    size = defaultdict(int)
    for s in source:
        size[s] += 1
    w = np.array([WEIGHTS[s] * len(data) / (len(WEIGHTS) * size[s]) for s in source])
    forced = np.any(x[:, [FEATURE_NAMES.index(n) for n in (*STRONG_CUES, "safety")]] > 0, axis=1)
    groups = sorted({d["group"] for d in data})
    order = np.random.default_rng(0).permutation(len(groups))
    fold_of = {groups[g]: k % args.folds for k, g in enumerate(order)}
    fold = np.array([fold_of[d["group"]] for d in data])
    oof = np.zeros(len(data))
    for k in range(args.folds):
        test = fold == k
        model = EscalationModel(**options).fit_matrix(
            x[~test],
            y[~test],
            grams=[grams[i] for i in np.flatnonzero(~test)] if grams else None,
            sample_weight=w[~test],
        )
        oof[test] = model._proba(
            x[test], [grams[i] for i in np.flatnonzero(test)] if grams else None
        )
    best = (-1.0, 0.5)
    for t in np.arange(0.05, 0.95, 0.01):
        pred = (oof >= t) | forced
        f1s = [
            escalation_metrics(y[source == s], pred[source == s])["f1"] for s in ("sample", "jddc")
        ]
        score = (WEIGHTS["sample"] * f1s[0] + WEIGHTS["jddc"] * f1s[1]) / (
            WEIGHTS["sample"] + WEIGHTS["jddc"]
        )
        if score > best[0]:
            best = (float(score), float(round(t, 2)))
    threshold = best[1]
    print(f"threshold (out-of-fold, weighted mean F1 sample+jddc): {threshold}")
    for s in ("sample", "jddc", "reviews"):
        m = escalation_metrics(y[source == s], ((oof >= threshold) | forced)[source == s])
        print(
            f"  CV {s:8} n={int(m['n']):5} P={m['precision']:.3f} R={m['recall']:.3f} "
            f"F1={m['f1']:.3f} BA={m['balanced_accuracy']:.3f}"
        )
    model = EscalationModel(**options).fit_matrix(x, y, grams=grams, sample_weight=w)
    model.threshold = threshold
    model.info = {
        "n_train": len(data),
        "sources": dict(size),
        "source_weights": WEIGHTS,
        "cv_threshold": threshold,
        "jddc_split": "sha256(dialogue id)[0] even = untuned (not used)",
    }
    model.save(args.out)
    print(
        f"saved {args.out}: {Path(args.out).stat().st_size // 1024} KB, {len(model.grams)} text weights"
    )


if __name__ == "__main__":
    main()
