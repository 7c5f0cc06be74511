"""Chinese-aware tokenisation for lexical retrieval: jieba words + character bigrams + synonyms.

A whole Chinese sentence is *not* a token (the stock llama-index BM25 makes that mistake). We emit
jieba words, the character bigrams of every CJK run (robust to segmentation errors and to words
jieba does not know), and ASCII/digit runs such as SKU codes, sizes and prices. Shop synonyms are
folded to one canonical word before tokenising, so "寄出" matches "发货".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from math import log
from pathlib import Path
from sys import intern
from typing import Any, Protocol, runtime_checkable

from .._data import packaged_rules
from ._normalize import normalize

__all__ = ["STOPWORDS", "ChineseTokenizer", "Tokenizer", "stopword_list"]


@runtime_checkable
class Tokenizer(Protocol):
    """Turns text into the tokens used for lexical matching."""

    def tokenize(self, text: str) -> list[str]: ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the same text would be tokenised differently."""
        ...


#: The packaged stop words (``data/stopwords.yaml``; read on first use). A tokenizer built with a
#: shop's ``stopwords`` rule set has its own: :attr:`ChineseTokenizer.stopwords`.
STOPWORDS: frozenset[str]


def stopword_list(rules: Mapping[str, Any] | None = None) -> list[str]:
    """The stop words of ``rules`` (a shop's merged ``stopwords`` rule set) or the packaged ones."""
    rules = packaged_rules("stopwords") if rules is None else rules
    return [str(w) for w in rules["words"]]


@lru_cache(maxsize=1)
def _packaged_stopwords() -> frozenset[str]:
    return frozenset(stopword_list())


def __getattr__(name: str) -> Any:
    if name == "STOPWORDS":
        return _packaged_stopwords()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_ALNUM = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_WORD_OK = re.compile(f"[{_CJK}a-z0-9]")
#: Texts up to this long (questions, titles, rule phrases) have their words remembered, up to
#: this many texts per tokenizer.
_REMEMBERED_CHARS = 200
_REMEMBERED_TEXTS = 256
# Long texts (a pasted page, a long agent draft, a chunk at ingest) are remembered apart, only
# the last few: one reply reads its draft many times (topics, clauses, facts), and a
# 4,000-character draft took sixteen jieba passes before; a handful of entries bounds the
# memory whatever their length. A chunk indexed once pays a copy of its words, not a segmentation.
_REMEMBERED_LONG = 4
#: jieba cuts a text block by block (runs of CJK/ASCII between punctuation and spaces), each on
#: its own: blocks up to this long have their cut remembered, up to this many per tokenizer. A
#: text the memory of whole texts has not seen — a question with its rule phrases taken out (they
#: become spaces) — reuses the cut of every block it shares with one cut before.
_BLOCK_CHARS = 48
_REMEMBERED_BLOCKS = 4096


_ENGLISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SKIP = re.compile(r"(\r\n|\s)")  # jieba's re_skip_default


def _dag_cut(freq: Mapping[str, int], total: int, block: str) -> list[str]:
    """``jieba.Tokenizer.lcut(block, HMM=False)`` of one block of jieba's block pattern, the
    same words by the same arithmetic (the prefix DAG, the route of greatest log frequency
    from the end, single ASCII letters and digits joined), without jieba's per-call set-up,
    generators and second block split: segmentation is a tenth of answering a question and
    most of ingesting a chunk. (``test_text`` checks it against jieba's own cut.)"""
    get = freq.get
    n = len(block)
    logtotal = log(total)
    route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
    for k in range(n - 1, -1, -1):
        # the words starting at k (jieba's get_DAG: ``while i < N and frag in FREQ``), each
        # scored as calc() scores it: log(freq) - log(total) + the best route after it
        best = -1
        score = 0.0
        i = k
        f = get(block[k])
        while f is not None:
            if f:
                s = log(f) - logtotal + route[i + 1][0]
                if best < 0 or s >= score:  # max() of (score, end): a tie goes to the longer
                    best, score = i, s
            i += 1
            if i >= n:
                break
            f = get(block[k : i + 1])
        if best < 0:  # no word starts here: the character alone, of frequency 1
            best, score = k, 0.0 - logtotal + route[k + 1][0]
        route[k] = (score, best)
    out: list[str] = []
    buf = ""
    x = 0
    while x < n:
        y = route[x][1] + 1
        word = block[x:y]
        if len(word) == 1 and word in _ENGLISH:
            buf += word
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(word)
        x = y
    if buf:
        out.append(buf)
    return out


