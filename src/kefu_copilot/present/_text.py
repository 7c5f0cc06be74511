"""Plain-text descriptions shared by the terminal (rich) and notebook (HTML) renderers, so both
say the same thing about a routed turn. Callers escape the result for their medium."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["describe_call", "describe_emotion"]


def describe_call(name: str, arguments: Mapping[str, Any]) -> str:
    """``get_order(order_id=123)``."""
    return f"{name}({', '.join(f'{k}={v}' for k, v in arguments.items())})"


def describe_emotion(flag: Any) -> str:
    """An EmotionFlag in one line: emotion, intensity, escalation score, whether it escalates."""
    line = f"{flag.emotion} ({flag.intensity:.2f}) · escalation score {flag.score:.2f}"
    return line + (" · escalate" if flag.escalate else "")
