"""The product catalogue of a generation: which product a message is about.

Built at ingestion (titles, SKUs, the words of each title, the chunks of each product page) and
stored as ``catalog.json``, so opening an index does not segment every product title again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._models import Chunk
from ..index._coverage import Idf
from ..text._normalize import normalize

__all__ = ["Products", "build_catalog"]

CATALOG_VERSION = 2
_CODE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")  # SKU-like codes in normalised text
_STEM_SKU = re.compile(r"[a-z]+-[a-z0-9-]+")


def title_words(words: list[str]) -> list[str]:
    """The words of a title that can identify it: single characters (加, 帮, 款) would match
    half the questions asked."""
    return sorted({w for w in words if len(w) > 1})


def build_catalog(chunks: Sequence[Chunk], words: Callable[[str], list[str]]) -> dict[str, Any]:
    """Products by source file: title, SKU and chunk indices, and the words of every title
    (JSON-ready). ``words(title)`` is called once per distinct title."""
    products: dict[str, dict[str, Any]] = {}
    skus: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for i, chunk in enumerate(chunks):
        if chunk.kind not in ("product", "table_row"):
            continue
        entry = products.get(chunk.source)
        if entry is None:
            if chunk.title not in names:
                names[chunk.title] = title_words(words(chunk.title))
            entry = products[chunk.source] = {
                "title": chunk.title,
                "name": chunk.title,
                "chunks": [],
            }
        entry["chunks"].append(i)
    for chunk in chunks:
        sku = chunk.meta.get("sku") if chunk.locator == "商品信息" else None
        if sku:
            skus[normalize(str(sku))] = chunk.source
            entry = products.setdefault(chunk.source, {"title": "", "name": "", "chunks": []})
            entry["title"] = f"{entry['title']} {sku}".strip()
    for source in products:
        stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        if _STEM_SKU.fullmatch(stem):
            skus.setdefault(stem, source)
    return {"version": CATALOG_VERSION, "products": products, "skus": skus, "words": names}


class Products:
    """Which product a message is about: by SKU, or by the distinctive words of its title."""

    def __init__(
        self,
        catalog: dict[str, Any],
        chunks: Sequence[Chunk],
        words: Callable[[str], list[str]],
        idf: Idf,
    ) -> None:
        self._idf = idf
        self._words = words
        self._chunks = chunks
        products: dict[str, dict[str, Any]] = catalog["products"]
        self.titles: dict[str, str] = {s: p["title"] for s, p in products.items()}
        self._skus: dict[str, str] = dict(catalog["skus"])
        self._chunk_ids: dict[str, list[int]] = {s: p["chunks"] for s, p in products.items()}
        # title word -> products whose title has it (an inverted index: a query touches only
        # the products sharing one of its words, not the whole catalogue)
        self._by_word: dict[str, list[str]] = {}
        names: dict[str, list[str]] = catalog["words"]
        for source, product in products.items():
            for word in names.get(product["name"], ()):
                self._by_word.setdefault(word, []).append(source)

    @classmethod
    def of(
        cls,
        catalog: dict[str, Any] | None,
        chunks: Sequence[Chunk],
        words: Callable[[str], list[str]],
        idf: Idf,
    ) -> Products:
        """From a stored catalogue, or built now (an index written by an older version)."""
        if not catalog or catalog.get("version") != CATALOG_VERSION:
            catalog = build_catalog(chunks, words)
        return cls(catalog, chunks, words, idf)

    def chunks(self, source: str) -> Iterable[tuple[int, Chunk]]:
        """(index, chunk) of every part of a product page."""
        return ((i, self._chunks[i]) for i in self._chunk_ids.get(source, ()))

    def sku_by_source(self) -> dict[str, str]:
        """Product source file → its SKU (upper case), for the products that declare one."""
        return {source: sku.upper() for sku, source in self._skus.items()}

    def identify(
        self, text: str, *, normalized: str | None = None, words: Iterable[str] | None = None
    ) -> list[str]:
        """Products ``text`` names. ``normalized`` and ``words`` (its normalised form and
        content words), when the caller has them already, spare reading the text again."""
        norm = normalize(text) if normalized is None else normalized
        by_sku = {self._skus[m.group()] for m in _CODE.finditer(norm) if m.group() in self._skus}
        if by_sku:
            return sorted(by_sku)
        scores: dict[str, float] = {}
        for word in set(self._words(text) if words is None else words):
            for source in self._by_word.get(word, ()):
                scores[source] = scores.get(source, 0.0) + self._idf(word)
        if not scores:
            return []
        best = max(scores.values())
        return sorted(s for s, v in scores.items() if v >= best * 0.999)
