"""The persisted knowledge index: immutable generations switched atomically.

Layout of an index directory::

    CURRENT              {"format", "generation", "embedder", "tokenizer"}: the live generation
    gen-000007/          one complete generation, never modified after it is published
        chunks.jsonl     the chunks (text, source, locator, ...), parsed when first used
        chunk_index.json the id and kind of every chunk (what retrieval needs up front)
        manifest.json    per source file: content hash, size, mtime, chunk ids, issues
        bm25/ faq/       the lexical indexes; faq_rows.npy maps FAQ phrasings to chunks
        analysis/        token ids per chunk segment and the vocabulary (see _analysis.py)
        catalog.json     products: titles, SKUs, title words, chunks
    chroma/              vectors keyed by chunk id (Chroma), shared by all generations
    .write.lock          single-writer lock (filelock; holds the writer's pid)

A generation is written to ``gen-N.tmp``, flushed to disk, renamed, and only then published by
atomically replacing ``CURRENT``. A crash at any point leaves the previous generation live and
complete; vectors are only ever deleted after the switch, and readers ignore vectors whose chunk
is not in their generation. So answers come from one complete version, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from .._errors import IndexLockedError, KnowledgeIndexError
from .._fs import fsync_dir, json_bytes, load_json, save_array, write_synced
from .._models import Chunk
from ._analysis import Analysis, ChunkTokens, Vocabulary, encode, read_analyses
from ._bm25 import LexicalIndex

__all__ = ["FORMAT", "Snapshot", "WriteLock", "load_snapshot", "publish_generation", "read_current"]

FORMAT = 1
CURRENT = "CURRENT"


class ChunkFile(Sequence[Chunk]):
    """The chunks of a generation, each parsed from ``chunks.jsonl`` when first used: an index
    of 100k chunks opens without building 100k objects. Thread-safe (a race parses twice)."""

    def __init__(self, data: bytes, where: Path | None = None) -> None:
        self._data = data
        self._where = where
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        self._bounds = np.concatenate(([0], ends + 1)).tolist()
        self._items: list[Chunk | None] = [None] * len(ends)

    def __len__(self) -> int:
        return len(self._items)

    def _get(self, i: int) -> Chunk:
        chunk = self._items[i]
        if chunk is None:
            line = self._data[self._bounds[i] : self._bounds[i + 1]]
            try:
                chunk = self._items[i] = Chunk(**load_json(line))
            except (ValueError, TypeError) as exc:  # a damaged file, read when first needed
                raise KnowledgeIndexError(
                    f"{self._where or 'chunks.jsonl'}: chunk {i} cannot be read ({exc}); run "
                    "`kefu repair SHOP` or ingest again"
                ) from exc
        return chunk

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
        return (self._get(n) for n in range(len(self)))


@dataclass(frozen=True)
class Snapshot:
    """One loaded, immutable generation of the index."""

    generation: int
    directory: Path
    chunks: Sequence[Chunk]
    by_id: dict[str, int]
    ids: Sequence[str]  # id of every chunk, by index
    kinds: Sequence[str]  # kind of every chunk, by index (without parsing the chunk)
    lexical: LexicalIndex
    faq_lexical: LexicalIndex
    faq_rows: np.ndarray
    embedder: str | None
    tokenizer: str
    manifest: dict[str, Any] = field(repr=False)
    analysis: Analysis | None = None  # None: an index written before analyses were stored
    catalog: dict[str, Any] | None = None


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
    chunks = ChunkFile((directory / "chunks.jsonl").read_bytes(), directory / "chunks.jsonl")
    try:
        index = load_json((directory / "chunk_index.json").read_bytes())
        ids, kinds = list(index["ids"]), list(index["kinds"])
    except FileNotFoundError:  # written by an older version: read the chunks themselves
        ids = [c.id for c in chunks]
        kinds = [c.kind for c in chunks]
    if len(ids) != len(chunks) or len(kinds) != len(chunks):
        raise KnowledgeIndexError(f"{directory}: chunk files disagree; ingest again")
    faq_rows = np.load(directory / "faq_rows.npy")
    catalog: dict[str, Any] | None = None
    with contextlib.suppress(FileNotFoundError):
        catalog = load_json((directory / "catalog.json").read_bytes())
    manifest = load_json((directory / "manifest.json").read_bytes())
    return Snapshot(
        generation=int(info["generation"]),
        directory=directory,
        chunks=chunks,
        by_id={cid: i for i, cid in enumerate(ids)},
        ids=ids,
        kinds=kinds,
        lexical=LexicalIndex.load(directory / "bm25", len(chunks)),
        faq_lexical=LexicalIndex.load(directory / "faq", len(faq_rows)),
        faq_rows=faq_rows,
        embedder=info.get("embedder"),
        tokenizer=str(info.get("tokenizer", "")),
        manifest=manifest,
        analysis=Analysis.load(directory / "analysis", len(chunks)),
        catalog=catalog,
    )


def read_tokens(directory: Path, vocab: Vocabulary) -> dict[str, ChunkTokens]:
    """chunk id → its analysed tokens (ids in ``vocab``), from a published generation."""
    try:
        index = load_json((directory / "chunk_index.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return read_analyses(directory / "analysis", list(index["ids"]), vocab)


def _json_line(value: Any) -> bytes:
    return json_bytes(value) + b"\n"


def publish_generation(
    index_dir: Path,
    generation: int,
    chunks: list[Chunk],
    tokens: dict[str, ChunkTokens],
    vocab: Vocabulary,
    manifest: dict[str, Any],
    *,
    embedder: str | None,
    tokenizer: str,
    catalog: dict[str, Any] | None = None,
) -> Path:
    """Write a complete generation and make it live atomically. Returns its directory.

    A write that fails (a full disk, a read-only or vanished directory) raises
    :class:`KnowledgeIndexError` and leaves the previous generation live; what was written of
    this one is removed."""
    final = _gen_dir(index_dir, generation)
    tmp = final.with_name(final.name + ".tmp")
    with _write_failure_typed(index_dir, final, tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)  # left by a crash after rename, before publish
        tmp.mkdir(parents=True)

        write_synced(tmp / "chunks.jsonl", (_json_line(c.to_dict()) for c in chunks))
        index = {"ids": [c.id for c in chunks], "kinds": [c.kind for c in chunks]}
        write_synced(tmp / "chunk_index.json", [_json_line(index)])
        write_synced(tmp / "manifest.json", [_json_line(manifest)])
        if catalog is not None:
            write_synced(tmp / "catalog.json", [_json_line(catalog)])

        encoded = encode(chunks, [tokens[c.id] for c in chunks], vocab)
        encoded.save(tmp / "analysis")
        LexicalIndex.build_flat(encoded.arrays["tokens"], encoded.doc_lengths, vocab.ids).save(
            tmp / "bm25"
        )
        LexicalIndex.build_flat(*encoded.phrasing_tokens(), vocab.ids).save(tmp / "faq")
        save_array(tmp / "faq_rows.npy", encoded.phrasing_rows)
        for sub in ("bm25", "faq"):  # written by bm25s (analysis/ was synced as it was written)
            for file in (tmp / sub).iterdir():
                with open(file, "rb+") as fh:
                    os.fsync(fh.fileno())
        fsync_dir(tmp)
        os.rename(tmp, final)
        fsync_dir(index_dir)

        current = {
            "format": FORMAT,
            "generation": generation,
            "embedder": embedder,
            "tokenizer": tokenizer,
        }
        pointer_tmp = index_dir / (CURRENT + ".tmp")
        write_synced(pointer_tmp, [json_bytes(current)])
        os.replace(pointer_tmp, index_dir / CURRENT)
        fsync_dir(index_dir)
        return final


@contextlib.contextmanager
def _write_failure_typed(index_dir: Path, final: Path, tmp: Path) -> Iterator[None]:
    """A failed write while publishing: remove what was written, raise KnowledgeIndexError."""
    try:
        yield
    except OSError as exc:
        # Every write comes before CURRENT is replaced: this generation never went live.
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        with contextlib.suppress(OSError):
            (index_dir / (CURRENT + ".tmp")).unlink(missing_ok=True)
        raise KnowledgeIndexError(
            f"cannot write the index at {index_dir} ({exc.strerror or exc}); the previous "
            "version stays live. Free disk space (or fix the directory's permissions) and "
            "ingest again."
        ) from exc


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
