"""The product catalogue of a generation: which product a message is about, and what is known
about it as typed data.

Built at ingestion (titles, SKUs, the words of each title, the chunks of each product page) and
stored as ``catalog.json``, so opening an index does not segment every product title again.
The loaders mark the typed parts of a page on its chunks (``meta``): ``facts`` (attribute →
value: JSON ``attributes``, front matter, ``名称：值`` lines, two-column spec tables) and table
rows with their header (spec tables, variants with their price and stock, size charts). The
catalogue gathers them per product — every format lands in the same shape — and
:func:`parse_chart` reads a size chart into typed ranges (height cm, weight kg, chest, waist,
foot length...), with the problems a shop should fix (gaps, overlaps, missing or mixed units).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .._data import packaged_rules
from .._models import Chunk
from ..index._coverage import Idf
from ..index._generations import StoredCatalog
from ..text._normalize import normalize
from ..text._numbers import UNITS, unit_in, units_in, value_range

__all__ = [
    "CatalogBuilder",
    "Products",
    "SizeChart",
    "build_catalog",
    "parse_chart",
    "table_problems",
]

#: 4: the typed parts stored apart (``catalog_typed.jsonl``): a reader of version 3 rebuilds the
#: catalogue from the chunks rather than read an index whose products seem to have no facts
CATALOG_VERSION = 4
_READABLE_VERSIONS = (3, CATALOG_VERSION)  # 3: the typed parts inline in catalog.json
_CODE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")  # SKU-like codes in normalised text
_STEM_SKU = re.compile(r"[a-z]+-[a-z0-9-]+")
_CJK = re.compile("[\u4e00-\u9fff]")


def title_words(words: list[str]) -> list[str]:
    """The words of a title that can identify it: single characters (加, 帮, 款) would match
    half the questions asked."""
    return sorted({w for w in words if len(w) > 1})


def build_catalog(
    chunks: Sequence[Chunk],
    words: Callable[[str], list[str]],
    tokenize: Callable[[str], list[str]] | None = None,
) -> dict[str, Any]:
    """Products by source file: title, SKU and chunk indices, and the words of every title
    (JSON-ready). ``words(title)`` is called once per distinct title. With ``tokenize``, each
    product also keeps its title's tokens (``title_tokens``): answering measures which words
    of a question name the product, and segmenting titles there was a first-use cost per
    product (issue 22)."""
    builder = CatalogBuilder(words, tokenize)
    for i, chunk in enumerate(chunks):
        builder.add(i, chunk)
    return builder.finish()


class CatalogBuilder:
    """:func:`build_catalog` one chunk at a time (ingestion streams the chunks through it)."""

    def __init__(
        self,
        words: Callable[[str], list[str]],
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        self._words = words
        self._tokenize = tokenize
        self._products: dict[str, dict[str, Any]] = {}
        self._names: dict[str, list[str]] = {}
        self._skus: list[tuple[str, str]] = []  # (sku, source), applied after every product

    def add(self, i: int, chunk: Chunk) -> None:
        """Chunk ``i`` of the generation."""
        sku = chunk.meta.get("sku") if chunk.locator == "商品信息" else None
        if sku:
            self._skus.append((str(sku), chunk.source))
        if chunk.kind not in ("product", "table_row"):
            return
        products = self._products
        entry = products.get(chunk.source)
        if entry is None:
            if chunk.title not in self._names:
                self._names[chunk.title] = title_words(self._words(chunk.title))
            entry = products[chunk.source] = {
                "title": chunk.title,
                "name": chunk.title,
                "chunks": [],
                "facts": [],
                "tables": [],
            }
        entry["chunks"].append(i)
        _typed(entry, i, chunk)

    def finish(self) -> dict[str, Any]:
        products = self._products
        skus: dict[str, str] = {}
        for sku, source in self._skus:
            skus[normalize(sku)] = source
            entry = products.setdefault(
                source, {"title": "", "name": "", "chunks": [], "facts": [], "tables": []}
            )
            entry["title"] = f"{entry['title']} {sku}".strip()
        for source in products:
            stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
            if _STEM_SKU.fullmatch(stem):
                skus.setdefault(stem, source)
        for entry in products.values():
            entry["columns"] = table_columns(entry["tables"])
        if self._tokenize is not None:
            segmented: dict[str, list[str]] = {}
            for entry in products.values():
                title = entry["title"]
                if title not in segmented:
                    segmented[title] = self._tokenize(title)
                entry["title_tokens"] = segmented[title]
        return {
            "version": CATALOG_VERSION,
            "products": products,
            "skus": skus,
            "words": self._names,
        }


def table_columns(tables: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """The distinct cells of each column of a product's ``tables``, by header, in the order
    first seen: ``[[header, [cell, ...]], ...]``. Stored at ingestion (a generation's
    ``catalog_columns.json``): the answer stage names variants by the cells of some columns,
    and reading every product's tables for them was a quarter of opening a large shop."""
    columns: dict[str, dict[str, None]] = {}
    for table in tables:
        for header, row, _ in table["rows"]:
            for name, cell in zip(header, row, strict=False):
                columns.setdefault(str(name), {}).setdefault(str(cell))
    return [[name, list(cells)] for name, cells in columns.items()]


