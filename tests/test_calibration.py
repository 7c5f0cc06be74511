"""The answer calibrator: choosing its thresholds from out-of-shop predictions, the packaged fit
and its report, the decision measures it reads, and switching it on (``Settings.calibrated``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kefu_copilot import Copilot, Settings
from kefu_copilot._data import DATA_DIR
from kefu_copilot._models import Message
from kefu_copilot.answer._calibration import (
    FEATURES,
    Decided,
    choose_auto_threshold,
    choose_draft_threshold,
    decided_cut,
    packaged_calibrator,
    threshold_cut,
)
from kefu_copilot.answer._extractive import decide
from kefu_copilot.evals._suite import read_suite

ROOT = Path(__file__).resolve().parents[1]


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
    # since round 12 every dev shop: the six that were last rounds' never-read folds too
    assert {"toys", "instruments", "health", "fruit", "ebike", "lighting"} <= set(report["shops"])
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
    # read since round 12: measures of rank and agreement that mean the same on any shop
    assert values["topic_match"] in (-1.0, 0.0, 0.5, 1.0) and values["agree"] in (0.0, 1.0)
    assert 0.0 <= values["lexical_rr"] <= 1.0 and 0.0 <= values["faq_both"] <= 1.0


def test_the_measures_tried_and_left_out_are_finite_and_reported(sample_copilot) -> None:
    answerer, _ = sample_copilot._generation()
    prepared = answerer.prepare("衣服破了能退吗", [])
    assert prepared.query is not None and prepared.candidates
    tried = answerer.tried_measures(prepared.query, prepared.candidates)
    assert not set(tried) & set(FEATURES)  # left out of the calibrator
    assert all(math.isfinite(v) for v in tried.values())
    assert 0.0 <= tried["dense_rr"] <= 1.0 and tried["repaired"] in (0.0, 1.0)
    assert {"covers", "known", "product_known", "retrieved_first", "margin_other"} <= set(tried)
    # the fit reports what each would change, leave-one-shop-out: on how many shops the
    # log-loss falls / rises, the answers sent at the target precision and the cases passing
    rows = {r["measure"]: r for r in _report()["tried_measures"]}
    assert set(tried) <= set(rows)
    reference = rows["(the calibrator's)"]
    for name in tried:
        assert rows[name]["helps"] + rows[name]["hurts"] <= len(_report()["shops"])
        # left out because, added to the calibrator's, it does not lower the out-of-shop
        # log-loss on more shops than it raises it and overall (round 12's rule; the count of
        # answers sent at the target moves by one or two either way, which is noise)
        better = rows[name]["helps"] > rows[name]["hurts"]
        assert not (better and rows[name]["log_loss"] < reference["log_loss"]), name


def test_each_shops_figures_come_from_a_model_and_threshold_that_never_saw_it() -> None:
    sent = right = 0
    for shop in _report()["leave_one_shop_out"]:
        nested = shop["nested"]
        assert 0.0 < nested["auto_threshold"] <= 1.0
        # a shop sends 1-20 answers at the others' threshold: one miss is 0.875 there, so a
        # shop may miss once; pooled, the nested thresholds keep close to the target
        if nested["auto"]:
            wrong = nested["auto"] - round(nested["auto_precision"] * nested["auto"])
            assert wrong <= 1, shop["shop"]
            sent, right = sent + nested["auto"], right + nested["auto"] - wrong
        # with the typed catalogue's answers, of every answerable case of the shop
        assert 0.0 <= nested["answerable_auto"] <= 1.0 and nested["answerable"] > 0
    assert sent and right / sent >= 0.95


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
    # on by default (it was off until round 8); calibrated=False keeps support
    assert sample_copilot._generation()[0].calibrator is packaged_calibrator()
    off = Copilot(
        sample_copilot.shop_dir,
        index_dir=sample_copilot.index_dir,
        settings=Settings(embed_model="none", calibrated=False),
    )
    assert off._generation()[0].calibrator is None
    prepared = answerer.prepare("退货运费谁出", [])
    assert prepared.query is not None
    expected = round(
        packaged_calibrator().probability(answerer.features(prepared.query, prepared.candidates)),
        4,
    )
    answer = prepared.extractive
    assert answer.confidence == expected
    assert answer.decision == decide(expected, settings) or answer.decision == "draft"


def _decided(p: float, s: float, *, right: bool = True, draft: bool = True,
             handoff: bool = False, only: bool = False) -> Decided:  # fmt: skip
    return Decided(p, s, False, right, draft, handoff, only)


def test_the_draft_threshold_keeps_supports_handoffs_and_drafts_the_rest() -> None:
    cases = [
        _decided(0.95, 0.9),  # sent as is either way
        _decided(0.5, 0.7),  # right: support sends it, calibrated it is a draft (passes)
        _decided(0.35, 0.5),  # right as a draft: a high draft threshold hands it off
        _decided(0.2, 0.3, right=False, draft=False, handoff=True, only=True),
        _decided(0.4, 0.3, right=False, draft=False, handoff=True, only=True),
    ]
    # support hands off 2 of the 2 handoff-only cases: the threshold must too, and then drafts
    # everything above them
    threshold, why = choose_draft_threshold(cases, 0.9)
    assert threshold == 0.5 and "handoff recall >= support's" in why
    cut = decided_cut(cases, 0.9, threshold)
    assert cut["handoff_recall"] == 1.0 and cut["passed"] == 4
    # with one handoff-only case fewer to keep, the draft below it is kept too
    threshold, _ = choose_draft_threshold(cases[:-1], 0.9)
    assert threshold == 0.35 and decided_cut(cases[:-1], 0.9, threshold)["passed"] == 4


def test_the_packaged_draft_threshold_is_reported_per_shop() -> None:
    report = _report()
    assert report["draft_threshold_chosen_for"]
    assert report["support_thresholds"] == [0.62, 0.42]
    support = [s["support"] for s in report["leave_one_shop_out"]]
    calibrated = [s["calibrated"] for s in report["leave_one_shop_out"]]
    # pooled over the shops (each with a draft threshold chosen on the others): no fewer
    # handoffs, no fewer cases passing, and the answers sent as is more often right
    assert sum(c["passed"] for c in calibrated) >= sum(s["passed"] for s in support)
    for key in ("auto_precision",):
        sent = sum(c["auto"] for c in calibrated)
        right = sum(c["auto"] * (c[key] or 0) for c in calibrated)
        sent0 = sum(s["auto"] for s in support)
        right0 = sum(s["auto"] * (s[key] or 0) for s in support)
        assert right / sent > right0 / sent0
    assert Settings().draft_threshold == report["draft_threshold"]
    assert Settings().auto_threshold == report["auto_threshold"]


def _support_copilot(sample_copilot) -> Copilot:
    """The sample shop answered in the uncalibrated mode (today's default until round 8)."""
    return Copilot(
        sample_copilot.shop_dir,
        index_dir=sample_copilot.index_dir,
        settings=Settings(embed_model="none", calibrated=False),
    )


def test_reply_drafts_do_not_change_with_the_answer_mode(sample_copilot) -> None:
    off = _support_copilot(sample_copilot)
    off_answerer = off._generation()[0]
    assert off_answerer.by_support() is off_answerer  # uncalibrated: itself
    view = sample_copilot._generation()[0].by_support()
    assert view.calibrator is None and view.settings.auto_threshold == 0.62
    cases = read_suite(ROOT / "evals" / "reply.jsonl")[0]
    for case in cases[::3]:
        conversation, draft = case["conversation"], case.get("draft")
        on_drafts = sample_copilot.suggest_reply(conversation, draft)
        off_drafts = off.suggest_reply(conversation, draft)
        assert [d.model_dump() for d in on_drafts] == [d.model_dump() for d in off_drafts], case[
            "id"
        ]


def test_presales_routing_does_not_change_with_the_answer_mode(sample_copilot) -> None:
    from kefu_copilot.presales._routing import presales_answer

    off = _support_copilot(sample_copilot)
    on_answerer, off_answerer = sample_copilot._generation()[0], off._generation()[0]
    cases = [
        c
        for suite in ("presales", "answer")
        for c in read_suite(ROOT / "evals" / f"{suite}.jsonl")[0]
        if c.get("type", "answer") == "answer"
    ]
    differ = 0
    for case in cases[::2]:
        history = [Message(**t) for t in case.get("history") or []]
        on = on_answerer.prepare(case["question"], history)
        support = off_answerer.prepare(case["question"], history)
        assert on.support_decision == support.extractive.decision, case["id"]
        differ += on.extractive.decision != support.extractive.decision
        if on.ruled:
            continue
        routed_on = presales_answer(sample_copilot.advisor(), on)
        routed_off = presales_answer(off.advisor(), support)
        assert (routed_on is None) == (routed_off is None), case["id"]
        if routed_on is not None and routed_off is not None and routed_off.decision != "draft":
            assert (routed_on.decision, routed_on.text) == (routed_off.decision, routed_off.text)
    assert differ  # the answer modes do differ on these questions: the check is not empty
