"""Vector stores: a small protocol and the Chroma implementation.

This module is the one adapter between kefu-copilot and Chroma: collections and result dicts
stay inside it; callers see chunk ids and similarities. (llama-index's ChromaVectorStore wrapper
was measured as pure overhead here: it rebuilds nodes from metadata on every query.)
The store holds vectors only; chunk text and metadata live in the index generation files, so a
vector whose chunk is not in the current generation is never returned to an answer — and every
vector can be made again from those files. That is how a damaged store is repaired: Chroma
writes its segment files in place, outside the generation scheme, and a full disk can leave them
unreadable for good ("Error creating hnsw segment reader … EOF"). :meth:`ChromaStore.check`
reads a store end to end; :meth:`ChromaStore.reset` replaces it with an empty one, which an
ingest or ``kefu repair`` fills again from the live generation's chunks.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse

import numpy as np

from .._errors import ConfigError, KefuError, VectorStoreError

__all__ = [
    "EXACT_SEARCH_MAX",
    "ChromaStore",
    "MemoryStore",
    "TieredStore",
    "VectorStore",
    "open_chroma_store",
    "open_vector_store",
]


@runtime_checkable
class VectorStore(Protocol):
    """Vectors keyed by chunk id."""

    def existing(self, ids: Sequence[str]) -> set[str]: ...

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...

    def all_ids(self) -> set[str]: ...


_ADD_BATCH = 4000

#: HNSW parameters of new Chroma collections, chosen for recall of the exact top-k (Chroma's
#: defaults — 16 neighbours, ef_construction 100, ef_search 100 — returned 82 % of the exact
#: top-60 at 100k chunks). Measured with benchmarks/dense_crossover.py; see benchmarks/README.md.
HNSW_PARAMS: dict[str, int] = {"max_neighbors": 32, "ef_construction": 200, "ef_search": 200}


class ChromaStore:
    """A Chroma collection, called directly: ids and vectors in, ids and similarities out.

    Given a function that opens the collection, it is opened on first use (importing chromadb
    takes a second: an ingest parses files meanwhile). Whatever Chroma or its HTTP client raises
    (a server that is down or dies mid-call, a store whose files cannot be read, a full disk)
    leaves as :class:`VectorStoreError` naming where the store is and what to do, with the
    original exception chained; never as a chromadb, httpx or OSError exception."""

    def __init__(
        self,
        collection: Any,
        *,
        where: str = "the Chroma store",
        local_dir: Path | None = None,
        remove: Callable[[], None] | None = None,
    ) -> None:
        self._opener: Callable[[], Any] | None = collection if callable(collection) else None
        self._opened: Any = None if callable(collection) else collection
        self._open_lock = threading.Lock()
        self.where = where
        #: The index directory of an embedded store (its files are ``local_dir/chroma``);
        #: None for a server.
        self.local_dir = local_dir
        self._remove = remove  # deletes the collection (on a server)

    @property
    def _collection(self) -> Any:
        if self._opened is None:
            with self._open_lock:
                if self._opened is None:
                    assert self._opener is not None
                    self._opened = self._opener()
        return self._opened

    @contextlib.contextmanager
    def _calling(self, operation: str) -> Iterator[None]:
        """Turn a failure of the store during ``operation`` into a VectorStoreError."""
        try:
            yield
        except KefuError:
            raise
        except Exception as exc:
            self._forget()  # the next call opens the store afresh (a server may be back)
            raise VectorStoreError(
                f"the vector store at {self.where} failed while {operation}: "
                f"{type(exc).__name__}: {exc}. If it is a Chroma server, check that it is running "
                "and reachable; if the store's files are damaged (e.g. after a full disk), delete "
                "them and ingest again."
            ) from exc

    def _forget(self, *, stop: bool = False) -> None:
        """Drop the open collection (and an embedded store's cached client) after a failure."""
        if self._opener is None:
            return
        with self._open_lock:
            self._opened = None
        if self.local_dir is not None:
            release_persistent_client(self.local_dir, stop=stop)

    def check(self) -> None:
        """Read the store end to end — a stored vector and a search with it — or raise
        :class:`VectorStoreError` (a server that is down, segment files a full disk damaged)."""
        with self._calling("checking that it can be read"):
            got = self._collection.get(limit=1, include=["embeddings"])
            vectors = got.get("embeddings")
            if got["ids"] and vectors is not None and len(vectors):
                self._collection.query(
                    query_embeddings=[vectors[0]], n_results=1, include=["distances"]
                )

    def reset(self) -> None:
        """Replace the store with an empty one: an embedded store's files are deleted, a
        server's collection is dropped. Its vectors must then be made again from the chunks."""
        self._forget(stop=True)
        if self.local_dir is not None:
            directory = self.local_dir / "chroma"
            aside = directory.with_name(f"chroma.broken-{os.getpid()}-{time.time_ns()}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(directory, aside)  # atomic: nobody opens a half-deleted store
            shutil.rmtree(aside, ignore_errors=True)
        elif self._remove is not None:
            with self._calling("dropping its collection"):
                self._remove()

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._calling("looking up vectors"):
            for start in range(0, len(ids), _ADD_BATCH):
                batch = list(ids[start : start + _ADD_BATCH])
                found.update(self._collection.get(ids=batch, include=[])["ids"])
        return found

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        with self._calling("adding vectors"):
            for start in range(0, len(ids), _ADD_BATCH):
                stop = start + _ADD_BATCH
                self._collection.upsert(ids=list(ids[start:stop]), embeddings=vectors[start:stop])

    def delete(self, ids: Sequence[str]) -> None:
        with self._calling("deleting vectors"):
            for start in range(0, len(ids), _ADD_BATCH):
                self._collection.delete(ids=list(ids[start : start + _ADD_BATCH]))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        with self._calling("searching"):
            result = self._collection.query(
                query_embeddings=[vector], n_results=k, include=["distances"]
            )
            ids = result["ids"][0] if result["ids"] else []
            distances = result["distances"][0] if result.get("distances") else []
        # Cosine space: distance = 1 - cosine similarity.
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=False)]

    def count(self) -> int:
        with self._calling("counting vectors"):
            return int(self._collection.count())

    def batches(self, size: int = 10_000) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every stored (id, vector), a batch at a time."""
        offset = 0
        while True:
            with self._calling("reading vectors"):
                got = self._collection.get(include=["embeddings"], limit=size, offset=offset)
            ids = list(got["ids"])
            if ids:
                yield ids, np.asarray(got["embeddings"], dtype=np.float32)
            if len(ids) < size:
                return
            offset += len(ids)

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        with self._calling("listing vectors"):
            while True:
                batch = self._collection.get(include=[], limit=10_000, offset=offset)["ids"]
                ids.update(batch)
                if len(batch) < 10_000:
                    return ids
                offset += len(batch)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
# Systems released while possibly still in use, by path: stopped if their store is deleted.
_retired: dict[str, weakref.WeakSet[Any]] = {}


def _chroma_client(index_dir: Path, url: str | None) -> Any:
    """One client per location per process (Chroma itself caches persistent clients by path)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    key = url or str((index_dir / "chroma").resolve())
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if not parsed.hostname:
                raise ConfigError(f"chroma_url {url!r} is not a URL like http://127.0.0.1:8000")
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        else:
            (index_dir / "chroma").mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=key, settings=chroma_settings)
        _clients[key] = client
        return client


