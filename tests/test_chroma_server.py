"""Scale-out (GitHub issue 8): the copilot against a real Chroma server (`chroma run`).

The server runs on 127.0.0.1 once for this module; vectors live on the server, chunk text and
the lexical index in each ``index_dir``. Skips cleanly without the ``chroma`` executable, when
the server cannot start, or without the local embedding model in ../shared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kefu_copilot import Copilot, KnowledgeIndexError
from kefu_copilot.index._generations import load_snapshot

from ._chroma_server import ChromaServer, ChromaServerUnavailable, free_port
from .conftest import KNOWLEDGE, STATIC_MODEL, make_shop, shared_path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    try:
        chroma.start()
    except ChromaServerUnavailable as exc:
        pytest.skip(f"no Chroma server: {exc}")
    try:
        yield chroma
    finally:
        chroma.stop()


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return shared_path("models", STATIC_MODEL.name)


@pytest.fixture
def server_shop(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, target, ignore=shutil.ignore_patterns(".kefu-index"))
    return target


def raw_collections(server: ChromaServer) -> dict[str, int]:
    """What the server itself holds: collection name → vector count (a client of our own)."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(
        host=server.host, port=server.port, settings=Settings(anonymized_telemetry=False)
    )
    return {c.name: c.count() for c in client.list_collections()}


def test_server_is_up(server: ChromaServer) -> None:
    assert server.running and server.heartbeat_path.startswith("/api/")
    assert isinstance(raw_collections(server), dict)


def test_helper_stops_the_whole_process_group(server: ChromaServer, tmp_path: Path) -> None:
    extra = ChromaServer(tmp_path / "data").start()  # `server`: skip when chroma cannot start
    pid, url = extra._proc.pid, extra.url  # type: ignore[union-attr]
    extra.stop()
    assert not extra.running
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing of the group is left
    with pytest.raises(OSError):
        urllib.request.urlopen(url + extra.heartbeat_path, timeout=1)


def test_helper_reports_a_missing_executable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from . import _chroma_server as helper

    monkeypatch.setattr(helper, "find_chroma", lambda: None)
    with pytest.raises(ChromaServerUnavailable, match="not installed"):
        ChromaServer(tmp_path / "data").start()


