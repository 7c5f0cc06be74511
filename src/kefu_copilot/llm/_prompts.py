"""Prompt templates as files in ``prompts/``, each with a declared variable contract.

A template file::

    ---
    description: what the prompt is for
    variables: [shop_name, question]
    ---
    [system]
    你是{shop_name}的客服助手……
    [user]
    {question}

Placeholders are ``{name}``; literal braces are written ``{{`` and ``}}``. Loading checks that
the body uses exactly the declared variables; rendering without one of them raises
:class:`~kefu_copilot.PromptError` naming it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._errors import PromptError
from ._chat import ChatMessage

__all__ = ["PromptTemplate", "load_prompt", "prompt_dirs"]

_SECTION = re.compile(r"^\[(system|user|assistant)\]\s*$", re.M)


def prompt_dirs(extra: Path | None = None) -> list[Path]:
    """Where templates are looked up: ``extra`` first, then the package's, then a checkout's."""
    package = Path(__file__).resolve().parents[1]
    dirs = [extra] if extra else []
    dirs += [package / "prompts", package.parents[1] / "prompts"]
    return [d for d in dirs if d is not None and d.is_dir()]


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    description: str
    variables: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]

    def render(self, **values: Any) -> list[ChatMessage]:
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(f"prompt {self.name!r} needs the variable(s) {', '.join(missing)}")
        safe = {k: str(v) for k, v in values.items() if k in self.variables}
        return [
            {"role": role, "content": body.format_map(safe).strip()} for role, body in self.sections
        ]


def _placeholders(text: str) -> set[str]:
    names = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            if not field.isidentifier():
                raise PromptError(f"placeholder {{{field}}} is not a plain variable name")
            names.add(field)
    return names


def parse_prompt(name: str, text: str) -> PromptTemplate:
    import yaml

    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not match:
        raise PromptError(f"prompt {name!r} has no front matter declaring its variables")
    meta = yaml.safe_load(match.group(1)) or {}
    variables = tuple(str(v) for v in meta.get("variables") or [])
    body = text[match.end() :]
    parts = _SECTION.split(body)
    sections = tuple((parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2))
    if not sections:
        raise PromptError(f"prompt {name!r} has no [system]/[user] sections")
    used: set[str] = set()
    for _, section in sections:
        used |= _placeholders(section)
    if used != set(variables):
        raise PromptError(
            f"prompt {name!r}: declared variables {sorted(variables)} but the text uses {sorted(used)}"
        )
    return PromptTemplate(name, str(meta.get("description", "")), variables, sections)


@lru_cache(maxsize=64)
def _load(name: str, directories: tuple[Path, ...]) -> PromptTemplate:
    for directory in directories:
        path = directory / f"{name}.md"
        if path.is_file():
            return parse_prompt(name, path.read_text(encoding="utf-8"))
    raise PromptError(
        f"no prompt template {name!r} in {', '.join(map(str, directories)) or 'any prompts/ folder'}"
    )


def load_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """The template ``name`` (``prompts/<name>.md``); a user ``directory`` overrides the package's."""
    return _load(name, tuple(prompt_dirs(directory)))


def render(
    name: str, values: Mapping[str, Any], directory: Path | None = None
) -> list[ChatMessage]:
    return load_prompt(name, directory).render(**values)
