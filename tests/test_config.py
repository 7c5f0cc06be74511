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


def test_from_env_reads_only_the_mapping_given(monkeypatch) -> None:
    monkeypatch.setenv("KEFU_TOP_K", "3")
    assert Settings.from_env({}).top_k == 8  # an explicit mapping shuts out os.environ
    assert Settings.from_env({"KEFU_TOP_K": " 4 ", "KEFU_EMBED_MODEL": ""}).top_k == 4
    assert Settings.from_env().top_k == 3
    assert Settings().top_k == 3  # a Settings object reads the environment when it is built


def test_an_explicit_default_still_beats_the_environment() -> None:
    resolved = resolve_settings(Settings(top_k=8), environ={"KEFU_TOP_K": "5"})
    assert resolved.top_k == 8


def test_env_file_is_opt_in_and_variables_win(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "KEFU_TOP_K=3\nKEFU_AUTO_THRESHOLD=0.8\nDEEPSEEK_API_KEY=sk-other-tool\n", "utf-8"
    )
    assert Settings.from_env({}).top_k == 8  # a .env in the working directory is not read
    assert Settings(_env_file=env_file).auto_threshold == 0.8  # other keys in it are ignored
    via_variable = {"KEFU_ENV_FILE": str(env_file), "KEFU_TOP_K": "6"}
    resolved = Settings.from_env(via_variable)
    assert resolved.top_k == 6 and resolved.auto_threshold == 0.8
    monkeypatch.setenv("KEFU_ENV_FILE", str(env_file))
    assert Copilot(tmp_path, embed_model="none").settings.top_k == 3
    with pytest.raises(ConfigError, match="KEFU_ENV_FILE"):
        Settings.from_env({"KEFU_ENV_FILE": str(tmp_path / "missing.env")})


def test_api_key_is_never_shown() -> None:
    from kefu_copilot.llm._chat import build_llm

    settings = resolve_settings(
        None,
        environ={"KEFU_LLM_API_KEY": "sk-very-secret", "KEFU_LLM_BASE_URL": "http://127.0.0.1:1"},
        llm_model="m",
    )
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    assert not any("sk-very-secret" in text for text in shown)
    llm = build_llm(settings)
    assert llm is not None and llm.provider.api_key == "sk-very-secret"  # sent, never printed


def test_a_persona_written_as_a_mapping_reads_as_its_text(tmp_path) -> None:
    from kefu_copilot.config._shop import load_shop_config

    (tmp_path / "shop.yaml").write_text(
        "persona:\n  tone: 热情、耐心\n  address: 宝子\n", encoding="utf-8"
    )
    shop = load_shop_config(tmp_path)
    assert shop.persona == "称呼顾客为“宝子”；热情、耐心"
    assert shop.address == "宝子"
    (tmp_path / "shop.yaml").write_text("persona: [温柔, 耐心]\n", encoding="utf-8")
    assert load_shop_config(tmp_path).persona == "温柔；耐心"
    assert load_shop_config(tmp_path).address == "亲"  # none named: the default


def test_the_form_of_address_has_one_reader(tmp_path) -> None:
    """ShopConfig.address is what the reply advisor says; a shop's own persona_address pattern
    (rules.reply) is how both read it."""
    from kefu_copilot.config._shop import load_shop_config

    (tmp_path / "shop.yaml").write_text(
        "persona: 活泼，叫顾客「姐妹」\n"
        "rules:\n  reply:\n    persona_address: {replace: '叫顾客「(.{1,4})」'}\n",
        encoding="utf-8",
    )
    assert load_shop_config(tmp_path).address == "姐妹"


def test_thresholds_default_to_the_calibrations_and_follow_the_mode() -> None:
    from kefu_copilot.config._settings import SUPPORT_THRESHOLDS, default_thresholds

    calibrated = default_thresholds(True)
    settings = resolve_settings(None, environ={})
    assert settings.calibrated is True  # calibrated confidence is the default answer mode
    assert (settings.auto_threshold, settings.draft_threshold) == calibrated
    assert not {"auto_threshold", "draft_threshold"} & settings.model_fields_set  # not pinned
    support = resolve_settings(None, environ={"KEFU_CALIBRATED": "0"})
    assert (support.auto_threshold, support.draft_threshold) == SUPPORT_THRESHOLDS == (0.62, 0.42)
    # a copy in the other mode takes that mode's defaults, not the first one's
    assert settings.merged(calibrated=False).auto_threshold == 0.62
    assert support.merged(calibrated=True).auto_threshold == calibrated[0]


def test_a_threshold_the_user_sets_wins_in_either_mode() -> None:
    # argument > Settings > KEFU_* variables, calibrated or not; the default draft threshold
    # never rises above an auto threshold set lower
    env = {"KEFU_AUTO_THRESHOLD": "0.9"}
    assert resolve_settings(None, environ=env).auto_threshold == 0.9
    assert resolve_settings(Settings(auto_threshold=0.7), environ=env).auto_threshold == 0.7
    assert resolve_settings(None, environ=env, auto_threshold=0.5).auto_threshold == 0.5
    low = resolve_settings(None, environ={}, auto_threshold=0.25)
    assert low.draft_threshold == 0.25
    off = resolve_settings(None, environ={"KEFU_CALIBRATED": "false"}, draft_threshold=0.3)
    assert (off.auto_threshold, off.draft_threshold) == (0.62, 0.3)
    assert Settings(auto_threshold=0.7).merged(calibrated=False).auto_threshold == 0.7


def test_support_thresholds_are_supports_whatever_the_answer_mode() -> None:
    assert Settings().support_thresholds == (0.62, 0.42)
    assert Settings(auto_threshold=0.95).support_thresholds == (0.62, 0.42)
    # uncalibrated, the answer thresholds are on support: the reply and pre-sales advisors
    # read the user's, as they always did
    assert Settings(calibrated=False, auto_threshold=0.7).support_thresholds == (0.7, 0.42)
