"""Issue 17: the risk taxonomy, attribution and negation, the packaged learned model, routing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kefu_copilot.cli._main import main
from kefu_copilot.emotion._corpus import jddc_split
from kefu_copilot.emotion._flag import (
    FEATURE_NAMES,
    RISK_TAXONOMY,
    emotion_flag,
    escalation_features,
    escalation_grams,
    packaged_model,
)
from kefu_copilot.emotion._model import EscalationModel

PACKAGED = Path(__file__).resolve().parents[1] / "src/kefu_copilot/data/escalation_model.json"


@pytest.mark.parametrize(
    "text",
    [
        "充电器插上没多久就冒烟了，吓死我了",
        "金属外壳漏电，我手被电了一下",
        "孩子被蒸汽烫伤了，皮肤起了水泡",
        "用了面霜脸上过敏，红肿得厉害",
        "宝宝差点塞嘴里了",  # a near miss
        "适配器冒了一股烟 还有噼啪声",
        "钉子弹出来打到眼角",
    ],
)
def test_safety_incidents_escalate_first_in_the_queue(text: str) -> None:
    flag = emotion_flag(text)
    assert flag.escalate and "safety_incident" in flag.risk and flag.priority == "urgent", text


def test_a_worry_or_a_question_is_not_a_safety_incident() -> None:
    for text in ("敏感肌会不会过敏呀", "这个充电宝会不会发烫"):
        flag = emotion_flag(text)
        assert "safety_incident" not in flag.risk and flag.priority == "normal", text


@pytest.mark.parametrize(
    "text",
    [
        "空气炸锅有绿色的吗",
        "空气炸锅真好用，已经推荐给同事了",
        "气死了，双11没抢到，你们还会补货吗",
        "烦死了，今天加班到十点，终于能回家试试新锅了",
        "差评我是不会给的，就是问问怎么换货",
        "本来想投诉的，不过你们处理得挺快，算了",
    ],
)
def test_attribution_negation_and_withdrawn_threats(text: str) -> None:
    flag = emotion_flag(text)
    assert not flag.escalate and "complaint_threat" not in flag.risk, (text, flag)


@pytest.mark.parametrize(
    ("text", "elsewhere"),
    [
        # a person of the customer's own causes the feeling: not about the shop
        ("孩子练琴练到崩溃，有没有简单点的入门课", True),
        ("我老公气死我了，非说要买大号的", True),
        ("烦死了，我家猫又把包抓了", True),
        # ... unless the message says something against the goods or the service
        ("孩子玩了两天就坏了，气死了", False),
        ("气死了，给孩子买的玩具到现在还没发货", False),
    ],
)
def test_a_feeling_caused_by_the_customers_own_people_is_not_about_the_shop(
    text: str, elsewhere: bool
) -> None:
    f = escalation_features(text)
    assert (f["exasperation"] == 0 and f["other_target"] == 1) is elsewhere, (text, f)
    grams = escalation_grams(text)
    assert any(g.startswith("o") for g in grams) is elsewhere, grams


def test_the_shop_named_inside_an_exoneration_is_not_blamed() -> None:
    """An exoneration ("不是你们的问题", "不是说你们不好") names the shop to clear it: no blame, no dispute, and
    the text features are marked as about something else; asked as a question it accuses."""
    for text in ("不是说你们不好啊，就是想问问能不能折叠", "我家猫抓坏的，不是你们的问题"):
        f = escalation_features(text)
        assert f["blame"] == 0 and f["dispute"] == 0 and f["other_target"] == 1, (text, f)
        assert all(g.startswith("o") for g in escalation_grams(text) if g[0] != "~"), text
    asked = escalation_features("这不是你们的问题吗？")
    assert asked["blame"] == 1 and asked["other_target"] == 0


def test_threat_umbrella_and_demand_flags() -> None:
    flag = emotion_flag("再不退款我就去消协投诉，还要赔偿我的损失")
    assert {"complaint_threat", "refund_or_compensation_demand"} <= set(flag.risk)
    assert flag.escalate and flag.priority == "high"
    assert set(RISK_TAXONOMY) <= set(flag.model_fields["risk"].annotation.__args__[0].__args__)


@pytest.mark.parametrize(
    ("text", "demand"),
    [
        ("再不给我退钱，我就天天打电话", True),  # an ultimatum makes the mention a demand
        ("洗坏了我的羊毛衫，必须赔", True),  # a demand cue next to 赔
        ("东西坏了 这个损失你们要负责", True),
        ("退款一般几天到账", False),  # a question about a refund is not a demand
        ("你们负责上门安装吗", False),
        ("是假一赔十吗", False),  # the shop's guarantee, asked about
    ],
)
def test_refund_or_compensation_demand_from_structure(text: str, demand: bool) -> None:
    assert ("refund_or_compensation_demand" in emotion_flag(text).risk) is demand, text


def test_sarcasm_and_repeats_read_the_context() -> None:
    refused = [
        {"role": "customer", "text": "我要换货"},
        {"role": "agent", "text": "亲，抱歉，定制商品不支持退换哦"},
    ]
    assert "sarcasm" in emotion_flag("行 你们真厉害", refused).risk
    assert "sarcasm" not in emotion_flag("你们真厉害", None).risk  # plain praise
    asked = [
        {"role": "customer", "text": "这款耳机能连两台手机吗"},
        {"role": "agent", "text": "亲，感谢您的耐心等待，请问还有什么可以帮您？"},
    ]
    assert "repeated_question" in emotion_flag("我问的是 这款耳机能连两台手机吗", asked).risk
    # "我就问问" is "just asking", not the insisting "我就问"
    assert "repeated_question" not in emotion_flag("我就问问这个颜色好不好搭").risk


def test_urgent_deadline_is_a_risk() -> None:
    flag = emotion_flag("后天婚礼要穿，到现在还没发货！！")
    assert "urgent_deadline" in flag.risk


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("这周六婚礼 物流还没动", True),  # an event on a later day is a deadline
        ("明天就中秋了 月饼是送客户的 还没到", True),  # a festival gift
        ("明天要穿 还没发货", True),  # a need with a near time in its clause
        ("能快点发吗 周末想穿", False),  # a wish for a later day
        ("今天能发吗 有点急 周六要用", False),  # the near time is the shipping day, not the need
        ("下周三要穿去面试，现在下单能赶得上吗", False),  # a pre-sales question
        ("这周六搬家入住，空调还没装", True),  # an installation still pending
        ("后天婚房布置，灯具装错了位置", True),  # made or fitted wrong
        ("明早就飞了，包还没到", True),  # a flight said as a verb
        ("明天要飞，下单今天能发吗", False),  # ... before anything was ordered
    ],
)
def test_urgent_deadline_needs_an_event_or_a_near_need(text: str, urgent: bool) -> None:
    assert ("urgent_deadline" in emotion_flag(text).risk) is urgent, text


@pytest.mark.parametrize(
    "text",
    ["我要求退一赔三，不然去消协", "按食品安全法你们要十倍赔偿", "假一赔十懂不懂", "退1赔3"],
)
def test_statutory_damages_are_a_legal_threat_and_a_compensation_demand(text: str) -> None:
    flag = emotion_flag(text)
    assert {"legal_threat", "refund_or_compensation_demand"} <= set(flag.risk), text
    assert flag.escalate


def test_a_negated_demand_inside_an_ultimatum_is_a_condition() -> None:
    assert "refund_or_compensation_demand" in emotion_flag("不赔我500这事没完").risk
    assert "refund_or_compensation_demand" not in emotion_flag("不用赔，补发就行").risk


@pytest.mark.parametrize(
    "text",
    [
        "这已经是第三次寄修了 同一个毛病",
        "耳机返修了两次还是没声音",
        "我都发了三次照片了 有没有人看",
    ],
)
def test_a_repeated_repair_or_request_is_a_repeated_question(text: str) -> None:
    assert "repeated_question" in emotion_flag(text).risk, text


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        ("孩子把口红吃下去了，会不会中毒", True),  # exposure: the worry is not hypothetical
        ("用你们的眼霜两周了，我怀孕了会不会影响宝宝", True),
        ("往脸上拍了，现在有点痒", True),  # a mild symptom after an exposure
        ("喝了你们的茶以后心慌手抖", True),
        ("眼霜弄进眼睛了 一直流泪睁不开", True),
        ("敏感肌用了会不会过敏", False),  # "用了会…" is a condition: a pre-sales question
        ("吃了会不会胖", False),
        ("这个面霜孕妇能用吗 会不会影响宝宝", False),
        ("毛衣有点痒", False),  # a mild symptom without an exposure
        ("我对花生过敏 每日坚果我能吃吗", False),  # a standing condition
        ("哦原来是这样，我还以为过敏了", False),  # a mistaken belief
        ("退款一个礼拜了，钱是被你们吞了吗", False),  # 吞 of money
        # a part of a body the product touched is an exposure (round 21)
        ("电池漏液了，手上沾了一点，现在有点刺痛", True),
        ("清洁剂溅到皮肤上了，有点发红", True),
        ("手上沾到了油怎么洗", False),  # no symptom
        ("这个颜色手上沾了会掉色吗", False),
    ],
)
def test_safety_after_an_exposure(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident, (text, flag.signals)
    assert not incident or (flag.escalate and flag.priority == "urgent")


def test_shop_keywords_keep_the_guards() -> None:
    assert not emotion_flag("我不是要投诉哈，就问问发货时间", extra_keywords=["投诉"]).escalate
    assert emotion_flag("我要投诉", extra_keywords=["投诉"]).escalate


def test_packaged_model_is_small_and_used_by_default() -> None:
    assert PACKAGED.stat().st_size < 400_000
    model = packaged_model()
    assert model is not None and model.grams and 0 < model.threshold < 1
    data = json.loads(PACKAGED.read_text(encoding="utf-8"))
    assert data["version"] == 2 and "jddc_split" in data["info"]
    # a shop that changes the rule weights gets its rules, not the packaged model
    assert packaged_model({"bias": 0.0}) is None


def test_packaged_model_was_selected_leave_one_shop_out() -> None:
    """The shipped figures are out-of-shop ones: the sample, every dev shop and the four
    trained-on blind shops were folds (round 21's refit: the 36 dev shops of folds.json), and
    no dev shop's plain product questions escalate more than 2 % — neither scored without its
    shop at its nested threshold nor by the packaged model at its own threshold (issue 17's
    per-shop bound). The held-out shops are never fitted on (their figures come from
    scripts/emotion_eval.py)."""
    cv = json.loads(PACKAGED.read_text(encoding="utf-8"))["info"]["cv"]
    script = _training_script()
    for shop in ("sample", *script.DEV_SHOPS, *script.TRAIN_SHOPS):
        assert cv[shop]["n"] > 0 and cv[shop]["n_plain"] > 0, shop
    for shop in script.DEV_SHOPS:
        assert cv["dev_nested_plain"][shop] <= 0.02, shop
        assert cv["dev_plain_final"][shop] <= 0.02, shop
    # every shop of folds.json that is neither dev nor trained on is held out or never read
    folds = json.loads((PACKAGED.parents[3] / "evals/shops/folds.json").read_text("utf-8"))
    every = {s for f in folds["folds"] for s in f["shops"]}
    held_out = every - {*script.DEV_SHOPS, *script.TRAIN_SHOPS}
    assert held_out, "folds.json lists no held-out shop"
    assert not held_out & set(cv), "a held-out shop was trained or selected on"
    assert cv["threshold"] == json.loads(PACKAGED.read_text(encoding="utf-8"))["threshold"]
    # the honest proxy for a blind shop is the shops trained on but never read, not the dev ones
    parts = ("dev_shops", "new_dev_shops", "unread_shops", "verticals")
    keys = {*parts, *(f"{p}_se" for p in parts), "dev_pooled_F1", "jddc_F1", "jddc_BA"}
    assert set(cv["summary"]) == keys
    assert cv["summary"]["dev_pooled_F1"] == cv["dev_nested_pooled"]["F1"]


def _training_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "train_emotion_model", PACKAGED.parents[3] / "scripts/train_emotion_model.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cross_validation_summary_says_how_far_apart_is_noise() -> None:
    """The leave-one-group-out summary gives each mean with its standard error over the groups
    (settings closer than that are the same within noise) and the JDDC figures beside it."""
    script = _training_script()
    f1 = {"baby": 0.9, "pets": 0.8, "kitchen": 0.9, "tools": 0.8}
    figures: dict[str, Any] = {g: {"nested_F1": v} for g, v in f1.items()}
    figures |= {g: {"nested_F1": 1.0} for g in script.DEV_SHOPS}
    figures |= {"v:a": {"nested_F1": 0.7}, "jddc": {"F1": 0.5, "BA": 0.6}}
    out = script.summary(figures, (*script.DEV_SHOPS, *f1, "v:a"))
    assert out["unread_shops"] == pytest.approx(0.85)
    assert out["unread_shops_se"] == pytest.approx(0.029, abs=1e-3)  # sd 0.0577 / sqrt(4)
    assert out["dev_shops_se"] == 0.0 and out["verticals_se"] == 0.0  # one vertical: no spread
    assert (out["jddc_F1"], out["jddc_BA"]) == (0.5, 0.6)


def _shop(positives: list[float], negatives: list[float], plain: list[float]) -> tuple:
    y = np.array([True] * len(positives) + [False] * len(negatives))
    return y, np.array(positives + negatives), np.array(plain)


def test_the_threshold_bounds_false_alarms_pooled_over_the_shops() -> None:
    """The threshold a new shop gets is held to the plain questions of all the dev shops
    pooled: one shop with a few alarm-like questions (here 1 in 10 at 0.4) no longer pins it
    above what every other shop's complaints score (round 12: near 0.5, recall lost)."""
    script = _training_script()
    quiet = _shop([0.35, 0.9], [0.1], [0.05] * 100)
    loud = _shop([0.35, 0.9], [0.1], [0.4] + [0.05] * 9)
    per = {"a": quiet, "b": quiet, "c": loud}
    t, f1 = script.pick_threshold(per, ("a", "b", "c"))
    assert t <= 0.35 and f1 == pytest.approx(1.0)
    # pooled over few questions the bound still holds: alone, "c" escalates 10 % at 0.4
    assert script.pick_threshold({"c": loud}, ("c",))[0] > 0.4


def test_each_shop_is_scored_at_a_threshold_picked_without_it() -> None:
    """Nested leave-one-shop-out: a shop's own turns never move its threshold."""
    script = _training_script()
    low = _shop([0.3, 0.9], [0.1], [0.05] * 50)
    high = _shop([0.8, 0.9], [0.5] * 3, [0.05] * 50)
    per = {"a": low, "b": low, "c": high}
    nested = script.nested_thresholds(per, ("a", "b", "c"))
    assert nested["c"] <= 0.3  # picked on a and b: their positive at 0.3 must pass
    assert nested["a"] > 0.5  # picked on b and c: c's three negatives at 0.5 outweigh b's 0.3
    f1, plain = script.pooled(per, nested)
    assert plain == 0.0 and f1 < 1.0  # a loses its 0.3 complaint, c sends its 0.5 false alarms


def test_a_refit_must_not_take_a_shop_over_the_plain_question_bound() -> None:
    """The ship gate (``beats``) reads the plain questions per shop, leave-one-shop-out: a refit
    that gains F1 but escalates more of one shop's plain questions than 2 % (and than the
    shipped model) is not saved; one that lowers them is."""
    script = _training_script()
    shipped = {
        "pooled": [0.93, 0.008],
        "pooled_unseen": [0.92, 0.009],
        "plain": {"a": 0.03, "b": 0.0},
        "jddc_today": {"F1": 0.47},
    }
    refit = {
        "dev_nested_pooled": {"F1": 0.94, "plain_escalated": 0.005},
        "unseen_nested_pooled": {"F1": 0.93},
        "dev_nested_plain": {"a": 0.015, "b": 0.0},
        "jddc": {"F1": 0.48},
    }
    assert script.beats(refit, shipped) == []
    refit["dev_nested_plain"] = {"a": 0.015, "b": 0.025}  # b was at 0 %
    assert any(w.startswith("b plain questions") for w in script.beats(refit, shipped))
    refit["dev_nested_plain"] = {"a": 0.03, "b": 0.0}  # over 2 % but no higher than shipped
    assert script.beats(refit, shipped) == []
    refit["dev_nested_pooled"]["plain_escalated"] = 0.009  # more escalated pooled
    assert any("dev plain questions" in w for w in script.beats(refit, shipped))


def test_a_setting_whose_fit_takes_a_shop_over_the_bound_is_not_selected() -> None:
    """A shop's plain questions within 2 % out of shop can go over it in the fit that would ship
    (its threshold is picked on all the shops, not nested: round 20, plain weight 1.5, aircon
    1.5 % out of shop, 3 of 133 = 2.3 % once packaged): the grid passes such a setting over, and
    the gate refuses it where the shipped model keeps the shop under."""
    script = _training_script()
    inside = {"dev_nested_plain": {"a": 0.015, "b": 0.0}, "dev_plain_final": {"a": 0.015}}
    over = {"dev_nested_plain": {"a": 0.015, "b": 0.0}, "dev_plain_final": {"a": 0.0226}}
    assert script.within_plain_bound(inside) and not script.within_plain_bound(over)
    shipped = {"pooled": [0.93, 0.008], "pooled_unseen": [0.92, 0.009], "plain": {"a": 0.0}}
    refit = {
        "dev_nested_pooled": {"F1": 0.94, "plain_escalated": 0.005},
        "unseen_nested_pooled": {"F1": 0.93},
        "jddc": {"F1": 0.48},
        **over,
    }
    assert [w for w in script.beats(refit, shipped) if "by the refit" in w]
    assert script.beats({**refit, **inside}, shipped) == []


def test_text_model_round_trip(tmp_path: Path) -> None:
    examples = [("我要投诉你们", None, True), ("好的谢谢", None, False)] * 4
    examples += [("东西太差了", None, True), ("有货吗", None, False)] * 4
    model = EscalationModel(text=True, min_count=2).fit(examples)
    model.save(tmp_path / "m.json")
    again = EscalationModel.load(tmp_path / "m.json")
    assert again.grams == model.grams
    assert again.predict_proba("东西太差了") == pytest.approx(model.predict_proba("东西太差了"))


def test_a_restricted_vocabulary_weights_only_its_grams() -> None:
    """``vocabulary`` (e.g. grams seen across verticals) keeps a vertical's product words out of
    the learned weights; the other grams still count in a row's length normalisation."""
    examples = [("面膜用完脸疼", None, True), ("面膜用完脸滑", None, False)] * 3
    examples += [("面膜用完手疼", None, True), ("面膜用完手滑", None, False)] * 3
    rows = [escalation_grams(text) for text, _, _ in examples]
    x = np.array([[escalation_features(t)[n] for n in FEATURE_NAMES] for t, _, _ in examples])
    y = np.array([label for _, _, label in examples])
    allowed = {g for row in rows for g in row if "面" not in g and "膜" not in g}
    model = EscalationModel(text=True, min_count=2, gram_l2=0.1)
    model.fit_matrix(x, y, grams=rows, vocabulary=allowed)
    assert "脸疼" in model.grams and set(model.grams) <= allowed


def test_grams_mark_negation_scope_and_the_agent_reply() -> None:
    grams = escalation_grams("不会给差评", [{"role": "agent", "text": "亲"}])
    assert "~差评" in grams and "差评" not in grams
    assert not any(g.startswith("a:") for g in escalation_grams("好的"))


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ('你们的"全国包邮"不包括新疆啊', True),
        ("品控真“稳定” 两个箱子两个颜色", True),
        ("「正品保证」就这？", True),
        ("这款卫衣有黑色的吗", False),
        ('"', False),  # a lone mark quotes nothing
    ],
)
def test_grams_mark_a_short_quoted_span(text: str, quoted: bool) -> None:
    """Scare quotes throw the shop's own claim back at it: one text feature the model weighs."""
    assert ("#quote" in escalation_grams(text)) is quoted, text


