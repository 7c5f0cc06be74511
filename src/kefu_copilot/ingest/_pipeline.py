"""Incremental, idempotent, crash-safe ingestion of a shop directory into an index."""

from __future__ import annotations

import errno
import hashlib
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
    WriteLock,
    publish_generation,
    read_current,
    read_tokens,
    remove_old_generations,
)
from ..index._generations import _gen_dir as generation_dir
from ..index._vectors import VectorStore
from ..text._tokenize import Tokenizer
from ._catalog import build_catalog
from ._loaders import SUPPORTED
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
) -> IngestReport:
    """Bring the index in line with the shop directory, touching only what changed.

    Files larger than ``max_file_mb`` are skipped with a report (memory stays bounded).
    ``workers``: processes that parse and tokenise (None: one per spare core when there is
    enough to parse; 0: all in this process)."""
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
) -> IngestReport:
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
        and prev_manifest.get("loader") == LOADER_VERSION
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
        if old and old.get("sha256") == digest and prev_manifest.get("loader") == LOADER_VERSION:
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

    # 2. Parse what changed; keep the chunks of what did not.
    old_chunks: dict[str, Chunk] = {}
    old_tokens: dict[str, ChunkTokens] = {}
    old_catalog: dict[str, Any] | None = None
    vocab = Vocabulary()
    same_tokenizer = current is not None and current.get("tokenizer") == tokenizer.fingerprint
    if prev_dir is not None and reuse:
        from ..index._generations import _load_generation

        try:
            snapshot = _load_generation(prev_dir, current or {})
            old_chunks = {c.id: c for c in snapshot.chunks}
            old_catalog = snapshot.catalog
            if same_tokenizer:
                old_tokens = read_tokens(prev_dir, vocab)
        except (OSError, ValueError, KnowledgeIndexError):  # damaged: parse everything again
            to_parse.extend((f, reuse[f.source]["sha256"]) for f in found if f.source in reuse)
            reuse.clear()

    files_manifest: dict[str, Any] = {}
    chunks: list[Chunk] = []
    for source, entry in sorted(reuse.items()):
        kept = [old_chunks[cid] for cid in entry["chunks"] if cid in old_chunks]
        chunks.extend(kept)
        files_manifest[source] = entry
        report.files_unchanged.append(source)
        issues.extend(FileIssue(**i) for i in entry.get("issues", []))

    # Parse what changed (in worker processes for a large shop), embedding the new chunks
    # batch by batch meanwhile.
    tokens: dict[str, ChunkTokens] = {}
    to_parse.sort(key=lambda x: x[0].source)
    jobs = [(f.source, f.path, f.size) for f, _ in to_parse]
    pending: list[Chunk] = []
    embedded: set[str] = set()
    dense = embedder is not None and store is not None
    have: set[str] | None = None  # vectors the store holds (one listing, not one per batch)

    def list_vectors() -> None:
        nonlocal have
        if dense:
            assert store is not None
            have = store.all_ids()

    names: dict[str, list[str]] = {}  # product title -> words, for the catalogue
    if old_catalog and same_tokenizer and isinstance(old_catalog.get("words"), dict):
        names.update(old_catalog["words"])
    n_workers = plan_workers(workers, jobs)
    # With workers, this process would wait for them: it embeds as batches come back. Alone,
    # it embeds at the end (interleaving Chroma's writes with parsing measured slower).
    inline = dense and n_workers > 0
    parsed_files = parse_files(jobs, tokenizer, vocab, workers=n_workers, meanwhile=list_vectors)
    for n, ((f, digest), parsed) in enumerate(zip(to_parse, parsed_files, strict=True), start=1):
        if progress:
            progress("parse", n, len(to_parse))
        chunks.extend(parsed.chunks)
        issues.extend(parsed.issues)
        tokens.update((c.id, t) for c, t in zip(parsed.chunks, parsed.tokens, strict=True))
        names.update(parsed.titles)
        files_manifest[f.source] = {
            "sha256": digest,
            "size": f.size,
            "mtime_ns": f.mtime_ns,
            "chunks": [c.id for c in parsed.chunks],
            "issues": [i.model_dump() for i in parsed.issues],
        }
        (report.files_updated if f.source in prev_files else report.files_added).append(f.source)
        if inline:
            pending.extend(parsed.chunks)
            if len(pending) >= EMBED_BATCH:
                assert embedder is not None and store is not None
                report.chunks_embedded += _embed_missing(store, embedder, pending, None, have)
                embedded.update(c.id for c in pending)
                pending = []
    report.files_removed = removed
    _debug("parsed %d files; %d chunks in all", len(to_parse), len(chunks))

    # 3. Tokens of the kept chunks (reused when the tokenizer is unchanged).
    analyse = analyser(tokenizer)
    lead_cache: dict[str, tuple[array[int], int, int]] = {}
    for n, chunk in enumerate(chunks, start=1):
        if chunk.id in tokens:
            continue
        cached = old_tokens.get(chunk.id)
        if cached is not None:
            tokens[chunk.id] = cached
            continue
        if progress and n % 500 == 0:
            progress("tokenize", n, len(chunks))
        tokens[chunk.id] = analyse_chunk(chunk, analyse, vocab, cache=lead_cache)
    del lead_cache
    words = getattr(tokenizer, "words", None)
    catalog = None
    if words is not None:
        catalog = build_catalog(
            chunks,
            lambda title: names[title] if title in names else words(title),
            tokenizer.tokenize,
        )

    _debug("tokens ready for %d chunks", len(tokens))

    # 4. Vectors for the other chunks the store does not have yet (batched).
    if embedder is not None and store is not None:
        rest = [c for c in chunks if c.id not in embedded]
        report.chunks_embedded += _embed_missing(store, embedder, rest, progress, have)

    _debug("embedded %d chunks", report.chunks_embedded)

    # 5. Publish atomically, then clean up what no generation needs any more.
    generation = prev_gen + 1
    manifest = {"loader": LOADER_VERSION, "config": config_hash, "files": files_manifest}
    publish_generation(
        index_dir,
        generation,
        chunks,
        tokens,
        vocab,
        manifest,
        embedder=embedder_name,
        tokenizer=tokenizer.fingerprint,
        catalog=catalog,
    )
    remove_old_generations(index_dir, keep={generation, prev_gen})
    if store is not None:  # includes vectors orphaned by an earlier crash
        # Under the write lock the store holds what it held before plus the live chunks.
        held = store.all_ids() if have is None else have
        stale = sorted(held - {c.id for c in chunks})
        if stale:
            store.delete(stale)

    _debug("published generation %d: %d chunks", generation, len(chunks))
    report.generation = generation
    report.chunks_total = len(chunks)
    report.issues = issues
    report.seconds = time.perf_counter() - started
    return report


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
            source="chroma/",
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
