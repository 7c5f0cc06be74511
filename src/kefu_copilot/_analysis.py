"""Token analysis of every chunk, done once at ingestion and stored with the generation.

Answering measures how much of a question each candidate chunk, sentence and FAQ phrasing
covers. Segmenting those texts with jieba at question time was half the cost of an answer at
100k chunks, and most of its tail. Instead each chunk is split once into *segments*: its lead
(the title and heading in front of its text, or an FAQ's phrasings) and the sentences that can
be quoted. Each segment's tokens (words, then characters, then bigrams) are stored as ids of the
generation's vocabulary, the same ids the BM25 indexes use::

    analysis/tokens.npy   int32  token ids of every segment, chunk after chunk
    analysis/marks.npy    int64  per segment: end of its words, of its characters, its end
    analysis/chunks.npy   int64  per chunk: its first segment (one more entry: the total)
    analysis/lead.npy     int32  per chunk: how many of its segments are lead segments

The arrays are memory-mapped: opening costs nothing and a lookup is a slice.
"""

from __future__ import annotations

import contextlib
import os
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._models import Chunk
from ._text import split_sentences
from ._tokenize import Tokenizer

__all__ = ["Analysis", "ChunkTokens", "Encoded", "analyse_chunk", "encode", "quote_units"]

_FILES = ("tokens", "marks", "chunks", "lead")


def quote_units(chunk: Chunk) -> list[str]:
    """The pieces of a chunk's text an answer may quote: its sentences (a table row is one).

    The product overview is "商品：…；货号：…；价格：…": one fact per semicolon there."""
    if chunk.kind == "table_row":
        return [chunk.text]
    by_semicolon = chunk.locator == "商品信息"
    return [
        s for line in chunk.text.split("\n") for s in split_sentences(line, semicolons=by_semicolon)
    ] or [chunk.text]


def lead_texts(chunk: Chunk) -> list[str]:
    """What is matched besides the text: an FAQ's phrasings, else the title/heading prefix."""
    if chunk.kind == "faq" and chunk.question:
        similar = chunk.meta.get("similar", [])
        return [chunk.question, *(s for s in similar if isinstance(s, str))]
    match = chunk.match_text
    if not match or match == chunk.text:
        return []
    if chunk.text and match.endswith(chunk.text):
        prefix = match[: len(match) - len(chunk.text)].strip()
        return [prefix] if prefix else []
    return [match]


@dataclass(slots=True)
class ChunkTokens:
    """The tokens of one chunk's segments, flat: ``marks`` holds three ends per segment (of
    its words, of its characters, of the segment), relative to the chunk."""

    tokens: list[str]
    marks: list[int]
    lead: int  # the first ``lead`` segments are the lead (FAQ phrasings or the prefix)

    def segments(self) -> list[list[str]]:
        out, start = [], 0
        for n in range(0, len(self.marks), 3):
            end = self.marks[n + 2]
            out.append(self.tokens[start:end])
            start = end
        return out

    def to_json(self) -> dict[str, object]:
        return {"t": self.tokens, "m": self.marks, "l": self.lead}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ChunkTokens | None:
        tokens, marks, lead = data.get("t"), data.get("m"), data.get("l")
        if not isinstance(tokens, list) or not isinstance(marks, list) or not isinstance(lead, int):
            return None  # written by an older version: tokenise again
        return cls(tokens, marks, lead)


Analyser = Callable[[str], tuple[list[str], int, int]]


def analyser(tokenizer: Tokenizer) -> Analyser:
    """``text -> (tokens, words_end, chars_end)`` for any tokenizer (a plain one has words only)."""
    analyze = getattr(tokenizer, "analyze", None)
    if analyze is not None:
        return analyze  # type: ignore[no-any-return,unused-ignore]

    def plain(text: str) -> tuple[list[str], int, int]:
        tokens = tokenizer.tokenize(text)
        return tokens, len(tokens), len(tokens)

    return plain


def analyse_chunk(
    chunk: Chunk,
    analyse: Analyser,
    *,
    lead_cache: dict[str, tuple[list[str], int, int]] | None = None,
    quote: bool = True,
) -> ChunkTokens:
    """Segment and tokenise one chunk. ``lead_cache`` shares the analysis of repeated titles and
    phrasings; ``quote=False`` keeps only the lead (a chunk matched by its phrasings alone)."""
    tokens: list[str] = []
    marks: list[int] = []
    leads = lead_texts(chunk)
    for n, text in enumerate([*leads, *(quote_units(chunk) if quote or not leads else ())]):
        if n < len(leads) and lead_cache is not None:
            hit = lead_cache.get(text)
            if hit is None:
                hit = lead_cache[text] = analyse(text)
        else:
            hit = analyse(text)
        seg, words_end, chars_end = hit
        base = len(tokens)
        tokens.extend(seg)
        marks += (base + words_end, base + chars_end, len(tokens))
    return ChunkTokens(tokens, marks, len(leads))


