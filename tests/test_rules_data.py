"""Rules as data: packaged rule sets, and a shop's extensions validated by key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kefu_copilot import ShopError, load_shop_config
from kefu_copilot._data import DATA_DIR, merge_rules, packaged_rules, rule_set_names


def test_every_packaged_rule_set_is_a_documented_mapping() -> None:
    names = rule_set_names()
    assert "vocabulary" in names
    for name in names:
        raw = yaml.safe_load((DATA_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        assert isinstance(raw, dict) and isinstance(raw.get("_doc"), str), name
        assert "_doc" not in packaged_rules(name)


def test_a_list_is_extended_and_replace_replaces() -> None:
    base = packaged_rules("vocabulary")["synonyms"]
    extended = merge_rules("vocabulary", {"synonyms": [["色号", "颜色号"]]})["synonyms"]
    assert extended[: len(base)] == base and extended[-1] == ["色号", "颜色号"]
    replaced = merge_rules("vocabulary", {"synonyms": {"replace": [["激活", "开通"]]}})
    assert replaced["synonyms"] == [["激活", "开通"]]
    assert packaged_rules("vocabulary")["synonyms"] == base  # the packaged set is untouched


def _shop(tmp_path: Path, text: str) -> Path:
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_shop_yaml_extends_a_rule_set(tmp_path: Path) -> None:
    shop = load_shop_config(
        _shop(tmp_path, "rules:\n  vocabulary:\n    synonyms: [[配网, 连wifi]]\n")
    )
    assert ["配网", "连wifi"] in shop.rule_set("vocabulary")["synonyms"]
    assert shop.rule_set("vocabulary") is shop.rule_set("vocabulary")  # merged once


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("rules:\n  nosuchset: {a: 1}\n", "rules.nosuchset"),
        ("rules:\n  vocabulary:\n    nosuchkey: [a]\n", "rules.vocabulary.nosuchkey"),
        ("rules:\n  vocabulary:\n    synonyms: 小样\n", "rules.vocabulary.synonyms"),
        ("rules:\n  vocabulary: [a, b]\n", "rules.vocabulary"),
        ("rules: 3\n", "rules"),
    ],
)
def test_a_bad_extension_names_its_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ShopError) as err:
        load_shop_config(_shop(tmp_path, text))
    assert names in str(err.value)


def test_the_shop_vocabulary_reaches_the_tokenizer(tmp_path: Path) -> None:
    from kefu_copilot import Copilot

    shop = _shop(tmp_path, "rules:\n  vocabulary:\n    synonyms: [[配网, 连无线网]]\n")
    copilot = Copilot(shop, index_dir=tmp_path / "index", embed_model="none")
    tokenizer = copilot._tokenizer(copilot.shop)
    assert "配网" in tokenizer.tokenize("怎么连无线网")


def test_a_copied_config_with_other_rules_uses_them(tmp_path: Path) -> None:
    shop = load_shop_config(
        _shop(tmp_path, "rules:\n  vocabulary:\n    synonyms: [[配网, 连wifi]]\n")
    )
    assert ["配网", "连wifi"] in shop.rule_set("vocabulary")["synonyms"]
    other = shop.model_copy(update={"rules": {"vocabulary": {"synonyms": [["激活", "开通"]]}}})
    assert ["激活", "开通"] in other.rule_set("vocabulary")["synonyms"]
    assert ["配网", "连wifi"] not in other.rule_set("vocabulary")["synonyms"]
