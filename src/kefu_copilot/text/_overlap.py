"""What a shopper's words and a line of the knowledge share, counted by characters: the Chinese
characters and the ASCII runs (GPS, app, 2024) of normalised text, and the character pairs
(bigrams) of its runs of Chinese. One source for the pre-sales advisor's matching and line
ranker and the extractive answer's line ranker."""

from __future__ import annotations

import re
from collections.abc import Collection

from ._normalize import normalize

__all__ = ["ASCII_RUN", "bigrams", "shared_characters"]

_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
#: an ASCII run of normalised text (GPS, app, 2024): a word of its own, never counted by letters
ASCII_RUN = re.compile(r"[a-z0-9]+")


def shared_characters(norm: str, chars: Collection[str], tokens: Collection[str]) -> int:
    """How much of a shopper's words the normalised text ``norm`` states: each of ``chars``
    (Chinese characters) it holds once, each of ``tokens`` (ASCII runs) it holds as a run of
    its own twice."""
    runs = set(ASCII_RUN.findall(norm)) if tokens else set()
    return sum(ch in norm for ch in chars) + 2 * sum(t in runs for t in tokens)


def bigrams(phrase: str) -> list[str]:
    """The character pairs of ``phrase`` within its runs of Chinese (an ASCII run is one)."""
    out: list[str] = []
    for run in _RUN.findall(normalize(phrase)):
        pairs = (
            [run]
            if run.isascii() or len(run) < 3
            else [run[i : i + 2] for i in range(len(run) - 1)]
        )
        out.extend(p for p in pairs if len(p) > 1 and p not in out)
    return out