def test_scare_quotes_raise_the_score_and_a_quoted_product_name_does_not_escalate() -> None:
    quoted, plain = "说好的“顺丰包邮”呢 发的是韵达", "说好的顺丰包邮呢 发的是韵达"
    assert emotion_flag(quoted).score > emotion_flag(plain).score
    assert not emotion_flag("“云朵”沙发有灰色的吗").escalate


def test_jddc_split_is_by_dialogue() -> None:
    assert jddc_split("jddc-valid-d000-t08") == jddc_split("jddc-valid-d000-t12")
    splits = {jddc_split(f"jddc-valid-d{n:03d}-t01") for n in range(40)}
    assert splits == {"train", "untuned"}


def test_train_emotion_names_the_problem_in_one_line(shop: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "suite.jsonl"
    bad.write_text('{"type": "emotion", "text": "你好", "expect": {"emotion": "neutral"}}\n')
    args = ["train-emotion", str(bad), "--shop", str(shop), "--index", str(tmp_path / "i")]
    assert main([*args, "--embed-model", "none"]) != 0
    err = capsys.readouterr().err.strip()
    assert "escalate" in err and "Traceback" not in err and len(err.splitlines()) == 1


_ESCALATES = '{"type": "emotion", "text": "我要投诉你们", "expect": {"escalate": true}}\n'


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b'{"type": "emotion", "text": "x", ', "not JSON"),  # bad JSON
        ('{"type": "answer", "question": "有货吗", "expect": {"decision": "handoff"}}\n'.encode(),
         "no labelled turns"),  # a suite whose questions it hands over: nothing labelled
        (b"", "no labelled turns"),  # empty
        (b"\n  \n", "no labelled turns"),  # blank lines only
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20, "binary"),
        (_ESCALATES.replace("true", '"false"').encode(), "not true or false"),  # a string label
        (_ESCALATES.encode("gbk"), "both escalate=true and escalate=false"),  # read, one label
    ],
)  # fmt: skip
def test_train_emotion_refuses_a_file_it_cannot_use_in_one_line(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, named: str
) -> None:
    """Item 5 of issue 17: a file `kefu train-emotion` cannot train on gives one line that says
    why (a KefuError, exit status 2), never a traceback or a silent mislabel."""
    bad = tmp_path / "suite.jsonl"
    bad.write_bytes(content)
    args = ["train-emotion", str(bad), "--shop", str(shop), "--index", str(tmp_path / "i")]
    assert main([*args, "--embed-model", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert named in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "i" / "escalation-model.json").exists()


def test_train_escalation_reads_a_gbk_suite(tmp_path: Path) -> None:
    """A suite saved as GBK (or with a BOM) is read as the knowledge files are, not refused."""
    from kefu_copilot.emotion._model import read_emotion_cases

    calm = _ESCALATES.replace("我要投诉你们", "有黑色的吗").replace("true", "false")
    (tmp_path / "gbk.jsonl").write_bytes((_ESCALATES + calm).encode("gbk"))
    (tmp_path / "bom.jsonl").write_bytes((_ESCALATES + calm).encode("utf-8-sig"))
    for name in ("gbk.jsonl", "bom.jsonl"):
        cases = read_emotion_cases(tmp_path / name)
        assert [(c.text, c.escalate) for c in cases] == [
            ("我要投诉你们", True),
            ("有黑色的吗", False),
        ]


def test_safety_incident_hands_off_with_an_urgent_packet(sample_copilot) -> None:
    turn = sample_copilot.handle("卫衣穿了以后全身过敏起红疹，孩子也起了疹子")
    assert turn.decision == "handoff" and turn.reasons[0].startswith("risk: safety_incident")
    assert turn.handoff.priority == "urgent"
    assert turn.handoff.render().splitlines()[0].startswith("【紧急")


def test_a_retrained_model_picks_its_threshold_out_of_fold(tmp_path: Path) -> None:
    from kefu_copilot.emotion._model import train_escalation

    suite = Path(__file__).resolve().parents[1] / "evals/emotion.jsonl"
    model = train_escalation(suite, text=True, min_count=2)
    assert "cross-validation" in model.info["threshold_from"] and model.grams
    assert model.info["cv"]["f1"] > 0.8 and 0 < model.threshold < 1
    few = tmp_path / "few.jsonl"
    rows = [{"text": "我要投诉", "escalate": True}, {"text": "有货吗", "escalate": False}]
    few.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert "training turns" in train_escalation(few).info["threshold_from"]


@pytest.mark.parametrize(
    "text",
    [
        "好吧 这次处理得还算快 差评就不给了",
        "投诉啥的就算了 小事 补寄了就行",
        "差评是不可能差评的哈哈",
        "本来想给你们个差评的 看你们这么快就处理了 算了",
    ],
)
def test_threats_withdrawn_in_other_words_do_not_escalate(text: str) -> None:
    flag = emotion_flag(text)
    assert not {"complaint_threat", "bad_review_threat"} & set(flag.risk), text


def test_a_bigger_threat_after_a_withdrawn_one_still_escalates() -> None:
    assert emotion_flag("我不会给差评 我直接走法律程序").escalate


@pytest.mark.parametrize(
    "text",
    ["气死我了 孩子又把家里的遥控车摔坏了 你们这款耐摔吗", "眼镜被我家狗咬坏了 气死 想重配一副"],
)
def test_a_household_mishap_is_not_a_complaint_about_the_shop(text: str) -> None:
    assert not emotion_flag(text).escalate, text


def test_a_past_problem_already_put_right_is_not_a_complaint() -> None:
    assert escalation_features("上次坏了两个橙子你们很快就赔了 这次再来5箱")["quality"] == 0
    assert escalation_features("上次坏了你们给补发了 这次又坏了")["quality"] == 1


def test_not_blaming_you_is_not_a_dispute() -> None:
    assert escalation_features("物流好慢啊（不是说你们 这几天下大雪）")["dispute"] == 0
    assert escalation_features("不是说你们包邮吗 怎么收运费")["dispute"] > 0


@pytest.mark.parametrize(
    ("text", "damage"),
    [
        ("洗衣机排水管漏了 把我家实木地板泡坏了一片", True),
        ("这条围巾掉色 染了我别的衣服", True),
        ("热水壶底座漏水 把我家台面泡鼓了", True),
        ("这个锅会不会把灶台烧黑", False),  # a pre-sales worry
        ("我家猫把沙发抓坏了 想买个沙发套", False),  # a pet, not the product
        ("你们的大衣染色了", False),  # the product's own defect, not another thing of mine
        ("不会把地板刮花吧", False),
    ],
)
def test_property_damage_is_a_risk_that_escalates(text: str, damage: bool) -> None:
    flag = emotion_flag(text)
    assert ("property_damage" in flag.risk) is damage, (text, flag)
    if damage:
        assert flag.escalate and flag.priority == "high", text


def test_property_damage_objects_are_a_macro_a_shop_extends() -> None:
    from kefu_copilot._data import merge_rules

    text = "加热棒漏电 把我的鱼缸烧坏了"
    assert "property_damage" not in emotion_flag(text).risk
    rules = merge_rules("emotion", {"macros": {"PROPERTY": ["鱼缸"]}})
    assert "property_damage" in emotion_flag(text, rules=rules).risk


@pytest.mark.parametrize(
    ("text", "blame"),
    [
        ("我自己手滑把瓶子摔了 好气 还有同款吗", False),  # the customer's own mishap
        ("是我自己没看清尺码 买小了 能换大一码吗", False),
        ("是不是我家路由器的问题？一直连不上", False),
        ("所以杯子碎了是我的问题咯？你们包装就一层纸", True),  # blame as a rhetorical question
        ("什么叫是我自己摔的？？收到就是裂的", True),
        ("发错了货还要我自己出运费退回去？", True),
    ],
)
def test_own_mishap_or_blame_framed_as_a_rhetorical_question(text: str, blame: bool) -> None:
    features = escalation_features(text)
    assert features["self_fault"] == (0 if blame else 1), text
    assert features["rhetorical"] == (1 if blame else 0), text
    flag = emotion_flag(text)
    assert flag.escalate is blame and ("sarcasm" in flag.risk) is blame, (text, flag)


def test_a_threat_word_as_a_topic_is_not_a_threat() -> None:
    assert not emotion_flag("12315上说的七天无理由从哪天算").escalate
    assert not emotion_flag("我表姐朋友是律师 推荐我来你们家买的").escalate
    assert "safety_incident" not in emotion_flag("这款饼干的过敏原有哪些").risk
    assert "complaint_threat" in emotion_flag("我已经打12315了").risk
    assert "legal_threat" in emotion_flag("我已经找律师了").risk


def test_a_complaint_about_something_else_before_buying_here() -> None:
    text = "之前那双跑鞋太垃圾了 穿一个月就开胶 想换你们这双"
    features = escalation_features(text)
    assert features["purchase_intent"] == 1 and features["profanity"] == 0
    assert not emotion_flag(text).escalate


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        ("学步车轮子卡住 宝宝直接摔了", True),  # a person's fall (seen on three dev shops)
        ("椅子腿断了 老人跌倒了", True),
        ("滑板刹不住 摔了一跤 膝盖都破了", True),
        ("刀片太锋利 手指流了好多血", True),  # bleeding in other words than 流血
        ("孩子摔了玩具就坏了", False),  # an object follows: the toy fell, not the child
        ("手机摔了一下就坏了", False),
        ("这个学步车会不会让宝宝摔倒", False),  # a causative worry is hypothetical
        ("平衡车容易摔倒吗", False),
    ],
)
def test_a_fall_or_bleeding_is_a_safety_incident(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident, (text, flag)


@pytest.mark.parametrize(
    "text",
    [
        "投诉这种事我不会干的，就问下什么时候发货",  # the cue resumed by a demonstrative
        "倒也不至于找平台介入，就是想问问怎么换",  # 不至于 before the cue
        "我同事说要给差评，我觉得还好，想问下能换色吗",  # someone else's words
    ],
)
def test_a_threat_negated_or_reported_in_other_words_is_no_threat(text: str) -> None:
    flag = emotion_flag(text)
    assert not {"complaint_threat", "bad_review_threat"} & set(flag.risk), (text, flag)


def test_a_court_is_a_legal_threat() -> None:
    assert "legal_threat" in emotion_flag("不赔就法庭见吧").risk


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("体温计低于多少会报警？", False),  # the device alarms
        ("门磁一直报警 怎么关", False),
        ("报警器的电池多久换一次", False),
        ("再不给说法我就报警", True),
    ],
)
def test_a_device_alarm_is_not_a_call_to_the_police(text: str, threat: bool) -> None:
    assert ("legal_threat" in emotion_flag(text).risk) is threat, text


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        # harm and its cause in one clause: an injury verb that reaches a person or a part of
        # a body, a part of a body hurt, a person's fall, a near fall, a person shut in
        ("柜门掉下来砸到我儿子脚上", True),
        ("木刺扎进手指里了", True),
        ("刀背也开刃了，他手割破了", True),
        ("椅子塌了，我爸从上面摔下来", True),
        ("女儿被困在电梯里了", True),
        ("宝宝在推车上差点摔下去", True),
        ("孩子吃了一口干燥剂，要不要紧", True),  # an exposure, then a worry
        # a part of a thing, not of a body; a thing's fall; a worry; a person locked out
        ("琴头磕了一块漆", False),
        ("桌脚撞歪了", False),
        ("手机摔下去屏幕碎了", False),
        ("这个柜子会不会砸到孩子", False),
        ("钥匙忘带，人被锁在门外了", False),
    ],
)
def test_harm_and_its_cause_in_one_clause_is_a_safety_incident(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident, (text, flag.signals)
    if incident:
        assert flag.escalate and flag.priority == "urgent", text


@pytest.mark.parametrize(
    "text",
    [
        "这款香到爆炸，已经回购三次了",  # a degree said as a blast
        "爆炸好吃，还有别的口味吗",
        "刷到一个充电宝自燃的新闻，你们的有过充保护吗",  # a news story, not an incident here
        "这台音箱低音猛到爆炸",  # a degree complement of any quality
        "续航强得爆炸，出差一周不用充",
        "爆炸安利这款台灯",  # 爆炸 as an adverb of praise
        "夏天用会有起火隐患吗",  # a harm named as a risk
        "这个电暖器烫伤风险高不高",
    ],
)
def test_a_blast_as_a_degree_or_a_news_story_is_no_incident(text: str) -> None:
    assert "safety_incident" not in emotion_flag(text).risk, text


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("上次说要找律师只是气话，别往心里去", False),  # taken back after the word
        ("那条差评早删了，放心", False),
        ("投诉？不存在的，就问问进度", False),
        ("差评是开玩笑的，东西很好", False),
        ("那家网店卖假货被曝光了，所以来你们这买", False),  # done to someone else
        ("你们这种店就该被曝光", True),  # ... not when it is the shop
        ("假货还卖这个价，等着被曝光吧", True),
        ("我是律师，想买个办公桌", False),  # the customer's occupation
        ("防拆报警怎么关掉", False),  # the product's alarm
        ("同事说要告你们，我觉得没必要，就问下保修", False),  # reported speech
        ("我老婆说要去12315投诉我乱买东西", False),  # a family member's words, reported
        ("差点说要去曝光你们，后来想想算了", False),  # a speech act withdrawn
        ("随口说说要投诉而已，别当真", False),
        ("放心，我不会真去12315的，你们看着处理", False),  # the negation reaches across 真
        ("我没真的去投诉，就是吓吓你们", False),
        ("不是开玩笑，我真的会去投诉", True),
        ("律师函我已经寄出去了", True),
        ("再不退款我就报警", True),
    ],
)
def test_threats_taken_back_done_to_others_or_of_another_sense(text: str, threat: bool) -> None:
    threats = {"complaint_threat", "legal_threat", "bad_review_threat", "public_exposure"}
    flag = emotion_flag(text)
    assert bool(threats & set(flag.risk)) is threat, (text, flag.signals)


