"""Issue 21 #6: every failure reaching a caller is a KefuError subclass. Each fault is driven
for real — Chroma and its HTTP client failing, index files damaged or unwritable, an LLM
endpoint failing — and the type of what reaches the caller is checked (answering through a
failed vector store does not raise at all: see test_outage.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kefu_copilot import (
    Copilot,
    KefuError,
    KnowledgeIndexError,
    LLMError,
    LLMStatusError,
    LLMTimeoutError,
    VectorStoreError,
)
from kefu_copilot.index._vectors import ChromaStore
from kefu_copilot.testing import FakeEmbedder, LoopbackLLMServer, Response

from .._chroma_server import free_port
from .test_vector_store import Failing, _third_party_errors


@pytest.mark.parametrize(
    "index", range(4), ids=["chromadb", "httpx-connect", "httpx-protocol", "oserror"]
)
def test_a_failing_vector_store_in_ingest(tiny_shop: Path, tmp_path: Path, index: int) -> None:
    error = _third_party_errors()[index]
    store = ChromaStore(Failing(error), where="http://127.0.0.1:9/")
    copilot = Copilot(tiny_shop, index_dir=tmp_path / "i", embedder=FakeEmbedder(), store=store)
    with pytest.raises(VectorStoreError) as caught:
        copilot.ingest()
    assert caught.value.__cause__ is error


def _ingested(shop: Path, index: Path) -> Copilot:
    Copilot(shop, index_dir=index, embed_model="none").ingest()
    return Copilot(shop, index_dir=index, embed_model="none")


def _generation(index: Path) -> Path:
    return next(index.glob("gen-*"))


DAMAGE: dict[str, Callable[[Path], Any]] = {
    "CURRENT is a folder": lambda i: ((i / "CURRENT").unlink(), (i / "CURRENT").mkdir()),
    "CURRENT is garbage": lambda i: (i / "CURRENT").write_bytes(b"\xff\x00garbage"),
    "chunks.jsonl gone": lambda i: (_generation(i) / "chunks.jsonl").unlink(),
    "chunks.jsonl garbage": lambda i: (_generation(i) / "chunks.jsonl").write_bytes(b"{nope\n"),
    "chunk_index.json garbage": lambda i: (_generation(i) / "chunk_index.json").write_text("[1"),
    "manifest.json garbage": lambda i: (_generation(i) / "manifest.json").write_text("{"),
    "faq_rows.npy garbage": lambda i: (_generation(i) / "faq_rows.npy").write_bytes(b"nope"),
    "bm25 folder gone": lambda i: shutil.rmtree(_generation(i) / "bm25"),
    "analysis folder gone": lambda i: shutil.rmtree(_generation(i) / "analysis"),
    "generation folder gone": lambda i: shutil.rmtree(_generation(i)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_files(tiny_shop: Path, tmp_path: Path, damage: str) -> None:
    index = tmp_path / "index"
    copilot = _ingested(tiny_shop, index)
    DAMAGE[damage](index)
    try:
        copilot.answer("几天发货")
    except KefuError as exc:
        assert isinstance(exc, KnowledgeIndexError), repr(exc)
    # ingesting again repairs it, or says what to do (a KefuError)
    try:
        Copilot(tiny_shop, index_dir=index, embed_model="none").ingest()
    except KefuError:
        pass
    else:
        assert Copilot(tiny_shop, index_dir=index, embed_model="none").answer("几天发货").text


def test_an_index_dir_that_is_a_file(tiny_shop: Path, tmp_path: Path) -> None:
    where = tmp_path / "index"
    where.write_text("not a folder")
    with pytest.raises(KefuError):
        Copilot(tiny_shop, index_dir=where, embed_model="none").ingest()
    with pytest.raises(KefuError):
        Copilot(tiny_shop, index_dir=where, embed_model="none").answer("几天发货")


def test_a_full_disk_while_publishing(
    tiny_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu_copilot.index import _generations

    copilot = _ingested(tiny_shop, tmp_path / "index")
    (tiny_shop / "faq" / "more.csv").write_text("question,answer\n包邮吗,满99包邮\n", "utf-8")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_generations, "save_array", full)
    with pytest.raises(KnowledgeIndexError, match="space"):
        copilot.ingest()
    assert sorted(p.name for p in (tmp_path / "index").glob("gen-*")) == ["gen-000001"]
    assert copilot.answer("几天发货").text  # the previous generation answers


@pytest.mark.parametrize("fault", ["500", "400", "garbage", "trickle", "refused"])
def test_llm_faults_are_typed(tiny_shop: Path, tmp_path: Path, fault: str) -> None:
    index = tmp_path / "index"
    _ingested(tiny_shop, index)
    expected: type[LLMError] = LLMError
    with LoopbackLLMServer() as server:
        url = server.base_url
        if fault == "500":
            server.fail(500, times=5)
            expected = LLMStatusError
        elif fault == "400":
            server.fail(400, times=2)
            expected = LLMStatusError
        elif fault == "garbage":
            server.garbage_body()
            server.garbage_body()
        elif fault == "trickle":
            trickle = Response(content="x" * 200, stream_mode="trickle", chunk_delay=0.1)
            server.enqueue(*[trickle] * 4)
            expected = LLMTimeoutError
        elif fault == "refused":
            url = f"http://127.0.0.1:{free_port()}/v1"
        copilot = Copilot(
            tiny_shop,
            index_dir=index,
            embed_model="none",
            llm_base_url=url,
            llm_api_key="test",
            llm_model="m",
            llm_timeout=1.5,
            llm_max_retries=1,
        )
        assert copilot.answer("几天发货").text  # degrades, never raises
        with pytest.raises(expected):
            copilot.answer("几天发货", strict=True)