def release_persistent_client(index_dir: Path, *, stop: bool = False) -> None:
    """Forget this process's embedded client for ``index_dir`` so the next open re-reads the
    store from disk (another process may have written it). Open stores keep working, unless
    ``stop``: then the client's files are closed (a store about to be deleted: its disk space
    comes back only once nothing holds them open)."""
    key = str((index_dir / "chroma").resolve())
    with _clients_lock:
        if _clients.pop(key, None) is None and not stop:
            return
    try:  # chromadb caches one System per path; drop it (stopping it only when asked)
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(key, None)
        getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(key, None)
        retired = _retired.setdefault(key, weakref.WeakSet())
        if system is not None:
            retired.add(system)
        if stop:
            for old in list(retired):
                old.stop()  # drops its Rust bindings, which hold the files open
            retired.clear()
            del system, old
            import gc

            gc.collect()
    except Exception:  # pragma: no cover - internal API moved: a fresh client still helps
        pass


def collection_name(index_key: str, embedder_name: str) -> str:
    digest = hashlib.blake2b(f"{index_key}\0{embedder_name}".encode(), digest_size=8).hexdigest()
    return f"kefu-{digest}"


def open_chroma_store(
    index_dir: Path,
    embedder_name: str,
    *,
    url: str | None = None,
    index_key: str = "",
    lazy: bool = False,
) -> ChromaStore:
    """Open (or create) the collection for this index and embedding model (``lazy``: when it
    is first used; errors are raised then)."""
    key = index_key or str(index_dir.resolve())
    opener = functools.partial(_open_collection, index_dir, embedder_name, url, key)
    store = ChromaStore(
        opener,
        where=url or str(index_dir / "chroma"),
        local_dir=None if url else index_dir,
        remove=functools.partial(
            _drop_collection, index_dir, url, collection_name(key, embedder_name)
        )
        if url
        else None,
    )
    if not lazy:
        store._collection  # noqa: B018 - open now: errors are raised here
    return store


