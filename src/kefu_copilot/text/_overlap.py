"""What a shopper's words and a line of the knowledge share, counted by characters: the Chinese
characters and the ASCII runs (GPS, app, 2024) of normalised text, and the character pairs
(bigrams) of its runs of Chinese. One source for the pre-sales advisor's matching and line
ranker and the extractive answer's line ranker."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from ._normalize import normalize

__all__ = ["ASCII_RUN", "AskedWords", "bigrams", "shared_characters"]

_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
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


@dataclass(frozen=True)
class AskedWords:
    """A shopper's words as the line rankers count them in a line: its Chinese characters, ASCII
    runs and character pairs, those the page's title states left out (they say which product,
    not what is asked)."""

    chars: frozenset[str]
    tokens: frozenset[str]
    pairs: tuple[str, ...]

    @classmethod
    def of(cls, norm: str, title: str = "", raw: str | None = None) -> AskedWords:
        """The words of the normalised question ``norm`` not in the normalised ``title``; the
        pairs are read from ``raw`` (the question as asked) where given, else from ``norm``."""
        return cls(
            frozenset(ch for ch in norm if _CJK.match(ch) and ch not in title),
            frozenset(t for t in ASCII_RUN.findall(norm) if t not in title),
            tuple(b for b in bigrams(norm if raw is None else raw) if b not in title),
        )

    def shared(self, norm: str) -> tuple[int, int]:
        """How many of them the normalised line ``norm`` states: characters (an ASCII run
        twice, :func:`shared_characters`) and pairs."""
        chars = shared_characters(norm, self.chars, self.tokens)
        return chars, sum(b in norm for b in self.pairs)

    def shares(self, chars: int, pairs: int) -> tuple[float, float]:
        """Those counts as shares of the question's characters and of its pairs."""
        return chars / max(len(self.chars) + 2 * len(self.tokens), 1), pairs / max(
            len(self.pairs), 1
        )
