"""evals/shops/folds.json — which blind shops are read, trained on unread, or held out — is the
one list the scripts read; it must name every shop of evals/shops once."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _folds_module() -> Any:
    spec = importlib.util.spec_from_file_location("folds", ROOT / "scripts" / "folds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_blind_shop_is_in_exactly_one_fold() -> None:
    folds = _folds_module()
    named = [s for f in folds.folds() for s in f["shops"]]
    assert len(named) == len(set(named)), "a shop in two folds"
    on_disk = {p.name for p in (ROOT / "evals" / "shops").iterdir() if (p / "shop").is_dir()}
    assert set(named) == on_disk
    dev, trained, held = folds.dev_shops(), folds.trained_shops(), folds.held_out_shops()
    assert sorted((*dev, *trained, *held)) == sorted(named)
    for fold in folds.folds():
        read = fold["read_from_round"]
        assert read is None or read > fold["written_in_round"], fold  # read after written
        assert not (fold.get("trained") and read is not None), fold


def test_the_packaged_calibrator_never_saw_a_held_out_shop() -> None:
    folds = _folds_module()
    report = json.loads(
        (ROOT / "src" / "kefu_copilot" / "data" / "calibration.json").read_text("utf-8")
    )["report"]
    assert set(report["shops"]) <= {"sample", *folds.dev_shops()}
    assert not set(report["shops"]) & {*folds.held_out_shops(), *folds.trained_shops()}


def test_the_packaged_presales_intent_model_was_fitted_on_every_dev_shop_and_no_held_out_one() -> (
    None
):
    """Round 21: the intent model had been fitted on the 16 shops read by round 13 while 37 are
    read now; it is refitted on the dev fold (and the sample shop) whenever the folds change."""
    folds = _folds_module()
    info = json.loads(
        (ROOT / "src" / "kefu_copilot" / "data" / "presales_intent.json").read_text("utf-8")
    )["info"]
    assert set(info["shops"]) == {"sample", *folds.dev_shops()}
    assert not set(info["shops"]) & {*folds.held_out_shops(), *folds.trained_shops()}
    assert info["cv"] == "leave-one-shop-out"


def test_the_intent_training_scripts_sparse_descent_is_the_dense_one() -> None:
    """scripts/train_presales_intent.py fits on (row, column) pairs of the binary design matrix;
    the weights must be those of the same descent on the dense matrix."""
    import sys

    import numpy as np

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location(
            "train_presales_intent", ROOT / "scripts" / "train_presales_intent.py"
        )
        assert spec is not None and spec.loader is not None
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rng = np.random.default_rng(7)
    vocab = [f"g{i}" for i in range(12)]
    data = [
        ({g for g in vocab if rng.random() < 0.3} | {"unseen"}, int(rng.random() < 0.4))
        for _ in range(40)
    ]
    b, w = train.fit(data, vocab)
    x = np.array([[float(g in grams) for g in vocab] for grams, _ in data])
    y = np.array([label for _, label in data], float)
    weight = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))
    ref_w, ref_b = np.zeros(len(vocab)), 0.0
    for _ in range(400):
        p = 1 / (1 + np.exp(-(x @ ref_w + ref_b)))
        g = (p - y) * weight
        ref_w -= 2.0 * (x.T @ g + train.L2 * ref_w / len(data))
        ref_b -= 2.0 * g.sum()
    assert np.allclose(w, ref_w) and abs(b - ref_b) < 1e-9
    assert np.abs(w).max() > 0.01  # the descent moved: a fit, not zeros compared with zeros
