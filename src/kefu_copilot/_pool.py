"""Many shops in one process: :class:`CopilotPool` opens copilots lazily and evicts them.

A platform serving thousands of small shops cannot keep a :class:`Copilot` open per shop, nor
open one per question. The pool opens a shop's copilot on its first question (from a *resolver*:
shop id → where its knowledge and index live), keeps the most recently used ones open within a
count and a memory budget, and closes the least recently used beyond them. Every copilot of the
pool gets the same :class:`SharedResources`: one tokenizer per distinct vocabulary and one
embedding model, loaded once. Opening a shop then costs reading its index (memory-mapped where
it can be), not loading a dictionary or a model.

Thread-safe. Threads asking for a shop that is not open yet wait for one opening (the first
asker opens it); an evicted copilot still in use by a thread is closed when that thread is done
with it (see :meth:`CopilotPool.lease`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._copilot import Copilot
from ._errors import InputError
from ._resources import SharedResources

if TYPE_CHECKING:
    from ._models import Answer, Message
    from .agent._router import Turn
    from .config._settings import Settings

__all__ = ["CopilotPool", "PoolStats", "ShopLocation", "estimated_bytes"]


@dataclass(frozen=True)
class ShopLocation:
    """Where one shop of a pool lives: its knowledge directory, its index directory (None: the
    copilot's default, ``<shop_dir>/.kefu-index``), its own settings (None: the pool's), and any
    other :class:`Copilot` keyword arguments (``llm``, ``store``, ``tools`` ...)."""

    shop_dir: str | Path
    index_dir: str | Path | None = None
    settings: Settings | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


Resolver = Callable[[str], "ShopLocation | str | Path"]


@dataclass
class PoolStats:
    """Counters of a pool since it was made (a snapshot: :attr:`CopilotPool.stats`)."""

    open: int = 0  # copilots open now
    estimated_bytes: int = 0  # their estimated memory (see :func:`estimated_bytes`)
    opens: int = 0  # copilots opened (a shop opened again after eviction counts again)
    hits: int = 0  # requests served by an open copilot
    evictions: int = 0
    open_seconds: float = 0.0  # total time spent opening


def estimated_bytes(copilot: Copilot) -> int:
    """An estimate of the memory an open copilot holds: the size of its live index generation
    on disk (the chunks it reads into memory, its lexical indexes, token analyses and catalogue,
    memory-mapped or not) and of its embedded vector store. A proxy, not a measurement: it
    grows with the shop as the memory does, and costs a directory listing, not a heap walk.
    Shared resources are not counted (they are paid once per process)."""
    total = 0
    snapshot = copilot._state[0] if copilot._state is not None else None
    folders = [snapshot.directory] if snapshot is not None else []
    folders.append(Path(copilot.index_dir) / "chroma")
    for folder in folders:
        with contextlib.suppress(OSError):
            for path in folder.rglob("*"):
                with contextlib.suppress(OSError):
                    if path.is_file():
                        total += path.stat().st_size
    return total


class _Entry:
    """One shop's slot: opened once (others wait on ``ready``), used by ``leases`` threads."""

    __slots__ = ("closed", "copilot", "error", "evicted", "leases", "ready", "size")

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.copilot: Copilot | None = None
        self.error: BaseException | None = None
        self.leases = 0
        self.size = 0
        self.evicted = False
        self.closed = False


