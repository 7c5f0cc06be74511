from __future__ import annotations

import pytest

from kefu_copilot import ConfigError, Copilot, Settings
from kefu_copilot.config._settings import resolve_settings


def test_precedence_argument_over_settings_over_env() -> None:
    env = {"KEFU_TOP_K": "5", "KEFU_AUTO_THRESHOLD": "0.9", "KEFU_EMBED_MODEL": "none"}
    assert resolve_settings(None, environ=env).top_k == 5
    settings = Settings(top_k=7)
    resolved = resolve_settings(settings, environ=env)
    assert resolved.top_k == 7 and resolved.auto_threshold == 0.9  # unset fields still from env
    assert resolve_settings(settings, environ=env, top_k=3).top_k == 3


def test_env_is_read_when_objects_are_built(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("KEFU_TOP_K", "11")
    assert Copilot(tmp_path, embed_model="none").settings.top_k == 11
    monkeypatch.setenv("KEFU_TOP_K", "12")
    assert Copilot(tmp_path, embed_model="none").settings.top_k == 12


def test_hf_offline_implies_offline() -> None:
    assert resolve_settings(None, environ={"HF_HUB_OFFLINE": "1"}).offline is True


@pytest.mark.parametrize("env", [{"KEFU_TOP_K": "many"}, {"KEFU_AUTO_THRESHOLD": "2"}])
def test_bad_env_values_name_the_variable(env) -> None:
    with pytest.raises(ConfigError, match="KEFU_"):
        resolve_settings(None, environ=env)


def test_contradictory_thresholds() -> None:
    with pytest.raises(ConfigError, match="draft_threshold"):
        resolve_settings(None, environ={}, auto_threshold=0.3, draft_threshold=0.5)


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ConfigError):
        resolve_settings(None, environ={}, colour="blue")
