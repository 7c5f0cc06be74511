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
    analysis/vocab.json          the tokens, by id (to reuse the analyses when re-ingesting)

The arrays are memory-mapped: opening costs nothing and a lookup is a slice.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .._fs import drop_pages, json_bytes, load_json, save_array, write_synced
from .._models import Chunk
from ..text._normalize import split_sentences
from ..text._tokenize import Tokenizer

__all__ = [
    "Analysis",
    "AnalysisWriter",
    "ChunkTokens",
    "StoredAnalyses",
    "Vocabulary",
    "analyse_chunk",
    "quote_units",
]

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


class Vocabulary:
    """Token → id, numbered in order of first use; shared by one generation's analysis and
    lexical indexes."""

    def __init__(self, tokens: Sequence[str] = ()) -> None:
        self.ids: dict[str, int] = {t: i for i, t in enumerate(tokens)}

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, tokens: Iterable[str]) -> array[int]:
        ids = self.ids
        return array("i", [ids.setdefault(t, len(ids)) for t in tokens])

    def tokens(self) -> list[str]:
        return list(self.ids)  # dicts keep insertion order: position = id


@dataclass(slots=True)
class ChunkTokens:
    """The token ids of one chunk's segments, flat: ``marks`` holds three ends per segment (of
    its words, of its characters, of the segment), relative to the chunk."""

    ids: array[int]
    marks: list[int]
    lead: int  # the first ``lead`` segments are the lead (FAQ phrasings or the prefix)


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


#: Chunks read between two releases of the analysis maps' pages (each read maps ~128 KB:
#: the resident part stays under ~64 MB however large the shop)
RELEASE_READS = 512
SEGMENT_CACHE_SIZE = 200_000  # distinct segment texts remembered by one ingest


def analyse_chunk(
    chunk: Chunk,
    analyse: Analyser,
    vocab: Vocabulary,
    *,
    cache: dict[str, tuple[array[int], int, int]] | None = None,
    quote: bool = True,
) -> ChunkTokens:
    """Segment and tokenise one chunk. ``cache`` (text → analysis) shares the work between
    repeated segments: catalogues repeat titles, FAQ phrasings, size-chart rows, care and
    shipping sentences across many products. ``quote=False`` keeps only the lead (a chunk
    matched by its phrasings alone)."""
    ids = array("i")
    marks: list[int] = []
    leads = lead_texts(chunk)
    for text in [*leads, *(quote_units(chunk) if quote or not leads else ())]:
        hit = cache.get(text) if cache is not None else None
        if hit is None:
            tokens, words_end, chars_end = analyse(text)
            hit = (vocab.encode(tokens), words_end, chars_end)
            if cache is not None:
                if len(cache) >= SEGMENT_CACHE_SIZE:
                    cache.clear()
                cache[text] = hit
        seg, words_end, chars_end = hit
        base = len(ids)
        ids.extend(seg)
        marks += (base + words_end, base + chars_end, len(ids))
    return ChunkTokens(ids, marks, len(leads))


