"""Shop settings from ``shop.yaml`` (every key optional)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .._data import merge_rules, validate_extension
from .._errors import ShopError
from ..text._normalize import decode_bytes

__all__ = ["Compensation", "ShopConfig", "load_shop_config"]

DEFAULT_HANDOFF_MESSAGE = "亲，这个问题我帮您转给人工客服同事，马上为您处理，请稍等一下哦。"


class Compensation(BaseModel):
    """The most an agent or the copilot may offer without a human's approval (yuan)."""

    model_config = ConfigDict(extra="allow")

    # Finite: `.inf` (or 1e400, which YAML reads as infinity) would lift the limit altogether.
    max_coupon_yuan: float = Field(0, ge=0, allow_inf_nan=False)
    max_cash_yuan: float = Field(0, ge=0, allow_inf_nan=False)

    @property
    def max_any_yuan(self) -> float:
        return max(self.max_coupon_yuan, self.max_cash_yuan)


#: Keys of a persona mapping that give the form of address.
_ADDRESS_KEYS = frozenset({"address", "form_of_address", "salutation", "称呼", "称谓"})


class ShopConfig(BaseModel):
    """The contents of ``shop.yaml`` (see the data contract, section 1)."""

    model_config = ConfigDict(extra="allow")

    name: str = "本店"
    persona: str = ""
    service_hours: str | None = None
    compensation: Compensation = Field(default_factory=lambda: Compensation())
    synonyms: list[list[str]] = Field(default_factory=list)
    escalation_keywords: list[str] = Field(default_factory=list)
    banned_phrases: list[str] = Field(default_factory=list)
    handoff_message: str = DEFAULT_HANDOFF_MESSAGE
    #: Extensions of the packaged rule sets (``kefu_copilot/data/*.yaml``), by set and key.
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    _merged: dict[str, tuple[Any, Mapping[str, Any]]] = PrivateAttr(default_factory=dict)

    @field_validator("rules", mode="before")
    @classmethod
    def _rules(cls, value: Any) -> Any:
        try:
            return validate_extension(value)
        except ShopError as exc:
            raise ValueError(str(exc).removeprefix("shop.yaml: ")) from None

    def rule_set(self, name: str) -> Mapping[str, Any]:
        """The packaged rule set ``name`` with this shop's ``rules.<name>`` applied (cached)."""
        extension = self.rules.get(name)
        # (the private attribute read from its slot: pydantic's __getattr__ for private
        # attributes cost ~3 % of an answer, which reads rule sets a few times)
        merged = (self.__pydantic_private__ or {}).get("_merged")
        if merged is None:
            merged = self._merged
        cached = merged.get(name)
        # keyed by the extension object too: a model_copy(update={"rules": ...}) shares _merged
        if cached is None or cached[0] is not extension:
            cached = merged[name] = (extension, merge_rules(name, extension))
        return cached[1]

    @field_validator("persona", mode="before")
    @classmethod
    def _persona_text(cls, value: Any) -> Any:
        """The data contract says what a persona holds (the form of address, the tone), not its
        shape: a mapping (``{address: 亲, tone: 热情、耐心}``) or a list reads as one text, the
        form of address first as 称呼顾客为“亲” (how the reply advisor finds it)."""
        if value is None:
            return ""
        if isinstance(value, list):
            return "；".join(str(v) for v in value if v not in (None, ""))
        if not isinstance(value, Mapping):
            return value
        parts: list[str] = []
        for key, item in value.items():
            if item in (None, ""):
                continue
            text = "、".join(map(str, item)) if isinstance(item, list) else str(item)
            if str(key).strip().lower() in _ADDRESS_KEYS:
                parts.insert(0, f"称呼顾客为“{text}”")
            else:
                parts.append(text)
        return "；".join(parts)

    @field_validator("synonyms", mode="before")
    @classmethod
    def _synonym_groups(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [
                [str(w) for w in g] if isinstance(g, list) else str(g).split("|") for g in value
            ]
        return value

    @field_validator("escalation_keywords", "banned_phrases", mode="before")
    @classmethod
    def _string_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else value

    @field_validator("handoff_message", "name", mode="before")
    @classmethod
    def _not_empty(cls, value: Any, info: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return DEFAULT_HANDOFF_MESSAGE if info.field_name == "handoff_message" else "本店"
        return value

    @property
    def address(self) -> str:
        """How the persona addresses a customer: what the persona's text names with the reply
        rule set's ``persona_address`` pattern (称呼顾客为“宝子”; a persona mapping's
        ``address`` reads the same way), "亲" when it names none."""
        pattern = self.rule_set("reply").get("persona_address")
        try:
            found = re.search(str(pattern), self.persona or "") if pattern else None
            said = (found.group(1) or "").strip() if found else ""
        except (re.error, IndexError):  # a shop's bad pattern: the reply rules name it at load
            said = ""
        return said or "亲"


def load_shop_config(shop_dir: str | Path) -> ShopConfig:
    """Read ``shop.yaml`` (or ``shop.yml``); a missing file gives the defaults."""
    shop_dir = Path(shop_dir)
    for name in ("shop.yaml", "shop.yml"):
        path = shop_dir / name
        if path.is_file():
            break
    else:
        return ShopConfig()
    import yaml

    from ._yaml import YAMLExpansionError, load_user_yaml

    try:
        data = load_user_yaml(decode_bytes(path.read_bytes(), path=name))
    except YAMLExpansionError as exc:
        raise ShopError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ShopError(f"{path}: invalid YAML{where}; fix the file or remove it") from None
    except Exception as exc:
        raise ShopError(f"{path}: cannot be read: {exc}") from None
    if data is None:
        return ShopConfig()
    if not isinstance(data, dict):
        raise ShopError(f"{path}: expected a mapping of settings at the top level")
    try:
        return ShopConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ShopError(f"{path}: {problems}") from None