def test_an_insult_someone_else_said_is_reported_speech() -> None:
    assert "profanity" not in emotion_flag("有人说你们是骗子，我不信，问下保修多久").risk
    assert "profanity" in emotion_flag("你们就是骗子").risk


@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("I'm going to report you to the platform", "complaint_threat"),
        ("Worst purchase ever, leaving a 1-star review", "bad_review_threat"),
        ("What the hell is this, it came broken", "profanity"),
        ("I want a full refund, nobody answers my messages", "refund_demand"),
    ],
)
def test_english_turns_meet_the_same_cues(text: str, risk: str) -> None:
    flag = emotion_flag(text)
    assert risk in flag.risk and flag.escalate, (text, flag)
    assert not emotion_flag("Do you ship this lamp to Canada?").escalate


def test_traditional_characters_meet_the_same_cues() -> None:
    pytest.importorskip("opencc")
    flag = emotion_flag("你們再不退款我就去消協投訴")
    assert "complaint_threat" in flag.risk and flag.escalate


@pytest.mark.parametrize(
    "text",
    [
        "门铃掉下来砸到孩子头上了",
        "用了面霜脸上过敏，红肿得厉害",
        "充电器插上没多久就冒烟了",
        "木刺扎进手指里了",
    ],
)
def test_a_safety_incident_escalates_first_whatever_the_model_says(text: str) -> None:
    """The risk flag and the escalation agree: a model that scores every turn 0 (a shop's own,
    say) still hands a safety incident to a human, first in the queue, and the message-only
    reading the answer path uses (``incident_risks``) raises the same flag."""
    from kefu_copilot.emotion._flag import incident_risks

    silent = EscalationModel()
    silent.bias, silent.threshold, silent.fitted = -50.0, 0.99, True
    flag = emotion_flag(text, model=silent)
    assert "safety_incident" in flag.risk and flag.escalate and flag.priority == "urgent", text
    assert "safety_incident" in incident_risks(text), text


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        # a condition the product must suit
        ("女儿对芒果过敏，想买个蛋糕给她过生日，选哪款", False),
        ("老人最近发烧，想买个体温计，推荐一下", False),
        ("女儿吃了你们的蛋糕过敏了，脸上都是红疹", True),  # after use: an incident
        ("想买个新的，之前那个充电器冒烟了", True),  # smoke is no condition of a need
    ],
)
def test_a_condition_named_in_a_shopping_need_is_not_an_incident(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident
    assert (flag.priority == "urgent") is incident


@pytest.mark.parametrize(
    ("text", "wait"),
    [
        ("快递到了三天才拆，发现碎了一个，能换吗", False),  # the goods' age, not a wait
        ("收到一个月了，屏幕有条划痕，还能保修吗", False),
        ("退货签收一周了钱还没退", True),  # pending from the shop: a wait
        ("衣服收到五天了，问了三次都没人回", True),
    ],
)
def test_the_goods_age_is_not_a_wait_unless_something_is_pending(text: str, wait: bool) -> None:
    assert ("long_wait" in emotion_flag(text).risk) is wait


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("门磁报警款和普通款差多少钱", False),  # a device's alarm
        ("体温超过多少会变红色报警", False),
        ("再不给我处理我就报警了", True),
    ],
)
def test_a_device_alarm_is_no_legal_threat(text: str, threat: bool) -> None:
    assert ("legal_threat" in emotion_flag(text).risk) is threat


