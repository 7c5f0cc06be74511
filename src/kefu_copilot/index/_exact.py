"""Exact dense search: a float32 matrix, memory-mapped, searched by one matrix product.

HNSW (Chroma) is approximate: at 100k vectors its default parameters returned ~82 % of the exact
top-60 (issue 22). Below a measured size a full scan is as fast and exact, so this store is the
default there (see ``open_vector_store`` in ``_vectors.py`` and benchmarks/README.md).

Layout (``<index_dir>/vectors/<collection>/``, one directory per index and embedding model)::

    MANIFEST              {"format", "dim", "segments": [{"name", "rows"[, "lists", "nprobe"]}],
                           "deleted": [ids], "notes": {}}
    seg-000004.npy        float32 (rows, dim), unit-normalised rows
    seg-000004.ids.json   the chunk id of every row
    seg-000004.centroids.npy, seg-000004.offsets.npy
                          inverted lists of a large segment (its rows grouped by list; ``_ivf``)
    .lock                 serialises writers (ingest already holds the index's write lock)

Segments of at least ``IVF_MIN_ROWS`` rows are written with inverted lists (``_ivf.py``): a
store opened with ``probe_above`` scans only the lists nearest a query once it holds more than
that many live vectors (``vector_search="auto"``: above ``EXACT_SEARCH_MAX``), and every row
otherwise. The lists only reorder a segment's rows, so a reader that ignores them (an older
version) still searches it exactly.

Why segments, not one matrix per generation: the ingest pipeline adds vectors batch by batch
before it publishes a generation, and an incremental ingest changes a few files of a large shop —
rewriting the whole matrix each time would cost O(size) per batch. Each ``add`` writes one
immutable segment; ``delete`` records tombstones; small segments are merged as they accumulate
(like a binary counter: at most ~log2(rows / batch) segments) and tombstones are compacted away.

Crash safety follows the index generations: segment files are written under temporary names,
fsynced and renamed; only then is ``MANIFEST`` replaced atomically (temp file, fsync, rename,
fsync of the directory). A reader reads ``MANIFEST`` and memory-maps exactly the segments it
names, all complete; files no manifest names (left by a crash, or replaced by a merge) are
removed by the next writer. A reader notices a new ``MANIFEST`` with one ``stat`` per query.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import VectorStoreError
from .._fs import drop_pages, fsync_dir, json_bytes, load_json, write_synced
from . import _ivf
from ._ids import ChunkIds

__all__ = ["ExactStore"]

_FORMAT = 1
MANIFEST = "MANIFEST"
_MAX_DELETED_SHARE = 0.2  # compact when tombstones exceed this share of the rows
_COPY_ROWS = 65_536  # rows copied at a time when merging (bounded memory)
_TAIL_SHARE = 0.125  # optimize(): merge all when the other segments exceed this share
#: The resident pages of a probed segment larger than this are released every time this many
#: bytes of it were probed: probing a few lists per question touches, question after
#: question, every page of a segment (108 of 117 MB resident at 300k after 100 questions).
#: A smaller segment stays resident and pays nothing. Releasing is not free: the release
#: itself (~5 ms for a 117 MB segment) and every page mapped back from the page cache
#: afterwards. At 64 MB the 300k benchmark shop's segment (117 MB, 100-d vectors) was
#: released every ~5 questions, which doubled the dense query's CPU (3.3 vs 1.7 ms, 3
#: alternating rounds of 100 questions, benchmarks/README.md round 7) for ~50 MB less RSS on
#: average; at 128 MB it stays resident (serving peak still under 1 GB) and only larger
#: segments (a 512-d model at 300k: 600 MB) hold at most this much between releases.
PROBED_RELEASE = 128 << 20


def _similarities(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``matrix @ q`` in one thread. BLAS (OpenBLAS) splits a matrix-vector product across its
    threads: at 10k x 100 that is 0.03 ms on an idle machine but 40-60 ms at p90 on a loaded
    one (the threads wait for each other's cores); a row-by-row dot is 0.1 ms and steady."""
    return _VECDOT(matrix, q) if _VECDOT is not None else np.einsum("ij,j->i", matrix, q)


