"""Issue 21 #1/#2/#6, the vector store's part: whatever Chroma or its HTTP client raises (a
server that is down or killed mid-call, a damaged store) reaches the caller as
VectorStoreError, a KnowledgeIndexError, never as a chromadb, httpx or OSError exception."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kefu_copilot import KefuError, KnowledgeIndexError, VectorStoreError
from kefu_copilot.index._vectors import ChromaStore, open_chroma_store

from .._chroma_server import ChromaServer, free_port

OPERATIONS: dict[str, Callable[[ChromaStore], object]] = {
    "existing": lambda store: store.existing(["a", "b"]),
    "add": lambda store: store.add(["a"], np.ones((1, 4), dtype=np.float32)),
    "delete": lambda store: store.delete(["a"]),
    "query": lambda store: store.query(np.ones(4, dtype=np.float32), 3),
    "all_ids": lambda store: store.all_ids(),
}


def _third_party_errors() -> list[BaseException]:
    chromadb_errors = pytest.importorskip("chromadb.errors")
    httpx = pytest.importorskip("httpx")
    return [
        chromadb_errors.InternalError("Error creating hnsw segment reader: EOF"),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        OSError(28, "No space left on device"),
    ]


class Failing:
    """A collection whose every call raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            raise self.error

        return fail


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_store_failure_is_a_vector_store_error(operation: str) -> None:
    for error in _third_party_errors():
        store = ChromaStore(Failing(error), where="/shop/.kefu-index/chroma")
        with pytest.raises(VectorStoreError) as caught:
            OPERATIONS[operation](store)
        assert caught.value.__cause__ is error
        assert isinstance(caught.value, KnowledgeIndexError)
        assert "/shop/.kefu-index/chroma" in str(caught.value) and "ingest again" in str(
            caught.value
        )


def test_a_failure_to_open_lazily_is_a_vector_store_error(tmp_path: Path) -> None:
    def opener() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(VectorStoreError):
        ChromaStore(opener).query(np.ones(4, dtype=np.float32), 1)


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    pytest.importorskip("chromadb")
    url = f"http://127.0.0.1:{free_port()}"
    store = open_chroma_store(tmp_path, "static:test", url=url, lazy=True)
    started = time.perf_counter()
    for operation in OPERATIONS.values():
        with pytest.raises(VectorStoreError) as caught:
            operation(store)
        assert url in str(caught.value) and "running" in str(caught.value)
    assert time.perf_counter() - started < 30


def _kill(server: ChromaServer) -> None:
    """kill -9 the whole server (no graceful shutdown finishing the requests in flight)."""
    assert server._proc is not None
    os.killpg(server._proc.pid, signal.SIGKILL)
    server._proc.wait(10)


@pytest.mark.slow
def test_a_real_server_killed_mid_call(server: ChromaServer, tmp_path: Path) -> None:
    store = open_chroma_store(tmp_path, "static:test", url=server.url)
    rng = np.random.default_rng(0)
    store.add([f"c{i}" for i in range(100)], rng.random((100, 64), dtype=np.float32))
    assert len(store.query(rng.random(64, dtype=np.float32), 5)) == 5

    outcome: list[BaseException] = []
    writing = threading.Event()

    def write() -> None:
        try:
            for n in range(1000):  # large upserts, one after the other, until the server dies
                ids = [f"w{n}-{i}" for i in range(2000)]
                writing.set()
                store.add(ids, rng.random((2000, 64), dtype=np.float32))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    assert writing.wait(30)
    time.sleep(0.3)
    _kill(server)
    thread.join(60)
    assert not thread.is_alive()
    [error] = outcome
    assert isinstance(error, VectorStoreError), repr(error)

    for operation in OPERATIONS.values():  # and every call after the server is gone
        with pytest.raises(VectorStoreError):
            operation(store)
    with pytest.raises(KefuError):
        open_chroma_store(tmp_path / "other", "static:test", url=server.url)