@pytest.mark.parametrize(
    ("text", "unresolved"),
    [
        ("面膜还没用，拆了能退吗", False),  # not used yet: a return's condition
        ("耳机拆了没用过几次，可以换吗", False),
        ("按你们说的重启了，没用，还是连不上", True),
    ],
)
def test_not_used_yet_is_not_unresolved(text: str, unresolved: bool) -> None:
    features = escalation_features(text)
    assert (features["unresolved"] > 0) is unresolved


def test_a_drink_named_by_its_bubbles_is_no_blister() -> None:
    assert "safety_incident" not in emotion_flag("起泡酒冰镇多久口感最好").risk
    assert "safety_incident" in emotion_flag("手上起泡了，是不是被你们的清洁剂烧的").risk


@pytest.mark.parametrize(
    ("text", "escalate"),
    [
        ("别家同款才80多，你们凭什么卖198", False),  # a price objection
        ("某宝上一样的才一半价，你们贵在哪", False),
        ("别家三天就到了，你们一个礼拜还没发货", True),  # said against the service
        ("别家都包邮，你们还收运费，气死我了", True),  # a feeling word
        ("京东上才五十，你们凭什么九十九", False),  # a price on another platform
        ("人家都送安装，凭啥你们不送", False),  # other sellers, a rhetorical question
        ("人家都发货了，你们凭什么还不发", True),  # ... said against the service
    ],
)
def test_the_shop_set_against_another_seller_is_a_price_objection(
    text: str, escalate: bool
) -> None:
    flag = emotion_flag(text)
    assert flag.escalate is escalate
    features = escalation_features(text)
    assert (features["other_target"] > 0) is not escalate


