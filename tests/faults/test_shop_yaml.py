"""Issue 21 #8 and #10: shop.yaml cannot stall validation (alias bombs) or lift a limit to
infinity; both are refused with a ShopError that names the fix."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kefu_copilot import Copilot, ShopError
from kefu_copilot.config._shop import load_shop_config


def alias_bomb(depth: int) -> str:
    """The classic 'billion laughs': each level lists the previous one nine times."""
    names = "abcdefghijklmnop"
    lines = ["a: &a [哈哈]"]
    for n in range(1, depth + 1):
        refs = ",".join([f"*{names[n - 1]}"] * 9)
        lines.append(f"{names[n]}: &{names[n]} [{refs}]")
    lines.append(f"escalation_keywords: *{names[depth]}")
    return "\n".join(lines) + "\n"


def test_the_bomb_is_small() -> None:
    assert len(alias_bomb(8).encode()) < 400


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(alias_bomb(8), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ShopError, match="alias") as caught:
        load_shop_config(tmp_path)
    assert time.perf_counter() - started < 0.5
    assert "shop.yaml" in str(caught.value) and "write the value out" in str(caught.value)


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text("banned_phrases: &x [a, *x]\n", encoding="utf-8")
    with pytest.raises(ShopError, match="refers to the value that contains it"):
        load_shop_config(tmp_path)


def test_ordinary_aliases_still_work(tmp_path: Path) -> None:
    """Aliases are not refused as such: only their expansion is bounded."""
    text = alias_bomb(2) + "banned_phrases: &words [最便宜, 假一赔十]\nmore: *words\n"
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    config = load_shop_config(tmp_path)
    assert len(config.escalation_keywords) == 9 and config.banned_phrases == ["最便宜", "假一赔十"]


def test_copilot_refuses_the_bomb_too(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(alias_bomb(8), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ShopError):
        Copilot(tmp_path, index_dir=tmp_path / "index", embed_model="none").ingest()
    assert time.perf_counter() - started < 2


def test_plain_yaml_without_aliases_still_loads(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(
        "name: 木棉生活\nsynonyms:\n  - [退货, 退掉]\ncompensation: {max_cash_yuan: 20}\n",
        encoding="utf-8",
    )
    config = load_shop_config(tmp_path)
    assert config.name == "木棉生活" and config.compensation.max_cash_yuan == 20


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf", "1e400"])
@pytest.mark.parametrize("key", ["max_cash_yuan", "max_coupon_yuan"])
def test_a_non_finite_compensation_limit_is_refused(tmp_path: Path, key: str, value: str) -> None:
    (tmp_path / "shop.yaml").write_text(f"compensation:\n  {key}: {value}\n", encoding="utf-8")
    with pytest.raises(ShopError, match=f"compensation.{key}"):
        load_shop_config(tmp_path)


def test_a_bomb_in_markdown_front_matter_is_ignored_quickly(tmp_path: Path) -> None:
    """Front matter is user YAML too: `sku: *i` once rendered 9⁸ strings into one chunk."""
    shop = tmp_path / "shop"
    (shop / "products").mkdir(parents=True)
    bomb = alias_bomb(8).replace("escalation_keywords:", "sku:")
    (shop / "products" / "x.md").write_text(f"---\n{bomb}---\n# 羽绒服\n保暖。\n", encoding="utf-8")
    started = time.perf_counter()
    report = Copilot(shop, index_dir=tmp_path / "index", embed_model="none").ingest()
    assert time.perf_counter() - started < 10
    [issue] = report.issues
    assert issue.source == "products/x.md" and "front matter" in issue.problem
