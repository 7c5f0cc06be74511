"""The answer calibrator: choosing its thresholds from out-of-shop predictions, the packaged fit
and its report, the decision measures it reads, and switching it on (``Settings.calibrated``)."""

from __future__ import annotations

import json
import math

import pytest

from kefu_copilot import Copilot, Settings
from kefu_copilot._data import DATA_DIR
from kefu_copilot.answer._calibration import (
    FEATURES,
    choose_auto_threshold,
    packaged_calibrator,
    threshold_cut,
)
from kefu_copilot.answer._extractive import decide


def _report() -> dict:
    return json.loads((DATA_DIR / "calibration.json").read_text(encoding="utf-8"))["report"]


def test_a_cut_counts_what_it_sends_and_the_share_right() -> None:
    cut = threshold_cut([0.9, 0.8, 0.4, 0.3], [1, 0, 1, 0], 0.5)
    assert cut == {"threshold": 0.5, "auto": 2, "auto_precision": 0.5, "coverage": 0.5}
    assert threshold_cut([0.2], [1], 0.5)["auto_precision"] is None  # nothing sent


def test_the_precision_target_takes_the_threshold_sending_the_most_right_answers() -> None:
    p = [0.99, 0.97, 0.95, 0.9, 0.8, 0.7, 0.6]
    y = [1, 1, 1, 1, 0, 1, 0]
    threshold, why = choose_auto_threshold(p, y, 0.98, min_sent=2)
    assert threshold == 0.9 and "precision >= 0.98" in why


def test_one_wrong_answer_at_the_top_does_not_stop_the_scan() -> None:
    # 0.99 is wrong: a scan from the top that stops at the first miss sends nothing; 0.5 sends
    # 9 right of 10 (0.9), lower ones fall short of it, and nothing reaches 0.98
    p = [0.99, 0.97, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.3, 0.2]
    y = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0]
    threshold, why = choose_auto_threshold(p, y, 0.98, min_sent=5, fallback=0.9)
    assert threshold == 0.5 and "precision >= 0.9:" in why


def test_a_handful_at_the_top_does_not_reach_the_target() -> None:
    p, y = [0.99, 0.9, 0.8, 0.7], [1, 0, 1, 0]
    assert choose_auto_threshold(p, y, 0.98, min_sent=2, fallback=0.95)[0] == 1.0
    assert choose_auto_threshold([0.9, 0.8], [0, 0], 0.98)[0] == 1.0  # nothing is precise


def test_the_packaged_fit_is_across_shops_and_reported_leave_one_shop_out() -> None:
    calibrator, report = packaged_calibrator(), _report()
    assert calibrator.features == FEATURES
    # fitted across the dev shops; the shops held out from reading stay out of the fit, so
    # their eval figures measure a calibrator that never saw them
    assert {"sample", "apparel", "cosmetics", "digital", "food", "home", "sports"} <= set(
        report["shops"]
    )
    assert not {"baby", "pets", "kitchen", "tools"} & set(report["shops"])
    losses = report["log_loss_leave_one_shop_out"]  # the penalty: least out-of-shop log-loss
    assert float(min(losses, key=losses.get)) == report["l2"]
    assert report["auto_threshold_chosen_for"]
    assert 0.0 <= report["draft_threshold"] <= report["auto_threshold"] <= 1.0
    for shop in report["leave_one_shop_out"]:
        assert shop["auto_precision"] is None or shop["auto_precision"] >= 0.9, shop
    curve = report["curve_leave_one_shop_out"]
    assert [c["threshold"] for c in curve] == sorted(c["threshold"] for c in curve)
    coverage = [c["coverage"] for c in curve]
    assert coverage == sorted(coverage, reverse=True)  # a higher threshold sends fewer
    bins = report["reliability_leave_one_shop_out"]
    assert sum(b["n"] for b in bins) == report["rows"]
    Settings(auto_threshold=report["auto_threshold"], draft_threshold=report["draft_threshold"])


def test_the_decision_measures_are_the_calibrators_and_finite(sample_copilot) -> None:
    answerer, _ = sample_copilot._generation()
    prepared = answerer.prepare("退货运费谁出", [])
    assert prepared.query is not None and prepared.candidates
    values = answerer.features(prepared.query, prepared.candidates)
    assert set(values) == set(FEATURES)
    assert all(math.isfinite(v) for v in values.values())
    assert 0.0 <= values["quote_covers"] <= 1.0 and 0.0 <= values["title_covers"] <= 1.0
    assert values["variant_in_quote"] in (-1.0, 0.0, 1.0) and values["sources_close"] >= 0.0


def test_calibrated_settings_make_confidence_the_calibrators_probability(
    sample_copilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _report()
    settings = Settings(
        embed_model="none",
        calibrated=True,
        auto_threshold=report["auto_threshold"],
        draft_threshold=report["draft_threshold"],
    )
    copilot = Copilot(
        sample_copilot.shop_dir, index_dir=sample_copilot.index_dir, settings=settings
    )
    answerer, _ = copilot._generation()
    assert answerer.calibrator is packaged_calibrator()
    assert sample_copilot._generation()[0].calibrator is None  # off by default
    prepared = answerer.prepare("退货运费谁出", [])
    assert prepared.query is not None
    expected = round(
        packaged_calibrator().probability(answerer.features(prepared.query, prepared.candidates)),
        4,
    )
    answer = prepared.extractive
    assert answer.confidence == expected
    assert answer.decision == decide(expected, settings) or answer.decision == "draft"