def test_harm_done_is_never_a_neutral_turn() -> None:
    flag = emotion_flag("这款面膜我敷了三天，脸上起了红疹")
    assert "safety_incident" in flag.risk
    assert flag.emotion != "neutral"


@pytest.mark.parametrize(
    ("text", "demand"),
    [
        ("请问坏了的怎么赔", False),  # how the shop compensates: a policy question
        ("漏发了有补偿吗", False),
        ("寄回去的运费你们出吗", False),
        ("不合适能直接退款吗", False),
        ("丢件了你们赔吗", False),
        ("你们打算怎么赔", True),  # the shop's intention, asked of it: a demand
        ("运费你们出，必须的", True),
        ("赔我300，不然这事没完", True),
        ("我要求赔偿", True),
    ],
)
def test_a_demand_word_asked_about_as_policy_is_no_demand(text: str, demand: bool) -> None:
    flag = emotion_flag(text)
    assert ("refund_or_compensation_demand" in flag.risk) is demand
    features = escalation_features(text)
    strong = max(features["refund_demand"], features["compensation_demand"]) >= 1
    assert strong is demand


@pytest.mark.parametrize(
    ("text", "counterfeit"),
    [
        ("万一是假货你们怎么处理", False),  # hypothetical: a pre-sales question
        ("如果是假的能退吗", False),
        ("这就是假货，别狡辩", True),
    ],
)
def test_a_supposed_fake_is_no_accusation(text: str, counterfeit: bool) -> None:
    assert (escalation_features(text)["counterfeit"] > 0) is counterfeit


