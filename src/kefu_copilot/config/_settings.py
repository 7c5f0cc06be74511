"""Settings: explicit argument > :class:`Settings` object > ``KEFU_*`` environment variables.

Environment variables are read when a :class:`Settings` is resolved for an object being built,
never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .._errors import ConfigError

__all__ = ["DEFAULT_EMBED_MODEL", "Settings"]

DEFAULT_EMBED_MODEL = "BAAI/bge-small-zh-v1.5"
ENV_PREFIX = "KEFU_"


class Settings(BaseModel):
    """All tunable knobs. Every field can also be set as ``KEFU_<FIELD NAME IN CAPITALS>``."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

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
    # -- retrieval and answering -----------------------------------------------------------
    top_k: int = Field(8, ge=1, le=100, description="Knowledge chunks retrieved per question")
    auto_threshold: float = Field(
        0.62, ge=0, le=1, description="Confidence at or above which an answer is sent as is"
    )
    draft_threshold: float = Field(
        0.42, ge=0, le=1, description="Confidence at or above which a draft is offered to an agent"
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
    llm_api_key: str | None = Field(None, description="API key for the endpoint", repr=False)
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
    def embeddings_enabled(self) -> bool:
        return self.embed_model.strip().lower() not in ("", "none", "off", "false", "0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``KEFU_*`` variables (defaults for the rest)."""
        return resolve_settings(None, environ=environ)

    def merged(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied (``None`` values are ignored)."""
        values = self.model_dump(exclude_unset=False)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return _build(values, "argument")


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw.strip() != "":
            values[name] = raw.strip()
    return values


def _build(values: Mapping[str, Any], origin: str) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        hint = f" (check your {ENV_PREFIX}* environment variables)" if origin == "env" else ""
        raise ConfigError(f"invalid settings{hint}: {problems}") from None


def resolve_settings(
    settings: Settings | None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Combine the three sources: explicit ``overrides`` > fields set on ``settings`` > env."""
    environ = os.environ if environ is None else environ
    env = _env_values(environ)
    values: dict[str, Any] = dict(_build(env, "env").model_dump()) if env else {}
    if settings is not None:
        values.update({k: getattr(settings, k) for k in settings.model_fields_set})
    values.update({k: v for k, v in overrides.items() if v is not None})
    if env.get("offline") is None and environ.get("HF_HUB_OFFLINE") == "1":
        values.setdefault("offline", True)
    return _build(values, "argument")
