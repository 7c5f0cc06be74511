"""Labelled customer turns for training and measuring the escalation model.

Reads the JDDC data of ``../shared/evaldata`` (research-only data: used to fit weights, never
shipped as text) and emotion suites, and fixes the JDDC split that is never tuned on:
:func:`jddc_split` puts a dialogue in ``"untuned"`` when the first hex digit of the SHA-256 of its
dialogue id (``jddc-valid-d000`` of ``jddc-valid-d000-t08``) is even — about half of the 100
dialogues of ``jddc_satisfaction_turns.jsonl``. Training uses the other half and the 230
case-library dialogues (disjoint from both halves).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["jddc_split"]

_TURN = re.compile(r"[-_:]t\d+$")


def jddc_split(case_id: str) -> str:
    """``"untuned"`` or ``"train"`` for a JDDC turn id, by a hash of its dialogue id."""
    dialogue = _TURN.sub("", case_id)
    return (
        "untuned" if int(hashlib.sha256(dialogue.encode()).hexdigest()[0], 16) % 2 == 0 else "train"
    )