@pytest.mark.parametrize(
    ("text", "angry"),
    [
        ("洗手台下面那个坑口要多大", False),  # 坑 the noun: a pit, a measure
        ("院子里挖了个大坑种树，推荐个树苗", False),
        ("孩子踩进水坑了，雨靴防水吗", False),
        ("你们太坑了", True),  # the verb or its adjective
        ("被你们坑了两百块", True),
        ("第一次买二手相机，有什么坑要注意吗", False),  # a pitfall asked about
        ("这是什么坑人的玩意", True),
        ("怎么怎么坑", True),  # 怎么坑 is the verb
    ],
)
def test_a_pit_is_no_rip_off(text: str, angry: bool) -> None:
    assert (escalation_features(text)["exasperation"] > 0) is angry


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        ("孩子把洗衣液喝了一口，怎么办", True),  # a child swallowed what it was given
        ("宝宝把电池咬破了", True),
        ("孩子把一整盒蛋糕吃光了，太好吃了", False),  # eating the shop's food is praise
        ("我爸用完你们的按摩椅就晕倒了", True),
        ("吃了你们的坚果后嗓子一直疼", True),  # a symptom after the product was used
        ("戴你们的耳机以后耳朵发炎了", True),
        ("热水一下子出来，烫得我手通红", True),  # a scald that reaches a body
        ("柜子倒下来，孩子差点被砸", True),  # a near miss, said in the passive
        ("杯子被我摔了，再买一个", False),  # the thing fell, not the person
        ("电源线破皮了，手摸到一阵发麻", True),  # a body part touched it, and it hurts
        ("手摸到会不会烫", False),  # ... asked, not told
        ("孩子脸色发青，喘不上气", True),  # lips or a face gone blue
        ("女儿刚才好像吞了一颗磁珠", True),  # a small hard part swallowed
        ("饼干里有砂子，牙齿都硌崩了", True),  # a tooth broken
        ("用了一周眼睛看东西有重影", True),  # a vision symptom after use
        ("眼睛看东西模糊，想配副眼镜", False),  # ... before anything was used
    ],
)
def test_harm_to_a_person_read_from_its_structure(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident
    if incident:
        assert flag.escalate and flag.priority == "urgent"


def test_the_jddc_gate_is_the_shipped_recipe_on_todays_features() -> None:
    """A refit's JDDC training-half figure is held to the shipped model's recipe refitted out of
    fold on today's features (``jddc_today``), not to the figure recorded with the features of
    its day; the recorded one stands in only when today's is missing."""
    script = _training_script()
    figures = {
        "dev_nested_pooled": {"F1": 0.95},
        "unseen_nested_pooled": {"F1": 0.95},
        "jddc": {"F1": 0.47},
    }
    shipped: dict[str, Any] = {"pooled": [0.9, 0.01], "pooled_unseen": [0.9, 0.01]}
    assert script.beats(figures, {**shipped, "jddc_F1_recorded": 0.477}) != []
    today = {**shipped, "jddc_F1_recorded": 0.477, "jddc_today": {"F1": 0.46}}
    assert script.beats(figures, today) == []
    assert script.beats(figures, {**today, "jddc_today": {"F1": 0.48}}) != []


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("没必要去12315吧，我就问问保修", False),  # a threat not needed is negated
        ("差评就不必了，下次注意就行", False),
        ("我们不打算投诉，只想知道进度", False),  # ... or not intended
        ("我要曝光你们……开玩笑的，问下有货吗", False),  # taken back after a pause
        ("说要找律师的是我老婆，我没这个意思", False),  # who said it named after it
        ("同事在别家买的被坑了才打了12315，你们这个靠谱吧", False),  # made at another seller
        ("别家都给退，你们不退我就打12315", True),  # the shop named in the threat's clause
        ("你们再拖我就投诉，开玩笑？我认真的", True),
        ("不退我就投诉，没必要跟你们废话", True),  # 没必要 after the threat, not about it
    ],
)
def test_a_threat_not_meant_or_made_elsewhere_is_no_threat(text: str, threat: bool) -> None:
    assert ("complaint_threat" in emotion_flag(text).risk) is threat


