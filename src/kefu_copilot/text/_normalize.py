"""Chinese text handling: decoding, normalisation, sentence splitting.

Everything here is pure and cheap; tokenisation lives in :mod:`kefu_copilot.text._tokenize`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from .._errors import IngestError

__all__ = [
    "bounded",
    "decode_bytes",
    "normalize",
    "split_sentences",
    "strip_invisible",
]

# Zero-width and bidi control characters are used to hide text from people; they carry no meaning.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded(text: str, limit: int) -> str:
    """``text`` as the copilot reads a message: at most ``limit`` characters (its head), and
    what UTF-8 cannot encode — a lone surrogate from a broken client, which the embedding
    model's tokenizer and OpenCC reject — replaced by "?". A message far longer than any
    shopper writes (a pasted log, an attack) costs what ``limit`` characters cost: several
    readings are linear per clause but not per message."""
    if len(text) > limit:
        text = text[:limit]
    if not text.isascii() and _SURROGATE.search(text):
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def strip_invisible(text: str) -> str:
    """Drop zero-width, bidi-control and C0 control characters (keeps newlines and tabs)."""
    return _CONTROL.sub("", _INVISIBLE.sub("", text))


_Read = TypeVar("_Read")


def remembered_when_short(
    chars: int, maxsize: int
) -> Callable[[Callable[[str], _Read]], Callable[[str], _Read]]:
    """A reading of a text remembered for texts up to ``chars`` long, ``maxsize`` of them:
    answering one question reads the same question, rule cues, titles and table cells again and
    again; a longer text (a chunk at ingest) is read afresh. For readings whose result is not
    changed by its callers (a string, a tuple). The reading itself is ``__wrapped__``."""

    def remember(read: Callable[[str], _Read]) -> Callable[[str], _Read]:
        cached = lru_cache(maxsize=maxsize)(read)

        @wraps(read)
        def reading(text: str) -> _Read:
            return cached(text) if len(text) <= chars else read(text)

        return reading

    return remember


@remembered_when_short(64, 16_384)  # ~13 µs each, 6 % of an answer at 10k chunks
def normalize(text: str) -> str:
    """Normalise for matching: NFKC (full-width → half-width), lower case, invisible chars gone.

    Used for tokens and comparisons only; customer-facing text keeps its original form.
    Short texts are remembered: answering one question normalises the same rule cues, titles
    and table cells a hundred times.
    """
    return unicodedata.normalize("NFKC", strip_invisible(text)).lower()


def decode_bytes(data: bytes, *, path: str | None = None) -> str:
    """Decode a knowledge file: UTF-8 (with or without BOM), else GB18030 (a superset of GBK),
    else Big5; UTF-16 with a BOM, or without one when its NUL bytes show the byte order.

    GB18030 decodes almost any byte sequence, Big5 included (as nonsense), so Big5 is chosen
    only when the GB18030 reading is implausible (see :func:`_common_share`) and the Big5
    reading is plausible: GB text is never re-read as Big5.
    Raises :class:`IngestError` for binary content or an undecodable encoding.
    """
    if not data:
        return ""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"invalid UTF-16 text: {exc.reason}", path=path) from None
    if b"\x00" in head:
        utf16 = _utf16_without_bom(data, head)
        if utf16 is None:
            raise IngestError(
                "looks like a binary file (NUL bytes); expected UTF-8 or GBK text", path=path
            )
        return utf16
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        # A UTF-8 file cut in the middle of a character: keep what is there.
        if utf8_error.start >= len(data) - 3 and utf8_error.reason.startswith("unexpected end"):
            return data[: utf8_error.start].decode("utf-8-sig")
    try:
        text: str | None = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    gb_share = _common_share(text, "gb18030") if text is not None else 0.0
    if text is None or gb_share < _PLAUSIBLE or _looks_binary(text):
        big5 = _decode_or_none(data, "big5")
        if big5 is not None and not _looks_binary(big5):
            big5_share = _common_share(big5, "big5")
            if big5_share >= _BIG5_PLAUSIBLE and big5_share > gb_share:
                return big5
    if text is None:
        raise IngestError(
            "not valid UTF-8, GB18030/GBK or Big5 text; re-save the file as UTF-8", path=path
        )
    if _looks_binary(text):
        raise IngestError("looks like a binary file; expected UTF-8 or GBK text", path=path)
    return text


# Share of a text's non-ASCII characters that are common in its encoding (see _common_share):
# real GB text is ~1.0, Big5 bytes read as GB far lower; below this, Big5 is tried.
_PLAUSIBLE = 0.8
_BIG5_PLAUSIBLE = 0.9
# Lead bytes of each encoding's common characters: GB2312 rows 1-3 (punctuation, numbers,
# full-width forms) and level 1 (the 3,755 most frequent hanzi); Big5's symbols and its
# 5,401 frequent characters (A140-C67E).
_COMMON_LEADS = {"gb18030": ((0xA1, 0xA3), (0xB0, 0xD7)), "big5": ((0xA1, 0xC6),)}
_COMMON_TRAILS = {"gb18030": (0xA1, 0xFE), "big5": (0x40, 0xFE)}


def _common_share(text: str, encoding: str) -> float:
    """How much of ``text`` (its non-ASCII characters) is made of the encoding's common
    characters. The right reading of a file scores near 1; a wrong one lands on rare
    characters, kana and symbols for a large part."""
    leads, (low, high) = _COMMON_LEADS[encoding], _COMMON_TRAILS[encoding]
    total = common = 0
    for ch in text[:4000]:
        if ch < "\x80":
            continue
        total += 1
        if "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e":
            common += 1
            continue
        try:
            code = ch.encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(code) == 2 and low <= code[1] <= high:
            common += any(first <= code[0] <= last for first, last in leads)
    return common / total if total else 1.0


def _decode_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _utf16_without_bom(data: bytes, head: bytes) -> str | None:
    """UTF-16 text without a byte-order mark, or None. In UTF-16 the ASCII characters (line
    ends, digits, commas) have one NUL byte each, all on the same side of their pair: odd
    offsets for little-endian, even for big-endian (a few hanzi such as 一 U+4E00 put one on
    the other side). Binary data puts its NULs anywhere."""
    if len(data) % 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < 2 or min(even, odd) * 4 > max(even, odd):
        return None
    text = _decode_or_none(data, "utf-16-le" if odd > even else "utf-16-be")
    if text is None or _looks_binary(text) or "\x00" in text:
        return None
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4000]
    if not sample:
        return False
    odd = sum(
        1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\r\t"
    )
    # GB18030 maps almost any byte sequence somewhere; rare CJK extension blocks are a tell too.
    rare = sum(1 for ch in sample if "\u3400" <= ch <= "\u4dbf")
    return (odd + rare) / len(sample) > 0.05


# A sentence runs up to Chinese or Western end punctuation (with closing quotes/brackets) or a
# newline. A Western full stop only ends a sentence before white space, so "3.5 kg" stays whole.
_SENTENCE = re.compile(
    r"(?:[^。！？；!?;…\n.]|\.(?!\s|$))+(?:[。！？；!?;…]+|\.(?=\s|$))?[”’」』）)\"']*"
)
_SENTENCE_NO_SEMICOLON = re.compile(
    r"(?:[^。！？!?…\n.]|\.(?!\s|$))+(?:[。！？!?…]+|\.(?=\s|$))?[”’」』）)\"']*"
)


def split_sentences(text: str, *, semicolons: bool = True) -> list[str]:
    """Split Chinese (and mixed) text into sentences on 。！？ newlines (and ； unless told not to),
    full-width or half-width."""
    out: list[str] = []
    pattern = _SENTENCE if semicolons else _SENTENCE_NO_SEMICOLON
    for match in pattern.finditer(text):
        part = _SPACES.sub(" ", match.group()).strip()
        if part and not _is_punctuation_only(part):
            out.append(part)
    return out


def _is_punctuation_only(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZS" for ch in text)


def collapse_spaces(text: str) -> str:
    """Collapse runs of spaces (ASCII, full-width, nbsp) into one and trim each line."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
