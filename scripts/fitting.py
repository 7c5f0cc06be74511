"""What the line-ranker training scripts share: the suite cases of a dev shop, and the packaged
model file written the one way (the shipped files are reproduced byte for byte).

    from fitting import case_turn, suite_cases, write_model
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def suite_cases(shop: str, suites: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    """Each case of the shop's ``suites`` (in that order) with its suite's name; ``sample`` is
    the bundled sample shop's suites."""
    base = ROOT / "evals" if shop == "sample" else ROOT / "evals/shops" / shop
    out = []
    for suite in suites:
        path = base / f"{suite}.jsonl"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            out += [(suite, json.loads(raw)) for raw in lines if raw.strip()]
    return out


def case_turn(suite: str, case: dict[str, Any]) -> tuple[str, list[Any]] | None:
    """The customer's turn a case asks about and the conversation before it (``Message``s): a
    reply case's last customer turn of its ``conversation``, else its ``question`` and
    ``history``; None when a reply case has no customer turn."""
    from kefu_copilot._models import Message

    if suite == "reply":
        turns = [m for m in case["conversation"] if m.get("text")]
        customer = [n for n, m in enumerate(turns) if m["role"] == "customer"]
        if not customer:
            return None
        history = [Message(role=m["role"], text=m["text"]) for m in turns[: customer[-1]]]
        return turns[customer[-1]]["text"], history
    return case["question"], [Message(**m) for m in case.get("history") or []]


def write_model(path: Path, doc: str, **fields: Any) -> None:
    """The packaged model file: ``_doc`` first, then ``fields`` in order, indented by one."""
    path.write_text(
        json.dumps({"_doc": doc, **fields}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
