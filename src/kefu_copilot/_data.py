"""Rules as data: the packaged rule sets (``kefu_copilot/data/*.yaml``) and a shop's extensions.

Every lexicon, intent, template and phrase list the copilot uses lives in one YAML file per
rule set under the package's ``data/`` folder, shipped in the wheel and read once, on first use.
A shop extends or replaces any key of any rule set from ``shop.yaml``::

    rules:
      emotion:
        safety_words: [冒烟, 漏电]          # a list is appended to the packaged list
      reply:
        greeting: {replace: "宝子好呀"}     # {replace: value} replaces the packaged value
      vocabulary:
        groups: {replace: [[色号, 颜色]]}

Mappings merge key by key (recursively), lists are extended (duplicates dropped, order kept),
scalars are replaced. The top-level keys of a rule set are its schema: a key it does not have,
or a value of another shape, is a :class:`~kefu_copilot.ShopError` naming ``rules.<set>.<key>``.
Nested mappings hold data (an intent's name → its cues): a shop may add entries shaped like
their siblings.

A rule-set file starts with a ``_doc`` string (what the set is for; ignored by consumers).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from copy import deepcopy
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast

from ._errors import ShopError

__all__ = [
    "DATA_DIR",
    "RuleCompiler",
    "compiled",
    "merge_rules",
    "packaged_rules",
    "rule_set_names",
    "validate_extension",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_LOCK = threading.Lock()
T = TypeVar("T")


def rule_set_names() -> list[str]:
    """The names of the packaged rule sets (file stems under ``data/``)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


