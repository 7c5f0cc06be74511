"""Incremental, idempotent, crash-safe ingestion of a shop directory into an index."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import logging
import os
import stat
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import KnowledgeIndexError, ShopError, VectorStoreError
from .._models import Chunk, FileIssue, IngestReport
from ..embed._embedder import Embedder
from ..index._analysis import ChunkTokens, Vocabulary, analyse_chunk, analyser
from ..index._generations import (
    Derive,
    GenerationWriter,
    Snapshot,
    WriteLock,
    _load_generation,
    read_current,
    remove_old_generations,
    stored_tokens,
)
from ..index._generations import _gen_dir as generation_dir
from ..index._vectors import ChromaStore, VectorStore
from ..text._tokenize import Tokenizer
from ._catalog import CatalogBuilder
from ._loaders import SUPPORTED, ParseRules, rules_fingerprint
from ._workers import open_regular, parse_files, plan_workers

__all__ = ["discover_files", "ingest_shop", "repair_vectors"]

log = logging.getLogger("kefu_copilot")
_debug = logging.getLogger(__name__).debug  # one line per ingestion phase
LOADER_VERSION = "2"  # bump when parsing changes, so unchanged files are re-parsed once
MAX_FILE_MB = 64.0  # default limit per knowledge file; larger files are skipped with a report
EMBED_BATCH = 2048

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class FoundFile:
    source: str  # POSIX path relative to the shop directory
    path: Path
    size: int
    mtime_ns: int


def discover_files(shop_dir: Path) -> tuple[list[FoundFile], list[FileIssue]]:
    """Knowledge files in the contract's folders; anything else is reported, never read.

    Nothing outside the shop directory is read: a symlinked file or folder whose target lies
    outside (or nowhere, or in a loop) is reported. A symlinked knowledge folder pointing inside
    the shop is read; symlinked subfolders are not followed (a warning says so). Only regular
    files are read: a FIFO, socket or device is reported without being opened."""
    root = shop_dir.resolve()
    found: list[FoundFile] = []
    issues: list[FileIssue] = []

    def unlistable(exc: OSError) -> None:
        where = Path(exc.filename or root).relative_to(root).as_posix()
        issues.append(FileIssue(source=where, problem=f"cannot list: {exc.strerror}"))

    for folder, suffixes in SUPPORTED.items():
        base = root / folder
        if base.is_symlink():
            refused = _link_problem(base, root)
            if refused is not None:
                issues.append(FileIssue(source=folder, problem=refused))
                continue
        if not base.is_dir():
            continue

        for dirpath, dirnames, filenames in os.walk(base, onerror=unlistable):
            kept = []
            for name in sorted(d for d in dirnames if not d.startswith(".")):
                problem = _entry_problem(Path(dirpath) / name, root, folder=True)
                if problem is None:
                    kept.append(name)
                else:
                    issues.append(problem)
            dirnames[:] = kept  # symlinked folders are listed here but never walked
            for name in sorted(filenames):
                if name.startswith((".", "~$")):
                    continue
                path = Path(dirpath) / name
                problem = _entry_problem(path, root, folder=False)
                if problem is not None:
                    issues.append(problem)
                    continue
                source = path.relative_to(root).as_posix()
                if path.suffix.lower() not in suffixes:
                    issues.append(
                        FileIssue(
                            source=source,
                            problem=f"unsupported file type in {folder}/ (expected {', '.join(suffixes)})",
                            kind="warning",
                        )
                    )
                    continue
                try:
                    info = path.stat()
                except OSError as exc:
                    issues.append(FileIssue(source=source, problem=f"cannot stat: {exc.strerror}"))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    kind = _special_kind(info.st_mode)
                    issues.append(FileIssue(source=source, problem=f"{kind}, not a file; not read"))
                    continue
                found.append(FoundFile(source, path, info.st_size, info.st_mtime_ns))
    return found, issues


def _entry_problem(path: Path, root: Path, *, folder: bool) -> FileIssue | None:
    """Why a folder or file found while walking is not read (None: it may be read)."""
    source = path.relative_to(root).as_posix()
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(source).decode("utf-8", "backslashreplace")
        what = "folder" if folder else "file"
        return FileIssue(
            source=shown, problem=f"{what} name is not valid UTF-8; rename it to read it"
        )
    if not path.is_symlink():
        return None
    problem = _link_problem(path, root)
    if problem is None and folder:
        return FileIssue(
            source=source,
            problem="symlinked folder not followed; move its files here or link each file",
            kind="warning",
        )
    return None if problem is None else FileIssue(source=source, problem=problem)


def _link_problem(path: Path, root: Path) -> str | None:
    """Why the symlink ``path`` cannot be followed, or None when it leads inside the shop."""
    try:
        target = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        return f"dangling symlink (its target {os.readlink(path)} does not exist); not read"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop; not read"
        return f"symlink cannot be followed: {exc.strerror}; not read"
    except RuntimeError:  # older Pythons report a loop this way
        return "symlink loop; not read"
    if not target.is_relative_to(root):
        return "symlink pointing outside the shop directory; not read"
    return None


def _special_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_shop(
    shop_dir: Path,
    index_dir: Path,
    *,
    tokenizer: Tokenizer,
    config_hash: str,
    embedder: Embedder | None,
    store: VectorStore | None,
    progress: Progress | None = None,
    max_file_mb: float = MAX_FILE_MB,
    workers: int | None = None,
    rules: ParseRules | None = None,
    derive: Derive | None = None,
) -> IngestReport:
    """Bring the index in line with the shop directory, touching only what changed.

    Files larger than ``max_file_mb`` are skipped with a report (memory stays bounded).
    ``workers``: processes that parse and tokenise (None: one per spare core when there is
    enough to parse; 0: all in this process). ``rules``: the shop's parse rules
    (``_loaders.parse_rules(shop)``; default: the packaged sets). ``derive``: what a higher
    stage derives from a new generation before it goes live (see
    :data:`~kefu_copilot.index._generations.Derive`; the pre-sales profiles)."""
    started = time.perf_counter()
    if not shop_dir.is_dir():
        raise ShopError(f"shop directory {shop_dir} does not exist or is not a directory")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KnowledgeIndexError(
            f"cannot create the index directory {index_dir} ({exc.strerror}); point index_dir "
            "(KEFU_INDEX_DIR) at a folder this process can write"
        ) from exc
    with WriteLock(index_dir):
        return _ingest_locked(
            shop_dir,
            index_dir,
            tokenizer,
            config_hash,
            embedder,
            store,
            progress,
            started,
            max_file_mb=max_file_mb,
            workers=workers,
            rules=rules,
            derive=derive,
        )


def _ingest_locked(
    shop_dir: Path,
    index_dir: Path,
    tokenizer: Tokenizer,
    config_hash: str,
    embedder: Embedder | None,
    store: VectorStore | None,
    progress: Progress | None,
    started: float,
    max_file_mb: float = MAX_FILE_MB,
    workers: int | None = None,
    rules: ParseRules | None = None,
    derive: Derive | None = None,
) -> IngestReport:
    # A shop's parse rules are part of the loader version: changing them re-parses every file.
    fingerprint = rules_fingerprint(rules)
    loader = f"{LOADER_VERSION}+{fingerprint}" if fingerprint else LOADER_VERSION
    current = read_current(index_dir, unreadable_ok=True)  # damaged: publish afresh
    prev_gen = int(current["generation"]) if current else 0
    prev_dir = generation_dir(index_dir, prev_gen) if current else None
    prev_manifest: dict[str, Any] = {}
    if prev_dir is not None:
        import json

        try:
            prev_manifest = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            prev_manifest = {}
    prev_files: dict[str, Any] = prev_manifest.get("files", {})
    embedder_name = embedder.name if embedder is not None and store is not None else None
    same_setup = (
        current is not None
        and current.get("tokenizer") == tokenizer.fingerprint
        and current.get("embedder") == embedder_name
        and prev_manifest.get("loader") == loader
    )

    found, issues = discover_files(shop_dir)
    if embedder_name is not None:
        assert store is not None
        damaged = _readable_store(store)
        if damaged is not None:
            issues.append(damaged)
    report = IngestReport(
        shop_dir=str(shop_dir),
        index_dir=str(index_dir),
        generation=prev_gen,
        dense=embedder_name is not None,
    )

    # 1. Decide per file: reuse (unchanged) or parse.
    reuse: dict[str, dict[str, Any]] = {}
    to_parse: list[tuple[FoundFile, str]] = []
    unreadable: set[str] = set()  # dropped from the index like removed files, with an issue
    for f in found:
        old = prev_files.get(f.source)
        if f.size > max_file_mb * 2**20:
            issues.append(
                FileIssue(
                    source=f.source,
                    problem=f"larger than {max_file_mb:g} MB (setting max_file_mb); split it into "
                    "smaller files",
                )
            )
            continue
        if old and old.get("size") == f.size and old.get("mtime_ns") == f.mtime_ns:
            digest = old["sha256"]
        else:
            try:
                digest = _file_hash(f.path)
            except OSError as exc:  # unreadable, or no longer a regular file: its issue
                issues.append(FileIssue(source=f.source, problem=f"cannot be read: {exc}"))
                unreadable.add(f.source)
                continue
        if old and old.get("sha256") == digest and prev_manifest.get("loader") == loader:
            reuse[f.source] = {**old, "mtime_ns": f.mtime_ns}
        else:
            to_parse.append((f, digest))
    seen = {f.source for f in found} - unreadable
    removed = sorted(s for s in prev_files if s not in seen)
    config_changed = prev_manifest.get("config") != config_hash
    _debug(
        "ingest %s: %d files, %d unchanged, %d to parse, %d removed (generation %d)",
        shop_dir,
        len(found),
        len(reuse),
        len(to_parse),
        len(removed),
        prev_gen,
    )

    if (
        same_setup
        and not to_parse
        and not removed
        and not config_changed
        and _readable_generation(prev_dir, current)
    ):
        # Nothing to publish. Still repair what an earlier crash or a moved store left behind:
        # leftover generation folders, vectors missing from the store, orphaned vectors.
        remove_old_generations(index_dir, keep={prev_gen, prev_gen - 1})
        if embedder is not None and store is not None and prev_dir is not None:
            live = [cid for entry in reuse.values() for cid in entry["chunks"]]
            report.chunks_embedded = _sync_vectors(
                store, embedder, live, prev_dir, current, progress
            )
        report.files_unchanged = sorted(reuse)
        report.issues = issues + [
            FileIssue(**i) for r in reuse.values() for i in r.get("issues", [])
        ]
        report.chunks_total = sum(len(r["chunks"]) for r in reuse.values())
        report.seconds = time.perf_counter() - started
        _debug("ingest %s: index up to date", shop_dir)
        return report

    # 2. Stream the new generation in its final order: the chunks of unchanged files first
    # (with their stored tokens), then those of the files parsed now. Each chunk goes to the
    # generation's files, the catalogue and a batch of vectors as it comes, so that nothing
    # holds every chunk, token or vector of the shop at once (memory stays flat as it grows).
    snapshot: Snapshot | None = None
    if prev_dir is not None and reuse:
        try:
            snapshot = _load_generation(prev_dir, current or {})
        except (OSError, ValueError, KnowledgeIndexError):  # damaged: parse everything again
            snapshot = None
    for attempt in range(2):
        if snapshot is None and reuse:
            to_parse.extend((f, reuse[f.source]["sha256"]) for f in found if f.source in reuse)
            reuse.clear()
        to_parse.sort(key=lambda x: x[0].source)
        try:
            built = _build_generation(
                index_dir,
                prev_gen + 1,
                snapshot,
                reuse,
                to_parse,
                tokenizer,
                embedder if embedder_name is not None else None,
                store if embedder_name is not None else None,
                progress,
                workers,
                same_tokenizer=current is not None
                and current.get("tokenizer") == tokenizer.fingerprint,
                manifest_base={"loader": loader, "config": config_hash},
                rules=rules,
                publish={
                    "embedder": embedder_name,
                    "tokenizer": tokenizer.fingerprint,
                    "derive": derive,
                },
            )
            break
        except _DamagedChunks:  # a kept chunk cannot be read: parse its file again
            if attempt:
                raise
            snapshot = None
    for f, _ in to_parse:
        (report.files_updated if f.source in prev_files else report.files_added).append(f.source)
    report.files_unchanged = sorted(reuse)
    report.files_removed = removed
    report.chunks_embedded = built.embedded
    generation = prev_gen + 1
    remove_old_generations(index_dir, keep={generation, prev_gen})
    if store is not None:  # includes vectors orphaned by an earlier crash
        # Under the write lock the store holds what it held before plus the live chunks.
        held = store.all_ids() if built.have is None else built.have
        stale = sorted(held - set(built.ids))
        if stale:
            store.delete(stale)
        optimize = getattr(store, "optimize", None)
        if optimize is not None and built.embedded:  # one segment searches fastest
            optimize()

    _debug("published generation %d: %d chunks", generation, len(built.ids))
    report.generation = generation
    report.chunks_total = len(built.ids)
    report.issues = issues + built.issues
    report.seconds = time.perf_counter() - started
    return report


class _DamagedChunks(Exception):
    """A chunk of the previous generation kept for an unchanged file cannot be read."""


@dataclass
class _Built:
    """What streaming a generation produced (besides its published files)."""

    ids: list[str]
    issues: list[FileIssue]
    embedded: int
    have: set[str] | None  # the ids the vector store holds, if it was listed


class _Vectors:
    """The vectors of the new chunks the store lacks, embedded and added ``EMBED_BATCH`` at a
    time as the chunks stream by (the same batches, in the same order, as embedding them all
    at the end: the store, and its HNSW graph, come out the same)."""

    def __init__(self, embedder: Embedder, store: VectorStore, progress: Progress | None) -> None:
        self.embedder, self.store, self.progress = embedder, store, progress
        self.have: set[str] | None = None
        self.pending: list[Chunk] = []
        self.added = 0

    def list(self) -> None:
        self.have = self.store.all_ids()

    def add(self, chunk: Chunk) -> None:
        assert self.have is not None
        if chunk.id not in self.have:
            self.pending.append(chunk)
            if len(self.pending) >= EMBED_BATCH:
                self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            ids = [c.id for c in batch]
            self.store.add(ids, self.embedder.embed_documents([_embed_text(c) for c in batch]))
            assert self.have is not None
            self.have.update(ids)
            self.added += len(batch)
            if self.progress:  # (how many more will come is not known while streaming)
                self.progress("embed", self.added, self.added)


def _build_generation(
    index_dir: Path,
    generation: int,
    snapshot: Snapshot | None,
    reuse: dict[str, dict[str, Any]],
    to_parse: list[tuple[FoundFile, str]],
    tokenizer: Tokenizer,
    embedder: Embedder | None,
    store: VectorStore | None,
    progress: Progress | None,
    workers: int | None,
    *,
    same_tokenizer: bool,
    manifest_base: dict[str, Any],
    publish: dict[str, Any],
    rules: ParseRules | None = None,
) -> _Built:
    """Write and publish generation ``generation``: the kept chunks of ``reuse`` (from
    ``snapshot``), then the files of ``to_parse``, parsed (in worker processes for a large shop)
    and streamed through, chunk by chunk. Raises :class:`_DamagedChunks` before anything is
    published when a kept chunk cannot be read."""
    vocab = Vocabulary()
    # Every stored token is numbered first, in its stored order (as before streaming).
    old_tokens = (
        stored_tokens(snapshot.directory, vocab)
        if snapshot is not None and same_tokenizer
        else None
    )
    names: dict[str, list[str]] = {}  # product title -> words, for the catalogue
    old_catalog = snapshot.catalog if snapshot is not None else None
    if old_catalog and same_tokenizer and isinstance(old_catalog.get("words"), dict):
        names.update(old_catalog["words"])
    words = getattr(tokenizer, "words", None)
    catalog = (
        CatalogBuilder(
            lambda title: names[title] if title in names else words(title), tokenizer.tokenize
        )
        if words is not None
        else None
    )
    vectors = (
        _Vectors(embedder, store, progress) if embedder is not None and store is not None else None
    )
    jobs = [(f.source, f.path, f.size) for f, _ in to_parse]
    files_manifest: dict[str, Any] = {}
    issues: list[FileIssue] = []
    analyse = analyser(tokenizer)
    lead_cache: dict[str, tuple[array[int], int, int]] = {}

    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(GenerationWriter(index_dir, generation, vocab))

        def add(chunk: Chunk, tokens: ChunkTokens) -> None:
            if catalog is not None:
                catalog.add(len(writer), chunk)
            writer.add(chunk, tokens)
            if vectors is not None:
                vectors.add(chunk)

        # Started first: the workers load their dictionary while the store is listed and the
        # kept chunks are written.
        parsing = parse_files(
            jobs,
            tokenizer,
            vocab,
            workers=plan_workers(workers, jobs),
            meanwhile=vectors.list if vectors is not None else None,
            rules=rules,
        )
        stack.callback(parsing.close)  # stops the workers if this fails half-way
        first = next(parsing, None) if jobs else None
        if vectors is not None and vectors.have is None:
            vectors.list()
        parsed_files = itertools.chain([first], parsing) if first is not None else iter(())

        kept = 0
        for source, entry in sorted(reuse.items()):
            assert snapshot is not None
            read = getattr(snapshot.chunks, "read", snapshot.chunks.__getitem__)  # not kept
            for cid in entry["chunks"]:
                i = snapshot.by_id.get(cid)
                if i is None:
                    continue
                try:
                    chunk = read(i)
                except KnowledgeIndexError as exc:
                    raise _DamagedChunks(str(exc)) from exc
                kept += 1
                if old_tokens is not None:
                    tokens = old_tokens.get(i)
                else:
                    if progress and kept % 500 == 0:
                        progress("tokenize", kept, len(snapshot.ids))
                    tokens = analyse_chunk(chunk, analyse, vocab, cache=lead_cache)
                add(chunk, tokens)
            files_manifest[source] = entry
            issues.extend(FileIssue(**i) for i in entry.get("issues", []))
        del lead_cache

        for n, ((f, digest), parsed) in enumerate(zip(to_parse, parsed_files, strict=True), 1):
            if progress:
                progress("parse", n, len(to_parse))
            names.update(parsed.titles)
            for chunk, tokens in zip(parsed.chunks, parsed.tokens, strict=True):
                add(chunk, tokens)
            issues.extend(parsed.issues)
            files_manifest[f.source] = {
                "sha256": digest,
                "size": f.size,
                "mtime_ns": f.mtime_ns,
                "chunks": [c.id for c in parsed.chunks],
                "issues": [i.model_dump() for i in parsed.issues],
            }
        _debug("streamed %d chunks (%d parsed files)", len(writer), len(to_parse))

        if vectors is not None:
            vectors.flush()
            _debug("embedded %d chunks", vectors.added)

        # 3. Publish atomically (the vectors are in the store already).
        writer.publish(
            {**manifest_base, "files": files_manifest},
            embedder=publish["embedder"],
            tokenizer=publish["tokenizer"],
            catalog=catalog.finish() if catalog is not None else None,
            derive=publish.get("derive"),
        )
    return _Built(
        writer.ids,
        issues,
        vectors.added if vectors is not None else 0,
        vectors.have if vectors is not None else None,
    )


def _readable_generation(directory: Path | None, current: dict[str, Any] | None) -> bool:
    """Whether the live generation loads (a damaged one is published again from the shop)."""
    if directory is None:
        return False
    from ..index._generations import _load_generation

    try:
        chunks = _load_generation(directory, current or {}).chunks
        if len(chunks):  # chunks are parsed when used: try the two ends
            chunks[0], chunks[-1]
    except (OSError, KnowledgeIndexError):
        log.warning("kefu-copilot: generation %s cannot be read; publishing it again", directory)
        return False
    return True


def _readable_store(store: VectorStore) -> FileIssue | None:
    """Check that the store can be read; an embedded store that cannot (segment files a full
    disk damaged) is replaced by an empty one, which this ingest fills from the chunks — the
    returned warning says so. A server that fails stays a :class:`VectorStoreError`."""
    check = getattr(store, "check", None)
    if check is None:
        return None
    try:
        check()
    except VectorStoreError as exc:
        if getattr(store, "local_dir", None) is None:
            raise
        log.warning("kefu-copilot: %s; rebuilding the vector store from the chunks", exc)
        store.reset()  # type: ignore[attr-defined]
        reason = str(exc).split(". ", 1)[0]
        return FileIssue(
            source="chroma/" if isinstance(store, ChromaStore) else "vectors/",
            problem=f"{reason}; the vector store was rebuilt from the index's chunks",
            kind="warning",
        )
    return None


def repair_vectors(
    index_dir: Path,
    embedder: Embedder,
    store: VectorStore,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> int:
    """Make the store hold the live generation's vectors again, from its chunks: an embedded
    store that cannot be read (or any store, with ``rebuild``) is replaced by an empty one
    first. Returns how many vectors were made. Takes the write lock (no ingest meanwhile)."""
    with WriteLock(index_dir):
        current = read_current(index_dir)
        if current is None:
            return 0
        directory = generation_dir(index_dir, int(current["generation"]))
        if rebuild and hasattr(store, "reset"):
            store.reset()
        else:
            _readable_store(store)
        from ..index._generations import _load_generation

        snapshot = _load_generation(directory, current)
        return _sync_vectors(store, embedder, list(snapshot.ids), directory, current, progress)


def _embed_missing(
    store: VectorStore,
    embedder: Embedder,
    chunks: Sequence[Chunk],
    progress: Progress | None,
    have: set[str] | None = None,
) -> int:
    """Embed (in batches) the chunks whose vectors the store does not have; return how many.
    ``have``: the ids the store is known to hold (else it is asked)."""
    if have is None:
        have = store.existing([c.id for c in chunks])
    missing = [c for c in chunks if c.id not in have]
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        store.add([c.id for c in batch], embedder.embed_documents([_embed_text(c) for c in batch]))
        if progress:
            progress("embed", min(start + EMBED_BATCH, len(missing)), len(missing))
    return len(missing)


def _sync_vectors(
    store: VectorStore,
    embedder: Embedder,
    live: list[str],
    directory: Path,
    current: dict[str, Any] | None,
    progress: Progress | None,
) -> int:
    """Make the store hold exactly the live generation's vectors; return how many were added."""
    added = 0
    if len(store.existing(live)) < len(set(live)):
        from ..index._generations import _load_generation

        chunks = _load_generation(directory, current or {}).chunks
        added = _embed_missing(store, embedder, chunks, progress)
    orphans = sorted(store.all_ids() - set(live))
    if orphans:
        store.delete(orphans)
    return added


def _embed_text(chunk: Chunk) -> str:
    if chunk.kind == "faq":
        return " ".join([chunk.question or "", *chunk.meta.get("similar", [])])
    return f"{chunk.title} {chunk.text}" if chunk.title else chunk.text