def _typed(entry: dict[str, Any], index: int, chunk: Chunk) -> None:
    """Add the typed parts a loader marked on ``chunk`` to its product's ``entry``."""
    meta = chunk.meta
    for name, value in (meta.get("facts") or {}).items():
        entry["facts"].append([str(name), str(value), index])
    header, row = meta.get("header"), meta.get("row")
    if isinstance(header, list) and isinstance(row, list) and header:
        name = str(meta.get("table") or "")
        tables: list[dict[str, Any]] = entry["tables"]
        if not tables or tables[-1]["name"] != name:
            tables.append({"name": name, "rows": []})
        tables[-1]["rows"].append([[str(h) for h in header], [str(c) for c in row], index])
        if len(header) == 2 and len(row) == 2 and _CJK.search(str(row[0])) and row[1]:
            entry["facts"].append([str(row[0]), str(row[1]), index])  # a spec table: 参数 | 值


# -- size charts ----------------------------------------------------------------------------------
_KEY_PUNCT = re.compile(r"[\s:：*()（）\[\]【】_/]+")


@lru_cache(maxsize=8192)
def _key(text: str) -> str:  # remembered: size charts are read at question time
    return _KEY_PUNCT.sub("", normalize(text))


@dataclass
class ChartColumn:
    """One body dimension of a size chart: per row the (low, high) range it fits, in the
    dimension's base unit (cm for lengths, kg for weights); None where a cell has no number."""

    index: int
    dimension: str
    kind: str  # "length" | "weight"
    header: str
    ranges: list[tuple[float, float] | None]
    unit: str  # as written ("斤", "cm"); "" when no unit was written anywhere
    assumed: bool = False  # the unit was not written: a guess, never enough to answer alone
    mixed: bool = False

    @property
    def points(self) -> bool:
        """Garment measures (胸围 96, 100, 104): one number per size, not a range."""
        return all(r is None or r[0] == r[1] for r in self.ranges)


@dataclass
class SizeChart:
    """A size chart read as typed ranges: ``labels`` (one per row, "27（M）"), ``columns``
    (the body dimensions it measures), ``rows`` (the chunk index of each row)."""

    name: str
    header: list[str]
    labels: list[str]
    columns: list[ChartColumn]
    rows: list[int]
    problems: list[str] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)  # the rows as written
    sized: bool = True  # the labels are sizes (a 尺码 column), not the first column's names

    def column(self, dimension: str) -> ChartColumn | None:
        return next((c for c in self.columns if c.dimension == dimension), None)