def _drop_collection(index_dir: Path, url: str | None, name: str) -> None:
    from chromadb.errors import NotFoundError

    with contextlib.suppress(NotFoundError, ValueError):  # no such collection: nothing to drop
        _chroma_client(index_dir, url).delete_collection(name)


def _open_collection(index_dir: Path, embedder_name: str, url: str | None, key: str) -> Any:
    try:
        client = _chroma_client(index_dir, url)
        return client.get_or_create_collection(
            name=collection_name(key, embedder_name),
            configuration={"hnsw": {"space": "cosine", **HNSW_PARAMS}},
            embedding_function=None,
            metadata={"embedder": embedder_name},
        )
    except ConfigError:
        raise
    except Exception as exc:
        where = url or str(index_dir / "chroma")
        raise VectorStoreError(
            f"cannot open the Chroma store at {where}: {exc}. Check that the server is running "
            "(`chroma run --path DIR`) or delete the index directory and ingest again."
        ) from exc


class MemoryStore:
    """Brute-force in-memory vector store (tests, evaluation runs, small shops)."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._lock = threading.Lock()

    def existing(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self._pos}

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            keep = [i for i in self._ids if i not in set(ids)]
            rows = [self._matrix[self._pos[i]] for i in keep]
            self._ids = keep + list(ids)
            self._matrix = np.vstack([*rows, *vectors]) if (rows or len(vectors)) else self._matrix
            self._pos = {cid: n for n, cid in enumerate(self._ids)}

    def delete(self, ids: Sequence[str]) -> None:
        drop = set(ids)
        with self._lock:
            keep = [n for n, cid in enumerate(self._ids) if cid not in drop]
            self._ids = [self._ids[n] for n in keep]
            self._matrix = self._matrix[keep] if keep else np.zeros((0, 0), dtype=np.float32)
            self._pos = {cid: n for n, cid in enumerate(self._ids)}

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        matrix, ids = self._matrix, self._ids
        if not ids or k <= 0:
            return []
        sims = matrix @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(ids[i], float(sims[i])) for i in top]

    def all_ids(self) -> set[str]:
        return set(self._ids)


#: Up to this many vectors, ``vector_search="auto"`` scans every vector; above it, only the
#: inverted lists nearest the query (``_ivf.py``). Measured on the benchmark shop's real vectors
#: and questions (benchmarks/dense_crossover.py --index; benchmarks/README.md, "Dense search"):
#: a full scan costs ~0.029 ms of CPU per 1,000 vectors (1.0 ms at 30k, 2.8-3.0 at 100k, 8.6 at
#: 300k); the lists cost 0.7 ms at 30k and 1.25-1.5 ms at 100k for 0.997-0.998 of the exact
#: top-60. Below 50k the scan costs at most ~1.5 ms and is exact, so it stays; above, the lists
#: save more than they miss.
EXACT_SEARCH_MAX = 50_000


class TieredStore:
    """The exact store (inverted lists above ``crossover`` vectors), and the Chroma collection
    of an index written before the exact store existed.

    Such an index is searched through its collection until the next ingest: :meth:`check`
    (which every ingest runs first) copies its vectors into the exact store — nothing is
    embedded again — and then deletes the embedded Chroma files, which nothing reads any more.
    Versions between the exact store and the inverted lists kept an HNSW "mirror" of shops
    above 100k vectors in Chroma; it is deleted the same way, and the exact store's large
    segments are rewritten with inverted lists."""

    def __init__(
        self, exact: Any, hnsw: Callable[[], ChromaStore], *, crossover: int = EXACT_SEARCH_MAX
    ) -> None:
        self.exact = exact
        self._open_hnsw = hnsw
        self._hnsw: ChromaStore | None = None
        self.crossover = crossover
        self.where = exact.where
        self.local_dir = exact.local_dir
        self._legacy: bool | None = None
        self._exact_seen = False

    @property
    def hnsw(self) -> ChromaStore:
        if self._hnsw is None:
            self._hnsw = self._open_hnsw()
        return self._hnsw

    def _chroma_dir(self) -> Path | None:
        return self.local_dir / "chroma" if self.local_dir is not None else None

    def uses_hnsw(self) -> bool:
        """Whether queries go to a Chroma collection (an index from before the exact store).

        Once the exact store is seen to exist it is never a legacy index again (ingest deletes
        the Chroma files when it writes the exact store): a query then skips the manifest's
        second ``stat`` (the exact store's own read of it is the one that notices a new
        generation)."""
        if self._exact_seen:
            return False
        if self.exact.exists():
            self._exact_seen = True
            return False
        if self._legacy is None:
            chroma = self._chroma_dir()
            self._legacy = chroma is not None and chroma.is_dir()
        return self._legacy

    def existing(self, ids: Sequence[str]) -> set[str]:
        return self.exact.existing(ids)

    def all_ids(self) -> set[str]:
        return self.exact.all_ids()

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        self.exact.add(ids, vectors)

    def delete(self, ids: Sequence[str]) -> None:
        self.exact.delete(ids)

    def optimize(self) -> None:
        self.exact.optimize()

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if self.uses_hnsw():
            return self.hnsw.query(vector, k)
        return self.exact.query(vector, k)

    def check(self) -> None:
        """Ingest's check: the exact store must read (else VectorStoreError: ingest resets and
        re-embeds); an index from before the exact store has its vectors copied in; what an
        older version left (Chroma files, segments without inverted lists) is cleaned up."""
        self.exact.check()
        if not self.exact.exists() and self.uses_hnsw():
            self._adopt()
        chroma = self._chroma_dir()
        if self.exact.exists() and chroma is not None and chroma.is_dir():
            import logging

            logging.getLogger("kefu_copilot").info(
                "kefu-copilot: deleting %s: the exact store at %s holds every vector",
                chroma,
                self.exact.where,
            )
            with contextlib.suppress(VectorStoreError):
                self.hnsw.reset()  # stops this process's client, then deletes the files
            self._hnsw = None
        self.exact.add_lists()

    def _adopt(self) -> None:
        """Copy the vectors of an index written before the exact store (Chroma only)."""
        try:
            self.hnsw.check()
            for ids, vectors in self.hnsw.batches():
                self.exact.add(ids, vectors)
        except VectorStoreError:
            return  # unreadable: ingest embeds what the exact store lacks
        self._legacy = False

    def reset(self) -> None:
        self.exact.reset()
        self._legacy = False
        chroma = self._chroma_dir()
        if chroma is not None and chroma.is_dir():
            with contextlib.suppress(VectorStoreError):
                self.hnsw.reset()


def open_vector_store(
    index_dir: Path,
    embedder_name: str,
    *,
    search: str = "auto",
    url: str | None = None,
    index_key: str = "",
    lazy: bool = False,
    crossover: int = EXACT_SEARCH_MAX,
) -> VectorStore:
    """The vector store for this index and embedding model (``Settings.vector_search``):
    ``"exact"`` an :class:`~kefu_copilot.index._exact.ExactStore` that scans every vector,
    ``"ivf"`` one that scans the probed inverted lists of its large segments at any size,
    ``"hnsw"`` a Chroma collection, ``"auto"`` a :class:`TieredStore` (every vector up to
    ``crossover``, inverted lists above). With a Chroma server (``url``), ``"auto"`` means the
    server: its collection is what other machines share, a local exact store would not be."""
    from ._exact import ExactStore

    if search not in ("auto", "exact", "ivf", "hnsw"):
        raise ConfigError(f"vector_search {search!r}: use 'auto', 'exact', 'ivf' or 'hnsw'")
    key = index_key or str(index_dir.resolve())
    if search == "hnsw" or (search == "auto" and url):
        return open_chroma_store(index_dir, embedder_name, url=url, index_key=key, lazy=lazy)
    probe_above = {"exact": None, "ivf": 0, "auto": crossover}[search]
    exact = ExactStore(
        index_dir / "vectors" / collection_name(key, embedder_name),
        local_dir=index_dir,
        probe_above=probe_above,
    )
    if search != "auto":
        return exact
    hnsw = functools.partial(
        open_chroma_store, index_dir, embedder_name, url=url, index_key=key, lazy=lazy
    )
    return TieredStore(exact, hnsw, crossover=crossover)