@pytest.mark.parametrize(
    ("text", "cue", "hit"),
    [
        ("客厅曝光很足，用哪款", "public_exposure", False),  # the photographic sense
        ("照片曝光参数怎么设", "public_exposure", False),
        ("差评里说容易化，夏天怎么寄", "review_threat", False),  # reviews read
        ("差评多吗", "review_threat", False),
        ("再不处理我就曝光你们", "public_exposure", True),
        ("等了很久终于收到了，开心", "no_reply", False),  # a wait that ended
        ("等了好几天终于到了", "long_wait", False),
        ("拍照清晰到离谱，太值了", "exasperation", False),  # 离谱 a degree of a good quality
        ("贵得离谱", "exasperation", True),
        # the customer's own doing
        ("面包没发起来好崩溃，是不是我面粉放多了", "exasperation", False),
        ("气死了，原来是我自己没插电", "exasperation", False),
        ("真是谢谢你们，修了还是坏的，太'耐用'了", "sarcasm", True),  # ASCII scare quotes
    ],
)
def test_a_cue_in_another_sense_or_about_oneself_is_dropped(text: str, cue: str, hit: bool) -> None:
    assert (escalation_features(text)[cue] > 0) is hit


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        ("一开空调就跳闸，闻到焦味", True),  # an electrical fault beyond the product
        ("插上电源整个屋都断电了", True),
        ("功率这么大会跳闸吗", False),  # asked
        ("空调装了三天没人修，我妈中暑了", True),  # heat illness
        ("孩子都热出病了，你们什么时候来装", True),
        ("热水器从墙上掉下来了，幸好旁边没人", True),  # a near miss said as luck
        ("宝宝把充电头拿去咬，外壳裂了", True),  # a child's mouth, the verb ending its clause
        ("凑够两件是不是就一起包邮了", False),  # 包 of 包邮, not a lump
        ("烫伤膏有卖吗，烤箱会很烫吗", False),  # a harm named by its remedy
    ],
)
def test_safety_incidents_read_from_structure_round_18(text: str, incident: bool) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident
    if incident:
        assert flag.escalate and flag.priority == "urgent"


