"""Emotion flag, escalation rules and the trainable escalation model."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kefu_copilot._models import Message
from kefu_copilot.emotion._flag import (
    FEATURE_NAMES,
    EmotionFlag,
    emotion_flag,
    escalation_features,
    question_similarity,
)
from kefu_copilot.emotion._model import (
    EscalationModel,
    cross_validate,
    escalation_metrics,
    read_emotion_cases,
    train_escalation,
)

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "emotion.jsonl"
SHARED = Path(__file__).resolve().parents[2] / "shared"
JDDC = SHARED / "evaldata" / "emotion" / "jddc_satisfaction_turns.jsonl"


def c(text: str) -> dict[str, str]:
    return {"role": "customer", "text": text}


def a(text: str) -> dict[str, str]:
    return {"role": "agent", "text": text}


# ---------------------------------------------------------------------------- single cues
@pytest.mark.parametrize(
    ("text", "risk", "signal"),
    [
        ("再不处理我就打12315投诉！", "complaint_threat", "12315"),
        ("质量这么差，我要给差评", "bad_review_threat", "差评"),
        ("我会把聊天记录发到微博上曝光你们", "public_exposure", "曝光"),
        ("这是消费欺诈，我已经找了律师", "legal_threat", "律师"),
        ("你们卖的什么垃圾鞋", "profanity", "垃圾"),
        ("转人工", "human_requested", "人工"),
        ("我不想跟机器人说话", "human_requested", "机器人"),
    ],
)
def test_hard_cues_escalate_with_reason(text: str, risk: str, signal: str) -> None:
    flag = emotion_flag(text)
    assert flag.escalate
    assert risk in flag.risk
    assert any(signal in s for s in flag.signals), flag.signals
    assert flag.score >= 0.9


def test_negated_and_reported_threats_do_not_fire() -> None:
    assert emotion_flag("放心，不会给差评的，东西挺好的").risk == []
    assert not emotion_flag("放心，不会给差评的，东西挺好的").escalate
    reported = emotion_flag("评论里有人给差评说会掉色，是真的吗？")
    assert "bad_review_threat" not in reported.risk and not reported.escalate
    assert not emotion_flag("不用转人工了，已经解决了，谢谢").escalate
    assert not emotion_flag("家里的垃圾袋用完了，顺便问下有卖吗").escalate


def test_sarcasm() -> None:
    for text in ("呵呵，真是好服务，问个问题半天没人理", "发货速度可真快啊，一周了还没出库🙄"):
        flag = emotion_flag(text)
        assert "sarcasm" in flag.risk and flag.escalate and flag.emotion == "angry", text
    praise = emotion_flag("真快啊，昨天下单今天就到了，很满意")
    assert praise.emotion == "satisfied" and "sarcasm" not in praise.risk and not praise.escalate


def test_full_width_and_half_width_punctuation_agree() -> None:
    full, half = emotion_flag("你们到底什么破质量！！！"), emotion_flag("你们到底什么破质量!!!")
    assert full == half
    assert full.escalate and full.emotion == "angry"
    assert "感叹号连用" in full.signals
    assert emotion_flag("人呢？？？").risk == emotion_flag("人呢???").risk


def test_emoji() -> None:
    flag = emotion_flag("😡😡😡", [c("我的快递到底到哪了"), a("亲，请耐心等待哦~")])
    assert flag.escalate and flag.emotion == "angry"
    assert any("愤怒表情" in s for s in flag.signals)
    happy = emotion_flag("收到了👍")
    assert happy.emotion == "satisfied" and not happy.escalate


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("这款连衣裙有没有XL码？", "neutral"),
        ("身高165体重110斤穿什么码合适", "neutral"),
        ("好的，谢谢亲～", "satisfied"),
        ("问题解决了，感谢耐心解答", "satisfied"),
        ("急用！今天能发货吗？", "anxious"),
        ("满300减40和店铺券能一起用吗？没看懂规则", "confused"),
        ("衣服有一点线头，不过不影响穿", "neutral"),
    ],
)
def test_calm_messages_are_not_escalated(text: str, emotion: str) -> None:
    flag = emotion_flag(text)
    assert not flag.escalate, flag
    assert flag.emotion == emotion
    assert flag.score < 0.5


def test_waits_and_demands() -> None:
    wait = emotion_flag("等了三天了，一直没人回我消息")
    assert wait.escalate and "long_wait" in wait.risk
    refund = emotion_flag("质量问题凭什么要我出运费？马上给我退款")
    assert refund.escalate and "refund_demand" in refund.risk
    pay = emotion_flag("三个月前买的皮鞋就断底了，我要求赔偿，给个说法")
    assert pay.escalate and "compensation_demand" in pay.risk
    assert "refund_demand" not in emotion_flag("怎么申请退货呀").risk


# ---------------------------------------------------------------------------- context
REPEATED = [
    c("运动鞋37码脚长是多少？"),
    a("亲，建议您参考详情页尺码表哦"),
    c("详情页没有写，37码脚长多少厘米？"),
    a("亲，建议您按平时穿的码数拍哦"),
]


def test_quiet_repeat_of_an_unanswered_question_escalates() -> None:
    text = "37码脚长多少厘米"
    alone = emotion_flag(text)
    assert not alone.escalate and alone.emotion == "neutral"
    repeated = emotion_flag(text, REPEATED)
    assert repeated.escalate
    assert "repeated_question" in repeated.risk
    assert any("重复提问" in s for s in repeated.signals)


def test_repeat_after_a_real_answer_is_fine() -> None:
    ctx = [c("能便宜点吗"), a("亲，已经是活动价了哦，可以领一张5元券")]
    assert not emotion_flag("能再便宜点吗？买两件呢", ctx).escalate
    confirm = [c("是包邮的吗？"), a("是的亲，全场包邮哦")]
    assert not emotion_flag("好的，那就是包邮对吧", confirm).escalate


def test_question_similarity() -> None:
    assert question_similarity("订单什么时候发货？", "哪天能发货") >= 0.5
    assert question_similarity("能不能开发票", "发票可以开吗") >= 0.5
    assert question_similarity("这件有M码吗", "退款多久到账") < 0.3
    assert question_similarity("", "在吗") == 0.0


def test_unanswered_customer_turns_and_canned_agent() -> None:
    nudged = emotion_flag(
        "？？？", [c("退货寄回去一周了，退款什么时候到？"), c("在吗"), c("有人吗")]
    )
    assert nudged.escalate and "long_wait" in nudged.risk
    assert any("未获回复" in s for s in nudged.signals)
    canned = [
        c("能合并发货吗"),
        a("亲亲，感谢您的支持~"),
        c("能不能合并发货"),
        a("亲亲，感谢您的支持~"),
    ]
    flag = emotion_flag("你们是不是只会复制粘贴？", canned)
    assert flag.escalate and "客服重复了相同的回复" in flag.signals


def test_context_accepts_messages_dicts_bots_and_skips_junk() -> None:
    as_messages = [Message(role=m["role"], text=m["text"]) for m in REPEATED]  # type: ignore[arg-type]
    mixed: list[Any] = [None, 3, {"role": "system", "text": "会话开始"}, {"text": "缺少角色"}]
    mixed += [as_messages[0], {"role": "bot", "text": REPEATED[1]["text"]}, *REPEATED[2:]]
    expected = emotion_flag("37码脚长多少厘米", REPEATED)
    assert emotion_flag("37码脚长多少厘米", as_messages) == expected
    assert emotion_flag("37码脚长多少厘米", mixed) == expected
    assert emotion_flag("37码脚长多少厘米", tuple(REPEATED)) == expected


def test_timestamps_reveal_a_long_wait() -> None:
    start = datetime(2024, 5, 1, 10, 0)
    ctx = [
        {"role": "customer", "text": "鞋子什么时候发", "ts": start.isoformat()},
        Message(role="customer", text="麻烦看一下", ts=start + timedelta(minutes=50)),
        {"role": "customer", "text": "在吗", "ts": start + timedelta(minutes=95)},
    ]
    flag = emotion_flag("请问什么时候能发货", ctx)
    assert "long_wait" in flag.risk and any("等待回复约" in s for s in flag.signals)


def test_jddc_style_placeholders() -> None:
    assert not emotion_flag("订单号[ORDERID_10124449]").escalate
    assert emotion_flag("等了[数字x]天了，一直没人回").escalate
    assert emotion_flag("#E-s[数字x]#E-s[数字x]").emotion == "neutral"
    assert "long_wait" in emotion_flag("都[数字x]天了还没发货").risk


def test_extra_keywords_force_escalation() -> None:
    text = "穿了一天袖口有点起球"  # (a skin reaction is a safety incident: escalates anyway)
    assert not emotion_flag(text).escalate
    flag = emotion_flag(text, extra_keywords=["起球", ""])
    assert flag.escalate and flag.score >= 0.9
    assert any("起球" in s for s in flag.signals)
    assert emotion_flag("我是ＶＩＰ会员", extra_keywords=["vip"]).escalate  # normalised both sides


# ---------------------------------------------------------------------------- robustness
def test_malformed_input_never_raises() -> None:
    for text in ("", " ", "\x00\x01\x02", "\ud800半个代理对", "�" * 50, "\u200b\u200b", "!?!?"):
        flag = emotion_flag(text, [c(text), a(text)])
        assert isinstance(flag, EmotionFlag) and 0.0 <= flag.score <= 1.0
    assert not emotion_flag("").escalate and emotion_flag("").emotion == "neutral"
    garbage = bytes(range(256)).decode("latin-1") * 40
    emotion_flag(garbage, [c(garbage)] * 30)


def test_long_text_is_fast() -> None:
    text = "我的衣服什么时候发货？" * 10_000  # 110k characters
    started = time.thread_time()  # CPU: a loaded CI machine's wall time measures the queue
    flag = emotion_flag(text, [c(text), a(text)] * 10)
    assert time.thread_time() - started < 1.0
    assert isinstance(flag, EmotionFlag)


def test_non_str_text_is_a_clear_value_error() -> None:
    for bad in (None, 42, b"bytes", ["list"]):
        with pytest.raises(ValueError, match="text must be a str"):
            emotion_flag(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context must be a list"):
        emotion_flag("在吗", "not a list")  # type: ignore[arg-type]


def test_typical_call_is_under_a_millisecond() -> None:
    """A gross-regression guard in CPU time (0.25 ms here; the p99 target is in benchmarks/): CI
    failed it at 1.2 ms of wall time per call on a machine at load 13, 0.25 ms of CPU."""
    cases = read_emotion_cases(SUITE)
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for case in cases:
            emotion_flag(case.text, case.context)
        best = min(best, (time.thread_time() - started) / len(cases))
    assert best < 0.001, f"{best * 1000:.2f} ms of CPU per call"


# ---------------------------------------------------------------------------- the eval suite
def test_suite_follows_the_contract() -> None:
    rows = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 90 and len({r["id"] for r in rows}) == len(rows)
    assert all(r["type"] == "emotion" and isinstance(r["expect"]["escalate"], bool) for r in rows)
    assert sum(r["expect"]["escalate"] for r in rows) >= 35
    assert sum(bool(r.get("context")) for r in rows) >= 40
    roles = {m["role"] for r in rows for m in r.get("context", [])}
    assert roles <= {"customer", "agent", "bot"}


def test_suite_escalation_f1_with_rules_only() -> None:
    cases = read_emotion_cases(SUITE)
    flags = [emotion_flag(case.text, case.context) for case in cases]
    metrics = escalation_metrics([k.escalate for k in cases], [f.escalate for f in flags])
    assert metrics["f1"] >= 0.9, metrics
    labelled = [(k.emotion, f.emotion) for k, f in zip(cases, flags, strict=True) if k.emotion]
    assert sum(e == g for e, g in labelled) / len(labelled) >= 0.85


# ---------------------------------------------------------------------------- the model
def _suite_examples() -> list[tuple[str, Any, bool]]:
    return [(k.text, k.context, k.escalate) for k in read_emotion_cases(SUITE)]


def test_model_fit_save_load_round_trip(tmp_path: Path) -> None:
    model = EscalationModel(min_precision=0.5).fit(_suite_examples())
    assert 0.0 < model.threshold < 1.0
    assert model.info["train"]["precision"] >= 0.5
    path = tmp_path / "models" / "escalation.json"
    model.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["escalation.json"]  # no temp file left
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "kefu-copilot/escalation-model" and data["version"] == 2
    assert set(data["features"]) == set(FEATURE_NAMES)
    loaded = EscalationModel.load(path)
    assert loaded.threshold == model.threshold
    for text, context, _ in _suite_examples()[:40]:
        assert loaded.predict_proba(text, context) == pytest.approx(
            model.predict_proba(text, context)
        )
    flag = emotion_flag("37码脚长多少厘米", REPEATED, model=loaded)
    assert flag.escalate and 0.0 <= flag.score <= 1.0
    assert emotion_flag("转人工", model=loaded).escalate  # hard cues escalate whatever the model


def test_model_is_deterministic() -> None:
    first = EscalationModel().fit(_suite_examples()).to_dict()
    second = EscalationModel().fit(_suite_examples()).to_dict()
    assert first == second
    zero = EscalationModel(prior="zero", l2=1.0).fit(_suite_examples())
    assert zero.to_dict() == EscalationModel(prior="zero", l2=1.0).fit(_suite_examples()).to_dict()


def test_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both"):
        EscalationModel().fit([("好的", None, False), ("谢谢", None, False)])
    with pytest.raises(ValueError, match="not fitted"):
        EscalationModel().predict_proba("在吗")
    with pytest.raises(ValueError):
        EscalationModel(prior="uniform")  # type: ignore[arg-type]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "kefu-copilot/escalation-model", "version": 99}))
    with pytest.raises(ValueError, match="version"):
        EscalationModel.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        EscalationModel.load(bad)


def test_train_escalation_reads_both_shapes(tmp_path: Path) -> None:
    contract = tmp_path / "contract.jsonl"
    contract.write_text(SUITE.read_text(encoding="utf-8"), encoding="utf-8")
    dev = tmp_path / "dev.jsonl"
    rows = [
        {
            "id": "x-d001-t01",
            "text": "好的谢谢",
            "context": [],
            "label": "satisfied",
            "escalate": False,
        },
        {"id": "x-d001-t02", "text": "你们到底管不管", "context": [c("在吗")], "escalate": True},
        {"id": "x-d002-t01", "type": "answer", "question": "几天发货"},
        {"id": "x-d002-t02", "text": "怎么还没发货，气死了", "escalate": True},
    ]
    dev.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    assert [k.id for k in read_emotion_cases(dev)] == ["x-d001-t01", "x-d001-t02", "x-d002-t02"]
    model = train_escalation([contract, dev], min_precision=0.4)
    assert model.info["n_train"] == len(read_emotion_cases(SUITE)) + 3
    assert model.predict("呵呵，真是好服务，三天没人回") is True


def test_a_shop_trains_on_its_own_plain_questions(tmp_path: Path) -> None:
    """The questions of an answer / pre-sales suite that the shop answers itself are labelled
    non-escalations (`kefu train-emotion answer.jsonl ...`); questions it hands over are not
    read (a handoff may be a complaint)."""
    suite = tmp_path / "answer.jsonl"
    rows = [
        {"id": "s-a001", "type": "answer", "question": "这款有白色的吗",
         "expect": {"decision": ["auto", "draft"]}},
        {"id": "s-a002", "type": "answer", "question": "发票怎么开",
         "history": [c("你好")], "expect": {"decision": "auto"}},
        {"id": "s-a003", "type": "answer", "question": "我要投诉你们",
         "expect": {"decision": "handoff"}},
        {"id": "s-a004", "type": "answer", "question": "几天发货"},
    ]  # fmt: skip
    suite.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    cases = read_emotion_cases(suite)
    assert [(k.id, k.text, k.escalate) for k in cases] == [
        ("s-a001", "这款有白色的吗", False),
        ("s-a002", "发票怎么开", False),
    ]
    assert cases[1].context == [c("你好")]
    model = train_escalation([SUITE, suite], min_precision=0.4)
    assert model.info["n_train"] == len(read_emotion_cases(SUITE)) + 2


def test_cross_validation_is_grouped_and_deterministic() -> None:
    cases = read_emotion_cases(SUITE)
    first, second = cross_validate(cases, folds=5), cross_validate(cases, folds=5)
    assert first == second
    assert len(first["proba"]) == len(cases) and len(first["thresholds"]) == 5
    assert first["metrics"]["f1"] >= 0.8


# ---------------------------------------------------------------------------- dev data (optional)
def test_jddc_dev_turns_beat_the_baselines() -> None:
    """Research-only dev data (../shared): the packaged model on the JDDC split it was never
    trained or tuned on (``jddc_split``: half the dialogues) reaches the issue-17 targets (F1 ≥
    0.45, balanced accuracy ≥ 0.65), and a 5-fold model on all turns beats the baselines.

    Baselines: always-escalate F1 0.44 (precision 0.28, balanced accuracy 0.50); keyword rule F1
    0.22. Nothing from the file is copied; only figures are compared.
    """
    from kefu_copilot.emotion._corpus import jddc_split

    if not JDDC.exists():
        pytest.skip(f"{JDDC} not available (../shared is optional)")
    started = time.perf_counter()
    cases = read_emotion_cases(JDDC)
    untuned = [k for k in cases if jddc_split(k.id) == "untuned"]
    truth = [k.escalate for k in untuned]
    flags = [emotion_flag(k.text, k.context).escalate for k in untuned]
    packaged = escalation_metrics(truth, flags)
    assert packaged["f1"] >= 0.45 and packaged["balanced_accuracy"] >= 0.65
    model = cross_validate(cases, folds=5, seed=0)["metrics"]
    assert model["precision"] >= 0.35 and model["f1"] > 0.5 and model["balanced_accuracy"] > 0.65
    assert time.perf_counter() - started < 20
    assert all(
        name in escalation_features(cases[0].text, cases[0].context) for name in FEATURE_NAMES
    )
