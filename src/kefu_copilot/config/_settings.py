"""Settings: explicit argument > :class:`Settings` object > ``KEFU_*`` environment variables.

``pydantic-settings`` reads the environment: the ``KEFU_`` prefix, type coercion, and an opt-in
``.env`` file (``Settings(_env_file=".env")``, or ``KEFU_ENV_FILE=.env`` in the environment;
real environment variables win over the file). Variables are read when an object is built —
a :class:`Settings`, or a ``Copilot`` resolving its settings — never at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .._data import DATA_DIR
from .._errors import ConfigError

__all__ = ["DEFAULT_EMBED_MODEL", "SUPPORT_THRESHOLDS", "Settings", "default_thresholds"]

DEFAULT_EMBED_MODEL = "BAAI/bge-small-zh-v1.5"
ENV_PREFIX = "KEFU_"
ENV_FILE_VARIABLE = "KEFU_ENV_FILE"
#: Auto / draft thresholds on support, the uncalibrated confidence (a ranking score).
SUPPORT_THRESHOLDS = (0.62, 0.42)


@cache
def _calibrated_thresholds() -> tuple[float, float]:
    report = json.loads((DATA_DIR / "calibration.json").read_text(encoding="utf-8"))["report"]
    return float(report["auto_threshold"]), float(report["draft_threshold"])


def default_thresholds(calibrated: bool) -> tuple[float, float]:
    """The auto / draft thresholds used when none is set: the ones the packaged calibration
    chose (``report`` of ``data/calibration.json``, see docs/calibration.md) when ``calibrated``,
    else :data:`SUPPORT_THRESHOLDS`."""
    return _calibrated_thresholds() if calibrated else SUPPORT_THRESHOLDS


class Settings(BaseSettings):
    """All tunable knobs. Every field can also be set as ``KEFU_<FIELD NAME IN CAPITALS>``.

    ``Settings(top_k=5)`` takes its other fields from ``KEFU_*`` variables (and a ``.env`` file
    when asked for one); the LLM API key is a :class:`~pydantic.SecretStr`, never shown in a
    repr, a log line or a dump.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=None,  # opt-in only: _env_file=... or KEFU_ENV_FILE
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        # A shared .env (DEEPSEEK_API_KEY=..., other tools' keys) is fine: only fields are read.
        dotenv_filtering="only_existing",
        frozen=True,
        extra="forbid",
        validate_default=True,
    )

    # -- knowledge index -------------------------------------------------------------------
    index_dir: Path | None = Field(
        None, description="Where the index is stored. Default: <shop>/.kefu-index"
    )
    embed_model: str = Field(
        DEFAULT_EMBED_MODEL,
        description="fastembed model name, a local model directory, or 'none' for lexical only",
    )
    embed_cache_dir: Path | None = Field(None, description="fastembed model cache directory")
    offline: bool = Field(
        False, description="Never try to download a model (also implied by HF_HUB_OFFLINE=1)"
    )
    chroma_url: str | None = Field(
        None, description="Chroma server URL (http://host:8000); default: embedded PersistentClient"
    )
    vector_search: Literal["auto", "exact", "ivf", "hnsw"] = Field(
        "auto",
        description="Dense search: 'exact' (a memory-mapped float32 matrix, every vector "
        "scanned: the exact top-k), 'ivf' (the same matrix, only the inverted lists nearest the "
        "query scanned in segments of 16k+ vectors; lists probed for 99.9 % recall of the "
        "stored vectors' own top-60, measured when written), 'hnsw' (Chroma, approximate), or "
        "'auto': exact up to 50,000 vectors, inverted lists above (with a Chroma server: the "
        "server)",
    )
    # -- shared state: approvals, customer memory ----------------------------------------------
    state_url: SecretStr | None = Field(
        None,
        description="Where pending approvals and customer memory live: sqlite:///path/state.db "
        "(one machine), redis://[:password@]host:6379/0 (several machines) or memory:// (this "
        "process); default: <index_dir>/state.sqlite3. A secret: it may hold a password",
    )
    approval_max_age_hours: float = Field(
        24.0, gt=0, description="A write action not approved within this many hours expires"
    )
    customer_memory: bool = Field(
        False,
        description="Remember each customer_id's past conversations, order ids, stated "
        "preferences and open issues (redacted) for handoff packets and reply drafts",
    )
    memory_retention_days: float = Field(
        90.0, gt=0, description="Customer memory older than this many days is dropped"
    )
    # -- retrieval and answering -----------------------------------------------------------
    top_k: int = Field(8, ge=1, le=100, description="Knowledge chunks retrieved per question")
    calibrated: bool = Field(
        True,
        description="Confidence of a retrieved answer is the calibrated probability that it is "
        "right (data/calibration.json, fitted across shops) and the thresholds default to that "
        "fit's (report.auto_threshold, report.draft_threshold). Off: confidence is the match's "
        "support and the thresholds default to 0.62 / 0.42",
    )
    auto_threshold: float = Field(
        default_factory=lambda data: default_thresholds(data.get("calibrated", True))[0],
        ge=0,
        le=1,
        description="Confidence at or above which an answer is sent as is. Default: the "
        "calibration's (calibrated) or 0.62 (support)",
    )
    draft_threshold: float = Field(
        default_factory=lambda data: min(
            default_thresholds(data.get("calibrated", True))[1],
            data.get("auto_threshold", 1.0),
        ),
        ge=0,
        le=1,
        description="Confidence at or above which a draft is offered to an agent. Default: the "
        "calibration's (calibrated) or 0.42 (support), never above auto_threshold",
    )
    max_file_mb: float = Field(
        64, gt=0, description="Knowledge files larger than this are skipped with a report"
    )
    ingest_workers: int | None = Field(
        None,
        ge=0,
        le=64,
        description="Processes that parse and tokenise during ingest; default: one per spare "
        "core for large shops; 0: everything in the calling process",
    )
    max_input_chars: int = Field(
        4000, ge=16, description="Customer messages longer than this are truncated for matching"
    )
    # -- language model (optional) ---------------------------------------------------------
    llm_preset: str | None = Field(
        None, description="deepseek, qwen, moonshot, openai, vllm or ollama"
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint URL")
    llm_api_key: SecretStr | None = Field(None, description="API key for the endpoint")
    llm_model: str | None = Field(None, description="Model name at the endpoint")
    llm_timeout: float = Field(30.0, gt=0, description="Overall deadline per LLM call, seconds")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries on 408/429/5xx/connection")
    llm_max_tokens: int = Field(600, ge=16, description="max_tokens sent with every LLM request")
    llm_temperature: float = Field(0.2, ge=0, le=2)
    prompts_dir: Path | None = Field(
        None, description="A folder of prompt templates overriding the packaged ones"
    )

    @model_validator(mode="after")
    def _check_thresholds(self) -> Settings:
        if self.draft_threshold > self.auto_threshold:
            raise ValueError("draft_threshold must not be above auto_threshold")
        return self

    @property
    def support_thresholds(self) -> tuple[float, float]:
        """The auto / draft thresholds on support (the uncalibrated confidence) that the reply
        advisor and the pre-sales advisor judge the knowledge's answers by, whatever the answer
        mode: this object's thresholds when calibration is off, else support's defaults."""
        if self.calibrated:
            return SUPPORT_THRESHOLDS
        return self.auto_threshold, self.draft_threshold

    @property
    def embeddings_enabled(self) -> bool:
        return self.embed_model.strip().lower() not in ("", "none", "off", "false", "0")

    @property
    def state_url_value(self) -> str | None:
        """The state store URL in clear, for the one place that connects to it."""
        return self.state_url.get_secret_value() if self.state_url else None

    @property
    def llm_api_key_value(self) -> str | None:
        """The API key in clear, for the one place that sends it (the HTTP client)."""
        return self.llm_api_key.get_secret_value() if self.llm_api_key else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``KEFU_*`` variables, then the ``.env`` file if one was asked for."""
        environ = _ENVIRON.get()
        environ = os.environ if environ is None else environ
        if isinstance(dotenv_settings, DotEnvSettingsSource) and dotenv_settings.env_file is None:
            dotenv_settings = _env_file_source(environ) or dotenv_settings
        return init_settings, _EnvSource(settings_cls, environ), dotenv_settings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``KEFU_*`` variables in ``environ`` (default: the process environment)
        and the ``KEFU_ENV_FILE`` file it names; defaults for the rest."""
        return resolve_settings(None, environ=environ)

    def merged(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied (``None`` values are ignored). Thresholds nobody set
        follow the mode of the copy (``merged(calibrated=False)``: support's defaults)."""
        values = {k: getattr(self, k) for k in self.model_fields_set}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return _build(values, {}, "argument")


# The environment the sources read: os.environ unless resolve_settings was given a mapping.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("kefu_settings_environ", default=None)


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


class _EnvSource(EnvSettingsSource):
    """``KEFU_*`` variables from any mapping (tests and ``from_env`` pass their own); values are
    stripped and blank ones count as unset, as they always have."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            key.lower(): value.strip()
            for key, value in self._environ.items()
            if key.upper().startswith(ENV_PREFIX) and value.strip()
        }


def _env_file_source(environ: Mapping[str, str]) -> DotEnvSettingsSource | None:
    name = (environ.get(ENV_FILE_VARIABLE) or "").strip()
    if not name:
        return None
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"{ENV_FILE_VARIABLE}={name}: no such file; fix or unset the variable")
    return DotEnvSettingsSource(Settings, env_file=path)


def _variable(loc: tuple[Any, ...]) -> str:
    name = str(loc[0]) if loc else ""
    return ENV_PREFIX + name.upper() if name in Settings.model_fields else name or "settings"


def _build(values: Mapping[str, Any], environ: Mapping[str, str], origin: str) -> Settings:
    """``Settings(**values)`` with the sources reading ``environ`` for the fields not given."""
    try:
        with _reading(environ):
            return Settings(**values)
    except ValidationError as exc:
        if origin == "env":
            problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(
                f"invalid settings (check your {ENV_PREFIX}* environment variables and "
                f"{ENV_FILE_VARIABLE}): {problems}"
            ) from None
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def resolve_settings(
    settings: Settings | None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Combine the three sources: explicit ``overrides`` > fields set on ``settings`` > env
    (``environ``, default ``os.environ``, and the ``KEFU_ENV_FILE`` file it names)."""
    environ = os.environ if environ is None else environ
    from_env = _build({}, environ, "env").model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if settings is not None:
        values.update({k: getattr(settings, k) for k in settings.model_fields_set})
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "offline" not in from_env and environ.get("HF_HUB_OFFLINE") == "1":
        values.setdefault("offline", True)
    return _build({**from_env, **values}, {}, "argument")