def _jieba_cut(freq: Mapping[str, int], total: int, block: str, han: re.Pattern[str]) -> list[str]:
    """jieba's accurate cut without HMM of one piece of ``han.split(text)`` (``han``: jieba's
    block pattern): a block by its DAG, anything else a whitespace run or a character at a time."""
    if han.match(block):
        return _dag_cut(freq, total, block)
    out: list[str] = []
    for piece in _SKIP.split(block):
        if _SKIP.match(piece):
            out.append(piece)
        else:
            out.extend(piece)
    return out


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default dictionary, loaded once per process and copied per tokenizer.

    jieba keeps its prefix dictionary as a marshal file that takes ~1 s to load; we keep a JSON
    copy in the user's cache directory that orjson reads in ~0.2 s (every cold start and every
    ingest worker pays this). JSON, unlike a pickle, is safe to read whoever wrote it."""
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    path = _dictionary_cache_path(jieba)
    if path is not None:
        with contextlib.suppress(OSError, ValueError, ImportError):
            import orjson

            data = orjson.loads(path.read_bytes())
            freq, total = data["freq"], data["total"]
            if isinstance(freq, dict) and isinstance(total, int) and freq:
                return freq, total
    base = jieba.Tokenizer()
    base.initialize()
    if path is not None:
        with contextlib.suppress(OSError, ImportError, TypeError):
            import orjson

            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps({"total": base.total, "freq": base.FREQ}))
            os.replace(tmp, path)
    return base.FREQ, base.total


def _dictionary_cache_path(jieba: Any) -> Path | None:
    """``<user cache dir>/kefu-copilot/jieba-<version>-<dictionary size and mtime>.json``
    (platformdirs: ``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, the OS's own place elsewhere)."""
    try:
        source = Path(jieba.__file__).parent / "dict.txt"
        stat = source.stat()
    except (OSError, AttributeError, TypeError):
        return None
    from platformdirs import user_cache_dir

    base = Path(user_cache_dir("kefu-copilot", appauthor=False))
    if not base.is_absolute():
        return None
    version = getattr(jieba, "__version__", "0")
    return base / f"jieba-{version}-{stat.st_size}-{stat.st_mtime_ns}.json"


class ChineseTokenizer:
    """jieba words + CJK bigrams + ASCII runs, with shop synonyms folded to one word.

    Thread-safe after construction. Each instance has its own jieba dictionary (shop words are
    added to it, never to jieba's global one).
    """

    def __init__(
        self,
        synonyms: Sequence[Sequence[str]] = (),
        extra_words: Iterable[str] = (),
        *,
        bigrams: bool = True,
        builtin_synonyms: bool | Sequence[Sequence[str]] = True,
        builtin_stopwords: bool | Sequence[str] = True,
    ) -> None:
        """``builtin_synonyms``: ``True`` folds the packaged e-commerce vocabulary, a sequence of
        groups folds those instead (a shop's extended vocabulary), ``False`` none.
        ``builtin_stopwords``: likewise the packaged stop words, a shop's list, or none."""
        extra_words = list(extra_words)
        self._bigrams = bigrams
        if builtin_synonyms is True:
            from ._vocabulary import ecommerce_synonyms

            builtin = ecommerce_synonyms()
        else:
            builtin = [list(group) for group in builtin_synonyms or ()]
        stop = True if builtin_stopwords is True else [str(w) for w in builtin_stopwords or ()]
        self._spec = {
            "synonyms": [list(group) for group in synonyms],
            "extra_words": list(extra_words),
            "bigrams": bigrams,
            "builtin_synonyms": builtin,
            "builtin_stopwords": stop,
        }
        packaged = _packaged_stopwords()
        self.stopwords = frozenset(stop) if isinstance(stop, list) else packaged
        self._canonical: dict[str, str] = {}
        groups = [*synonyms, *builtin]
        for group in groups:
            words = [normalize(w).strip() for w in group if w and normalize(w).strip()]
            if len(words) < 2:
                continue
            for word in words[1:]:
                self._canonical.setdefault(word, words[0])
        # Canonical words map to themselves so that "优惠券" is consumed whole before "券" could
        # match inside it.
        for word in list(self._canonical.values()):
            self._canonical.setdefault(word, word)
        #: canonical word → the words folded to it (itself included), in the order above
        self._groups: dict[str, list[str]] = {}
        for word, canonical in self._canonical.items():
            self._groups.setdefault(canonical, []).append(word)
        alternatives = sorted(self._canonical, key=len, reverse=True)
        self._synonym_re = (
            re.compile("|".join(re.escape(w) for w in alternatives)) if alternatives else None
        )
        self._extra = sorted({normalize(w).strip() for w in extra_words if w and w.strip()})
        self._jieba: Any = None
        self._jieba_block: re.Pattern[str] = _CJK_RUN  # jieba's, once the segmenter is loaded
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, ...]] = {}  # short canonical text → its words
        self._long: dict[str, tuple[str, ...]] = {}  # the last few long ones → their words
        self._blocks: dict[str, list[str]] = {}  # a short jieba block → jieba's cut of it
        # The packaged stop words are not in the fingerprint (indexes built before they were
        # data keep theirs); any other list is.
        own = [] if self.stopwords == packaged else [sorted(self.stopwords)]
        self.fingerprint = (
            "zh2:"
            + hashlib.blake2b(
                repr((bigrams, sorted(self._canonical.items()), self._extra, *own)).encode(),
                digest_size=8,
            ).hexdigest()
        )

    def _segmenter(self) -> Any:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    freq, total = _base_dictionary()
                    seg = jieba.Tokenizer()
                    seg.FREQ, seg.total, seg.initialized = dict(freq), total, True
                    for word in [*self._extra, *self._canonical.values(), *self._canonical]:
                        if len(word) > 1 and _CJK_RUN.fullmatch(word):
                            seg.add_word(word, freq=max(seg.FREQ.get(word, 0), 2000))
                    # jieba's own block pattern: how ``cut`` splits a text (see _cut)
                    self._jieba_block = jieba.re_han_default
                    self._jieba = seg
        return self._jieba

    def spec(self) -> dict[str, Any]:
        """The arguments that build an identical tokenizer (e.g. in a worker process)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._spec.items()}

    def warm_up(self) -> None:
        """Load the segmentation dictionary now rather than on the first question."""
        self._segmenter()

    def in_dictionary(self, word: str) -> bool:
        """Whether ``word`` is a word of the segmentation dictionary (not a segmentation artefact)."""
        return bool(self._segmenter().FREQ.get(word))

    def canonicalize(self, text: str) -> str:
        """Normalise (NFKC, lower case) and fold synonyms to their group's first word."""
        text = normalize(text)
        if self._synonym_re is not None:
            text = self._synonym_re.sub(lambda m: self._canonical[m.group()], text)
        return text

    def synonyms_of(self, word: str) -> list[str]:
        """The other words of ``word``'s synonym group (their canonical form is ``word``'s)."""
        key = self._canonical.get(normalize(word).strip(), normalize(word).strip())
        return [w for w in self._groups.get(key, ()) if w != word]

    def forget(self) -> None:
        """Drop the remembered segmentations (see :meth:`_words`): what a benchmark does
        between timing two calls on the same text."""
        self._seen.clear()
        self._long.clear()
        self._blocks.clear()

    def words(self, text: str) -> list[str]:
        """Content words only (jieba + ASCII runs), without stopwords: for term coverage."""
        return self._words(self.canonicalize(text))

    def _words(self, text: str) -> list[str]:
        """The content words of canonical ``text``, remembered (answering one question segments
        it for retrieval, for its terms, for product identification and for pre-sales needs:
        four jieba passes over the same words): short texts by the hundred, long ones only the
        last few."""
        memo, bound = (
            (self._seen, _REMEMBERED_TEXTS) if len(text) <= _REMEMBERED_CHARS
            else (self._long, _REMEMBERED_LONG)
        )  # fmt: skip
        seen = memo.get(text)
        if seen is None:
            seen = tuple(self._segment_words(text))
            if len(memo) >= bound:
                memo.clear()  # bounded: start afresh (a racing store is merely lost)
            memo[text] = seen
        return list(seen)

    def _cut(self, text: str) -> list[str]:
        """``jieba.lcut(text, HMM=False)``, block by block, short blocks remembered.

        jieba splits a text at its block pattern and cuts each block on its own, so the cut of
        a text is the cuts of its blocks in order: the same words, whichever text a block came
        from (``test_text`` checks it against ``lcut`` of whole texts)."""
        seg = self._segmenter()
        memo = self._blocks
        out: list[str] = []
        for block in self._jieba_block.split(text):
            if not block:
                continue
            if len(block) > _BLOCK_CHARS:
                out.extend(_jieba_cut(seg.FREQ, seg.total, block, self._jieba_block))
                continue
            cut = memo.get(block)
            if cut is None:
                cut = _jieba_cut(seg.FREQ, seg.total, block, self._jieba_block)
                if len(memo) >= _REMEMBERED_BLOCKS:
                    memo.clear()  # bounded: start afresh (a racing store is merely lost)
                memo[block] = cut
            out.extend(cut)
        return out

    def _segment_words(self, text: str) -> list[str]:
        out: list[str] = []
        for word in self._cut(text):
            word = word.strip()
            if not word or word in self.stopwords or not _WORD_OK.search(word):
                continue
            if _CJK_RUN.fullmatch(word) or _ALNUM.fullmatch(word):
                out.append(word)
            else:
                out.extend(m.group() for m in _ALNUM.finditer(word))
                out.extend(m.group() for m in _CJK_RUN.finditer(word))
        # ASCII runs joined by '-' (SKU codes) are split by jieba: keep the whole code too.
        out.extend(m.group() for m in _ALNUM.finditer(text) if "-" in m.group() or "_" in m.group())
        return out

    def analyze(self, text: str) -> tuple[list[str], int, int]:
        """All tokens of ``text`` in one pass, grouped: words, then characters, then bigrams.

        Returns ``(tokens, words_end, chars_end)``: ``tokens[:words_end]`` are the words,
        ``tokens[words_end:chars_end]`` the single characters and the rest the bigrams. The
        same bag as :meth:`tokenize` (in another order), segmented and canonicalised once.
        """
        canon = self.canonicalize(text)
        tokens = self._words(canon)
        words_end = len(tokens)
        if self._bigrams:
            runs = _CJK_RUN.findall(canon)
            for run in runs:
                tokens.extend(ch for ch in run if ch not in self.stopwords)
            chars_end = len(tokens)
            for run in runs:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            chars_end = len(tokens)
        return [intern(t) for t in tokens], words_end, chars_end

    def tokenize(self, text: str, *, characters: bool = True) -> list[str]:
        """Words, then the characters and character bigrams of every CJK run.

        Single characters carry much of the meaning of short Chinese questions (退/换/码) for
        ranking; stopword characters are left out. ``characters=False`` leaves single
        characters out (for measuring how much of a question a text covers, where a lone
        character would match almost anything).
        """
        canon = self.canonicalize(text)
        tokens = self._words(canon)
        if self._bigrams:
            for run in _CJK_RUN.findall(canon):
                if characters:
                    tokens.extend(ch for ch in run if ch not in self.stopwords)
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        # One shared object per distinct token: an index of 100k chunks holds millions of them.
        return [intern(t) for t in tokens]
