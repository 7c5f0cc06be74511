"""Emotion and reply rules as data (data/emotion.yaml, data/reply.yaml) and a shop's extensions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kefu_copilot import ShopError, lint_reply, load_shop_config
from kefu_copilot._data import merge_rules, packaged_rules
from kefu_copilot.emotion import _cues
from kefu_copilot.emotion._flag import FEATURE_NAMES, emotion_flag
from kefu_copilot.reply import _phrases


class _Reads(Mapping[str, Any]):
    """A rule set that records which of its top-level keys were read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data, self.read = data, set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@pytest.mark.parametrize(
    ("name", "build"), [("emotion", _cues._compile), ("reply", _phrases._compile)]
)
def test_every_key_of_the_packaged_rules_is_read_and_compiles(name: str, build: Any) -> None:
    rules = _Reads(packaged_rules(name))
    build(rules)  # compiles every pattern (a bad one is a ShopError naming its key)
    assert rules.read == set(packaged_rules(name))


def test_the_packaged_emotion_rules_name_what_the_code_computes() -> None:
    rules = packaged_rules("emotion")
    assert tuple(rules["escalation_weights"]) == ("bias", *FEATURE_NAMES)
    lex = _cues.lexicon()
    assert set(lex.labels) <= set(lex.cues) and lex.negatable <= set(lex.cues)
    assert set(_cues.STRONG_CUES) <= set(lex.cues) and set(lex.emotion_weights) == {
        "angry",
        "anxious",
        "confused",
        "neutral",
        "satisfied",
    }


def test_a_rule_set_is_compiled_once() -> None:
    assert _cues.lexicon() is _cues.lexicon(packaged_rules("emotion"))
    extension = {"customer_cues": {"quality": ["烂脸"]}}
    shop_a, shop_b = merge_rules("emotion", extension), merge_rules("emotion", extension)
    assert shop_a is not shop_b and _cues.lexicon(shop_a) is _cues.lexicon(shop_b)
    assert _cues.lexicon(shop_a) is not _cues.lexicon()
    assert _phrases.phrases() is _phrases.shop_phrases(None)
    assert _phrases.phrases().policy_terms == _phrases.POLICY_TERMS  # the old attributes


def _shop(tmp_path: Path, text: str) -> Path:
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_shop_emotion_cue_changes_the_flag_of_that_shop_only(tmp_path: Path) -> None:
    cosmetics = load_shop_config(
        _shop(tmp_path, "rules:\n  emotion:\n    customer_cues:\n      safety: [烂脸]\n")
    )
    text = "用了你们的面霜两天就烂脸了"
    before = emotion_flag(text)
    flag = emotion_flag(text, rules=cosmetics.rule_set("emotion"))
    assert "安全事故: 烂脸" in flag.signals and flag.escalate and flag.score > before.score
    assert flag.risk == ["safety_incident"] and flag.priority == "urgent"
    # without the shop's cue it is no safety incident (the learned score may still escalate it)
    assert not any("烂脸" in s for s in before.signals) and "safety_incident" not in before.risk
    assert emotion_flag(text) == before  # the packaged rules are untouched


def test_the_copilot_flags_with_the_shop_emotion_rules(tmp_path: Path) -> None:
    from kefu_copilot import Copilot

    shop = _shop(tmp_path, "rules:\n  emotion:\n    customer_cues:\n      quality: [烂脸]\n")
    copilot = Copilot(shop, index_dir=tmp_path / "index", embed_model="none")
    assert "质量问题: 烂脸" in copilot.emotion_flag("用了两天就烂脸了").signals


def test_a_shop_lint_phrase_is_flagged_for_that_shop_only(tmp_path: Path) -> None:
    shop = load_shop_config(
        _shop(
            tmp_path,
            "rules:\n  reply:\n    phrase_rules:\n"
            "      - {code: cold_phrase, name: 用不惯就别用, pattern: '用不惯就别用',\n"
            "         message: 不耐烦（“用不惯就别用”）, soft: 可以先停用观察一下, drop: true}\n",
        )
    )
    reply = "亲，用不惯就别用。"
    issues = [i for i in lint_reply(reply, shop=shop) if i.code == "cold_phrase"]
    assert [reply[slice(*i.span)] for i in issues] == ["用不惯就别用"]
    assert not [i for i in lint_reply(reply) if i.code == "cold_phrase"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("rules:\n  emotion:\n    nosuchkey: [a]\n", "rules.emotion.nosuchkey"),
        ("rules:\n  emotion:\n    customer_cues: [烂脸]\n", "rules.emotion.customer_cues"),
        (
            "rules:\n  emotion:\n    escalation_weights: {quality: high}\n",
            "escalation_weights.quality",
        ),
        ("rules:\n  reply:\n    policy_terms: 正装\n", "rules.reply.policy_terms"),
    ],
)
def test_a_bad_key_in_shop_rules_is_a_shop_error(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ShopError) as err:
        load_shop_config(_shop(tmp_path, text))
    assert names in str(err.value)


@pytest.mark.parametrize(
    ("name", "extension", "names"),
    [
        (
            "emotion",
            {"customer_cues": {"nosuchcue": ["x"]}},
            "rules.emotion.customer_cues.nosuchcue",
        ),
        (
            "emotion",
            {"customer_cues": {"quality": ["烂脸("]}},
            "rules.emotion.customer_cues.quality",
        ),
        ("emotion", {"negatable": ["nosuchcue"]}, "rules.emotion.negatable"),
        (
            "emotion",
            {"emotion_weights": {"angry": {"nosuch": 1.0}}},
            "emotion_weights.angry.nosuch",
        ),
        ("reply", {"phrase_rules": [{"code": "cold_phrase", "name": "x"}]}, "'pattern' is missing"),
        (
            "reply",
            {"phrase_rules": [{"code": "x", "name": "x", "pattern": "x", "message": "x"}]},
            "code",
        ),
        (
            "reply",
            {
                "alternatives": [
                    {"name": "x", "trigger": "(", "query": "q", "lead": "", "covered": "x"}
                ]
            },
            "].trigger: not a regular",
        ),
        ("reply", {"openers": {"furious": ["x"]}}, "rules.reply.openers.furious"),
    ],
)
def test_a_bad_shop_rule_is_a_shop_error_on_first_use(
    name: str, extension: dict[str, Any], names: str
) -> None:
    rules = merge_rules(name, extension)  # the shape fits: found when compiled
    build = _cues.lexicon if name == "emotion" else _phrases.phrases
    with pytest.raises(ShopError) as err:
        build(rules)
    assert names in str(err.value)


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        # a negation or withdrawal before a run of threat words governs each word of the run
        ("我不会去12315投诉的", False),
        ("本来想给差评曝光的，算你们运气好", False),
        ("之前说要去12315投诉，是我看错订单了", False),
        ("我要去12315投诉", True),
        ("再不处理我就去12315投诉", True),
        # a threat word said back as a question and answered with a no is negated
        ("差评？不会的，我很满意，就是问下发票", False),
        ("那个差评？不可能的", False),
        ("差评？我肯定给差评", True),
        ("我要投诉？不会处理就别干了", True),  # not an echo: the clause says more than the word
    ],
)
def test_a_guard_governs_a_run_of_threat_words_and_an_echoed_one(text: str, threat: bool) -> None:
    flag = emotion_flag(text)
    assert ("complaint_threat" in flag.risk) is threat, (text, flag.signals)
    assert flag.escalate is threat, text
