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