@dataclass
class Encoded:
    """A generation's chunks as vocabulary ids: BM25 documents and the analysis arrays."""

    vocab: dict[str, int]
    documents: list[array[int]]  # per chunk: all its token ids (its BM25 document)
    phrasings: list[array[int]]  # per FAQ phrasing: its token ids (the FAQ index documents)
    phrasing_rows: list[int]  # chunk index of each phrasing
    arrays: dict[str, np.ndarray]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, values in self.arrays.items():
            with open(directory / f"{name}.npy", "wb") as fh:
                np.save(fh, values)
                fh.flush()
                os.fsync(fh.fileno())


def encode(chunks: Sequence[Chunk], analyses: Sequence[ChunkTokens]) -> Encoded:
    """Map every token to an id (first seen, first numbered) and lay out the arrays."""
    vocab: dict[str, int] = {}
    documents: list[array[int]] = []
    phrasings: list[array[int]] = []
    rows: list[int] = []
    flat = array("i")
    marks = array("q")
    firsts = array("q", [0])
    leads = array("i")
    for i, (chunk, analysis) in enumerate(zip(chunks, analyses, strict=True)):
        ids = array("i", [vocab.setdefault(t, len(vocab)) for t in analysis.tokens])
        documents.append(ids)
        base = len(flat)
        flat.extend(ids)
        marks.extend([base + m for m in analysis.marks])
        firsts.append(firsts[-1] + len(analysis.marks) // 3)
        leads.append(analysis.lead)
        if chunk.kind == "faq" and chunk.question:
            start = 0
            for n in range(analysis.lead):
                end = analysis.marks[3 * n + 2]
                phrasings.append(ids[start:end])
                rows.append(i)
                start = end
    arrays: dict[str, np.ndarray] = {
        "tokens": np.frombuffer(flat, dtype=np.int32) if len(flat) else np.zeros(0, np.int32),
        "marks": np.frombuffer(marks, dtype=np.int64).reshape(-1, 3)
        if len(marks)
        else np.zeros((0, 3), np.int64),
        "chunks": np.frombuffer(firsts, dtype=np.int64),
        "lead": np.frombuffer(leads, dtype=np.int32) if len(leads) else np.zeros(0, np.int32),
    }
    return Encoded(vocab, documents, phrasings, rows, arrays)


class Analysis:
    """The stored analysis of one generation (read-only, memory-mapped, thread-safe)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._tokens = arrays["tokens"]
        self._marks = arrays["marks"]
        self._chunks = arrays["chunks"]
        self._lead = arrays["lead"]

    @classmethod
    def load(cls, directory: Path, n_chunks: int) -> Analysis | None:
        """The analysis in ``directory``, or ``None`` when absent or not for these chunks."""
        arrays: dict[str, np.ndarray] = {}
        with contextlib.suppress(OSError, ValueError):
            for name in _FILES:
                arrays[name] = np.load(directory / f"{name}.npy", mmap_mode="r")
        if len(arrays) != len(_FILES) or len(arrays["chunks"]) != n_chunks + 1:
            return None
        return cls(arrays)

    def _segment(self, k: int) -> frozenset[int]:
        start = int(self._marks[k - 1, 2]) if k else 0
        words_end, chars_end, end = (int(x) for x in self._marks[k])
        ids = self._tokens
        return frozenset(ids[start:words_end].tolist()) | frozenset(ids[chars_end:end].tolist())

    def _range(self, chunk: int) -> tuple[int, int, int]:
        first, stop = int(self._chunks[chunk]), int(self._chunks[chunk + 1])
        return first, first + int(self._lead[chunk]), stop

    def coverage(self, chunk: int, *, lead: bool = True) -> frozenset[int]:
        """Word and bigram ids of the chunk's text (and of its lead, unless ``lead=False``)."""
        first, text_first, stop = self._range(chunk)
        out: frozenset[int] = frozenset()
        for k in range(first if lead else text_first, stop):
            out |= self._segment(k)
        return out

    def units(self, chunk: int) -> list[frozenset[int]]:
        """Word and bigram ids of each quote unit (sentence) of the chunk's text."""
        _, text_first, stop = self._range(chunk)
        return [self._segment(k) for k in range(text_first, stop)]

    def phrasings(self, chunk: int) -> list[tuple[frozenset[int], frozenset[int]]]:
        """Per FAQ phrasing: (its word and bigram ids, its word ids)."""
        first, text_first, _ = self._range(chunk)
        out = []
        for k in range(first, text_first):
            start = int(self._marks[k - 1, 2]) if k else 0
            words = frozenset(self._tokens[start : int(self._marks[k, 0])].tolist())
            out.append((self._segment(k), words))
        return out
