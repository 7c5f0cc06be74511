"""The state store: a small versioned document store with an append-only log.

Approvals (:mod:`kefu_copilot.agent._tools`) and customer memory
(:mod:`kefu_copilot.agent._memory`) need the same few things from whatever holds them, whether
one process, several processes on one machine, or several machines:

* a document per ``(kind, key)`` with a **version** and a short **tag** (an approval's status),
  changed only by compare-and-set (:meth:`StateStore.swap` succeeds for exactly one of several
  writers holding the same version; that is what makes an approval run once);
* the documents of a kind, optionally only those with one tag (the pending approvals);
* an **append-only log** (the approval audit trail).

Three stores implement the :class:`StateStore` protocol: :class:`InMemoryStore` (tests, one
process), :class:`~kefu_copilot.state._sqlite.SQLiteStore` (the embedded default, several
processes on one machine) and :class:`~kefu_copilot.state._redis.RedisStore` (several machines).
:func:`~kefu_copilot.state._open.open_state_store` picks one from a URL (``KEFU_STATE_URL``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .._errors import KefuError

__all__ = [
    "Document",
    "InMemoryStore",
    "StateError",
    "StateStore",
    "StoreHandle",
    "dumps",
    "update",
]


class StateError(KefuError):
    """The state store cannot be reached or used (a Redis server down, a locked database)."""


@dataclass(frozen=True)
class Document:
    """One stored document: its JSON ``value``, its ``version`` (1 when created, +1 per swap)
    and its ``tag`` (a short label stores can list by, e.g. an approval's status)."""

    key: str
    value: dict[str, Any]
    version: int
    tag: str = ""


@runtime_checkable
class StateStore(Protocol):
    """What approvals and customer memory need from a store. Every method is atomic."""

    url: str

    def get(self, kind: str, key: str) -> Document | None:
        """The document, or None."""
        ...

    def create(self, kind: str, key: str, value: Mapping[str, Any], *, tag: str = "") -> bool:
        """Store a new document (version 1); False, changing nothing, if the key exists."""
        ...

    def swap(
        self, kind: str, key: str, value: Mapping[str, Any], *, version: int, tag: str = ""
    ) -> bool:
        """Replace the document if it still has ``version`` (compare-and-set); False if another
        writer got there first or it was deleted."""
        ...

    def delete(self, kind: str, key: str) -> bool:
        """Remove the document; False if there was none."""
        ...

    def documents(self, kind: str, *, tag: str | None = None) -> list[Document]:
        """The documents of ``kind`` (only those tagged ``tag`` when given), in key order."""
        ...

    def append(self, log: str, entry: Mapping[str, Any]) -> None:
        """Add an entry at the end of the append-only ``log``."""
        ...

    def entries(self, log: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """The log's entries, oldest first (the last ``limit`` when given)."""
        ...

    def close(self) -> None:
        """Release connections (the store may be used again afterwards: it reconnects)."""
        ...


class StoreHandle:
    """A store, or a function that opens one on first use (a ``Copilot`` opens its store only
    when approvals or memory are used). Thread-safe."""

    def __init__(self, store: StateStore | Callable[[], StateStore]) -> None:
        self._factory = store if callable(store) else None
        self._store = None if callable(store) else store
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        return self._store is not None

    def get(self) -> StateStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    assert self._factory is not None
                    self._store = self._factory()
        return self._store


def dumps(value: Mapping[str, Any]) -> str:
    """The one JSON form every store writes (compact, UTF-8 kept, keys sorted)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def update(
    store: StateStore,
    kind: str,
    key: str,
    change: Callable[[dict[str, Any] | None], tuple[dict[str, Any], str] | None],
    *,
    attempts: int = 50,
) -> dict[str, Any] | None:
    """Read-modify-write with compare-and-set, retried when another writer won the race.

    ``change`` gets the current value (None when absent) and returns ``(new value, tag)``, or
    None to leave the document alone. Returns the value written (None: nothing written).
    """
    for attempt in range(attempts):
        current = store.get(kind, key)
        changed = change(None if current is None else current.value)
        if changed is None:
            return None
        value, tag = changed
        if current is None:
            if store.create(kind, key, value, tag=tag):
                return value
        elif store.swap(kind, key, value, version=current.version, tag=tag):
            return value
        time.sleep(min(0.05, 0.001 * (attempt + 1)))
    raise StateError(f"{kind} {key!r}: still changing after {attempts} attempts; try again")


class InMemoryStore:
    """A :class:`StateStore` in this process's memory (tests; a single-process app). Values
    go through JSON as in the other stores, so what works here works there."""

    def __init__(self) -> None:
        self.url = "memory://"
        self._docs: dict[tuple[str, str], tuple[str, int, str]] = {}
        self._logs: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, key: str) -> Document | None:
        with self._lock:
            found = self._docs.get((kind, key))
        return None if found is None else Document(key, json.loads(found[0]), found[1], found[2])

    def create(self, kind: str, key: str, value: Mapping[str, Any], *, tag: str = "") -> bool:
        text = dumps(value)
        with self._lock:
            if (kind, key) in self._docs:
                return False
            self._docs[kind, key] = (text, 1, tag)
            return True

    def swap(
        self, kind: str, key: str, value: Mapping[str, Any], *, version: int, tag: str = ""
    ) -> bool:
        text = dumps(value)
        with self._lock:
            found = self._docs.get((kind, key))
            if found is None or found[1] != version:
                return False
            self._docs[kind, key] = (text, version + 1, tag)
            return True

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            return self._docs.pop((kind, key), None) is not None

    def documents(self, kind: str, *, tag: str | None = None) -> list[Document]:
        with self._lock:
            found = [
                (k, v) for (c, k), v in self._docs.items() if c == kind and tag in (None, v[2])
            ]
        return [Document(k, json.loads(t), n, g) for k, (t, n, g) in sorted(found)]

    def append(self, log: str, entry: Mapping[str, Any]) -> None:
        text = dumps(entry)
        with self._lock:
            self._logs.setdefault(log, []).append(text)

    def entries(self, log: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self._logs.get(log, []))
        return [json.loads(t) for t in (lines[-limit:] if limit else lines)]

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "InMemoryStore()"
