from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import ConfigError, PromptError, Settings
from kefu_copilot.llm._chat import PRESETS, OpenAIProvider, build_llm
from kefu_copilot.llm._prompts import load_prompt, parse_prompt

from .conftest import ROOT

PROMPTS = sorted((ROOT / "prompts").glob("*.md"))


@pytest.mark.parametrize(
    "path", [p for p in PROMPTS if p.name != "README.md"], ids=lambda p: p.stem
)
def test_every_prompt_renders(path: Path) -> None:
    template = load_prompt(path.stem)
    messages = template.render(**{v: f"<{v}>" for v in template.variables})
    assert messages and all(m["content"] for m in messages)
    text = "\n".join(m["content"] for m in messages)
    for variable in template.variables:
        assert f"<{variable}>" in text


def test_missing_variable_is_named() -> None:
    with pytest.raises(PromptError, match="question"):
        load_prompt("answer").render(shop_name="店", persona="", knowledge="", history="")


def test_undeclared_placeholder_is_refused() -> None:
    with pytest.raises(PromptError, match="declared"):
        parse_prompt("x", "---\nvariables: [a]\n---\n[user]\n{a} {b}\n")


def test_values_are_not_reformatted() -> None:
    template = parse_prompt("x", "---\nvariables: [q]\n---\n[user]\n问题：{q}\n")
    assert template.render(q="{not_a_field} }{")[0]["content"] == "问题：{not_a_field} }{"


def test_user_prompt_folder_overrides(tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text(
        "---\nvariables: [question]\n---\n[user]\nQ: {question}\n", encoding="utf-8"
    )
    assert load_prompt("answer", tmp_path).render(question="x")[0]["content"] == "Q: x"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets(name: str) -> None:
    settings = Settings(
        llm_preset=name, llm_api_key="k", llm_model=None if PRESETS[name].model else "m"
    )
    llm = build_llm(settings)
    assert llm is not None and llm.provider.base_url == PRESETS[name].base_url.rstrip("/")


def test_no_llm_configured() -> None:
    assert build_llm(Settings()) is None


def test_preset_errors(monkeypatch) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="unknown LLM preset"):
        OpenAIProvider.from_preset("nope", api_key="k")
    with pytest.raises(ConfigError, match="DEEPSEEK_API_KEY"):
        OpenAIProvider.from_preset("deepseek")
    with pytest.raises(ConfigError, match="KEFU_LLM_MODEL"):
        build_llm(Settings(llm_base_url="http://127.0.0.1:1/v1"))