_VECDOT = getattr(np, "vecdot", None)  # numpy >= 2.0


def _release(array: np.ndarray) -> None:
    """Drop the pages of a memory-mapped ``array`` from this process's resident set (they
    stay in the page cache; touched again, they are mapped back). Merging and grouping read
    and write whole segments through mappings: without this, an ingest of 300k chunks counts
    every page of the old and new segments in its RSS at once."""
    base: Any = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "_mmap", None) or getattr(base, "base", None)
    if isinstance(base, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        if isinstance(array, np.memmap) and array.flags.writeable:
            array.flush()
        drop_pages(base)


@dataclass(frozen=True)
class _Lists:
    """A segment's inverted lists: rows ``offsets[i]:offsets[i + 1]`` are nearest centroid i."""

    centroids: np.ndarray
    offsets: np.ndarray
    nprobe: int  # lists scanned per query, measured when the lists were built


def _segment_ids(listed: Any) -> ChunkIds:
    if not isinstance(listed, list) or not all(type(cid) is str for cid in listed):
        raise ValueError("segment ids are not strings")
    return ChunkIds(listed)


@dataclass(frozen=True)
class _Segment:
    name: str
    ids: Sequence[str]  # a ChunkIds: ~24 bytes a row, not a string object (~73)
    matrix: np.ndarray  # memory-mapped, read-only
    alive: np.ndarray | None  # bool per row; None: every row is live
    lists: _Lists | None = None
    stamp: tuple[int, int] = (0, 0)  # the matrix file's inode and mtime when it was read

    def entry(self) -> dict[str, Any]:
        """This segment's manifest entry."""
        entry: dict[str, Any] = {"name": self.name, "rows": len(self.ids)}
        if self.lists is not None:
            entry["lists"] = len(self.lists.centroids)
            entry["nprobe"] = self.lists.nprobe
        return entry


@dataclass(frozen=True)
class _View:
    """One manifest's segments, as a reader sees them (immutable)."""

    key: tuple[int, int, int]  # MANIFEST's inode, mtime and size
    dim: int
    segments: tuple[_Segment, ...]
    deleted: frozenset[str]
    rows: int  # live rows
    notes: dict[str, Any]  # small facts kept with the vectors (e.g. an HNSW mirror is complete)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class ExactStore:
    """Exact cosine search over memory-mapped float32 segments (see the module docstring).

    Implements the :class:`~kefu_copilot.index._vectors.VectorStore` protocol, plus
    ``check``/``reset`` (what ingest and ``kefu repair`` use to rebuild a damaged store) and
    :meth:`vectors` (stored vectors by id: filling an HNSW index without embedding again)."""

    def __init__(
        self,
        directory: str | Path,
        *,
        local_dir: Path | None = None,
        probe_above: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        #: Scan only the probed inverted lists of a segment that has them once the store holds
        #: more than this many live vectors (0: always; None: never, every row is scanned).
        self.probe_above = probe_above
        self.where = str(self.directory)
        #: the index directory (ingest rebuilds a store that has one and cannot be read)
        self.local_dir = local_dir if local_dir is not None else self.directory
        self._view: _View | None = None
        self._view_lock = threading.Lock()
        self._id_set: tuple[_View, set[str]] | None = None
        #: segments as last read, by name: they are immutable, so a new manifest that still
        #: names one reuses it (ids, mapping, lists) instead of reading it again
        self._segments: dict[str, _Segment] = {}
        self._probed = 0  # bytes of vectors probed since their pages were last released

    # -- reading ----------------------------------------------------------------------------
    def _manifest_key(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.directory / MANIFEST)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error("reading its manifest", exc) from exc
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _current(self) -> _View | None:
        """The live view, reloaded when ``MANIFEST`` changed (one stat per call)."""
        key = self._manifest_key()
        view = self._view
        if key is None:
            self._view = None
            return None
        if view is not None and view.key == key:
            return view
        with self._view_lock:
            for _attempt in range(3):  # a writer may replace MANIFEST and merge meanwhile
                key = self._manifest_key()
                if key is None:
                    self._view = None
                    return None
                try:
                    self._view = self._load(key)
                    return self._view
                except FileNotFoundError:
                    continue
                except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
                    # EOFError: np.load of a file a full disk left empty
                    raise self._error("reading its files", exc) from exc
            raise self._error("reading its files", RuntimeError("segments keep disappearing"))

    def _load(self, key: tuple[int, int, int]) -> _View:
        manifest = load_json((self.directory / MANIFEST).read_bytes())
        if manifest.get("format") != _FORMAT:
            raise ValueError(f"unknown format {manifest.get('format')!r}")
        deleted = frozenset(manifest.get("deleted", ()))
        dim = int(manifest["dim"])
        segments = []
        rows = 0
        for entry in manifest["segments"]:
            name = entry["name"]
            st = os.stat(self.directory / f"{name}.npy")
            stamp = (st.st_ino, st.st_mtime_ns)
            known = self._segments.get(name)
            if known is not None and known.stamp == stamp and known.matrix.shape[1] == dim:
                segment = self._alive(known, deleted)
                rows += len(segment.ids) if segment.alive is None else int(segment.alive.sum())
                segments.append(segment)
                continue
            # a plain ndarray over the mapping (np.memmap's subclass hooks cost per operation)
            matrix = np.asarray(np.load(self.directory / f"{name}.npy", mmap_mode="r"))
            ids = _segment_ids(load_json((self.directory / f"{name}.ids.json").read_bytes()))
            if matrix.shape != (len(ids), dim) or len(ids) != int(entry["rows"]):
                raise ValueError(f"segment {name} does not match its ids")
            alive = None
            if deleted:
                mask = np.fromiter((cid not in deleted for cid in ids), bool, len(ids))
                alive = None if mask.all() else mask
            rows += len(ids) if alive is None else int(alive.sum())
            lists = None
            if entry.get("lists"):
                centroids = np.load(self.directory / f"{name}.centroids.npy")
                offsets = np.load(self.directory / f"{name}.offsets.npy")
                if (
                    centroids.shape != (int(entry["lists"]), dim)
                    or offsets.shape != (len(centroids) + 1,)
                    or int(offsets[-1]) != len(ids)
                ):
                    raise ValueError(f"segment {name} does not match its lists")
                lists = _Lists(centroids, offsets.astype(np.int64), int(entry["nprobe"]))
            segments.append(_Segment(name, ids, matrix, alive, lists, stamp))
        notes = dict(manifest.get("notes", {}))
        self._segments = {s.name: s for s in segments}
        return _View(key, dim, tuple(segments), deleted, rows, notes)

    @staticmethod
    def _alive(segment: _Segment, deleted: frozenset[str]) -> _Segment:
        """``segment`` with its live-row mask for this manifest's tombstones."""
        alive = None
        if deleted:
            mask = np.fromiter((cid not in deleted for cid in segment.ids), bool, len(segment.ids))
            alive = None if mask.all() else mask
        if alive is None and segment.alive is None:
            return segment
        return _Segment(
            segment.name, segment.ids, segment.matrix, alive, segment.lists, segment.stamp
        )

    def __len__(self) -> int:
        view = self._current()
        return view.rows if view is not None else 0

    def exists(self) -> bool:
        """Whether anything was ever written here (an index from before this store has not)."""
        return self._manifest_key() is not None

    def note(self, key: str) -> Any:
        """A fact recorded with :meth:`set_note` (None if never recorded)."""
        view = self._current()
        return view.notes.get(key) if view is not None else None

    def set_note(self, key: str, value: Any) -> None:
        """Record a small fact in the manifest, atomically with the vectors it is about."""
        with self._writing("recording a note") as view:
            segments = [s.entry() for s in view.segments] if view is not None else []
            dim = view.dim if view is not None else 0
            notes = dict(view.notes) if view is not None else {}
            notes[key] = value
            deleted = set(view.deleted) if view is not None else set()
            self._commit(dim, segments, deleted, notes)

    def _live_ids(self, view: _View | None) -> set[str]:
        if view is None:
            return set()
        cached = self._id_set
        if cached is not None and cached[0] is view:
            return cached[1]
        ids = {cid for s in view.segments for cid in s.ids} - view.deleted
        self._id_set = (view, ids)
        return ids

    def existing(self, ids: Sequence[str]) -> set[str]:
        live = self._live_ids(self._current())
        return {cid for cid in ids if cid in live}

    def all_ids(self) -> set[str]:
        return set(self._live_ids(self._current()))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        view = self._current()
        if view is None or k <= 0 or not view.rows:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        if norm:
            q = q / norm
        probe = self.probe_above is not None and view.rows > self.probe_above
        if not probe and len(view.segments) == 1 and view.segments[0].alive is None:
            segment = view.segments[0]  # the usual case
            sims = _similarities(segment.matrix, q)
            k = min(k, len(sims))
            top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            ids = segment.ids
            return [(ids[i], v) for i, v in zip(top.tolist(), sims[top].tolist(), strict=True)]
        return self._segments_top(view, q, k, probe=probe)

    def _segments_top(
        self, view: _View, q: np.ndarray, k: int, *, probe: bool
    ) -> list[tuple[str, float]]:
        """Top-k over every segment: with ``probe``, over the probed lists of those that have
        them (and every row of the rest)."""
        sims_parts, rows_parts, seg_parts = [], [], []
        for order, segment in enumerate(view.segments):
            lists = segment.lists
            if probe and lists is not None and lists.nprobe < len(lists.centroids):
                rows, sims = _ivf.probe(
                    segment.matrix, lists.centroids, lists.offsets, q, lists.nprobe
                )
                if segment.matrix.nbytes > PROBED_RELEASE:  # else it may stay resident
                    self._probed += len(rows) * segment.matrix.shape[1] * 4
                    if self._probed > PROBED_RELEASE:
                        self._probed = 0
                        _release(segment.matrix)
            else:
                rows, sims = np.arange(len(segment.ids)), _similarities(segment.matrix, q)
            if segment.alive is not None:
                sims = np.where(segment.alive[rows], sims, -np.inf)
            n = min(k, len(sims))
            if n == 0:
                continue
            top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
            top = top[sims[top] > -np.inf]
            sims_parts.append(sims[top])
            rows_parts.append(rows[top])
            seg_parts.append(np.full(len(top), order))
        if not sims_parts:
            return []
        sims = np.concatenate(sims_parts)
        best = np.argsort(-sims, kind="stable")[:k]
        found, segs = np.concatenate(rows_parts)[best].tolist(), np.concatenate(seg_parts)[best]
        segments = view.segments
        return [
            (segments[s].ids[r], v)
            for s, r, v in zip(segs.tolist(), found, sims[best].tolist(), strict=True)
        ]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored (normalised) vectors of ``ids``, in that order; unknown ids are an error."""
        view = self._current()
        if view is None:
            if ids:
                raise KeyError(ids[0])
            return np.zeros((0, 0), dtype=np.float32)
        where: dict[str, tuple[int, int]] = {}
        for s_no, segment in enumerate(view.segments):
            for row, cid in enumerate(segment.ids):
                if cid not in view.deleted:
                    where[cid] = (s_no, row)
        out = np.empty((len(ids), view.dim), dtype=np.float32)
        for n, cid in enumerate(ids):
            s_no, row = where[cid]
            out[n] = view.segments[s_no].matrix[row]
        return out

    def check(self) -> None:
        """Read every segment end to end, or raise :class:`VectorStoreError`."""
        view = self._current()
        if view is None:
            return
        try:
            for segment in view.segments:
                if not np.isfinite(np.asarray(segment.matrix).sum()):
                    raise ValueError(f"segment {segment.name} holds non-finite values")
        except (OSError, ValueError) as exc:
            raise self._error("checking that it can be read", exc) from exc

    def _error(self, operation: str, exc: BaseException) -> VectorStoreError:
        return VectorStoreError(
            f"the vector store at {self.where} failed while {operation}: "
            f"{type(exc).__name__}: {exc}. If its files are damaged (e.g. after a full disk), "
            "run `kefu repair SHOP` or ingest again: vectors are made again from the chunks."
        )

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writing(self, operation: str) -> Iterator[_View | None]:
        """Serialise writers; a failed write raises VectorStoreError and changes nothing."""
        import filelock

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with filelock.FileLock(self.directory / ".lock"):
                yield self._current()
        except VectorStoreError:
            raise
        except (OSError, ValueError) as exc:
            raise self._error(operation, exc) from exc

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add (or replace) vectors. An id is held by at most one segment row: replacing or
        re-adding one compacts the segments first (rare: ingest adds only missing vectors)."""
        if not len(ids):
            return
        matrix = _normalised(vectors)
        if matrix.shape[0] != len(ids):
            raise ValueError(f"{len(ids)} ids for {matrix.shape[0]} vectors")
        ids = list(ids)
        if len(set(ids)) != len(ids):  # the last vector of a repeated id wins
            last = {cid: n for n, cid in enumerate(ids)}
            keep = sorted(last.values())
            ids, matrix = [ids[n] for n in keep], matrix[keep]
        with self._writing("adding vectors") as view:
            segments: list[dict[str, Any]] = []
            deleted: set[str] = set()
            if view is not None:
                if view.dim and view.dim != matrix.shape[1]:
                    raise VectorStoreError(
                        f"the vector store at {self.where} holds {view.dim}-dimensional "
                        f"vectors, not {matrix.shape[1]}: a store is per embedding model"
                    )
                segments = [s.entry() for s in view.segments]
                deleted = set(view.deleted)
                replaced = self._held_ids(view).intersection(ids)
                if replaced:  # rewrite without the old rows (and without tombstones)
                    merged = self._rewrite([e["name"] for e in segments], deleted | replaced)
                    segments, deleted = ([merged] if merged["rows"] else []), set()
            segments.append(self._write_segment(ids, [matrix]))
            self._commit(matrix.shape[1], segments, deleted, view.notes if view else {})

    def delete(self, ids: Sequence[str]) -> None:
        if not len(ids):
            return
        with self._writing("deleting vectors") as view:
            if view is None:
                return
            drop = self._live_ids(view).intersection(ids)
            if not drop:
                return
            segments = [s.entry() for s in view.segments]
            self._commit(view.dim, segments, set(view.deleted) | drop, view.notes)

    def optimize(self) -> None:
        """Merge every segment into one when the store has lists to probe and the segments
        besides the largest hold more than ``_TAIL_SHARE`` of its rows: each segment is probed
        (or scanned) separately, so a store left in ~log2 segments by a full ingest costs 2-3x
        one merged segment per query (8.6 / 2.95 ms -> 1.1 ms of CPU at 300k). Ingest calls it
        after adding vectors; an incremental ingest that adds a few leaves the store as is."""
        view = self._current()
        if view is None or len(view.segments) < 2:
            return
        largest = max(len(s.ids) for s in view.segments)
        total = sum(len(s.ids) for s in view.segments)
        if total < _ivf.IVF_MIN_ROWS or total - largest <= _TAIL_SHARE * largest:
            return
        with self._writing("merging its segments") as view:
            if view is None:
                return
            merged = self._rewrite([s.name for s in view.segments], set(view.deleted))
            self._commit(view.dim, [merged] if merged["rows"] else [], set(), view.notes)

    def add_lists(self) -> None:
        """Rewrite with inverted lists the large segments an older version wrote without."""
        view = self._current()
        if view is None or not any(
            s.lists is None and len(s.ids) >= _ivf.IVF_MIN_ROWS for s in view.segments
        ):
            return
        with self._writing("adding inverted lists") as view:
            if view is None:
                return
            segments = []
            for segment in view.segments:
                if segment.lists is None and len(segment.ids) >= _ivf.IVF_MIN_ROWS:
                    rewritten = self._rewrite([segment.name], set(view.deleted))
                    if rewritten["rows"]:
                        segments.append(rewritten)
                else:
                    segments.append(segment.entry())
            self._commit(view.dim, segments, set(view.deleted), view.notes)

    def reset(self) -> None:
        """Replace the store with an empty one (its vectors are then made again)."""
        aside = self.directory.with_name(
            f"{self.directory.name}.broken-{os.getpid()}-{time.time_ns()}"
        )
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.directory, aside)  # atomic: no reader opens a half-deleted store
        shutil.rmtree(aside, ignore_errors=True)
        self._view = None
        self._id_set = None
        self._segments = {}

    def _commit(
        self,
        dim: int,
        segments: list[dict[str, Any]],
        deleted: set[str],
        notes: dict[str, Any],
    ) -> None:
        """Merge and compact as needed, publish the new manifest, then drop unused files."""
        segments, deleted = self._merged(segments, deleted)
        manifest = {
            "format": _FORMAT,
            "dim": dim,
            "segments": segments,
            "deleted": sorted(deleted),
            "notes": notes,
        }
        tmp = self.directory / (MANIFEST + ".tmp")
        write_synced(tmp, [json_bytes(manifest)])
        os.replace(tmp, self.directory / MANIFEST)
        fsync_dir(self.directory)
        self._view = None
        self._id_set = None
        keep = {e["name"] for e in segments}
        for file in self.directory.glob("seg-*"):
            if file.name.split(".", 1)[0] not in keep:
                with contextlib.suppress(OSError):  # a reader may still map it (Windows)
                    file.unlink()

    def _merged(
        self, segments: list[dict[str, Any]], deleted: set[str]
    ) -> tuple[list[dict[str, Any]], set[str]]:
        """Merge trailing segments of similar size (a binary counter: at most ~log2(rows /
        batch) segments); rewrite everything when tombstones exceed a fifth of the rows."""
        total = sum(e["rows"] for e in segments)
        if deleted and len(deleted) > _MAX_DELETED_SHARE * total:
            start = 0
        else:
            start, merged_rows = len(segments) - 1, segments[-1]["rows"] if segments else 0
            while start >= 1 and merged_rows * 2 >= segments[start - 1]["rows"]:
                start -= 1
                merged_rows += segments[start]["rows"]
            if start >= len(segments) - 1:
                return segments, deleted
        merged = self._rewrite([e["name"] for e in segments[start:]], deleted)
        kept = segments[:start]
        held = {cid for e in kept for cid in self._ids_of(e["name"])} if deleted else set()
        return kept + ([merged] if merged["rows"] else []), deleted & held

    def _ids_of(self, name: str) -> Sequence[str]:
        known = self._segments.get(name)  # segments are immutable: their ids as last read
        if known is not None:
            return known.ids
        return _segment_ids(load_json((self.directory / f"{name}.ids.json").read_bytes()))

    def _held_ids(self, view: _View) -> set[str]:
        """Every id a segment row holds, tombstoned or not."""
        return {cid for s in view.segments for cid in s.ids}

    def _rewrite(self, names: list[str], drop: set[str]) -> dict[str, Any]:
        """One segment holding the rows of ``names`` whose id is not in ``drop``."""
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        ids: list[str] = []
        for name in names:
            seg_ids = self._ids_of(name)
            rows = [row for row, cid in enumerate(seg_ids) if cid not in drop]
            if rows:
                matrix = np.load(self.directory / f"{name}.npy", mmap_mode="r")
                parts.append((matrix, np.asarray(rows, dtype=np.int64)))
                ids.extend(seg_ids[row] for row in rows)
        if not ids:
            return {"name": "", "rows": 0}
        return self._write_segment(ids, parts)

    def _write_segment(self, ids: list[str], parts: Sequence[Any]) -> dict[str, Any]:
        """Write a segment (temp names, fsync, rename) and return its manifest entry. ``parts``:
        whole matrices, or (matrix, rows) pairs copied a block at a time (bounded memory). A
        segment of ``IVF_MIN_ROWS`` rows or more is written grouped by inverted list."""
        number = 1 + max(
            (int(p.name[4:10]) for p in self.directory.glob("seg-*") if p.name[4:10].isdigit()),
            default=0,
        )
        name = f"seg-{number:06d}"
        entry: dict[str, Any] = {"name": name, "rows": len(ids)}
        tmp_npy = self.directory / f"{name}.npy.tmp"
        first = parts[0][0] if isinstance(parts[0], tuple) else parts[0]
        dim = first.shape[1]
        out = np.lib.format.open_memmap(tmp_npy, mode="w+", dtype=np.float32, shape=(len(ids), dim))
        at = 0
        for part in parts:
            if isinstance(part, tuple):
                matrix, rows = part
                for start in range(0, len(rows), _COPY_ROWS):
                    block = rows[start : start + _COPY_ROWS]
                    out[at : at + len(block)] = matrix[block]
                    at += len(block)
                    _release(matrix)
                    _release(out)
            else:
                out[at : at + len(part)] = part
                at += len(part)
        out.flush()
        _release(out)
        del out
        renames = []
        if len(ids) >= _ivf.IVF_MIN_ROWS:
            ids = self._group_by_list(name, tmp_npy, ids, entry)
            renames = [f"{name}.centroids.npy", f"{name}.offsets.npy"]
        with open(tmp_npy, "rb+") as fh:
            os.fsync(fh.fileno())
        tmp_ids = self.directory / f"{name}.ids.json.tmp"
        write_synced(tmp_ids, [json_bytes(ids)])
        for final in renames:
            os.replace(self.directory / f"{final}.tmp", self.directory / final)
        os.replace(tmp_ids, self.directory / f"{name}.ids.json")
        os.replace(tmp_npy, self.directory / f"{name}.npy")
        fsync_dir(self.directory)
        return entry

    def _group_by_list(
        self, name: str, tmp_npy: Path, ids: list[str], entry: dict[str, Any]
    ) -> list[str]:
        """Rewrite the segment at ``tmp_npy`` grouped by inverted list, write its centroids and
        offsets under temporary names, and record them in ``entry``; returns the ids in the
        new row order."""
        flat = np.load(tmp_npy, mmap_mode="r")
        centroids = _ivf.fit_centroids(flat, _ivf.list_count(len(ids)))
        labels = _ivf.assign(flat, centroids)
        _release(flat)
        order = np.argsort(labels, kind="stable")
        grouped_path = tmp_npy.with_name(f"{name}.grouped.npy.tmp")
        grouped = np.lib.format.open_memmap(
            grouped_path, mode="w+", dtype=np.float32, shape=flat.shape
        )
        for start in range(0, len(order), _COPY_ROWS):
            block = order[start : start + _COPY_ROWS]
            grouped[start : start + len(block)] = flat[block]
            _release(flat)
            _release(grouped)
        labels = labels[order]
        offsets = np.zeros(len(centroids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(labels, minlength=len(centroids)), out=offsets[1:])
        nprobe = _ivf.calibrate(grouped, offsets, centroids, labels)
        _release(grouped)
        del grouped, flat
        os.replace(grouped_path, tmp_npy)
        for final, array in (("centroids", centroids), ("offsets", offsets)):
            tmp = self.directory / f"{name}.{final}.npy.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array)
                fh.flush()
                os.fsync(fh.fileno())
        entry.update(lists=len(centroids), nprobe=nprobe)
        return [ids[row] for row in order.tolist()]