@cache
def _read(name: str) -> Mapping[str, Any]:
    import yaml

    path = DATA_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ShopError(
            f"unknown rule set {name!r}; the packaged rule sets are: {', '.join(rule_set_names())}"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster to read
    with _LOCK:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader
    if not isinstance(data, dict):
        raise ShopError(f"{path}: a rule set is a mapping of keys at the top level")
    data.pop("_doc", None)
    return MappingProxyType(data)


def packaged_rules(name: str) -> Mapping[str, Any]:
    """The packaged rule set ``name`` (read-only; read once per process)."""
    return _read(name)


def _same_shape(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float) and isinstance(value, int | float):
        return True
    if isinstance(default, Mapping):
        return isinstance(value, Mapping)
    if isinstance(default, list):
        return isinstance(value, list)
    if default is None:
        return True
    return isinstance(value, type(default))


def _merge(default: Any, ext: Any, where: str) -> Any:
    if isinstance(ext, Mapping) and set(ext) == {"replace"}:
        value = ext["replace"]
        if not _same_shape(default, value):
            raise ShopError(
                f"shop.yaml: {where}: expected {type(default).__name__}, got {type(value).__name__}"
            )
        return deepcopy(value)
    if not _same_shape(default, ext):
        raise ShopError(
            f"shop.yaml: {where}: expected {type(default).__name__} "
            f"(or {{replace: ...}}), got {type(ext).__name__}"
        )
    if isinstance(default, Mapping):
        out = {k: deepcopy(v) for k, v in default.items()}
        top = where.count(".") == 1  # rules.<set>: the set's own keys are a fixed schema
        for key, value in ext.items():
            if key in default:
                out[key] = _merge(default[key], value, f"{where}.{key}")
            elif not top and _fits_siblings(default, value):
                out[key] = deepcopy(value)  # nested mappings hold data (intent → cues, ...)
            else:
                known = ", ".join(map(str, default))
                raise ShopError(f"shop.yaml: {where}.{key}: unknown key; known keys: {known}")
        return out
    if isinstance(default, list):
        out_list = list(default)
        out_list.extend(v for v in ext if v not in out_list)
        return out_list
    return deepcopy(ext)


def _fits_siblings(default: Mapping[str, Any], value: Any) -> bool:
    """A new key in a nested mapping (its keys are data, e.g. intent name → cues) must hold a
    value of its siblings' shape."""
    return not default or any(_same_shape(v, value) for v in default.values())


def validate_extension(rules: Any) -> dict[str, dict[str, Any]]:
    """Check a ``shop.yaml`` ``rules`` mapping against the packaged sets; return it normalised."""
    if rules is None:
        return {}
    if not isinstance(rules, Mapping):
        raise ShopError("shop.yaml: rules: expected a mapping of rule-set names")
    names = rule_set_names()
    out: dict[str, dict[str, Any]] = {}
    for name, ext in rules.items():
        if name not in names:
            raise ShopError(f"shop.yaml: rules.{name}: unknown rule set; known: {', '.join(names)}")
        if not isinstance(ext, Mapping):
            raise ShopError(f"shop.yaml: rules.{name}: expected a mapping of keys")
        merge_rules(name, ext)  # raises on the first bad key
        out[str(name)] = dict(ext)
    return out


def merge_rules(name: str, extension: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """The packaged rule set ``name`` with a shop's extension applied (a fresh mapping)."""
    base = packaged_rules(name)
    if not extension:
        return base
    return MappingProxyType(_merge(dict(base), extension, f"rules.{name}"))


# ---------------------------------------------------------------------------- compiled once
_COMPILED: dict[tuple[Any, int], tuple[Mapping[str, Any], Any]] = {}
_BY_CONTENT: dict[tuple[Any, Any], Any] = {}
_CACHE_SIZE = 64  # distinct rule sets per compiler (one per shop in practice)


def _frozen(value: Any) -> Any:
    """A hashable copy of rule data; mapping order is kept (it can matter, e.g. rewrite order)."""
    if isinstance(value, Mapping):
        return ("{}", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("[]", tuple(_frozen(v) for v in value))
    return (type(value).__name__, value)


def compiled(rules: Mapping[str, Any], build: Callable[[Mapping[str, Any]], T]) -> T:
    """``build(rules)`` (regexes compiled from a rule set), once per distinct rule set.

    Looked up by the mapping's identity first (``packaged_rules`` and ``ShopConfig.rule_set``
    return the same mapping every time), then by content, so two shops with the same extension
    share one compiled set. ``build`` errors (a bad pattern in a shop's extension) are not cached.
    """
    key = (build, id(rules))
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is rules:
        return cast(T, hit[1])
    content = (build, _frozen(rules))
    value = _BY_CONTENT.get(content)
    if value is None:
        value = build(rules)
        with _LOCK:
            if len(_BY_CONTENT) >= _CACHE_SIZE:
                _BY_CONTENT.clear()
            _BY_CONTENT[content] = value
    with _LOCK:
        if len(_COMPILED) >= _CACHE_SIZE:
            _COMPILED.clear()
        _COMPILED[key] = (rules, value)  # holds `rules`, so its id is not reused meanwhile
    return cast(T, value)


class RuleCompiler:
    """Turns the pattern text of one rule set into regexes; errors name ``rules.<set>.<key>``.

    ``{NAME}`` in a pattern stands for the rule set's ``macros`` entry ``NAME`` (a list there is
    an alternation); a list of patterns is one alternation (each alternative in ``(?:...)`` when
    ``wrap``).
    """

    def __init__(self, name: str, rules: Mapping[str, Any]) -> None:
        self.name, self.rules = name, rules
        self.macros = {
            f"{{{macro}}}": value if isinstance(value, str) else "|".join(map(str, value))
            for macro, value in (rules.get("macros") or {}).items()
        }

    def error(self, where: str, message: str) -> ShopError:
        return ShopError(f"rules.{self.name}.{where}: {message}")

    def text(self, where: str, pattern: Any, wrap: bool = False) -> str:
        """The source of one pattern or list of patterns, macros expanded; checked to compile."""
        if isinstance(pattern, list | tuple):
            alternatives = [str(p) for p in pattern]
            pattern = "|".join(f"(?:{a})" if wrap else a for a in alternatives)
        if not isinstance(pattern, str):
            raise self.error(where, "expected a pattern or a list of patterns")
        for token, value in self.macros.items():
            pattern = pattern.replace(token, value)
        self._compile(where, pattern, 0)
        return pattern

    def regex(
        self, where: str, pattern: Any, flags: int = 0, wrap: bool = False
    ) -> re.Pattern[str]:
        return self._compile(where, self.text(where, pattern, wrap), flags)

    def key(self, key: str, flags: int = 0) -> re.Pattern[str]:
        """The pattern of the rule set's top-level ``key``."""
        return self.regex(key, self.rules[key], flags)

    def same_names(self, keys: tuple[str, ...]) -> None:
        """Mappings whose keys the code reads by name keep the packaged names: a shop changes
        their values, it cannot add or drop one."""
        packaged = packaged_rules(self.name)
        for key in keys:
            have, want = set(self.rules[key]), set(packaged[key])
            for name in sorted(have - want):
                known = ", ".join(packaged[key])
                raise self.error(f"{key}.{name}", f"unknown name; known: {known}")
            for name in sorted(want - have):
                raise self.error(key, f"{name!r} is missing")

    def _compile(self, where: str, source: str, flags: int) -> re.Pattern[str]:
        try:
            return re.compile(source, flags)
        except re.error as exc:
            raise self.error(where, f"not a regular expression ({exc})") from None