@pytest.mark.parametrize(
    ("text", "blame"),
    [
        ("你们会送货上楼吗", False),  # the shop named in a question put to it
        ("你们能不能开专票", False),
        ("你们有没有小一号的", False),
        ("你们发错货了", True),  # ... in a complaint
        ("你们良心不会痛吗", True),  # a negated question is rhetorical
        ("你们让我用什么", True),  # 什么 asks what, not yes or no
        ("你们就只会说抱歉吗", True),  # a feeling word in the message
        ("你们不是说包邮吗", True),
    ],
)
def test_the_shop_asked_a_question_is_not_blamed(text: str, blame: bool) -> None:
    assert (escalation_features(text)["blame"] > 0) is blame


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        ("电池鼓包了 我用的是朋友的充电器 能保修吗", True),  # not a cleft: a clause of its own
        ("烫伤的是我老公，手上起泡了", True),  # the cleft names the injured, not the speaker
    ],
)
def test_a_threat_withdrawn_after_it_leaves_harm_alone(text: str, incident: bool) -> None:
    assert ("safety_incident" in emotion_flag(text).risk) is incident


def test_the_training_script_makes_every_dev_shop_a_fold() -> None:
    """Each round's never-read fold becomes dev the round after (FOLD_R17: aircon, baking,
    camera): the training script selects on every dev shop, each once."""
    script = _training_script()
    assert sorted(script.DEV_SHOPS) == sorted(set(script.dev_shops()))
    assert set(script.written_in(17)) <= set(script.NEW_DEV_SHOPS)


@pytest.mark.parametrize(
    ("text", "incident"),
    [
        # round 21: frostbite beside scalds and burns, drowning beside choking in a near miss, a
        # rash counted with a quantity
        ("干冰把孩子手指冻伤了", True),
        ("救生衣卡扣松了，孩子差点淹到", True),
        ("宝宝脸上起了一大片红点", True),
        ("干冰会不会冻伤", False),  # a worry: a pre-sales question
        ("会不会起红点", False),
        ("这款红点图案还有吗", False),  # 红点 of a pattern, not of a skin
    ],
)
def test_frostbite_drowning_and_a_counted_rash_are_safety_incidents(
    text: str, incident: bool
) -> None:
    flag = emotion_flag(text)
    assert ("safety_incident" in flag.risk) is incident, (text, flag.signals)


@pytest.mark.parametrize(
    ("text", "aside"),
    [
        ("钓了一天一条没上气死了，饵料怎么调", True),
        ("头发一直打结烦死了，有没有好梳的梳子", True),
        ("这游戏版本烂透了，不过你们的手柄真香，白色有货吗", True),
        # ... not when the asking clause names the shop, or the order or a wait is complained of
        ("这游戏太烂了，你们的手柄有白色吗", False),
        ("气死了，你们有没有良心", False),
        ("质量太差了，能退款吗", False),
        ("等了五天还没发货，气死了，到底什么时候发", False),
        ("烦死了", False),  # one clause: nothing asked
    ],
)
def test_a_vent_about_something_else_then_a_shopping_question(text: str, aside: bool) -> None:
    """`aside_then_ask`: every negative word before the last clause, which asks about goods
    without naming the shop, and nothing of the order or the service said."""
    assert bool(escalation_features(text)["aside_then_ask"]) is aside, text
