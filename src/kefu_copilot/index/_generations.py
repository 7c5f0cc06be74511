"""The persisted knowledge index: immutable generations switched atomically.

Layout of an index directory::

    CURRENT              {"format", "generation", "embedder", "tokenizer"}: the live generation
    gen-000007/          one complete generation, never modified after it is published
        chunks.jsonl     the chunks (text, source, locator, ...), parsed when first used
        chunks.bounds    where each line of chunks.jsonl starts (int64; its length + 1 ends)
        chunk_index.json the id and kind of every chunk (what retrieval needs up front)
        manifest.json    per source file: content hash, size, mtime, chunk ids, issues
        bm25/ faq/       the lexical indexes; faq_rows.npy maps FAQ phrasings to chunks
        analysis/        token ids per chunk segment and the vocabulary (see _analysis.py)
        catalog.json     products: titles, SKUs, title words, chunks
        catalog_typed.jsonl  per product its typed facts and tables (one line each, read on use)
        catalog_columns.json per product the distinct cells of each table column (read once)
        derived/         records derived from the generation by a higher stage at publish
                         (the pre-sales profiles): optional, each keyed by what it depends on
    chroma/              vectors keyed by chunk id (Chroma), shared by all generations
    .write.lock          single-writer lock (filelock; holds the writer's pid)

A generation is written to ``gen-N.tmp``, flushed to disk, renamed, and only then published by
atomically replacing ``CURRENT``. A crash at any point leaves the previous generation live and
complete; vectors are only ever deleted after the switch, and readers ignore vectors whose chunk
is not in their generation. So answers come from one complete version, never a mix.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import mmap
import os
import shutil
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from .._errors import IndexLockedError, KnowledgeIndexError
from .._fs import drop_pages, fsync_dir, json_bytes, load_json, save_array, write_synced
from .._models import Chunk
from ._analysis import Analysis, AnalysisWriter, ChunkTokens, StoredAnalyses, Vocabulary
from ._bm25 import BM25Writer, LexicalIndex
from ._ids import ChunkIds

__all__ = [
    "FORMAT",
    "GenerationWriter",
    "Snapshot",
    "StoredCatalog",
    "WriteLock",
    "load_snapshot",
    "publish_generation",
    "read_current",
    "stored_tokens",
]

FORMAT = 1
CURRENT = "CURRENT"
#: Where a generation keeps what a higher stage derived from it at publish (see :data:`Derive`).
DERIVED_DIR = "derived"
log = logging.getLogger("kefu_copilot")
#: Bytes of ``chunks.jsonl`` parsed between two releases of its mapped pages (see ChunkFile).
RELEASE_BYTES = 32 << 20
#: Parsed chunks a ChunkFile keeps (~1-3 KB each); past it the kept ones are dropped all at once
#: and re-read with pread as asked. A long-serving process otherwise keeps every chunk any
#: answer ever touched (at 300k chunks, up to ~600 MB).
KEPT_CHUNKS = 16_384


class ChunkFile(Sequence[Chunk]):
    """The chunks of a generation, each parsed from ``chunks.jsonl`` when first used: an index
    of 100k chunks opens without building 100k objects. Thread-safe (a race parses twice).

    ``data`` is the file's bytes or, as :meth:`open` does, a read-only memory map of it: the
    text of chunks never asked for is not held in memory. With a ``reader`` (what :meth:`open`
    gives) a chunk's line is read with ``os.pread``, so the file is never in this process's
    resident set, only in the page cache: through the map, each parse faulted in the 64 KB
    around its line (~100 chunks' worth), and after a few hundred answers at 300k chunks
    101 MB of the file were resident although its pages were released every
    :data:`RELEASE_BYTES` parsed (scans at open had kept all 194 MB)."""

    def __init__(
        self,
        data: bytes | mmap.mmap,
        where: Path | None = None,
        bounds: array | None = None,
        reader: _Reader | None = None,
    ) -> None:
        """``bounds``: where each line starts, and the end of the last, as written at ingest
        (``chunks.bounds``); without them (an index of an earlier version) the line ends are
        found by reading the whole file — 194 MB at 300k chunks, ~1 s of an open."""
        self._where = where
        self._file = _Ranges(data, reader)
        if bounds is None or len(bounds) < 1 or bounds[0] != 0 or bounds[-1] != len(data):
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            # 8 bytes a chunk (a list of ints held 36)
            bounds = array("q", np.concatenate(([0], ends + 1)).astype(np.int64).tobytes())
        self._bounds = bounds
        self._items: list[Chunk | None] = [None] * (len(bounds) - 1)
        self._kept = 0  # chunks kept in _items since it was last emptied
        self._file.release()  # finding the line ends read every page

    @classmethod
    def open(cls, path: Path) -> ChunkFile:
        """The chunks of ``path``, memory-mapped (read whole when it cannot be mapped), with
        the line bounds stored beside it when there are any."""
        bounds: array | None = None
        with contextlib.suppress(OSError):
            raw = path.with_suffix(".bounds").read_bytes()
            if len(raw) % 8 == 0:
                bounds = array("q")
                bounds.frombytes(raw)
        return cls(_mapped(path), path, bounds, _reader(path))

    def read(self, i: int) -> Chunk:
        """Chunk ``i`` parsed afresh, not kept (for reading a generation through once)."""
        return self._items[i] or self._parse(i)

    def __len__(self) -> int:
        return len(self._items)

    def _get(self, i: int) -> Chunk:
        chunk = self._items[i]
        if chunk is None:
            chunk = self._parse(i)
            self._kept += 1
            if self._kept > KEPT_CHUNKS:  # bounded: start afresh (a racing thread's store into
                self._items = [None] * len(self._items)  # the old list is merely lost)
                self._kept = 1
            self._items[i] = chunk
        return chunk

    def read_many(self, indices: Sequence[int]) -> list[Chunk]:
        """:meth:`read` of each of ``indices``; a run of consecutive chunks (a product page's
        parts) is read with one ``pread`` (a scan of every product page at open read them one
        by one: 208k reads at 300k chunks)."""
        out: list[Chunk] = []
        bounds, items, n = self._bounds, self._items, 0
        while n < len(indices):
            m = n + 1
            while m < len(indices) and indices[m] == indices[m - 1] + 1:
                m += 1
            base = bounds[indices[n]]
            block = self._file.read(base, bounds[indices[m - 1] + 1])
            for i in indices[n:m]:
                kept = items[i]
                out.append(kept or self._load(block[bounds[i] - base : bounds[i + 1] - base], i))
            n = m
        return out

    def _parse(self, i: int) -> Chunk:
        return self._load(self._file.read(self._bounds[i], self._bounds[i + 1]), i)

    def _load(self, line: bytes, i: int) -> Chunk:
        try:
            return Chunk(**load_json(line))
        except (ValueError, TypeError) as exc:  # a damaged file, read when first needed
            raise KnowledgeIndexError(
                f"{self._where or 'chunks.jsonl'}: chunk {i} cannot be read ({exc}); run "
                "`kefu repair SHOP` or ingest again"
            ) from exc

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        if type(i) is int and i >= 0:  # the hot path: retrieval asks by position
            try:
                return self._items[i] or self._get(i)
            except IndexError:
                raise IndexError(i) from None
        if isinstance(i, slice):
            return [self._get(n) for n in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._get(i)

    def __iter__(self) -> Iterator[Chunk]:
        # A scan through every chunk (a rule read off all policies, a repair) keeps none it
        # did not already have: an idle shop holds the chunks its answers used, not all.
        items = self._items
        return (items[n] or self._parse(n) for n in range(len(self)))


class _Ranges:
    """A file's bytes read by range: with ``os.pread`` where there is a reader (page cache only,
    never in this process's resident set), else sliced from its memory map, whose pages are
    dropped from the resident set every :data:`RELEASE_BYTES` read."""

    def __init__(self, data: bytes | mmap.mmap, reader: _Reader | None) -> None:
        self._data = data
        self._reader = reader  # holds the descriptor open as long as the file is read
        self._read = 0  # bytes sliced since the pages were last released

    def read(self, start: int, end: int) -> bytes:
        if self._reader is not None and 0 <= start <= end:
            return os.pread(self._reader.fd, end - start, start)
        part = self._data[start:end]
        self._read += end - start
        if self._read > RELEASE_BYTES:
            self.release()
        return part

    def release(self) -> None:
        """Drop the mapped pages from this process's resident set (a no-op for bytes)."""
        self._read = 0
        drop_pages(self._data)


class _Reader:
    """A read-only file descriptor for ``os.pread``, closed when nothing refers to it."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self.fd)


def _reader(path: Path) -> _Reader | None:
    """A :class:`_Reader` of ``path`` where the platform has ``os.pread`` (not Windows)."""
    if not hasattr(os, "pread"):
        return None
    try:
        return _Reader(path)
    except OSError:
        return None


TYPED_FILE = "catalog_typed.jsonl"
#: The parts of a catalogue product stored apart from ``catalog.json``, one line per product.
TYPED_KEYS = ("facts", "tables")
#: Per product, the distinct cells of each table column (``"columns"`` of a catalogue entry),
#: stored apart: read once at open (the answer stage's variant names), never held.
COLUMNS_FILE = "catalog_columns.json"


def split_typed(catalog: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
    """``catalog`` without its products' typed parts (:data:`TYPED_KEYS`), each product
    pointing at its line (``"typed": [start, end]``), and those lines. Opening an index then
    parses titles, SKUs and chunk lists only; a product's facts and tables are parsed when
    asked (:class:`StoredCatalog`). Held as objects they were the largest part of a large
    shop's serving memory (204 MB at 300k chunks, 111 MB with equal strings shared)."""
    products = catalog.get("products")
    if not isinstance(products, dict):
        return catalog, []
    lines: list[bytes] = []
    offset = 0
    out: dict[str, Any] = {}
    for source, entry in products.items():
        if not isinstance(entry, dict) or not any(k in entry for k in TYPED_KEYS):
            out[source] = entry
            continue
        line = _json_line({k: entry[k] for k in TYPED_KEYS if k in entry})
        kept = {k: v for k, v in entry.items() if k not in TYPED_KEYS and k != "columns"}
        out[source] = kept | {"typed": [offset, offset + len(line)]}
        lines.append(line)
        offset += len(line)
    return catalog | {"products": out}, lines


def _columns(catalog: dict[str, Any]) -> dict[str, Any]:
    """Per product of ``catalog``, its ``columns`` entry (see :data:`COLUMNS_FILE`)."""
    products = catalog.get("products")
    if not isinstance(products, dict):
        return {}
    return {
        source: entry["columns"]
        for source, entry in products.items()
        if isinstance(entry, dict) and entry.get("columns")
    }


class StoredCatalog(dict[str, Any]):
    """``catalog.json`` as loaded (a dict like any other), with its products' typed parts left
    in ``catalog_typed.jsonl``, memory-mapped: :meth:`typed` parses one product's. The pages
    read are dropped from the resident set every :data:`RELEASE_BYTES` (a scan of every
    product at open would otherwise keep the whole file resident)."""

    def __init__(
        self,
        data: dict[str, Any],
        typed: bytes | mmap.mmap,
        where: Path,
        reader: _Reader | None = None,
    ) -> None:
        super().__init__(data)
        self._typed = _Ranges(typed, reader)
        self._where = where
        _compact(self)

    def columns(self) -> dict[str, Any] | None:
        """Per product source, the distinct cells of each of its table columns (``[[header,
        [cell, ...]], ...]``, see :data:`COLUMNS_FILE`), parsed afresh on each call; None when
        the index was written before they were stored."""
        try:
            data = (self._where.parent / COLUMNS_FILE).read_bytes()
        except FileNotFoundError:
            return None
        try:
            value = load_json(data)
        except ValueError as exc:
            raise KnowledgeIndexError(
                f"{self._where.parent / COLUMNS_FILE} cannot be read ({exc}); run "
                "`kefu repair SHOP` or ingest again"
            ) from exc
        return value if isinstance(value, dict) else None

    def typed(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The typed parts (:data:`TYPED_KEYS`) of product ``entry`` of this catalogue: parsed
        afresh from their line, or the entry's own when it holds them (an older index)."""
        span = entry.get("typed")
        if not isinstance(span, list) or len(span) != 2:
            return {k: entry[k] for k in TYPED_KEYS if k in entry}
        start, end = int(span[0]), int(span[1])
        try:
            value = load_json(self._typed.read(start, end))
        except ValueError as exc:
            raise KnowledgeIndexError(
                f"{self._where}: bytes {start}-{end} cannot be read ({exc}); run "
                "`kefu repair SHOP` or ingest again"
            ) from exc
        if not isinstance(value, dict):
            raise KnowledgeIndexError(f"{self._where}: bytes {start}-{end} are not a product")
        return value


def _compact(catalog: dict[str, Any]) -> None:
    """Hold a loaded catalogue's chunk lists as ``array('i')`` (4 bytes a chunk, a list of
    ints ~36) and each distinct word of its titles' tokens and words once (JSON parsing makes
    a new string per occurrence; brands and kinds repeat across thousands of titles)."""
    one: dict[str, str] = {}

    def same(words: Any) -> Any:
        if isinstance(words, list) and all(type(w) is str for w in words):
            return [one.setdefault(w, w) for w in words]
        return words

    products = catalog.get("products")
    for entry in products.values() if isinstance(products, dict) else ():
        if not isinstance(entry, dict):
            continue
        chunks = entry.get("chunks")
        if isinstance(chunks, list) and all(type(i) is int for i in chunks):
            with contextlib.suppress(OverflowError):
                entry["chunks"] = array("i", chunks)
        if "title_tokens" in entry:
            entry["title_tokens"] = same(entry["title_tokens"])
    words = catalog.get("words")
    if isinstance(words, dict):
        for title, listed in words.items():
            words[title] = same(listed)


@dataclass(frozen=True)
class Snapshot:
    """One loaded, immutable generation of the index."""

    generation: int
    directory: Path
    chunks: Sequence[Chunk]
    by_id: Mapping[str, int]  # a view of ``ids``: position by id
    ids: ChunkIds  # id of every chunk, by index
    kinds: Sequence[str]  # kind of every chunk, by index (without parsing the chunk)
    lexical: LexicalIndex
    faq_lexical: LexicalIndex
    faq_rows: np.ndarray
    embedder: str | None
    tokenizer: str
    manifest_data: bytes | mmap.mmap = field(repr=False)  # manifest.json, parsed when asked
    analysis: Analysis | None = None  # None: an index written before analyses were stored
    catalog: dict[str, Any] | None = None

    def derived(self, name: str) -> Path | None:
        """The file ``name`` a higher stage derived from this generation at publish (see
        :data:`Derive`), or None when the generation has none (an older index, a derivation
        that failed): the stage then derives it itself."""
        path = self.directory / DERIVED_DIR / name
        return path if path.is_file() else None

    @property
    def manifest(self) -> dict[str, Any]:
        """Per source file: content hash, size, mtime, chunk ids, issues. Parsed on each use
        (answering never needs it; held parsed it was 32 MB at 300k chunks)."""
        try:
            return dict(load_json(self.manifest_data[:]))
        except (ValueError, TypeError) as exc:
            raise _damaged(self.directory, exc) from exc


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # pauses in progress; whether the collector was on before the first


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large index is loaded. Loading makes
    millions of long-lived objects, and each allocation threshold crossed walked all of them:
    a third of opening a 300k-chunk shop's CPU time (1.3 of 3.9 s). Nothing loaded is garbage;
    the collector resumes (if it was on) when the last pause of any thread ends."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def index_id(index_dir: Path) -> str:
    """A stable id for this index (``INDEX_ID``, created once): names its vector collection, so
    a copy of the index on another machine finds the same vectors on a shared Chroma server."""
    path = index_dir / "INDEX_ID"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    import uuid

    index_dir.mkdir(parents=True, exist_ok=True)
    value = uuid.uuid4().hex
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value, encoding="utf-8")
    try:
        os.link(tmp, path)  # atomic create-if-absent: a concurrent creator's id wins
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value


def _gen_dir(index_dir: Path, generation: int) -> Path:
    return index_dir / f"gen-{generation:06d}"


def read_current(index_dir: Path, *, unreadable_ok: bool = False) -> dict[str, Any] | None:
    """The live generation's pointer, or None when nothing was ingested yet (or, with
    ``unreadable_ok``, when ``CURRENT`` is damaged: a writer then starts afresh)."""
    path = index_dir / CURRENT
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if unreadable_ok and not isinstance(exc, PermissionError):
            return None
        raise KnowledgeIndexError(
            f"{path} is unreadable ({exc}); delete {index_dir} and ingest again"
        ) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise KnowledgeIndexError(
            f"{index_dir} was written by an incompatible version of kefu-copilot "
            f"(format {info.get('format') if isinstance(info, dict) else '?'}, expected {FORMAT}); "
            "delete it and ingest again"
        )
    return info


def load_snapshot(index_dir: Path) -> Snapshot | None:
    """Load the live generation, or ``None`` when nothing was ingested yet. A generation that
    cannot be read is a :class:`KnowledgeIndexError` naming the fix."""
    with gc_paused():
        return _load_live(index_dir)


def _load_live(index_dir: Path) -> Snapshot | None:
    seen: list[int] = []
    missing: FileNotFoundError | None = None
    for _attempt in range(3):  # a writer may publish and clean up between our two reads
        info = read_current(index_dir)
        if info is None:
            return None
        seen.append(int(info["generation"]))
        directory = _gen_dir(index_dir, seen[-1])
        try:
            return _load_generation(directory, info)
        except FileNotFoundError as exc:
            missing = exc
            continue
    if len(set(seen)) == 1:  # the same generation each time: a file of it is gone
        raise _damaged(_gen_dir(index_dir, seen[0]), missing)
    raise KnowledgeIndexError(
        f"{index_dir}: the live generation keeps disappearing; is a writer looping?"
    )


def _damaged(directory: Path, exc: BaseException | None) -> KnowledgeIndexError:
    problem = f"{type(exc).__name__}: {exc}" if exc is not None else "incomplete"
    return KnowledgeIndexError(
        f"the index generation {directory} cannot be read ({problem}); run `kefu repair SHOP` "
        "or ingest again"
    )


def _load_generation(directory: Path, info: dict[str, Any]) -> Snapshot:
    """Load one generation; a damaged one raises KnowledgeIndexError (a missing file,
    FileNotFoundError: the generation may just have been replaced)."""
    try:
        return _read_generation(directory, info)
    except (FileNotFoundError, KnowledgeIndexError):
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise _damaged(directory, exc) from exc


def _read_generation(directory: Path, info: dict[str, Any]) -> Snapshot:
    chunks = ChunkFile.open(directory / "chunks.jsonl")
    try:
        index = load_json((directory / "chunk_index.json").read_bytes())
        listed = index["ids"]
        if not isinstance(listed, list) or not all(type(cid) is str for cid in listed):
            raise ValueError("chunk ids are not strings")
        ids = ChunkIds(listed)
        # one string per kind, not one per chunk (18 MB at 300k chunks)
        one: dict[str, str] = {}
        kinds = [one.setdefault(k, k) for k in index["kinds"]]
    except FileNotFoundError:  # written by an older version: read the chunks themselves
        ids = ChunkIds(c.id for c in chunks)
        kinds = [c.kind for c in chunks]
    if len(ids) != len(chunks) or len(kinds) != len(chunks):
        raise KnowledgeIndexError(f"{directory}: chunk files disagree; ingest again")
    faq_rows = np.load(directory / "faq_rows.npy")
    catalog: dict[str, Any] | None = None
    with contextlib.suppress(FileNotFoundError):
        catalog = load_json((directory / "catalog.json").read_bytes())
    if isinstance(catalog, dict):
        try:
            typed = _mapped(directory / TYPED_FILE)
        except FileNotFoundError:  # an older index (typed parts inline), or a damaged one
            typed = b""
        reader = _reader(directory / TYPED_FILE) if typed else None
        catalog = StoredCatalog(catalog, typed, directory / TYPED_FILE, reader)
    manifest = _mapped(directory / "manifest.json")
    lexical = LexicalIndex.load(directory / "bm25", len(chunks))
    return Snapshot(
        generation=int(info["generation"]),
        directory=directory,
        chunks=chunks,
        by_id=ids.mapping(),
        ids=ids,
        kinds=kinds,
        lexical=lexical,
        faq_lexical=LexicalIndex.load(directory / "faq", len(faq_rows), like=lexical),
        faq_rows=faq_rows,
        embedder=info.get("embedder"),
        tokenizer=str(info.get("tokenizer", "")),
        manifest_data=manifest,
        analysis=Analysis.load(directory / "analysis", len(chunks)),
        catalog=catalog,
    )


def _mapped(path: Path) -> bytes | mmap.mmap:
    """The bytes of ``path``, memory-mapped (read whole when it cannot be: an empty file)."""
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return fh.read()


def stored_tokens(directory: Path, vocab: Vocabulary) -> StoredAnalyses | None:
    """The analysed tokens of a published generation's chunks, read on demand and renumbered
    into ``vocab`` (None when it has none)."""
    try:
        index = load_json((directory / "chunk_index.json").read_bytes())
        n_chunks = len(index["ids"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return StoredAnalyses.open(directory / "analysis", n_chunks, vocab)


def _json_line(value: Any) -> bytes:
    return json_bytes(value) + b"\n"


#: Derives files from a generation about to go live: file name → its bytes (an iterable, written
#: as it is produced). Passed down by a higher stage (the pre-sales profiles: ``presales`` sits
#: above ``index`` and ``ingest``), so that what it would build at every open is built once.
Derive = Callable[["Snapshot"], Mapping[str, Iterable[bytes]]]


class GenerationWriter:
    """Writes one generation chunk by chunk, then publishes it atomically.

    Chunks are added in their final order with their analysed tokens; each goes straight to
    ``chunks.jsonl``, the analysis scratch files and the streamed BM25 counts, so memory stays
    bounded by a batch however many chunks the shop has (only the chunk ids and kinds, and a
    few bytes a chunk, are held). Use it as a context manager: leaving the block without
    :meth:`publish` (an exception) removes what was written, and a failed write (a full disk, a
    read-only or vanished directory) is a :class:`KnowledgeIndexError` that leaves the previous
    generation live."""

    def __init__(self, index_dir: Path, generation: int, vocab: Vocabulary) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.vocab = vocab
        self.final = _gen_dir(index_dir, generation)
        self.tmp = self.final.with_name(self.final.name + ".tmp")
        self.ids: list[str] = []
        self.kinds: list[str] = []
        self._rows = array("i")  # chunk of each FAQ phrasing
        self._bounds = array("q", [0])  # where each line of chunks.jsonl starts
        self._published = False
        self._lexical = BM25Writer(self.tmp / "bm25.work")
        self._faq = BM25Writer(self.tmp / "faq.work")
        try:
            shutil.rmtree(self.tmp, ignore_errors=True)
            shutil.rmtree(self.final, ignore_errors=True)  # a crash after rename, before publish
            self.tmp.mkdir(parents=True)
            self._chunks = open(self.tmp / "chunks.jsonl", "wb")  # noqa: SIM115 (publish/abort)
            self._analysis = AnalysisWriter(self.tmp / "analysis")
        except OSError as exc:
            raise self._failure(exc) from exc

    def __enter__(self) -> GenerationWriter:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self._published:
            return
        self.abort()
        if isinstance(exc, OSError):
            raise self._failure(exc) from exc

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, chunk: Chunk, tokens: ChunkTokens) -> None:
        """The next chunk of the generation, with its analysis."""
        i = len(self.ids)
        line = _json_line(chunk.to_dict())
        self._chunks.write(line)
        self._bounds.append(self._bounds[-1] + len(line))
        self.ids.append(chunk.id)
        self.kinds.append(chunk.kind)
        self._analysis.add(tokens)
        self._lexical.add(tokens.ids)
        if chunk.kind == "faq" and chunk.question:  # each FAQ phrasing is a document too
            start = 0
            for n in range(tokens.lead):
                end = tokens.marks[3 * n + 2]
                self._rows.append(i)
                self._faq.add(tokens.ids[start:end])
                start = end

    def publish(
        self,
        manifest: dict[str, Any],
        *,
        embedder: str | None,
        tokenizer: str,
        catalog: dict[str, Any] | None = None,
        derive: Derive | None = None,
    ) -> Path:
        """Finish the generation's files and make it live atomically. Returns its directory.
        ``derive``: files derived from the finished generation, written into it before it goes
        live (one that fails is logged and left out: its stage derives it at open instead)."""
        tmp = self.tmp
        try:
            self._chunks.flush()
            os.fsync(self._chunks.fileno())
            self._chunks.close()
            write_synced(tmp / "chunks.bounds", [self._bounds.tobytes()])
            index = {"ids": self.ids, "kinds": self.kinds}
            write_synced(tmp / "chunk_index.json", [_json_line(index)])
            write_synced(tmp / "manifest.json", [_json_line(manifest)])
            if catalog is not None:
                columns = _columns(catalog)
                catalog, typed = split_typed(catalog)
                write_synced(tmp / "catalog.json", [_json_line(catalog)])
                write_synced(tmp / TYPED_FILE, typed)
                write_synced(tmp / COLUMNS_FILE, [_json_line(columns)])
                del columns
            self._analysis.finish(self.vocab)
            self._lexical.finish(tmp / "bm25", self.vocab.ids)
            self._faq.finish(tmp / "faq", self.vocab.ids)
            rows = np.frombuffer(self._rows, np.int32) if len(self._rows) else np.zeros(0, np.int32)
            save_array(tmp / "faq_rows.npy", rows)
            if derive is not None:
                info = {"generation": self.generation, "embedder": embedder}
                self._derive(derive, info | {"tokenizer": tokenizer})
            fsync_dir(tmp)
            os.rename(tmp, self.final)
            fsync_dir(self.index_dir)

            current = {
                "format": FORMAT,
                "generation": self.generation,
                "embedder": embedder,
                "tokenizer": tokenizer,
            }
            pointer_tmp = self.index_dir / (CURRENT + ".tmp")
            write_synced(pointer_tmp, [json_bytes(current)])
            os.replace(pointer_tmp, self.index_dir / CURRENT)
            fsync_dir(self.index_dir)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        self._published = True
        return self.final

    def _derive(self, derive: Derive, info: dict[str, Any]) -> None:
        """Write what ``derive`` makes of the finished generation into ``derived/``. A stage's
        failure must not stop ingestion: it is logged, the file left out, and the stage
        derives it at open as it would for an older index. A failed write is one."""
        folder = self.tmp / DERIVED_DIR
        folder.mkdir()
        snapshot = _read_generation(self.tmp, info)
        try:
            files = dict(derive(snapshot))
        except Exception:
            log.warning("kefu-copilot: deriving from the generation failed", exc_info=True)
            return
        for name, parts in files.items():
            if not name or name != Path(name).name or name.startswith("."):
                raise ValueError(f"derived file name {name!r}: a plain file name")
            path = folder / name
            try:
                write_synced(path, parts)
            except OSError:
                raise
            except Exception:
                log.warning("kefu-copilot: deriving %s failed", name, exc_info=True)
                path.unlink(missing_ok=True)
        del snapshot, files
        fsync_dir(folder)

    def abort(self) -> None:
        """Remove what was written of this generation (it never went live)."""
        for part in (getattr(self, "_chunks", None), getattr(self, "_analysis", None)):
            if part is not None:
                with contextlib.suppress(OSError):
                    part.close()
        self._lexical.close()
        self._faq.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.final, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.index_dir / (CURRENT + ".tmp")).unlink(missing_ok=True)

    def _failure(self, exc: OSError) -> KnowledgeIndexError:
        shutil.rmtree(self.tmp, ignore_errors=True)
        return KnowledgeIndexError(
            f"cannot write the index at {self.index_dir} ({exc.strerror or exc}); the previous "
            "version stays live. Free disk space (or fix the directory's permissions) and "
            "ingest again."
        )


def publish_generation(
    index_dir: Path,
    generation: int,
    chunks: Sequence[Chunk],
    tokens: dict[str, ChunkTokens],
    vocab: Vocabulary,
    manifest: dict[str, Any],
    *,
    embedder: str | None,
    tokenizer: str,
    catalog: dict[str, Any] | None = None,
) -> Path:
    """Write a complete generation from chunks in memory and make it live atomically (see
    :class:`GenerationWriter`, which ingestion uses to stream a generation)."""
    with GenerationWriter(index_dir, generation, vocab) as writer:
        for chunk in chunks:
            writer.add(chunk, tokens[chunk.id])
        return writer.publish(manifest, embedder=embedder, tokenizer=tokenizer, catalog=catalog)


def remove_old_generations(index_dir: Path, keep: set[int]) -> None:
    """Delete generation directories not in ``keep`` (and leftovers of crashed writes)."""
    for entry in index_dir.glob("gen-*"):
        name = entry.name.removesuffix(".tmp")
        try:
            generation = int(name.split("-", 1)[1])
        except ValueError:
            continue
        if entry.name.endswith(".tmp") or generation not in keep:
            shutil.rmtree(entry, ignore_errors=True)


class WriteLock:
    """Exclusive, non-blocking single-writer lock on an index directory.

    ``filelock`` does the locking: flock on POSIX and a real ``LockFileEx`` lock on Windows
    (the fcntl-only version was a silent no-op there). A second writer is refused at once with
    :class:`IndexLockedError`; the holder writes ``pid N`` into the lock file so the refusal can
    name it. The lock dies with its process, so a crashed ingest never leaves the index locked.
    """

    def __init__(self, index_dir: Path) -> None:
        self._path = index_dir / ".write.lock"
        self._lock: Any = None

    def __enter__(self) -> WriteLock:
        import filelock

        self._path.parent.mkdir(parents=True, exist_ok=True)
        # on_acquired also rules out filelock's soft (marker-file) fallback, whose marker our
        # holder note would overwrite: a filesystem without locks is reported, not half-locked.
        lock = filelock.FileLock(self._path, blocking=False, on_acquired=_note_holder)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise IndexLockedError(
                f"{self._path.parent} is being written by {self._holder()}; wait for that ingest "
                "to finish (readers keep working meanwhile)"
            ) from None
        except OSError as exc:
            raise KnowledgeIndexError(
                f"cannot lock {self._path} ({exc}); put the index on a local disk "
                "(index_dir / KEFU_INDEX_DIR)"
            ) from None
        self._lock = lock
        return self

    def _holder(self) -> str:
        with contextlib.suppress(OSError, UnicodeDecodeError):  # Windows: the holder's byte range
            return self._path.read_text(encoding="utf-8").strip() or "another process"
        return "another process"

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.truncate(self._path, 0)  # still ours: no stale holder note after a clean exit
            self._lock.release()
            self._lock = None


def _note_holder(fd: int) -> None:
    """Record who holds the lock, in the lock file itself (read by a refused second writer)."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"pid {os.getpid()}".encode())
