"""The question as it is matched: what a shopper typed, made comparable with the shop's words.

Four repairs, each cheap and each leaving the customer-facing text alone:

* **personal data masked** (:func:`~._pii.redact`): a phone number or address in a product
  question is no evidence of anything the knowledge says, and must not look like an order number;
* **繁→简** with OpenCC (``pip install 'kefu-copilot[zh]'``; the reference C++ library's own
  wheel, offline, its dictionaries inside). Without it, the pure-Python
  ``opencc-python-reimplemented`` is used when installed, else text stays as typed;
* **English words and size letters** (``lipstick`` → 口红, ``size M`` → M码) from the
  ``vocabulary`` rule set's ``english`` table, which a shop extends;
* **typos against the shop's own vocabulary**, by sound (a packaged pinyin table): a character
  pair the knowledge never uses (包游, 快滴) becomes the word of the knowledge that sounds the
  same with one character changed (包邮, 快递). Only words the knowledge uses and the
  segmentation dictionary knows are proposed, so a repair never invents a topic.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .._data import DATA_DIR, packaged_rules
from ._normalize import normalize, remembered_when_short
from ._pii import PLACEHOLDERS, redact

__all__ = ["QueryRewriter", "Rewrite", "to_simplified"]

log = logging.getLogger(__name__)

_CJK_RUN = re.compile("[\u4e00-\u9fff]+")
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


@cache
def _converter() -> Callable[[str], str] | None:
    """OpenCC's Traditional → Simplified converter, or None when no OpenCC is installed.
    Both OpenCC's own wheel and opencc-python-reimplemented install the module ``opencc``."""
    try:
        import opencc
    except ImportError:
        log.info(
            "OpenCC is not installed: 繁體 questions are matched as typed (pip install OpenCC)"
        )
        return None
    for config in ("t2s", "t2s.json"):  # the config's name differs between the two packages
        try:
            convert: Callable[[str], str] = opencc.OpenCC(config).convert
            return convert
        except Exception:  # an unknown config name in this package
            continue
    return None


def to_simplified(text: str) -> str:
    """``text`` in Simplified Chinese (unchanged when OpenCC is not installed, or when it holds
    what UTF-8 cannot encode — a lone surrogate from a broken client — which OpenCC rejects).
    A short text (a question) is remembered: answering one converts it three or four times
    (the rules, the query rewrite, product identification, the emotion cues)."""
    return text if text.isascii() else _convert(text)


@remembered_when_short(200, 1024)
def _convert(text: str) -> str:
    convert = _converter()
    if convert is None:
        return text
    try:
        return convert(text)
    except UnicodeError:
        return text