def _size_rules(rules: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (rules if rules is not None else packaged_rules("attributes"))["size"]


def _dimension_of(header: str, dimensions: Mapping[str, Any]) -> tuple[str, int]:
    """The body dimension a chart header measures, and which of its names says so (0: the
    first, the best: 适合脚长 before 鞋内长)."""
    key = _key(header)
    for name, spec in dimensions.items():
        for rank, n in enumerate(spec["names"]):
            if _key(n) in key:
                return str(name), rank
    return "", 0


def _is_label(header: str, labels: Sequence[str]) -> bool:
    key = _key(header)
    return bool(key) and any(key == _key(x) or key.endswith(_key(x)) for x in labels)


def parse_chart(
    name: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    chunk_rows: Sequence[int] = (),
    rules: Mapping[str, Any] | None = None,
) -> SizeChart | None:
    """A table read as a size chart, or None when it is not one (no body-dimension column
    with numbers). ``rules``: the ``attributes`` rule set (the packaged one by default)."""
    size = _size_rules(rules)
    dimensions: Mapping[str, Any] = size["dimensions"]
    header = [str(h) for h in header]
    label_cols = [i for i, h in enumerate(header) if _is_label(h, size["labels"])]
    # "尺码表（单位：cm，体重单位：斤）": the units of the table's own heading, not its page's
    heading = name.rsplit(" / ", 1)[-1]
    table_units = units_in(heading)
    columns: list[ChartColumn] = []
    problems: list[str] = []
    ranked = sorted(
        (rank, i, dimension)
        for i, head in enumerate(header)
        if i not in label_cols
        for dimension, rank in [_dimension_of(head, dimensions)]
        if dimension
    )
    for _, i, dimension in ranked:
        head = header[i]
        if any(c.dimension == dimension for c in columns):
            continue
        kind = "weight" if dimension == "weight" else "length"
        table_unit = next((u for u in table_units if UNITS[u][0] == kind), "")
        column = _chart_column(i, dimension, head, rows, table_unit, problems, name)
        if column is not None:
            columns.append(column)
    if not columns:
        return None
    columns.sort(key=lambda c: c.index)
    sized = bool(label_cols)
    if not label_cols:
        first = next((i for i in range(len(header)) if i not in {c.index for c in columns}), -1)
        if first < 0:
            return None
        label_cols = [first]
    labels = []
    for row in rows:
        cells = [str(row[i]).strip() for i in label_cols if i < len(row) and str(row[i]).strip()]
        labels.append(
            cells[0] + (f"（{'/'.join(cells[1:])}）" if len(cells) > 1 else "") if cells else ""
        )
    for column in columns:
        problems.extend(_range_problems(name, column, labels))
    written = [[str(c) for c in row] for row in rows]
    return SizeChart(
        name, list(header), labels, columns, list(chunk_rows), problems, written, sized
    )


def _chart_column(
    i: int,
    dimension: str,
    head: str,
    rows: Sequence[Sequence[str]],
    table_unit: str,
    problems: list[str],
    name: str,
) -> ChartColumn | None:
    head_unit = unit_in(head)
    parsed = [value_range(str(row[i])) if i < len(row) else None for row in rows]
    if sum(p is not None for p in parsed) < max(1, len(rows) // 2):
        return None  # words, not numbers: not a measured column
    cell_units = {p[2] for p in parsed if p is not None and p[2]}
    written = head_unit or (next(iter(cell_units)) if len(cell_units) == 1 else "") or table_unit
    where = f"size chart {name or '尺码表'}: column {head}"
    mixed = len(cell_units | ({head_unit} if head_unit else set())) > 1
    if mixed:
        problems.append(
            f"{where} mixes units ({'、'.join(sorted(cell_units | {head_unit} - {''}))})"
        )
    kind = ""
    ranges: list[tuple[float, float] | None] = []
    for p in parsed:
        if p is None:
            ranges.append(None)
            continue
        unit = p[2] or written
        if not unit:
            ranges.append((p[0], p[1]))
            continue
        kind, factor = UNITS[unit]
        ranges.append((p[0] * factor, p[1] * factor))
    if not written and not cell_units:
        problems.append(f"{where} has no unit (write it in the header, e.g. {head}(cm))")
    elif kind and (kind == "weight") != (dimension == "weight"):
        problems.append(f"{where}: a {dimension} in {written}? column ignored")
        return None
    if any(p is None for p in parsed):
        problems.append(f"{where}: {sum(p is None for p in parsed)} row(s) without a number")
    return ChartColumn(
        i,
        dimension,
        "weight" if dimension == "weight" else "length",
        head,
        ranges,
        written,
        assumed=not written and not cell_units,
        mixed=mixed,
    )


def _range_problems(name: str, column: ChartColumn, labels: Sequence[str]) -> list[str]:
    if column.points:
        return []
    out = []
    factor = UNITS[column.unit][1] if column.unit in UNITS else 1.0
    bounds = [b / factor for r in column.ranges if r for b in r if math.isfinite(b)]
    # one step of the unit as written (150-155, 156-160 leave no gap between whole numbers)
    step = (1.0 if all(round(b, 6).is_integer() for b in bounds) else 0.1) * factor
    where = f"size chart {name or '尺码表'}: column {column.header}"
    pairs = list(zip(column.ranges, labels, strict=False))
    for (a, la), (b, lb) in itertools.pairwise(pairs):
        if a is None or b is None:
            continue
        if b[0] - a[1] > step + 1e-9:
            out.append(f"{where}: a gap between {la} and {lb}")
        elif a[1] - b[0] > 1e-9 and b[0] > a[0]:
            out.append(f"{where}: {la} and {lb} overlap")
    return out


def table_problems(chunks: Sequence[Chunk], rules: Mapping[str, Any] | None = None) -> list[str]:
    """What a shop should fix in the typed parts of one product file: size charts with gaps,
    overlaps, missing or mixed units; variants without a price."""
    entry: dict[str, Any] = {"facts": [], "tables": []}
    for i, chunk in enumerate(chunks):
        _typed(entry, i, chunk)
    out: list[str] = []
    for table in entry["tables"]:
        rows = table["rows"]
        chart = parse_chart(table["name"], rows[0][0], [r[1] for r in rows], rules=rules)
        if chart is not None:
            out.extend(chart.problems)
    return out


def _share(products: dict[str, dict[str, Any]]) -> None:
    """Hold each distinct string of the typed facts and tables once, and each table header
    once (every row repeats its header): JSON parsing makes a new string per occurrence, and
    fact names, headers, sizes and stock notes repeat across products — the catalogue of a
    300k-chunk shop took 204 MB of objects, 111 MB shared. The values are equal, so nothing
    reading them can tell."""
    one: dict[str, str] = {}
    headers: dict[tuple[str, ...], list[Any]] = {}

    def same(values: list[Any]) -> list[Any]:
        return [one.setdefault(v, v) if type(v) is str else v for v in values]

    for product in products.values():
        facts = product.get("facts")
        if isinstance(facts, list):
            product["facts"] = [same(f) if isinstance(f, list) else f for f in facts]
        for table in product.get("tables") or ():
            rows = table.get("rows") if isinstance(table, dict) else None
            if not isinstance(rows, list):
                continue
            shared = []
            for row in rows:
                if isinstance(row, list) and len(row) == 3 and isinstance(row[0], list):
                    key = tuple(row[0]) if all(type(h) is str for h in row[0]) else None
                    header = headers.setdefault(key, same(row[0])) if key is not None else row[0]
                    row = [header, same(row[1]) if isinstance(row[1], list) else row[1], row[2]]
                shared.append(row)
            table["rows"] = shared


class _TypedParts:
    """The typed parts of every product of a catalogue: held in the entries (a catalogue built
    now, or an older index), or parsed per product from a :class:`StoredCatalog`'s file when
    asked. The last :data:`_TYPED_KEPT` products parsed are kept, so that an answer asking a
    product's facts and tables several times parses them once."""

    def __init__(self, products: dict[str, dict[str, Any]], catalog: dict[str, Any]) -> None:
        self.products = products
        self._stored = catalog if isinstance(catalog, StoredCatalog) else None
        self._kept: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str) -> dict[str, Any]:
        entry = self.products[source]  # KeyError: not a product
        if self._stored is None:
            return entry
        with self._lock:
            parts = self._kept.get(source)
            if parts is not None:
                self._kept.move_to_end(source)
                return parts
        parts = self._stored.typed(entry)
        with self._lock:
            parts = self._kept.setdefault(source, parts)  # a race parsed it twice: keep one
            if len(self._kept) > _TYPED_KEPT:
                self._kept.popitem(last=False)
        return parts


_TYPED_KEPT = 64
_SMALL = 64  # title-word hits below which Products.identify adds one at a time


class _TypedPart(Mapping[str, list[Any]]):
    """One typed part ("facts" or "tables") of every product, by product source."""

    def __init__(self, parts: _TypedParts, key: str) -> None:
        self._parts = parts
        self._key = key

    def __getitem__(self, source: str) -> list[Any]:
        value = self._parts.get(source).get(self._key)
        return value if isinstance(value, list) else []

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts.products)

    def __len__(self) -> int:
        return len(self._parts.products)

    def __contains__(self, source: object) -> bool:
        return source in self._parts.products


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
        self._catalog = catalog
        products: dict[str, dict[str, Any]] = catalog["products"]
        if not isinstance(catalog, StoredCatalog):
            _share(products)  # built now, or handed in: the typed parts are held as objects
        self.titles: dict[str, str] = {s: p["title"] for s, p in products.items()}
        self._skus: dict[str, str] = dict(catalog["skus"])
        self._chunk_ids: dict[str, Sequence[int]] = {s: p["chunks"] for s, p in products.items()}
        typed = _TypedParts(products, catalog)
        #: product source → its typed facts ``[name, value, chunk index]`` and tables
        #: ``{"name", "rows": [[header, row, chunk index]]}`` (read-only mappings; a stored
        #: catalogue parses a product's on use)
        self.facts: Mapping[str, list[list[Any]]] = _TypedPart(typed, "facts")
        self.tables: Mapping[str, list[dict[str, Any]]] = _TypedPart(typed, "tables")
        # title word -> products whose title has it (an inverted index: a query touches only
        # the products sharing one of its words, not the whole catalogue)
        by_word: dict[str, list[int]] = {}
        names: dict[str, list[str]] = catalog["words"]
        for at, product in enumerate(products.values()):
            for word in names.get(product["name"], ()):
                by_word.setdefault(word, []).append(at)
        self._sources: list[str] = list(products)
        #: title word -> the positions (in :attr:`_sources`) of the products whose title has it
        self._by_word: dict[str, np.ndarray] = {
            w: np.array(at, dtype=np.int32) for w, at in by_word.items()
        }

    @classmethod
    def of(
        cls,
        catalog: dict[str, Any] | None,
        chunks: Sequence[Chunk],
        words: Callable[[str], list[str]],
        idf: Idf,
    ) -> Products:
        """From a stored catalogue, or built now (an index written by an older version)."""
        if not catalog or catalog.get("version") not in _READABLE_VERSIONS:
            catalog = build_catalog(chunks, words)
        return cls(catalog, chunks, words, idf)

    def columns(self) -> Iterator[tuple[str, str, Sequence[str]]]:
        """``(product source, header, distinct cells)`` of every column of every product's
        tables (see :func:`table_columns`): stored at ingestion, or read from the tables of an
        index written before they were."""
        catalog = self._catalog
        stored = catalog.columns() if isinstance(catalog, StoredCatalog) else None
        products = catalog["products"]
        for source in self.titles:
            if stored is not None:
                columns = stored.get(source, ())
            else:
                held = products[source].get("columns")
                columns = held if held is not None else table_columns(self.tables[source])
            for header, cells in columns:
                yield source, header, cells

    def chunks(self, source: str) -> Iterable[tuple[int, Chunk]]:
        """(index, chunk) of every part of a product page."""
        return ((i, self._chunks[i]) for i in self._chunk_ids.get(source, ()))

    def chunk_indices(self, source: str) -> Sequence[int]:
        """The snapshot indices of a product page's parts, in page order (none read)."""
        return self._chunk_ids.get(source, ())

    def read_chunks(self, source: str) -> Iterable[tuple[int, Chunk]]:
        """:meth:`chunks` read through once: a scan of every page (at open) must not keep every
        chunk parsed in memory — an idle shop holds only the chunks its answers used."""
        indices = self._chunk_ids.get(source, ())
        many = getattr(self._chunks, "read_many", None)
        if many is not None:  # a page's parts are consecutive: read at once
            return zip(indices, many(indices), strict=True)
        read = getattr(self._chunks, "read", self._chunks.__getitem__)
        return ((i, read(i)) for i in indices)

    def page_text(self, source: str) -> str:
        """The text of a product page (see :meth:`read_chunks`)."""
        return " ".join(c.text for _, c in self.read_chunks(source))

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
        hits = [
            (self._by_word[word], self._idf(word))
            for word in set(self._words(text) if words is None else words)
            if word in self._by_word
        ]
        if not hits:
            return []
        sources = self._sources
        if sum(len(at) for at, _ in hits) <= _SMALL:
            scores: dict[int, float] = {}
            for at, weight in hits:
                for i in at.tolist():
                    scores[i] = scores.get(i, 0.0) + weight
            best = max(scores.values())
            return sorted(sources[i] for i, v in scores.items() if v >= best * 0.999)
        # A word many titles share (a kind: 工装裤, 儿童款) adds to thousands of products: added
        # in one pass, each product's sum taken in the same order as one at a time (exact).
        at = np.concatenate([a for a, _ in hits])
        weights = np.repeat([w for _, w in hits], [len(a) for a, _ in hits])
        touched = np.flatnonzero(np.bincount(at, minlength=len(sources)))
        values = np.bincount(at, weights=weights, minlength=len(sources))[touched]
        best = float(values.max())
        return sorted(sources[i] for i in touched[values >= best * 0.999].tolist())
