"""The blind shops' folds (``evals/shops/folds.json``): which are read (dev), which train the
escalation model unread, which are held out. One source for the evaluation and fitting scripts.

    from folds import dev_shops, held_out_shops, trained_shops, written_in
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FOLDS_FILE = Path(__file__).resolve().parents[1] / "evals" / "shops" / "folds.json"


@cache
def folds() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(FOLDS_FILE.read_text(encoding="utf-8"))["folds"])


def _shops(keep: Any) -> tuple[str, ...]:
    return tuple(s for f in folds() if keep(f) for s in f["shops"])


def dev_shops() -> tuple[str, ...]:
    """Shops whose cases and failures are read, in the order their folds were read."""
    read = sorted((f for f in folds() if f["read_from_round"] is not None),
                  key=lambda f: (f["read_from_round"], f["fold"]))  # fmt: skip
    return tuple(s for f in read for s in f["shops"])


def trained_shops() -> tuple[str, ...]:
    """Never read, but their emotion turns train the packaged escalation model."""
    return _shops(lambda f: f["read_from_round"] is None and f.get("trained"))


def held_out_shops() -> tuple[str, ...]:
    """Never read, never fitted on: figures only."""
    return _shops(lambda f: f["read_from_round"] is None and not f.get("trained"))


def written_in(round_: int) -> tuple[str, ...]:
    """The fold written blind in round ``round_`` (never read in that round)."""
    return _shops(lambda f: f["written_in_round"] == round_)
