"""The embedded state store: one SQLite file, shared by every process on the machine.

Several worker processes (gunicorn, uvicorn) open the same file. Three settings make that safe:

* **WAL journal**: readers never block the writer, the writer never blocks readers;
* **busy timeout**: a writer waits for another's transaction (up to ``timeout`` seconds) instead
  of failing with "database is locked";
* **single-statement compare-and-set**: ``UPDATE … WHERE version = ?`` is atomic, so of several
  processes swapping the same version exactly one sees ``rowcount == 1``.

``synchronous=NORMAL`` (the default) survives a killed process (every committed transaction is
in the WAL); ``?synchronous=full`` in the URL also survives a power cut, at an fsync per write.
A connection per thread and per process (a forked worker opens its own). The file must be on a
local disk: SQLite's locks are not reliable on network filesystems; use Redis across machines.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._store import Document, StateError, dumps

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    tag TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS documents_tag ON documents (kind, tag);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    at REAL NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_name ON log (name, seq);
CREATE TRIGGER IF NOT EXISTS log_append_only_update BEFORE UPDATE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_append_only_delete BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
"""
_SYNCHRONOUS = {"off": "OFF", "normal": "NORMAL", "full": "FULL", "extra": "EXTRA"}


class SQLiteStore:
    """A :class:`~kefu_copilot.state._store.StateStore` in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, timeout: float = 10.0, synchronous: str = "normal"):
        self.path = Path(path).expanduser().absolute()
        self.url = f"sqlite:///{self.path}"
        self.timeout = timeout
        mode = _SYNCHRONOUS.get(synchronous.lower())
        if mode is None:
            raise StateError(f"synchronous={synchronous!r}: use one of {', '.join(_SYNCHRONOUS)}")
        self._synchronous = mode
        self._local = threading.local()
        self._ready = False
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit (isolation_level=None): each statement is its own transaction
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            with self._lock:
                if not self._ready:
                    self._retry(lambda: conn.executescript(_SCHEMA))
                    self._ready = True
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"cannot open the state database {self.path}: {exc}") from None
        return conn

    def _retry(self, call: Any) -> Any:
        """Switching to WAL or creating tables needs a moment alone with the file; processes
        starting together can see "locked" despite the busy timeout: wait and try again."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @property
    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # a new thread, or a forked child
            local.conn, local.pid = self._connect(), os.getpid()
        conn: sqlite3.Connection = local.conn
        return conn

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StateError(f"state database {self.path}: {exc}") from None

    # -- the protocol --------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Document | None:
        row = self._run(
            "SELECT value, version, tag FROM documents WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else Document(key, json.loads(row[0]), row[1], row[2])

    def create(self, kind: str, key: str, value: Mapping[str, Any], *, tag: str = "") -> bool:
        cur = self._run(
            "INSERT OR IGNORE INTO documents (kind, key, version, tag, value, updated) "
            "VALUES (?, ?, 1, ?, ?, ?)",
            (kind, key, tag, dumps(value), time.time()),
        )
        return cur.rowcount == 1

    def swap(
        self, kind: str, key: str, value: Mapping[str, Any], *, version: int, tag: str = ""
    ) -> bool:
        cur = self._run(
            "UPDATE documents SET value = ?, version = version + 1, tag = ?, updated = ? "
            "WHERE kind = ? AND key = ? AND version = ?",
            (dumps(value), tag, time.time(), kind, key, version),
        )
        return cur.rowcount == 1

    def delete(self, kind: str, key: str) -> bool:
        cur = self._run("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key))
        return cur.rowcount == 1

    def documents(self, kind: str, *, tag: str | None = None) -> list[Document]:
        if tag is None:
            rows = self._run(
                "SELECT key, value, version, tag FROM documents WHERE kind = ? ORDER BY key",
                (kind,),
            )
        else:
            rows = self._run(
                "SELECT key, value, version, tag FROM documents WHERE kind = ? AND tag = ? "
                "ORDER BY key",
                (kind, tag),
            )
        return [Document(k, json.loads(v), n, g) for k, v, n, g in rows.fetchall()]

    def append(self, log: str, entry: Mapping[str, Any]) -> None:
        self._run(
            "INSERT INTO log (name, at, entry) VALUES (?, ?, ?)", (log, time.time(), dumps(entry))
        )

    def entries(self, log: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        if limit:
            rows = self._run(
                "SELECT entry FROM (SELECT seq, entry FROM log WHERE name = ? "
                "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (log, limit),
            )
        else:
            rows = self._run("SELECT entry FROM log WHERE name = ? ORDER BY seq", (log,))
        return [json.loads(r[0]) for r in rows.fetchall()]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