@cache
def _pinyin() -> Callable[[str], str]:
    """Toneless pinyin of one character ("" for one without a reading): the packaged table
    ``data/pinyin.tsv`` (41,923 characters, generated from pypinyin by
    ``scripts/build_pinyin_table.py``), read once — pypinyin itself is not imported: it loads
    its whole phrase dictionary (~57 MB, ~200k objects every full garbage collection walks)
    where only single characters are asked."""
    sounds: dict[str, str] = {}
    with (DATA_DIR / "pinyin.tsv").open(encoding="utf-8") as table:
        for line in table:
            if line.startswith("#"):
                continue
            sound, _, chars = line.rstrip("\n").partition("\t")
            sounds.update(dict.fromkeys(chars, sound))
    get = sounds.get
    return lambda ch: get(ch, "")


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A question made matchable: ``text`` and the repairs made (for the trace)."""

    text: str
    repairs: tuple[str, ...] = ()


def _english_pattern(table: Mapping[str, str]) -> re.Pattern[str] | None:
    words = sorted((normalize(w) for w in table), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z])")


class QueryRewriter:
    """Rewrites questions for matching against one shop's knowledge. Thread-safe.

    ``known(word)``: whether the knowledge uses ``word``; ``in_dictionary(word)``: whether the
    segmenter knows it as a word; ``vocabulary``: the tokens of the knowledge (read only when a
    question has a pair the knowledge does not use, to learn how its characters sound)."""

    def __init__(
        self,
        rules: Mapping[str, Any] | None = None,
        *,
        known: Callable[[str], bool] | None = None,
        in_dictionary: Callable[[str], bool] | None = None,
        vocabulary: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        rules = packaged_rules("vocabulary") if rules is None else rules
        self._english = {normalize(k): str(v) for k, v in (rules.get("english") or {}).items()}
        self._english_re = _english_pattern(self._english)
        sizes = [str(s) for s in rules.get("size_letters") or ()]
        self._size_re = (
            re.compile(r"(?<![a-z])size\s*(" + "|".join(map(re.escape, sizes)) + r")(?![a-z])")
            if sizes
            else None
        )
        self._known = known
        self._in_dictionary = in_dictionary or (lambda w: True)
        self._vocabulary = vocabulary
        self._homophones: dict[str, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def __call__(self, question: str) -> Rewrite:
        repairs: list[str] = []
        masked = redact(question)
        text = question
        if masked:
            text = _PLACEHOLDER.sub(" ", masked.text)
            repairs.append("personal data masked: " + ", ".join(sorted(masked.kinds)))
        simple = to_simplified(text)
        if simple != text:
            repairs.append(f"繁→简: {simple}")
            text = simple
        text = normalize(text)
        if self._size_re is not None:
            text = self._size_re.sub(lambda m: f"{m.group(1)}码", text)
        if self._english_re is not None:
            english = self._english_re.sub(self._translate, text)
            if english != text:
                repairs.append(f"english: {english}")
                text = english
        repaired = self._repair(text)
        if repaired != text:
            repairs.append(f"typo: {repaired}")
            text = repaired
        return Rewrite(text.strip(), tuple(repairs))

    def _translate(self, m: re.Match[str]) -> str:
        """An English word the knowledge does not use, in the shop's language; one the knowledge
        uses itself (a product called "Toner", a "Pro" model) is left as the shop wrote it."""
        word = m.group()
        known = self._known
        if known is not None and all(known(w) for w in word.split()):
            return word
        return self._english[word]

    # -- typos ------------------------------------------------------------------------------------
    def _repair(self, text: str) -> str:
        known, sound = self._known, _pinyin()
        if known is None:
            return text
        out = []
        last = 0
        for run in _CJK_RUN.finditer(text):
            chars = list(run.group())
            i = 0
            while i < len(chars) - 1:
                pair = chars[i] + chars[i + 1]
                fixed = (
                    None
                    if known(pair) or self._in_a_word(chars, i)
                    else self._sound_alike(pair, sound)
                )
                if fixed is not None:
                    chars[i], chars[i + 1] = fixed[0], fixed[1]
                    i += 2
                else:
                    i += 1
            out.append(text[last : run.start()] + "".join(chars))
            last = run.end()
        out.append(text[last:])
        return "".join(out)

    def _in_a_word(self, chars: list[str], i: int) -> bool:
        """Whether a character of the pair at ``i`` belongs to a word with its neighbours
        (跑步鞋: 步鞋 is no typo of 布鞋)."""
        for start in range(max(0, i - 3), i + 2):
            for end in range(max(start + 2, i + 1), min(len(chars), start + 4) + 1):
                if (start, end) != (i, i + 2) and self._in_dictionary("".join(chars[start:end])):
                    return True
        return False

    def _sound_alike(self, pair: str, sound: Callable[[str], str]) -> str | None:
        """The knowledge's word that sounds like ``pair`` with one of its characters changed."""
        homophones = self._homophones_of(sound)
        assert self._known is not None
        found: list[str] = []
        for at in (0, 1):
            for ch in homophones.get(sound(pair[at]), ()):
                if ch == pair[at]:
                    continue
                word = pair[:at] + ch + pair[at + 1 :]
                if self._known(word) and self._in_dictionary(word):
                    found.append(word)
        return found[0] if len(found) == 1 else None  # two readings: no guess

    def _homophones_of(self, sound: Callable[[str], str]) -> dict[str, tuple[str, ...]]:
        if self._homophones is None:
            with self._lock:
                if self._homophones is None:
                    groups: dict[str, list[str]] = {}
                    for token in self._vocabulary() if self._vocabulary else ():
                        if len(token) == 1 and _CJK_RUN.fullmatch(token):
                            groups.setdefault(sound(token), []).append(token)
                    self._homophones = {k: tuple(v) for k, v in groups.items()}
        return self._homophones
