"""Issue 21 #2: a vector store that fails or is gone degrades answers to lexical retrieval, with
the reason in ``Answer.reasons``, never an exception; a Chroma server killed mid-ingest makes the
ingest fail with a KefuError and leaves the previous generation live."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kefu_copilot import Copilot, KefuError
from kefu_copilot.index._vectors import MemoryStore
from kefu_copilot.testing import FakeEmbedder

from .._chroma_server import ChromaServer, ChromaServerUnavailable
from ..conftest import KNOWLEDGE, STATIC_MODEL

LEXICAL = "lexical retrieval only"
QUESTION = "几天发货"


class BrokenStore(MemoryStore):
    """A store whose searches fail like a dead server (writes work: ingest succeeds)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.broken = False

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if self.broken:
            raise self.error
        return super().query(vector, k)


@pytest.mark.parametrize(
    "error",
    [ConnectionError("refused"), OSError(28, "No space left on device"), RuntimeError("boom")],
    ids=["connection", "disk", "plugin"],
)
def test_a_failing_store_degrades_every_answering_path(
    tmp_path: Path, error: BaseException
) -> None:
    store = BrokenStore(error)
    copilot = Copilot(KNOWLEDGE, index_dir=tmp_path, embedder=FakeEmbedder(), store=store)
    copilot.ingest()
    healthy = copilot.answer(QUESTION)
    assert not any(LEXICAL in r for r in healthy.reasons)

    store.broken = True
    for answer in (
        copilot.answer(QUESTION),
        asyncio.run(copilot.aanswer(QUESTION)),
        copilot.handle(QUESTION).answer,
    ):
        assert answer.decision == healthy.decision and answer.text
        assert any(LEXICAL in r and type(error).__name__ in r for r in answer.reasons)

    store.broken = False  # the store is back: dense again after the pause
    copilot.retriever._dense_retry_at = 0.0
    assert not any(LEXICAL in r for r in copilot.answer(QUESTION).reasons)


def _kill(server: ChromaServer) -> None:
    assert server._proc is not None
    os.killpg(server._proc.pid, signal.SIGKILL)
    server._proc.wait(10)
    server._proc = None


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A `chroma run` of this test's own (it gets killed)."""
    server = ChromaServer(tmp_path / "chroma-data")
    try:
        server.start()
    except ChromaServerUnavailable as exc:
        pytest.skip(f"no Chroma server: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_answers_survive_a_killed_chroma_server(own_server: ChromaServer, tmp_path: Path) -> None:
    if not STATIC_MODEL.exists():
        pytest.skip("no static embedding model in ../shared")
    options = {"index_dir": tmp_path / "index", "embed_model": str(STATIC_MODEL)}
    copilot = Copilot(KNOWLEDGE, chroma_url=own_server.url, **options)
    copilot.ingest()
    healthy = copilot.answer(QUESTION)
    assert copilot.retriever.dense and not copilot.retriever.dense_problem

    _kill(own_server)
    answers = [copilot.answer(QUESTION), asyncio.run(copilot.aanswer(QUESTION))]
    answers.append(copilot.handle(QUESTION).answer)
    # a process started after the server died: its store fails when first opened
    late = Copilot(KNOWLEDGE, chroma_url=own_server.url, **options)
    answers.append(late.answer(QUESTION))
    for answer in answers:
        assert answer.decision == healthy.decision, answer.reasons
        assert any(LEXICAL in r for r in answer.reasons), answer.reasons


@pytest.mark.slow
def test_a_server_killed_mid_ingest_is_a_kefu_error(
    own_server: ChromaServer, tmp_path: Path
) -> None:
    if not STATIC_MODEL.exists():
        pytest.skip("no static embedding model in ../shared")
    shop = tmp_path / "shop"
    (shop / "faq").mkdir(parents=True)
    rows = "\n".join(f"第{i}号问题怎么办,第{i}号答案在这里" for i in range(5000))
    (shop / "faq" / "many.csv").write_text("question,answer\n" + rows, encoding="utf-8")
    copilot = Copilot(
        shop,
        index_dir=tmp_path / "index",
        embed_model=str(STATIC_MODEL),
        chroma_url=own_server.url,
        ingest_workers=0,
    )

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "embed" and own_server._proc is not None:
            _kill(own_server)  # after the first batch of vectors went in

    with pytest.raises(KefuError) as caught:
        copilot.ingest(progress=progress)
    assert "running" in str(caught.value)
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing half-published
