"""Parsing in worker processes gives the same index as parsing in the calling process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kefu_copilot import Copilot
from kefu_copilot.index._analysis import Vocabulary
from kefu_copilot.index._generations import load_snapshot
from kefu_copilot.ingest._workers import BATCH_FILES, parse_files, plan_workers
from kefu_copilot.text._tokenize import ChineseTokenizer

GENERATION_FILES = (
    "chunks.jsonl",
    "chunk_index.json",
    "catalog.json",
    "faq_rows.npy",
    "analysis/tokens.npy",
    "analysis/marks.npy",
    "analysis/chunks.npy",
    "analysis/lead.npy",
    "analysis/vocab.json",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25/vocab.index.json",
    "faq/data.csc.index.npy",
)


def _ingest(shop: Path, index: Path, workers: int) -> Copilot:
    copilot = Copilot(shop, index_dir=index, embed_model="none", ingest_workers=workers)
    copilot.ingest()
    return copilot


def test_workers_write_the_same_index_byte_for_byte(shop: Path, tmp_path: Path) -> None:
    here = _ingest(shop, tmp_path / "here", 0)
    pooled = _ingest(shop, tmp_path / "pooled", 2)
    for name in GENERATION_FILES:
        a = (tmp_path / "here" / "gen-000001" / name).read_bytes()
        b = (tmp_path / "pooled" / "gen-000001" / name).read_bytes()
        assert a == b, name
    for question in ("卫衣起球吗", "退货运费谁出", "M码适合多高的人"):
        assert here.answer(question) == pooled.answer(question)


def test_reingest_with_workers_reuses_the_analysis_of_unchanged_files(
    shop: Path, tmp_path: Path
) -> None:
    _ingest(shop, tmp_path / "a", 1)
    faq = shop / "faq" / "faq.csv"
    faq.write_text(faq.read_text(encoding="utf-8") + "\n新问题,新答案\n", encoding="utf-8")
    second = Copilot(shop, index_dir=tmp_path / "a", embed_model="none", ingest_workers=1)
    report = second.ingest()
    assert report.files_updated == ["faq/faq.csv"]
    fresh = _ingest(shop, tmp_path / "b", 0)
    assert second.answer("新问题").text == fresh.answer("新问题").text
    assert second.answer("卫衣起球吗") == fresh.answer("卫衣起球吗")


def test_a_worker_that_cannot_start_falls_back_to_this_process(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "")  # no interpreter to start workers with
    files = sorted(
        (p.relative_to(shop).as_posix(), p, p.stat().st_size)
        for p in (shop / "faq").iterdir()
        if p.is_file()
    )
    parsed = list(parse_files(files, ChineseTokenizer(), Vocabulary(), workers=2))
    assert [p.source for p in parsed] == [f[0] for f in files]
    assert sum(len(p.chunks) for p in parsed) > 10


def test_many_small_batches_come_back_in_order(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    n = BATCH_FILES * 3 + 5
    for i in range(n):
        (faq / f"q{i:03d}.csv").write_text(f"question,answer\n问题{i}怎么办,答案{i}\n", "utf-8")
    files = [(f"faq/q{i:03d}.csv", faq / f"q{i:03d}.csv", 30) for i in range(n)]
    vocab = Vocabulary()
    parsed = list(parse_files(files, ChineseTokenizer(), vocab, workers=2))
    assert [p.source for p in parsed] == [f[0] for f in files]
    tokens = vocab.tokens()
    for i, p in enumerate(parsed):
        assert [c.question for c in p.chunks] == [f"问题{i}怎么办"]
        ids = np.frombuffer(p.tokens[0].ids, dtype=np.int32)
        assert f"{i}" in {tokens[t] for t in ids}  # ids renumbered into this vocabulary


def test_a_script_without_a_main_guard_is_not_run_again_by_the_workers(
    shop: Path, tmp_path: Path
) -> None:
    """multiprocessing's spawn would re-import the caller's script in every worker; and
    ``python -m`` would put the caller's working directory on the workers' path."""
    marker = tmp_path / "runs.txt"
    script = tmp_path / "ingest_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from kefu_copilot import Copilot
            with open({str(marker)!r}, "a") as fh:
                fh.write("run\\n")
            c = Copilot({str(shop)!r}, index_dir={str(tmp_path / "ix")!r}, embed_model="none",
                        ingest_workers=2)
            print(c.ingest().chunks_total)
            """
        ),
        encoding="utf-8",
    )
    cwd = tmp_path / "cwd"  # a module there must not shadow the workers' imports
    cwd.mkdir()
    (cwd / "numpy.py").write_text("raise ImportError('the wrong numpy')\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=cwd,
    )
    assert int(out.stdout.strip()) > 200
    assert marker.read_text().count("run") == 1
    assert "parse workers failed" not in out.stderr


def test_plan_workers_parses_small_shops_here() -> None:
    small = [("faq/a.csv", Path("a"), 10_000)] * 20
    assert plan_workers(None, small) == 0
    assert plan_workers(3, small) == 3
    assert plan_workers(0, [("x", Path("x"), 1 << 30)]) == 0


def test_index_built_by_workers_loads_and_answers(shop: Path, tmp_path: Path) -> None:
    copilot = _ingest(shop, tmp_path / "ix", 2)
    snapshot = load_snapshot(tmp_path / "ix")
    assert snapshot is not None and snapshot.analysis is not None
    assert copilot.answer("卫衣起球吗").decision in ("auto", "draft")


def test_an_index_written_before_analyses_were_stored_still_answers(
    shop: Path, tmp_path: Path
) -> None:
    """Indexes of earlier versions have no analysis/, catalog.json or chunk_index.json and
    another tokenizer fingerprint: answers segment the knowledge at question time instead."""
    import json
    import shutil

    current = _ingest(shop, tmp_path / "new", 0)
    old_dir = tmp_path / "old"
    shutil.copytree(tmp_path / "new", old_dir)
    generation = old_dir / "gen-000001"
    shutil.rmtree(generation / "analysis")
    (generation / "catalog.json").unlink()
    (generation / "chunk_index.json").unlink()
    pointer = json.loads((old_dir / "CURRENT").read_text(encoding="utf-8"))
    pointer["tokenizer"] = "zh1:0000000000000000"
    (old_dir / "CURRENT").write_text(json.dumps(pointer), encoding="utf-8")
    old = Copilot(shop, index_dir=old_dir, embed_model="none")
    snapshot = load_snapshot(old_dir)
    assert snapshot is not None and snapshot.analysis is None and snapshot.catalog is None
    for question in ("卫衣起球吗", "退货运费谁出", "M码适合多高的人", "你们发什么快递"):
        a, b = current.answer(question), old.answer(question)
        assert (a.decision, a.text, [c.source for c in a.citations]) == (
            b.decision,
            b.text,
            [c.source for c in b.citations],
        ), question
        assert abs(a.confidence - b.confidence) < 1e-6
    report = old.ingest()  # the next ingest rewrites it in the current format
    assert report.generation == 2
    assert load_snapshot(old_dir).analysis is not None  # type: ignore[union-attr]