def test_hybrid_ingest_incremental_deletion_and_answers(
    server: ChromaServer, model_dir: Path, server_shop: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    copilot = Copilot(
        server_shop, index_dir=index, embed_model=str(model_dir), chroma_url=server.url
    )
    report = copilot.ingest()
    assert report.dense and report.chunks_embedded == report.chunks_total > 200
    assert copilot.retriever.dense
    assert not (index / "chroma").exists(), "vectors must go to the server, not index_dir"
    store = copilot._dense()[1]
    live = {c.id for c in load_snapshot(index).chunks}
    assert store.all_ids() == live
    assert len(live) in raw_collections(server).values()

    again = Copilot(
        server_shop, index_dir=index, embed_model=str(model_dir), chroma_url=server.url
    ).ingest()
    assert not again.changed and again.chunks_embedded == 0

    with open(server_shop / "faq" / "more.jsonl", "a", encoding="utf-8") as fh:
        record = {"question": "支持以旧换新吗？", "answer": "支持，旧衣寄回抵扣10元。"}
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    edited = copilot.ingest()
    assert edited.files_updated == ["faq/more.jsonl"] and edited.chunks_embedded == 1

    (server_shop / "policies" / "invoice.txt").unlink()
    removed = copilot.ingest()
    assert removed.files_removed == ["policies/invoice.txt"]
    live = {c.id for c in load_snapshot(index).chunks}
    assert store.all_ids() == live  # vectors of removed chunks are gone from the server

    answer = copilot.answer("卫衣会起球吗")
    assert answer.decision in ("auto", "draft")
    assert answer.citations[0].source == "products/mm-hd-003.md"
    assert copilot.retriever.dense
    hits = copilot.retriever.retrieve("衣服洗了会不会变小", 8)
    assert any(h.dense > 0 for h in hits), "no dense evidence from the server"
    assert copilot.answer("你们卖笔记本电脑吗").decision == "handoff"
    assert "旧衣寄回" in copilot.answer("可以以旧换新吗").text

    # a second Copilot on the same index and server (as on another backend) answers the same
    reader = Copilot(
        server_shop, index_dir=index, embed_model=str(model_dir), chroma_url=server.url
    )
    assert reader.answer("卫衣会起球吗").model_dump() == answer.model_dump()


def test_two_index_dirs_on_one_server_are_isolated(
    server: ChromaServer, model_dir: Path, server_shop: Path, tmp_path: Path
) -> None:
    other_shop = make_shop(
        tmp_path / "other",
        {
            "faq/faq.jsonl": json.dumps(
                {"question": "卫衣会起球吗？", "answer": "我们的卫衣是羊绒的，绝不起球。"},
                ensure_ascii=False,
            )
            + "\n",
            "policies/returns.md": "本店商品签收后30天内可无理由退货。",
        },
    )
    first = Copilot(
        server_shop, index_dir=tmp_path / "i1", embed_model=str(model_dir), chroma_url=server.url
    )
    second = Copilot(
        other_shop, index_dir=tmp_path / "i2", embed_model=str(model_dir), chroma_url=server.url
    )
    first.ingest()
    second.ingest()
    ids1 = {c.id for c in load_snapshot(tmp_path / "i1").chunks}
    ids2 = {c.id for c in load_snapshot(tmp_path / "i2").chunks}
    store1, store2 = first._dense()[1], second._dense()[1]
    assert store1.all_ids() == ids1 and store2.all_ids() == ids2
    assert not store1.all_ids() & store2.all_ids()
    counts = raw_collections(server)
    assert len(ids1) in counts.values() and len(ids2) in counts.values()

    vector = first._dense()[0].embed_query("卫衣会起球吗")
    assert {cid for cid, _ in store2.query(vector, 50)} <= ids2
    assert {cid for cid, _ in store1.query(vector, 50)} <= ids1
    assert "羊绒" not in first.answer("卫衣会起球吗").text
    assert all(c.source == "faq/faq.jsonl" for c in second.answer("卫衣会起球吗").citations)

    # deleting in one index leaves the other's vectors alone
    (other_shop / "policies" / "returns.md").unlink()
    second.ingest()
    assert store1.all_ids() == ids1


def test_writer_process_and_reader_reload_share_the_server(
    server: ChromaServer, model_dir: Path, server_shop: Path, tmp_path: Path
) -> None:
    """The documented scale-out: `kefu ingest` in a writer process configured by KEFU_* env
    (KEFU_CHROMA_URL), a long-lived reader that calls reload() and keeps hybrid retrieval."""
    index = tmp_path / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        KEFU_CHROMA_URL=server.url,
        KEFU_EMBED_MODEL=str(model_dir),
        KEFU_INDEX_DIR=str(index),
        ANONYMIZED_TELEMETRY="False",
    )
    kefu = [sys.executable, "-m", "kefu_copilot.cli", "ingest", "--json", str(server_shop)]

    def writer() -> dict:
        done = subprocess.run(kefu, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    reader = Copilot(
        server_shop, index_dir=index, embed_model=str(model_dir), chroma_url=server.url
    )
    assert reader.ingest().generation == 1  # the first ingest here, the next in a writer process
    assert reader.retriever.dense and "以旧换新" not in reader.answer("可以以旧换新吗").text

    with open(server_shop / "faq" / "more.jsonl", "a", encoding="utf-8") as fh:
        record = {"question": "支持以旧换新吗？", "answer": "支持以旧换新，旧衣寄回抵扣10元。"}
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    report = writer()
    assert report["generation"] == 2 and report["chunks_embedded"] == 1
    assert reader.reload()
    assert "旧衣寄回" in reader.answer("可以以旧换新吗").text
    new = [h for h in reader.retriever.retrieve("以旧换新", 8) if "旧衣寄回" in h.chunk.text]
    assert new and new[0].dense > 0, "the reader does not see the vector the writer added"


def test_a_copy_of_the_index_elsewhere_finds_the_shared_vectors(
    server: ChromaServer, model_dir: Path, server_shop: Path, tmp_path: Path
) -> None:
    writer = Copilot(
        server_shop, index_dir=tmp_path / "a", embed_model=str(model_dir), chroma_url=server.url
    )
    writer.ingest()
    shutil.copytree(tmp_path / "a", tmp_path / "machine-b" / "index")  # e.g. rsync to machine B
    reader = Copilot(
        server_shop,
        index_dir=tmp_path / "machine-b" / "index",
        embed_model=str(model_dir),
        chroma_url=server.url,
    )
    assert reader.retriever.dense  # it claims hybrid retrieval...
    hits = reader.retriever.retrieve("衣服洗了会不会变小", 8)
    assert any(h.dense > 0 for h in hits), "...but the reader's collection is empty"


def test_moving_an_embedded_index_to_the_server_fills_the_server(
    server: ChromaServer, model_dir: Path, server_shop: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    embedded = Copilot(server_shop, index_dir=index, embed_model=str(model_dir)).ingest()
    assert embedded.chunks_embedded == embedded.chunks_total  # vectors in index_dir/chroma
    moved = Copilot(server_shop, index_dir=index, embed_model=str(model_dir), chroma_url=server.url)
    moved.ingest()  # the documented migration: set the URL, ingest again
    live = {c.id for c in load_snapshot(index).chunks}
    assert moved._dense()[1].all_ids() == live, "the server did not get the vectors"
    assert any(h.dense > 0 for h in moved.retriever.retrieve("衣服洗了会不会变小", 8))


def test_unreachable_server_is_a_clear_error_fast(server_shop: Path, tmp_path: Path) -> None:
    from kefu_copilot.testing import FakeEmbedder

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    copilot = Copilot(
        server_shop, index_dir=tmp_path / "index", embedder=FakeEmbedder(), chroma_url=url
    )
    started = time.perf_counter()
    with pytest.raises(KnowledgeIndexError, match="chroma run"):
        copilot.ingest()
    assert time.perf_counter() - started < 10
