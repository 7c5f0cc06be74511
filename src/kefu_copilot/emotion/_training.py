"""A shop's own escalation model: trained from its labelled conversations, kept next to its index.

:func:`~kefu_copilot.emotion._model.train_escalation` fits a model; this module gives it a home
(``<index_dir>/escalation-model.json``) so that every later :class:`~kefu_copilot.Copilot` over
the same index — and ``kefu chat`` — escalates with the shop's model instead of the rules alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputError

if TYPE_CHECKING:
    from ._model import EscalationModel

__all__ = ["MODEL_FILE", "load_shop_escalation", "train_shop_escalation"]

MODEL_FILE = "escalation-model.json"


def load_shop_escalation(index_dir: str | os.PathLike[str]) -> EscalationModel | None:
    """The escalation model saved next to the index, or None (the rules decide alone)."""
    path = Path(index_dir) / MODEL_FILE
    if not path.is_file():
        return None
    from ._model import EscalationModel  # numpy: imported when there is a model to load

    return EscalationModel.load(path)


def train_shop_escalation(
    index_dir: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    **options: Any,
) -> EscalationModel:
    """Fit the escalation model on labelled emotion cases (JSONL files) and save it next to the
    index. ``options`` go to :class:`EscalationModel` (``l2``, ``min_precision``, ...)."""
    files = [str(p) for p in paths]
    if not files:
        raise InputError("give at least one JSONL file of labelled emotion cases")
    from ._model import train_escalation

    try:
        model = train_escalation(files, **options)
    except OSError as exc:
        raise InputError(f"cannot read {exc.filename or files[0]}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a bad line, or labels all one way: one line that names the fix
        raise InputError(f"cannot train the escalation model: {exc}") from None
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    model.save(Path(index_dir) / MODEL_FILE)
    return model
