"""Token ids of knowledge chunks for coverage: read from the analysis stored at ingestion, or
segmented now (and cached) when the index has none for this tokenizer."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .._models import Chunk
from ..index._analysis import Analysis, lead_texts, quote_units
from ..index._coverage import Idf
from ..text._tokenize import ChineseTokenizer

__all__ = ["LiveTokens", "StoredTokens"]


class LiveTokens:
    """Token ids of chunk texts, segmented now (an index written before analyses were stored,
    or by another tokenizer). Cached: the same chunks come back question after question."""

    def __init__(self, tokenizer: ChineseTokenizer, idf: Idf) -> None:
        self._tokenizer = tokenizer
        self._idf = idf
        self._cache: OrderedDict[str, frozenset[int]] = OrderedDict()
        self._lock = threading.Lock()

    def ids(self, text: str, *, words_only: bool = False) -> frozenset[int]:
        key = f"w\0{text}" if words_only else text
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        tokens = (
            self._tokenizer.words(text)
            if words_only
            else self._tokenizer.tokenize(text, characters=False)
        )
        found = frozenset(i for i in map(self._idf.id, tokens) if i is not None)
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > 20_000:
                self._cache.popitem(last=False)
        return found

    def coverage(self, index: int, chunk: Chunk, *, lead: bool = True) -> frozenset[int]:
        return self.ids((chunk.match_text or chunk.text) if lead else chunk.text)

    def units(self, index: int, chunk: Chunk) -> list[frozenset[int]]:
        return [self.ids(unit) for unit in quote_units(chunk)]

    def phrasings(self, index: int, chunk: Chunk) -> list[tuple[frozenset[int], frozenset[int]]]:
        return [(self.ids(p), self.ids(p, words_only=True)) for p in lead_texts(chunk)]


class StoredTokens:
    """Token ids from the analysis stored at ingestion: slices, no segmentation."""

    def __init__(self, analysis: Analysis, live: LiveTokens) -> None:
        self._analysis = analysis
        self._live = live

    def coverage(self, index: int, chunk: Chunk, *, lead: bool = True) -> frozenset[int]:
        if index < 0:
            return self._live.coverage(index, chunk, lead=lead)
        return self._analysis.coverage(index, lead=lead)

    def units(self, index: int, chunk: Chunk) -> list[frozenset[int]]:
        return self._live.units(index, chunk) if index < 0 else self._analysis.units(index)

    def phrasings(self, index: int, chunk: Chunk) -> list[tuple[frozenset[int], frozenset[int]]]:
        if index < 0:
            return self._live.phrasings(index, chunk)
        return self._analysis.phrasings(index)
