"""Ingestion streams the generation through bounded batches: the result does not depend on the
batch sizes, kept chunks are read one at a time, and a damaged kept chunk is parsed again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kefu_copilot import Copilot
from kefu_copilot.index import _bm25
from kefu_copilot.index._generations import ChunkFile, load_snapshot

from .conftest import KNOWLEDGE
from .test_parse_pool import GENERATION_FILES

QUESTIONS = ["几天能发货？", "可以开发票吗", "卫衣起球怎么办", "新疆包邮吗"]


def _generation(index: Path) -> Path:
    snapshot = load_snapshot(index)
    assert snapshot is not None
    return snapshot.directory


def _answers(copilot: Copilot) -> list[tuple[str, str, float]]:
    return [(a.text, a.decision, a.confidence) for a in map(copilot.answer, QUESTIONS)]


def test_tiny_batches_write_the_same_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = Copilot(KNOWLEDGE, index_dir=tmp_path / "whole", embed_model="none")
    whole.ingest()

    def small(self: _bm25.BM25Writer, work_dir: Path, **_: object) -> None:
        original(self, work_dir, batch_tokens=64, block_entries=50)

    original = _bm25.BM25Writer.__init__
    monkeypatch.setattr(_bm25.BM25Writer, "__init__", small)
    tiny = Copilot(KNOWLEDGE, index_dir=tmp_path / "tiny", embed_model="none")
    tiny.ingest()
    for name in GENERATION_FILES:
        one = (_generation(tmp_path / "whole") / name).read_bytes()
        assert one == (_generation(tmp_path / "tiny") / name).read_bytes(), name
    assert not list((tmp_path / "tiny").glob("gen-*/*.work"))  # scratch files removed


def test_reingest_reads_kept_chunks_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop, ignore=shutil.ignore_patterns(".kefu-index"))
    copilot = Copilot(shop, index_dir=tmp_path / "index", embed_model="none")
    copilot.ingest()
    opened: list[ChunkFile] = []
    real_open = ChunkFile.open.__func__  # type: ignore[attr-defined]

    def spy(cls: type[ChunkFile], path: Path) -> ChunkFile:
        opened.append(real_open(cls, path))
        return opened[-1]

    monkeypatch.setattr(ChunkFile, "open", classmethod(spy))
    policy = shop / "policies" / "invoice.txt"
    policy.write_text(
        policy.read_text(encoding="utf-8") + "\n电子发票在确认收货后开具。\n", "utf-8"
    )
    report = copilot.ingest()
    assert report.files_updated == ["policies/invoice.txt"]
    assert len(report.files_unchanged) > 10
    # the kept chunks were copied through without being kept as objects
    assert opened and all(item is None for item in opened[0]._items)
    fresh = Copilot(shop, index_dir=tmp_path / "fresh", embed_model="none")
    fresh.ingest()
    assert _answers(copilot) == _answers(fresh)
    # the same chunks (kept files come first in an incremental generation, as before)
    kept, whole = (load_snapshot(tmp_path / name) for name in ("index", "fresh"))
    assert kept is not None and whole is not None
    assert sorted(kept.ids) == sorted(whole.ids)


def test_a_damaged_kept_chunk_is_parsed_again(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop, ignore=shutil.ignore_patterns(".kefu-index"))
    copilot = Copilot(shop, index_dir=tmp_path / "index", embed_model="none")
    copilot.ingest()
    chunks = _generation(tmp_path / "index") / "chunks.jsonl"
    lines = chunks.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b"{damaged\n"  # the ends still read: the generation looks fine
    chunks.write_bytes(b"".join(lines))
    (shop / "faq" / "faq.csv").touch()  # something to publish
    (shop / "faq" / "faq.csv").write_text(
        (shop / "faq" / "faq.csv").read_text(encoding="utf-8") + '"新问题？","新答案。","",""\n',
        encoding="utf-8",
    )
    report = copilot.ingest()
    assert not report.files_unchanged  # everything was parsed again
    fresh = Copilot(shop, index_dir=tmp_path / "fresh", embed_model="none")
    fresh.ingest()
    assert _answers(copilot) == _answers(fresh)
    assert not list((tmp_path / "index").glob("gen-*.tmp"))
