"""The fitted grounding decision: measures from the claim check, the model file, the overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu_copilot import run_suite
from kefu_copilot._errors import ConfigError
from kefu_copilot.answer import _generate
from kefu_copilot.answer._claims import ClaimChecker
from kefu_copilot.answer._decision import (
    FORMAT,
    MEASURES,
    DecisionModel,
    decision_model,
    grounding_measures,
)

ROOT = Path(__file__).resolve().parents[1]
PASSAGE = "等级：金卡会员，会员折扣：9折\n等级：银卡会员，会员折扣：95折"


def _measures(text: str, question: str = "金卡几折") -> dict[str, float]:
    check = ClaimChecker().check(text, [PASSAGE], question=question)
    return grounding_measures(
        check,
        text,
        numbers=1,
        numbers_unknown=0,
        support=0.8,
        support_decision="draft",
        citations=1,
    )


def test_measures_count_the_claim_checks_verdicts() -> None:
    faithful = _measures("金卡会员享9折哦")
    assert list(faithful) == list(MEASURES)
    assert faithful["entailed"] >= 1 and faithful["entailed_value"] >= 1
    assert faithful["entailed_share"] == 1.0 and faithful["grounded"] == 1.0
    assert faithful["support_draft"] == 1.0 and faithful["support_auto"] == 0.0
    chatter = _measures("稍等，我去问问同事")
    assert chatter["verdicts"] == 0 and chatter["entailed_share"] == 0.0
    assert chatter["said"] < faithful["said"]


def _model(bias: float, threshold: float = 0.5, *, promote_only: bool = False) -> DecisionModel:
    n = len(MEASURES)
    return DecisionModel(
        promote_only=promote_only,
        measures=MEASURES,
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        weights=(0.0,) * n,
        bias=bias,
        threshold=threshold,
    )


def test_model_file_round_trips_and_names_the_fix_when_wrong(tmp_path: Path) -> None:
    model = _model(2.0, 0.7)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model.to_dict()), encoding="utf-8")
    again = DecisionModel.load(path)
    assert again.auto({}) and again.probability({}) == pytest.approx(model.probability({}))
    assert not _model(-2.0).auto({})
    bad = model.to_dict() | {"measures": ["nonsense", *MEASURES[1:]]}
    with pytest.raises(ConfigError, match="train_grounding_model"):
        DecisionModel.from_dict(bad)
    with pytest.raises(ConfigError, match="train_grounding_model"):
        DecisionModel.from_dict(model.to_dict() | {"format": "other/0"})
    short = model.to_dict() | {"weights": [0.0]}
    with pytest.raises(ConfigError, match="do not match"):
        DecisionModel.from_dict(short)


def test_packaged_model_weighs_known_measures() -> None:
    model = decision_model()
    if model is None:
        pytest.skip("no packaged grounding model")
    assert model.info.get("script") == "scripts/train_grounding_model.py"
    assert set(model.measures) <= set(MEASURES) and 0 < model.threshold <= 1
    data = json.loads(
        Path(_generate.__file__)
        .parent.parent.joinpath("data", "grounding_model.json")
        .read_text(encoding="utf-8")
    )
    assert data["format"] == FORMAT


CASES = [
    {
        "id": "faithful",
        "type": "grounding",
        "question": "买多少钱能包邮？",
        "llm_reply": "亲，全场实付满99元就包邮啦（偏远地区除外）。",
        "kind": "faithful",
        "sources": ["faq/faq.csv"],
        "expect": {"decision": ["auto", "draft"]},
    },
    {
        "id": "limit",
        "type": "grounding",
        "question": "买多少钱能包邮？",
        "llm_reply": "亲，全场实付满99元就包邮，另外再赔偿您500元现金。",
        "kind": "invented_offer",
        "sources": ["faq/faq.csv"],
        "expect": {"decision": ["handoff"]},
    },
]


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: DecisionModel | None) -> dict:
    monkeypatch.setattr(_generate, "decision_model", lambda: model)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in CASES), encoding="utf-8")
    result = run_suite(path, shop=ROOT / "knowledge", index_dir=tmp_path / "i", embed_model="none")
    return {c["id"]: c for c in result.cases}


def test_the_model_decides_auto_and_the_hard_rules_stay_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sure = _run(tmp_path, monkeypatch, _model(30.0))
    # money beyond shop.yaml limits hands off whatever the model says
    assert sure["limit"]["decision"] == "handoff" and sure["limit"]["rule"] == "handoff rule"
    assert sure["faithful"]["measures"]["entailed"] >= 1
    # no hard rule on the faithful reply: the model decides, auto at P 1.0, never at P 0
    assert sure["faithful"]["rule"] == "" and sure["faithful"]["decision"] == "auto"
    assert sure["faithful"]["probability"] == pytest.approx(1.0)
    never = _run(tmp_path / "n", monkeypatch, _model(-30.0))
    assert never["faithful"]["decision"] != "auto"
    assert any("grounding model" in r for r in never["faithful"]["reasons"])


def test_a_promoting_model_never_holds_back_what_the_rules_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _run(tmp_path / "r", monkeypatch, None)
    assert rules["faithful"]["rule"] == "no model" and rules["faithful"]["probability"] is None
    promoting = _run(tmp_path / "p", monkeypatch, _model(-30.0, promote_only=True))
    assert promoting["faithful"]["decision"] == rules["faithful"]["decision"]
    assert promoting["faithful"]["probability"] == pytest.approx(0.0, abs=1e-6)