class AnalysisWriter:
    """Writes a generation's analysis chunk by chunk, in order (the layout above).

    Token ids and segment marks, the large arrays, go to scratch files as they come and become
    ``.npy`` files at :meth:`finish`; the per-chunk arrays (8-12 bytes a chunk) stay in memory.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._dir = directory
        self._tokens = open(directory / "tokens.raw", "w+b")  # noqa: SIM115 (closed by finish/close)
        self._marks = open(directory / "marks.raw", "w+b")  # noqa: SIM115 (three int64 per segment)
        self._n_tokens = 0
        self._n_segments = 0
        self._firsts = array("q", [0])
        self._leads = array("i")

    def add(self, analysis: ChunkTokens) -> None:
        base = self._n_tokens
        analysis.ids.tofile(self._tokens)
        array("q", [base + m for m in analysis.marks]).tofile(self._marks)
        self._n_tokens += len(analysis.ids)
        self._n_segments += len(analysis.marks) // 3
        self._firsts.append(self._n_segments)
        self._leads.append(analysis.lead)

    def finish(self, vocab: Vocabulary) -> None:
        """Write the ``.npy`` files and the vocabulary (synced), remove the scratch files."""
        for raw, name, dtype, shape in (
            (self._tokens, "tokens", np.int32, (self._n_tokens,)),
            (self._marks, "marks", np.int64, (self._n_segments, 3)),
        ):
            raw.flush()
            raw.seek(0)
            with open(self._dir / f"{name}.npy", "wb") as out:
                header = {
                    "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                    "fortran_order": False,
                    "shape": shape,
                }
                np.lib.format.write_array_header_1_0(out, header)
                shutil.copyfileobj(raw, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
        self.close()
        save_array(self._dir / "chunks.npy", np.frombuffer(self._firsts, dtype=np.int64))
        leads = np.frombuffer(self._leads, dtype=np.int32) if len(self._leads) else None
        save_array(self._dir / "lead.npy", np.zeros(0, np.int32) if leads is None else leads)
        write_synced(self._dir / "vocab.json", [json_bytes(vocab.tokens())])

    def close(self) -> None:
        for raw in (self._tokens, self._marks):
            raw.close()
            with contextlib.suppress(OSError):
                os.unlink(raw.name)


class StoredAnalyses:
    """The analyses of a published generation, read one chunk at a time (memory-mapped) with
    their token ids renumbered into another vocabulary: re-ingesting reuses the tokens of every
    unchanged chunk without holding them all. Every stored token gets its id in ``vocab`` at
    once, in the stored order (so the new numbering does not depend on which chunks are kept).
    """

    def __init__(self, analysis: Analysis, renumber: np.ndarray) -> None:
        self._arrays = analysis.arrays
        self._renumber = renumber

    @classmethod
    def open(cls, directory: Path, n_chunks: int, vocab: Vocabulary) -> StoredAnalyses | None:
        """The analyses in ``directory`` for ``n_chunks`` chunks, or None when absent."""
        try:
            with open(directory / "vocab.json", "rb") as fh:
                old_tokens = load_json(fh.read())
        except (OSError, ValueError):
            return None
        analysis = Analysis.load(directory, n_chunks)
        if analysis is None or not isinstance(old_tokens, list):
            return None
        renumber = np.asarray(
            [vocab.ids.setdefault(t, len(vocab.ids)) for t in old_tokens], dtype=np.int32
        )
        return cls(analysis, renumber)

    def get(self, i: int) -> ChunkTokens:
        """The analysis of stored chunk ``i``."""
        marks_all, firsts = self._arrays["marks"], self._arrays["chunks"]
        first, stop = int(firsts[i]), int(firsts[i + 1])
        start = int(marks_all[first - 1, 2]) if first else 0
        end = int(marks_all[stop - 1, 2]) if stop > first else start
        stored = np.asarray(self._arrays["tokens"][start:end])
        tokens = self._renumber[stored] if len(self._renumber) else stored
        ids = array("i")
        ids.frombytes(np.ascontiguousarray(tokens, dtype=np.int32).tobytes())
        marks = (np.asarray(marks_all[first:stop]) - start).ravel().tolist()
        return ChunkTokens(ids, marks, int(self._arrays["lead"][i]))


class Analysis:
    """The stored analysis of one generation (read-only, memory-mapped, thread-safe)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        # Indexing a memoryview returns a Python int ~10x faster than numpy (let alone a
        # np.memmap, whose __getitem__ is Python code): this is on every answer's path.
        self._tokens = _view(arrays["tokens"], "i")
        self._marks = _view(arrays["marks"], "q")  # flat: 3 per segment
        self._chunks = _view(arrays["chunks"], "q")
        self._lead = _view(arrays["lead"], "i")
        # the large, randomly read maps: their pages are dropped from the resident set every
        # RELEASE_READS chunks read (see _range)
        maps = (getattr(arrays[name], "_mmap", None) for name in ("tokens", "marks"))
        self._maps = [m for m in maps if isinstance(m, mmap.mmap)]
        self._reads = 0

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

    def release(self) -> None:
        """Drop the token and mark maps' pages from the resident set (they stay in the page
        cache). Each chunk read faults in the ~64 KB around its tokens and its marks (fault-
        around), ~200 chunks' worth: at 300k chunks 115 MB of them were resident after a few
        hundred answers. Read again, a page is mapped back from the cache (~0.1 ms a MB)."""
        self._reads = 0
        for held in self._maps:
            drop_pages(held)

    def _segment(self, k: int) -> frozenset[int]:
        marks, ids = self._marks, self._tokens
        start = marks[3 * k - 1] if k else 0
        words_end, chars_end, end = marks[3 * k], marks[3 * k + 1], marks[3 * k + 2]
        return frozenset(ids[start:words_end]) | frozenset(ids[chars_end:end])

    def _range(self, chunk: int) -> tuple[int, int, int]:
        self._reads += 1
        if self._reads >= RELEASE_READS:
            self.release()
        first = self._chunks[chunk]
        return first, first + self._lead[chunk], self._chunks[chunk + 1]

    def coverage(self, chunk: int, *, lead: bool = True) -> frozenset[int]:
        """Word and bigram ids of the chunk's text (and of its lead, unless ``lead=False``)."""
        first, text_first, stop = self._range(chunk)
        marks, ids = self._marks, self._tokens
        out: set[int] = set()
        for k in range(first if lead else text_first, stop):  # _segment's ids, one set built
            out.update(ids[marks[3 * k - 1] if k else 0 : marks[3 * k]])
            out.update(ids[marks[3 * k + 1] : marks[3 * k + 2]])
        return frozenset(out)

    def units(self, chunk: int) -> list[frozenset[int]]:
        """Word and bigram ids of each quote unit (sentence) of the chunk's text."""
        _, text_first, stop = self._range(chunk)
        return [self._segment(k) for k in range(text_first, stop)]

    def phrasings(self, chunk: int) -> list[tuple[frozenset[int], frozenset[int]]]:
        """Per FAQ phrasing: (its word and bigram ids, its word ids)."""
        first, text_first, _ = self._range(chunk)
        marks, ids = self._marks, self._tokens
        out = []
        for k in range(first, text_first):
            words = frozenset(ids[marks[3 * k - 1] if k else 0 : marks[3 * k]])
            out.append((words | frozenset(ids[marks[3 * k + 1] : marks[3 * k + 2]]), words))
        return out


def _view(values: np.ndarray, code: Literal["i", "q"]) -> memoryview[int]:
    flat = np.ascontiguousarray(values).reshape(-1)
    if not flat.size:
        return memoryview(array(code))
    return memoryview(flat.data).cast("B").cast(code)
