"""The learned emotion label (data/emotion_labels.json) and the cue classes of issue 17's
second round: who a negative word is about, words inside longer words, repeated failures,
recent orders, body-part injuries."""

from __future__ import annotations

import numpy as np
import pytest

from kefu_copilot._data import merge_rules
from kefu_copilot.emotion._flag import (
    LABEL_FEATURES,
    emotion_flag,
    escalation_features,
    label_inputs,
)
from kefu_copilot.emotion._label_training import fit_labels, predict_labels
from kefu_copilot.emotion._labels import ALLOWED, LabelScorer, decide, packaged_labels

LEARNED = merge_rules("emotion", {"learned_labels": True})  # the learned label is opt-in


def test_learned_labels_are_off_by_default() -> None:
    text = "165cm，120斤，穿M还是L？"
    assert emotion_flag(text).emotion == "neutral"  # the rules' label, as before
    assert emotion_flag(text, rules=LEARNED).emotion == "confused"


def test_packaged_label_model_loads_and_scores() -> None:
    model = packaged_labels()
    assert model is not None
    assert set(model.labels) == {"angry", "anxious", "confused", "neutral", "satisfied"}
    inputs, grams = label_inputs("你们到底什么时候发货？？？")
    proba = model.probabilities(inputs, grams)
    assert abs(sum(proba.values()) - 1.0) < 1e-9
    assert LabelScorer.from_dict(model.to_dict()).probabilities(inputs, grams) == proba


def test_label_model_file_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="not a"):
        LabelScorer.from_dict({"format": "something else"})
    data = packaged_labels().to_dict()  # type: ignore[union-attr]
    data["bias"] = [0.0, 0.0]
    with pytest.raises(ValueError, match="weights for 5 labels"):
        LabelScorer.from_dict(data)


def test_decide_keeps_the_label_consistent_with_escalation() -> None:
    proba = {"angry": 0.5, "anxious": 0.1, "confused": 0.1, "neutral": 0.2, "satisfied": 0.1}
    assert decide(proba, True) == "angry"
    assert decide(proba, False) == "neutral"
    assert ALLOWED[True] <= set(proba) and "angry" not in ALLOWED[False]


def test_fit_labels_learns_and_predicts() -> None:
    texts = ["气死了 你们太差", "谢谢 很满意", "这个怎么用 看不懂", "有红色吗"] * 6
    labels = ["angry", "satisfied", "confused", "neutral"] * 6
    rows = [label_inputs(t) for t in texts]
    x = np.array([[inputs[n] for n in LABEL_FEATURES] for inputs, _ in rows])
    grams = [g for _, g in rows]
    model = fit_labels(
        x, labels, grams, LABEL_FEATURES, ("angry", "confused", "neutral", "satisfied")
    )
    assert predict_labels(model, x, grams, LABEL_FEATURES) == labels


@pytest.mark.parametrize(
    "text",
    [
        "手表充电的时候发烫还冒烟 差点把桌子点着了",
        "用了你们瑜伽垫两天 全身起红疹 是不是有毒",
        "赔我2000 不然这事没完",
        "我要打12315投诉你们",
    ],
)
def test_escalated_turns_are_angry_or_anxious(text: str) -> None:
    """Safety incidents and demands read as neutral by the rules (no anger or worry word)."""
    assert emotion_flag(text).escalate
    flag = emotion_flag(text, rules=LEARNED)
    assert flag.escalate and flag.emotion in ("angry", "anxious")


def test_plain_questions_are_not_angry() -> None:
    for text in ("你们有实体店吗", "空气炸锅有绿色的吗", "这款羽绒服有M码吗"):
        flag = emotion_flag(text, rules=LEARNED)
        assert not flag.escalate and flag.emotion != "angry", text


def test_shop_with_own_emotion_weights_keeps_its_rules() -> None:
    rules = {"learned_labels": True, "emotion_weights": {"neutral": {"baseline": 100.0}}}
    merged = merge_rules("emotion", rules)
    assert emotion_flag("你们太过分了 气死我了", rules=merged).emotion == "neutral"


def test_cue_words_inside_longer_words() -> None:
    assert not emotion_flag("刚刚语气不好不好意思哈 就是着急出门").escalate
    comfy = emotion_flag("这鞋穿着太舒服了 周末跑了个半马 好评！")
    assert "sarcasm" not in comfy.risk and not comfy.escalate
    assert emotion_flag("你们还好意思说是正品？").escalate


def test_the_shop_exonerated_or_another_shop_named() -> None:
    f = escalation_features("物流好慢啊（不是说你们 这几天下大雪高速封了）")
    assert f["other_target"] == 1.0
    assert escalation_features("不是说你们包邮吗 怎么还收运费")["other_target"] == 0.0
    assert escalation_features("隔壁那家店的客服态度真差 还是你们家好")["other_target"] == 1.0


def test_repeated_failure_and_recent_order_and_body_injury() -> None:
    assert escalation_features("这已经是第三次收到坏的了 还要我怎么样？")["unresolved"] == 1.0
    assert escalation_features("怎么还没发货啊 我昨晚十点拍的")["recent_order"] == 1.0
    assert escalation_features("怎么还没发货 拍了三天了")["recent_order"] == 0.0
    hurt = emotion_flag("孩子站上去塌了 摔下来磕到下巴")
    assert "safety_incident" in hurt.risk and hurt.priority == "urgent"
