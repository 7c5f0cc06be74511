from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kefu_copilot import Copilot, IndexLockedError, KnowledgeIndexError, ShopError
from kefu_copilot.index._generations import WriteLock, load_snapshot

from .conftest import make_shop


def _copilot(shop: Path, tmp_path: Path) -> Copilot:
    return Copilot(shop, index_dir=tmp_path / "index", embed_model="none")


def test_ingest_sample_shop(shop: Path, tmp_path: Path) -> None:
    report = _copilot(shop, tmp_path).ingest()
    assert report.generation == 1 and report.chunks_total > 200
    assert len(report.files_added) >= 20 and not report.files_updated
    kinds = {c.kind for c in load_snapshot(tmp_path / "index").chunks}
    assert kinds == {"faq", "product", "table_row", "policy", "case"}


def test_reingest_unchanged_writes_nothing(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    index = tmp_path / "index"
    before = {
        p: p.stat().st_mtime_ns for p in index.rglob("*") if p.is_file() and "chroma" not in p.parts
    }
    time.sleep(0.01)
    report = copilot.ingest()
    after = {
        p: p.stat().st_mtime_ns for p in index.rglob("*") if p.is_file() and "chroma" not in p.parts
    }
    assert not report.changed and report.generation == 1
    assert {k: v for k, v in after.items() if k.name != ".write.lock"} == {
        k: v for k, v in before.items() if k.name != ".write.lock"
    }


def test_touching_a_file_without_changing_it_reparses_nothing(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    os.utime(shop / "faq" / "faq.csv")
    report = copilot.ingest()
    assert not report.changed


def test_editing_one_file_reindexes_only_that_file(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    assert copilot.answer("你们支持以旧换新吗").decision == "handoff"
    with open(shop / "faq" / "more.jsonl", "a", encoding="utf-8") as fh:
        fh.write(
            json.dumps(
                {
                    "question": "支持以旧换新吗？",
                    "answer": "支持的，旧衣服寄回可抵扣10元。",
                    "similar": ["可以以旧换新吗"],
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    report = copilot.ingest()
    assert report.files_updated == ["faq/more.jsonl"] and not report.files_added
    assert "faq/faq.csv" in report.files_unchanged and report.generation == 2
    answer = copilot.answer("你们支持以旧换新吗")
    assert answer.decision == "auto" and "抵扣10元" in answer.text


def test_deleting_a_file_removes_its_chunks(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    (shop / "policies" / "invoice.txt").unlink()
    report = copilot.ingest()
    assert report.files_removed == ["policies/invoice.txt"]
    assert all(c.source != "policies/invoice.txt" for c in load_snapshot(tmp_path / "index").chunks)


def test_shop_yaml_change_is_picked_up(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    text = (
        (shop / "shop.yaml")
        .read_text(encoding="utf-8")
        .replace("max_cash_yuan: 5", "max_cash_yuan: 500")
    )
    (shop / "shop.yaml").write_text(text, encoding="utf-8")
    report = copilot.ingest()
    assert report.changed is False and report.generation == 2
    assert copilot.shop.compensation.max_cash_yuan == 500


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    shop = make_shop(
        tmp_path / "s",
        {
            "faq/good.csv": "question,answer\n几天发货？,付款后48小时内发货。\n",
            "faq/bad.csv": "foo,bar\n1,2\n",
            "products/broken.json": '{"title": ',
            "products/binary.md": b"\x00\x01\x02" * 50,
            "products/empty.html": "",
            "products/notes.docx": b"PK\x03\x04",
            "policies/gbk.txt": "退货需在签收后7天内申请。".encode("gbk"),
        },
    )
    report = _copilot(shop, tmp_path).ingest()
    problems = {i.source: i.problem for i in report.issues}
    assert set(problems) >= {
        "faq/bad.csv",
        "products/broken.json",
        "products/binary.md",
        "products/empty.html",
        "products/notes.docx",
    }
    snapshot = load_snapshot(tmp_path / "index")
    assert {c.source for c in snapshot.chunks} == {"faq/good.csv", "policies/gbk.txt"}
    assert any("7天内" in c.text for c in snapshot.chunks)


def test_symlink_outside_the_shop_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("机密：成本价10元。", encoding="utf-8")
    shop = make_shop(tmp_path / "s", {"policies/a.md": "七天无理由退货。"})
    (shop / "policies" / "link.md").symlink_to(secret)
    report = _copilot(shop, tmp_path).ingest()
    assert any(i.source == "policies/link.md" for i in report.issues)
    assert all("成本价" not in c.text for c in load_snapshot(tmp_path / "index").chunks)


def test_missing_shop_dir_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ShopError):
        _copilot(tmp_path / "nope", tmp_path).ingest()


def test_answer_before_ingest_says_what_to_do(shop: Path, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeIndexError, match="ingest"):
        _copilot(shop, tmp_path).answer("几天发货")


def test_second_writer_is_refused_at_once(shop: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    with WriteLock(index):
        started = time.perf_counter()
        with pytest.raises(IndexLockedError, match="being written"):
            _copilot(shop, tmp_path).ingest()
        assert time.perf_counter() - started < 2


def test_crash_before_publish_keeps_previous_generation(
    shop: Path, tmp_path: Path, monkeypatch
) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    (shop / "faq" / "more.jsonl").write_text(
        json.dumps({"question": "新问题", "answer": "新答案"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )

    import kefu_copilot.index._generations as index_module

    real_rename = os.rename

    def crash(src, dst):  # the generation is written but never renamed/published
        raise OSError("simulated crash")

    monkeypatch.setattr(index_module.os, "rename", crash)
    with pytest.raises(KnowledgeIndexError):  # a failed write is typed (issue 21 #6)
        copilot.ingest()
    monkeypatch.setattr(index_module.os, "rename", real_rename)

    snapshot = load_snapshot(tmp_path / "index")
    assert snapshot.generation == 1
    assert all(c.text != "新答案" for c in snapshot.chunks)
    report = copilot.ingest()  # a re-run completes and cleans up the leftovers
    assert report.generation == 2
    assert not list((tmp_path / "index").glob("gen-*.tmp"))


def test_corrupt_pointer_is_a_typed_error(shop: Path, tmp_path: Path) -> None:
    copilot = _copilot(shop, tmp_path)
    copilot.ingest()
    (tmp_path / "index" / "CURRENT").write_text("{not json", encoding="utf-8")
    with pytest.raises(KnowledgeIndexError, match="ingest again"):
        Copilot(shop, index_dir=tmp_path / "index", embed_model="none").answer("几天发货")


def test_a_200mb_file_is_skipped_with_a_report_and_the_rest_ingested(tmp_path: Path) -> None:
    shop = make_shop(
        tmp_path / "s", {"faq/faq.csv": "question,answer\n几天发货？,付款后48小时内发货。\n"}
    )
    huge = shop / "policies" / "catalogue.md"
    huge.parent.mkdir()
    with open(huge, "wb") as fh:  # sparse: 200 MB on paper, nothing read
        fh.truncate(200 * 2**20)
    report = _copilot(shop, tmp_path).ingest()
    assert any(
        i.source == "policies/catalogue.md" and "max_file_mb" in i.problem for i in report.issues
    )
    assert report.chunks_total == 1
