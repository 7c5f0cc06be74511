"""Chinese text handling: decoding, normalisation, sentence splitting.

Everything here is pure and cheap; tokenisation lives in :mod:`kefu_copilot.text._tokenize`.
"""

from __future__ import annotations

import re
import unicodedata

from .._errors import IngestError

__all__ = [
    "decode_bytes",
    "normalize",
    "split_sentences",
    "strip_invisible",
]

# Zero-width and bidi control characters are used to hide text from people; they carry no meaning.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


def strip_invisible(text: str) -> str:
    """Drop zero-width, bidi-control and C0 control characters (keeps newlines and tabs)."""
    return _CONTROL.sub("", _INVISIBLE.sub("", text))


def normalize(text: str) -> str:
    """Normalise for matching: NFKC (full-width → half-width), lower case, invisible chars gone.

    Used for tokens and comparisons only; customer-facing text keeps its original form.
    """
    return unicodedata.normalize("NFKC", strip_invisible(text)).lower()


def decode_bytes(data: bytes, *, path: str | None = None) -> str:
    """Decode a knowledge file: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

    Raises :class:`IngestError` for binary content or an undecodable encoding.
    """
    if not data:
        return ""
    head = data[:8192]
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise IngestError(
            "looks like a binary file (NUL bytes); expected UTF-8 or GBK text", path=path
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"invalid UTF-16 text: {exc.reason}", path=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        # A UTF-8 file cut in the middle of a character: keep what is there.
        if utf8_error.start >= len(data) - 3 and utf8_error.reason.startswith("unexpected end"):
            return data[: utf8_error.start].decode("utf-8-sig")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise IngestError(
            "not valid UTF-8 or GB18030/GBK text; re-save the file as UTF-8", path=path
        ) from None
    if _looks_binary(text):
        raise IngestError("looks like a binary file; expected UTF-8 or GBK text", path=path)
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
