"""Issue 21 #5: one bad file never aborts the whole ingest, whether it is parsed in this process
or in a parse worker. Whatever a loader raises for one file becomes that file's reported issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot.index._analysis import Vocabulary
from kefu_copilot.ingest import _workers
from kefu_copilot.ingest._workers import parse_files
from kefu_copilot.text._tokenize import ChineseTokenizer

from .conftest import ingest, problems

HOSTILE = {
    # a loader's TypeError: size_chart.columns is not a list
    "products/columns.json": '{"title": "羽绒服", "size_chart": {"columns": 5, "rows": [[1, 2]]}}',
    # ValueError from int("9" * 5000): Python's limit on int/str conversion
    "products/digits.json": '{"title": "羽绒服", "price": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_file_that_breaks_its_loader_is_skipped_with_a_reason(
    tiny_shop: Path, tmp_path: Path, name: str, workers: int
) -> None:
    path = tiny_shop / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOSTILE[name], encoding="utf-8")
    report = ingest(tiny_shop, tmp_path / "index", workers=workers)
    assert "faq/faq.csv" in report.files_added and report.chunks_total >= 1
    problem = problems(report)[name]
    assert "cannot be parsed" in problem


def test_every_hostile_file_at_once_in_workers(tiny_shop: Path, tmp_path: Path) -> None:
    for name, text in HOSTILE.items():
        (tiny_shop / name).parent.mkdir(parents=True, exist_ok=True)
        (tiny_shop / name).write_text(text, encoding="utf-8")
    report = ingest(tiny_shop, tmp_path / "index", workers=2)
    assert set(HOSTILE) <= set(problems(report))
    assert report.chunks_total >= 1


def test_a_failure_while_analysing_a_file_is_that_files_issue(
    tiny_shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boundary is the whole file (parse, analyse, title words), not one error type."""
    real = _workers.analyse_chunk

    def flaky(chunk, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "发货" in chunk.text:
            raise ZeroDivisionError("analyser bug")
        return real(chunk, *args, **kwargs)

    monkeypatch.setattr(_workers, "analyse_chunk", flaky)
    (tiny_shop / "faq" / "other.csv").write_text("question,answer\n退货吗,七天无理由\n")
    files = [
        (p.relative_to(tiny_shop).as_posix(), p, p.stat().st_size)
        for p in sorted((tiny_shop / "faq").iterdir())
    ]
    parsed = list(parse_files(files, ChineseTokenizer(), Vocabulary()))
    assert [p.source for p in parsed] == ["faq/faq.csv", "faq/other.csv"]
    bad, good = parsed
    assert not bad.chunks and not bad.tokens and "ZeroDivisionError" in bad.issues[0].problem
    assert good.chunks and len(good.tokens) == len(good.chunks)


def test_a_file_that_cannot_be_read_when_hashed_is_skipped(
    tiny_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. no permission, or replaced by a FIFO between discovery and reading."""
    from kefu_copilot.ingest import _pipeline

    (tiny_shop / "faq" / "locked.csv").write_text("question,answer\n退货吗,七天无理由\n")
    real = _pipeline.open_regular

    def guarded(path: Path):  # type: ignore[no-untyped-def]
        if path.name == "locked.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(_pipeline, "open_regular", guarded)
    report = ingest(tiny_shop, tmp_path / "index")
    assert "Permission denied" in problems(report)["faq/locked.csv"]
    assert report.files_added == ["faq/faq.csv"]
    monkeypatch.undo()
    assert ingest(tiny_shop, tmp_path / "index").files_added == ["faq/locked.csv"]
