"""Small file-system helpers: atomic and durable writes, and fast JSON for index files."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

try:  # orjson (a chromadb dependency) reads and writes index files ~5x faster than json
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

__all__ = [
    "drop_pages",
    "fsync_dir",
    "json_bytes",
    "load_json",
    "save_array",
    "write_synced",
    "write_text_atomic",
]


def drop_pages(data: object) -> None:
    """Drop a memory map's pages from this process's resident set (they stay in the page cache;
    touched again, they are mapped back); a no-op for anything else or where the platform
    cannot."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        with contextlib.suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED)


def load_json(data: str | bytes) -> Any:
    return orjson.loads(data) if orjson is not None else json.loads(data)


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON (non-ASCII kept): orjson unless it refuses it (a 65-bit integer)."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:
            pass
    return json.dumps(value, ensure_ascii=False).encode()


def write_synced(path: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to ``path`` and fsync it (inside a directory that is published whole)."""
    with open(path, "wb") as fh:
        for part in parts:
            fh.write(part)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """fsync a directory, so the renames in it survive a crash (a no-op where it cannot be
    opened, e.g. on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_array(path: Path, values: np.ndarray) -> None:
    """``np.save`` then fsync."""
    with open(path, "wb") as fh:
        np.save(fh, values)
        fh.flush()
        os.fsync(fh.fileno())


def write_text_atomic(path: str | Path, text: str | Iterable[str]) -> Path:
    """Write ``text`` (or its pieces, streamed) to ``path`` via a temp file, fsync and
    rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes 0600; reports are meant to be shared
            if isinstance(text, str):
                f.write(text)
            else:
                f.writelines(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
