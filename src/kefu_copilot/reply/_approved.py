"""Approved replies (快捷短语) a shop keeps in its ``replies/`` folder (optional).

Each ``replies/*.yaml`` (or ``.yml``) file holds a list of entries, each ``.jsonl`` file one entry
a line: ``text`` (required; may hold ``{product}``, ``{order_id}``, ``{date}``), ``questions``
(customer turns it answers, for matching; without them the text itself is matched), ``id``,
``tags`` and ``greeting: true`` for an opening line offered when the customer only greets.
See docs/formats.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import ShopError

__all__ = ["ApprovedReply", "load_approved"]


@dataclass(frozen=True)
class ApprovedReply:
    """One approved reply; ``source`` is ``"replies/<file> <locator>"``."""

    text: str
    source: str
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    greeting: bool = False


_FIELDS = {"id", "text", "questions", "tags", "greeting"}


def load_approved(shop_dir: str | Path | None) -> list[ApprovedReply]:
    """The approved replies of ``shop_dir/replies`` (none when the folder is missing).
    ``ShopError`` names the file and entry of a malformed one."""
    folder = Path(shop_dir) / "replies" if shop_dir is not None else None
    if folder is None or not folder.is_dir():
        return []
    out: list[ApprovedReply] = []
    for path in sorted(folder.iterdir()):
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            entries = data if isinstance(data, list) else [data]
            out += [_entry(e, path, f"第{n}条") for n, e in enumerate(entries, 1)]
        elif path.suffix == ".jsonl":
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ShopError(f"replies/{path.name} line {n}: not JSON ({exc})") from None
                    out.append(_entry(entry, path, f"第{n}行"))
    return out


def _entry(entry: Any, path: Path, where: str) -> ApprovedReply:
    name = f"replies/{path.name} {where}"
    if not isinstance(entry, Mapping) or not isinstance(entry.get("text"), str):
        raise ShopError(f"{name}: an approved reply is a mapping with a 'text' string")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ShopError(f"{name}: unknown key {sorted(unknown)[0]!r}; known: {sorted(_FIELDS)}")
    label = f"replies/{path.name} {entry.get('id') or where}"
    return ApprovedReply(
        text=entry["text"].strip(),
        source=label,
        questions=tuple(str(q) for q in entry.get("questions") or ()),
        tags=tuple(str(t) for t in entry.get("tags") or ()),
        greeting=bool(entry.get("greeting", False)),
    )