class CopilotPool:
    """Copilots for many shops in one process, opened on first use, least recently used closed.

    >>> pool = CopilotPool(lambda shop_id: f"/data/shops/{shop_id}")   # doctest: +SKIP
    >>> pool.answer("shop-42", "几天能发货？").text                      # doctest: +SKIP

    ``resolve(shop_id)`` says where a shop lives: a shop directory (its index in the default
    place) or a :class:`ShopLocation`; an unknown shop should raise (its error reaches the
    caller; :class:`KeyError` becomes an :class:`InputError`). ``max_open``: copilots kept open
    at most; ``max_bytes``: their :func:`estimated_bytes` summed (None: no memory budget; the
    copilot just opened always stays, even alone over budget). ``size_of`` replaces the
    estimate. ``resources``: shared with every copilot (default: a new
    :class:`SharedResources`). ``settings`` and ``copilot_options`` (e.g. ``embedder=None``)
    apply to every shop unless its :class:`ShopLocation` says otherwise; ``on_open(shop_id,
    copilot)`` runs once per opening (e.g. to register the shop's tools).

    The index must exist: ingest a shop with ``Copilot(shop_dir, resources=pool.resources)
    .ingest()`` (or ``kefu ingest``); :meth:`reload` makes an open shop pick up a new one.
    """

    def __init__(
        self,
        resolve: Resolver,
        *,
        max_open: int = 256,
        max_bytes: int | None = None,
        resources: SharedResources | None = None,
        settings: Settings | None = None,
        size_of: Callable[[Copilot], int] = estimated_bytes,
        on_open: Callable[[str, Copilot], None] | None = None,
        **copilot_options: Any,
    ) -> None:
        if max_open < 1:
            raise InputError("max_open must be at least 1")
        if max_bytes is not None and max_bytes < 0:
            raise InputError("max_bytes must be positive (or None: no memory budget)")
        self.resources = resources if resources is not None else SharedResources()
        self.max_open = max_open
        self.max_bytes = max_bytes
        self._resolve = resolve
        self._settings = settings
        self._size_of = size_of
        self._on_open = on_open
        self._options = copilot_options
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._stats = PoolStats()
        self._closed = False

    # -- opening, leasing, evicting -----------------------------------------------------------
    def _open(self, shop_id: str) -> tuple[Copilot, int]:
        try:
            where = self._resolve(shop_id)
        except KeyError as exc:
            raise InputError(
                f"unknown shop {shop_id!r}; the pool's resolver does not know it"
            ) from exc
        if not isinstance(where, ShopLocation):
            where = ShopLocation(where)
        options = {**self._options, **where.options}
        copilot = Copilot(
            where.shop_dir,
            index_dir=where.index_dir,
            settings=where.settings if where.settings is not None else self._settings,
            resources=self.resources,
            **options,
        )
        try:
            copilot._current()  # load the index now: the first question's wait is here
            if self._on_open is not None:
                self._on_open(shop_id, copilot)
            size = self._size_of(copilot)
        except BaseException:
            copilot.close()
            raise
        return copilot, size

    @contextlib.contextmanager
    def lease(self, shop_id: str) -> Iterator[Copilot]:
        """The shop's copilot, opened if need be, for the duration of the ``with`` block: it is
        not closed meanwhile, even if evicted (it is closed at the block's end then)."""
        entry = self._acquire(shop_id)
        try:
            assert entry.copilot is not None
            yield entry.copilot
        finally:
            self._release(entry)

    def _acquire(self, shop_id: str) -> _Entry:
        if not isinstance(shop_id, str) or not shop_id:
            raise InputError("shop_id must be a non-empty str")
        while True:
            with self._lock:
                if self._closed:
                    raise InputError("the pool is closed")
                entry = self._entries.get(shop_id)
                opener = entry is None
                if entry is None:
                    entry = self._entries[shop_id] = _Entry()
                else:
                    self._entries.move_to_end(shop_id)
                    if entry.ready.is_set():
                        self._stats.hits += 1
                entry.leases += 1  # an entry being opened is never evicted (it has a lease)
            if opener:
                self._fill(shop_id, entry)
            else:
                entry.ready.wait()
            if entry.error is None:
                return entry
            with self._lock:  # the opening failed: let go, and raise the opener's error
                entry.leases -= 1
            raise entry.error

    def _fill(self, shop_id: str, entry: _Entry) -> None:
        started = time.perf_counter()
        try:
            entry.copilot, entry.size = self._open(shop_id)
        except BaseException as exc:
            entry.error = exc
            with self._lock:
                if self._entries.get(shop_id) is entry:
                    del self._entries[shop_id]  # the next request tries again
            entry.ready.set()
            return
        to_close: list[Copilot] = []
        with self._lock:
            self._stats.opens += 1
            self._stats.open_seconds += time.perf_counter() - started
            entry.ready.set()
            to_close = self._evict_over_budget(keep=shop_id)
        for copilot in to_close:
            copilot.close()

    def _release(self, entry: _Entry) -> None:
        with self._lock:
            entry.leases -= 1
            close = entry.evicted and entry.leases == 0 and not entry.closed
            if close:
                entry.closed = True
        if close and entry.copilot is not None:
            entry.copilot.close()

    def _evict_over_budget(self, keep: str) -> list[Copilot]:
        """Evict least recently used shops (never ``keep``, nor one still opening) until within
        ``max_open`` and ``max_bytes``; returns the copilots to close now (no lease held)."""
        to_close: list[Copilot] = []
        ready = [(k, e) for k, e in self._entries.items() if e.ready.is_set()]
        count = len(ready)
        total = sum(e.size for _, e in ready)
        for shop_id, entry in ready:
            over_count = count > self.max_open
            over_bytes = self.max_bytes is not None and total > self.max_bytes
            if not (over_count or over_bytes):
                break
            if shop_id == keep:
                continue
            closing = self._detach(shop_id, entry)
            if closing is not None:
                to_close.append(closing)
            count -= 1
            total -= entry.size
        return to_close

    def _detach(self, shop_id: str, entry: _Entry) -> Copilot | None:
        """Remove an open shop (under the lock); its copilot if nobody uses it (to close)."""
        del self._entries[shop_id]
        entry.evicted = True
        self._stats.evictions += 1
        if entry.leases == 0 and not entry.closed:
            entry.closed = True
            return entry.copilot
        return None

    def evict(self, shop_id: str) -> bool:
        """Close a shop's copilot now (or when the threads using it are done). False if it
        was not open."""
        with self._lock:
            entry = self._entries.get(shop_id)
            if entry is None or not entry.ready.is_set():
                return False
            closing = self._detach(shop_id, entry)
        if closing is not None:
            closing.close()
        return True

    def reload(self, shop_id: str) -> bool:
        """Make an open shop pick up an index generation published since it was opened.
        Returns True if it changed (False also when the shop is not open: it will load the
        newest when it opens)."""
        with self._lock:
            entry = self._entries.get(shop_id)
            if entry is None or not entry.ready.is_set() or entry.error is not None:
                return False
        with self.lease(shop_id) as copilot:
            return copilot.reload()

    def close(self) -> None:
        """Close every open copilot; the pool refuses new requests afterwards."""
        with self._lock:
            self._closed = True
            to_close = [
                c
                for k, e in list(self._entries.items())
                if e.ready.is_set() and (c := self._detach(k, e)) is not None
            ]
        for copilot in to_close:
            copilot.close()

    def __enter__(self) -> CopilotPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is open ----------------------------------------------------------------------------
    def __contains__(self, shop_id: object) -> bool:
        with self._lock:
            entry = self._entries.get(shop_id) if isinstance(shop_id, str) else None
            return entry is not None and entry.ready.is_set() and entry.error is None

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if e.ready.is_set())

    def open_shops(self) -> list[str]:
        """The shops open now, least recently used first."""
        with self._lock:
            return [k for k, e in self._entries.items() if e.ready.is_set()]

    @property
    def stats(self) -> PoolStats:
        with self._lock:
            ready = [e for e in self._entries.values() if e.ready.is_set()]
            s = self._stats
            return PoolStats(
                open=len(ready),
                estimated_bytes=sum(e.size for e in ready),
                opens=s.opens,
                hits=s.hits,
                evictions=s.evictions,
                open_seconds=s.open_seconds,
            )

    # -- the copilot's methods, by shop --------------------------------------------------------
    def answer(
        self,
        shop_id: str,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        **options: Any,
    ) -> Answer:
        """:meth:`Copilot.answer` of the shop's copilot."""
        with self.lease(shop_id) as copilot:
            return copilot.answer(question, history, **options)

    async def aanswer(
        self,
        shop_id: str,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        **options: Any,
    ) -> Answer:
        """:meth:`Copilot.aanswer`; the shop is opened in a worker thread."""
        entry = await asyncio.to_thread(self._acquire, shop_id)
        try:
            assert entry.copilot is not None
            return await entry.copilot.aanswer(question, history, **options)
        finally:
            self._release(entry)

    def handle(self, shop_id: str, conversation: Any, **options: Any) -> Turn:
        """:meth:`Copilot.handle` of the shop's copilot."""
        with self.lease(shop_id) as copilot:
            return copilot.handle(conversation, **options)

    async def ahandle(self, shop_id: str, conversation: Any, **options: Any) -> Turn:
        """:meth:`Copilot.ahandle`; the shop is opened in a worker thread."""
        entry = await asyncio.to_thread(self._acquire, shop_id)
        try:
            assert entry.copilot is not None
            return await entry.copilot.ahandle(conversation, **options)
        finally:
            self._release(entry)

    def __repr__(self) -> str:
        s = self.stats
        budget = "" if self.max_bytes is None else f", max_bytes={self.max_bytes}"
        return f"CopilotPool(open={s.open}, max_open={self.max_open}{budget})"
