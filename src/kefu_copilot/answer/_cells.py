"""Whether a question says a table cell: a cell part said (its longest piece), a number inside a
range cell ("34码" in "33-37码"), an ASCII/number token said whole. Shared by the typed catalogue's
attribute reading (:mod:`._attributes`) and the row ranker's features (:mod:`._rows`)."""

from __future__ import annotations

import re
from functools import lru_cache

from ..text._normalize import normalize

_CJK = re.compile("[\u4e00-\u9fff]")
_ASCII_TOKEN = re.compile(r"[a-z0-9][a-z0-9.]*")


_CELL_RANGE = re.compile(r"^(\d+)\s*[-–~～至到]\s*(\d+)\s*([\u4e00-\u9fff]?)$")


@lru_cache(maxsize=16_384)
def _cell_range(cell: str) -> tuple[int, int, str] | None:
    """A range cell's bounds and unit ("33-37码": 33, 37, 码), or None (read once a cell)."""
    m = _CELL_RANGE.match(normalize(cell).strip())
    if m is None or not m.group(3):
        return None
    return int(m.group(1)), int(m.group(2)), m.group(3)


def _in_range(norm: str, cell: str) -> tuple[str, int] | None:
    """A number of the question, with the unit the cell names ("34码"), that falls inside a
    range cell ("33-37码"), and where; None when there is none."""
    bounds = _cell_range(cell)
    if bounds is None:
        return None
    low, high, unit = bounds
    for said in re.finditer(rf"(?<![\d.])(\d+)\s*{re.escape(unit)}", norm):
        if low <= int(said.group(1)) <= high:
            return said.group(), said.start()
    return None


def said_of(norm: str, part: str, said: frozenset[str] | None = None) -> tuple[str, int] | None:
    """The longest piece of a cell part the question says (two characters at least; an
    ASCII/number part only whole), and where. ``said``: the question's two-character pieces
    (:func:`_question_pairs`), when the caller reads many parts against one question."""
    pairs = _pairs(part)
    if pairs is None:  # an ASCII/number part, or one without a Chinese character
        at = _find(norm, part)
        return (part, at) if at >= 0 else None
    if pairs.isdisjoint(_question_pairs(norm) if said is None else said):
        return None  # no two characters of it said: no longer piece either
    for size in range(min(len(part), 12), 1, -1):
        for k in range(len(part) - size + 1):
            piece = part[k : k + size]
            at = norm.find(piece)
            if at >= 0 and _CJK.search(piece):
                return piece, at
    return None


@lru_cache(maxsize=4096)
def _pairs(part: str) -> frozenset[str] | None:
    """The two-character pieces of a cell part (40 characters at most), None for a part said
    only whole (ASCII/number, no Chinese character); remembered: one question is matched
    against every cell of a product's tables."""
    if _ASCII_TOKEN.fullmatch(part) or not _CJK.search(part):
        return None
    return frozenset(part[k : k + 2] for k in range(len(part) - 1))


@lru_cache(maxsize=64)
def _question_pairs(norm: str) -> frozenset[str]:
    """:func:`_pairs` of a question (a few kept: an answer matches one question many times)."""
    return frozenset(norm[k : k + 2] for k in range(len(norm) - 1))


_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?)[a-z]+$")
_BARE_END = r"(?=的|款|呢|$|\s|[?？,，])"


def _find(norm: str, part: str) -> int:
    """Where ``part`` stands in the question: an ASCII/number token only as a whole token
    (the "M" of "M码", not of "mm"); a cell that is only a number ("399元" prices) never."""
    if part not in norm and ((unit := _NUMBER_UNIT.match(part)) is None or unit[1] not in norm):
        return -1  # not said, nor its number alone (most parts a question is read against)
    if _ASCII_TOKEN.fullmatch(part):
        if part.replace(".", "").isdigit() and len(part) > 3:
            return -1
        # (a pattern is built only when the part, or its number, is said at all)
        m = (
            re.search(rf"(?<![a-z0-9.]){re.escape(part)}(?![a-z0-9.])", norm)
            if part in norm
            else None
        )
        if m is None and (unit := _NUMBER_UNIT.match(part)) and unit.group(1) in norm:
            # the number alone, as a follow-up names a variant by it ("那50的呢" of 50ml)
            m = re.search(rf"(?<![a-z0-9.¥￥]){re.escape(unit.group(1))}{_BARE_END}", norm)
        return m.start() if m else -1
    if part not in norm or re.fullmatch(r"[\d.]+\s*(?:元|块|%|g|ml|mm|cm|w|mah|kg)", part):
        return -1
    return norm.find(part)
