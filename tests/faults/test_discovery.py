"""Issue 21 #3/#10: what discovery reads. Nothing outside the shop directory is read, whatever
symlinks point there; special files are never opened; each refusal is reported with its reason."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from kefu_copilot.index._generations import load_snapshot
from kefu_copilot.ingest._pipeline import discover_files

from .conftest import ingest, problems

SECRET = "# 内部资料\n成本价 12 元，供应商电话 010-1234\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    (folder / "deeper").mkdir(parents=True)
    (folder / "secret.md").write_text(SECRET, encoding="utf-8")
    (folder / "deeper" / "more.md").write_text(SECRET, encoding="utf-8")
    return folder


def _texts(index: Path) -> str:
    return "\n".join(c.text for c in load_snapshot(index).chunks)


def test_a_symlinked_knowledge_folder_outside_the_shop_is_refused(
    tiny_shop: Path, outside: Path, tmp_path: Path
) -> None:
    (tiny_shop / "policies").symlink_to(outside, target_is_directory=True)
    report = ingest(tiny_shop, tmp_path / "index")
    assert "成本价" not in _texts(tmp_path / "index")
    assert "outside the shop" in problems(report)["policies"]
    assert report.files_added == ["faq/faq.csv"]


def test_a_symlinked_subfolder_outside_the_shop_is_refused(
    tiny_shop: Path, outside: Path, tmp_path: Path
) -> None:
    (tiny_shop / "policies").mkdir()
    (tiny_shop / "policies" / "more").symlink_to(outside, target_is_directory=True)
    report = ingest(tiny_shop, tmp_path / "index")
    assert "成本价" not in _texts(tmp_path / "index")
    assert "outside the shop" in problems(report)["policies/more"]


def test_a_symlinked_folder_inside_the_shop_is_read(tiny_shop: Path, tmp_path: Path) -> None:
    (tiny_shop / "docs" / "policies").mkdir(parents=True)
    (tiny_shop / "docs" / "policies" / "returns.md").write_text(
        "# 退货\n七天无理由退货。\n", encoding="utf-8"
    )
    (tiny_shop / "policies").symlink_to(tiny_shop / "docs" / "policies")
    report = ingest(tiny_shop, tmp_path / "index")
    assert "policies/returns.md" in report.files_added
    assert "七天无理由" in _texts(tmp_path / "index")


def test_a_symlinked_file_outside_the_shop_is_refused(
    tiny_shop: Path, outside: Path, tmp_path: Path
) -> None:
    (tiny_shop / "policies").mkdir()
    (tiny_shop / "policies" / "a.md").symlink_to(outside / "secret.md")
    report = ingest(tiny_shop, tmp_path / "index")
    assert "outside the shop" in problems(report)["policies/a.md"]
    assert "成本价" not in _texts(tmp_path / "index")


def test_a_dangling_symlink_is_reported_as_dangling(tiny_shop: Path, tmp_path: Path) -> None:
    (tiny_shop / "policies").mkdir()
    (tiny_shop / "policies" / "gone.md").symlink_to("/nonexistent/kefu/gone.md")
    (tiny_shop / "policies" / "gone-inside.md").symlink_to(tiny_shop / "policies" / "x.md")
    found = problems(ingest(tiny_shop, tmp_path / "index"))
    for name in ("policies/gone.md", "policies/gone-inside.md"):
        assert "dangling" in found[name] and "outside" not in found[name]


def test_a_symlink_loop_is_reported_not_raised(tiny_shop: Path, tmp_path: Path) -> None:
    folder = tiny_shop / "policies"
    folder.mkdir()
    (folder / "a.md").symlink_to(folder / "b.md")
    (folder / "b.md").symlink_to(folder / "a.md")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    report = ingest(tiny_shop, tmp_path / "index")
    found = problems(report)
    assert "loop" in found["policies/a.md"] and "loop" in found["policies/b.md"]
    assert report.files_added == ["faq/faq.csv"]


def test_a_fifo_is_skipped_with_a_reason_and_never_opened(tiny_shop: Path, tmp_path: Path) -> None:
    (tiny_shop / "policies").mkdir()
    os.mkfifo(tiny_shop / "policies" / "pipe.md")
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(ingest(tiny_shop, tmp_path / "index")), daemon=True
    )
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "ingest blocked opening a FIFO"
    found = problems(result[0])  # type: ignore[arg-type]
    assert "FIFO" in found["policies/pipe.md"]


def test_a_socket_is_skipped_with_a_reason(tiny_shop: Path, tmp_path: Path) -> None:
    (tiny_shop / "policies").mkdir()
    path = tiny_shop / "policies" / "s.md"
    if len(str(path)) > 100:
        pytest.skip("socket path too long for AF_UNIX")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        found = problems(ingest(tiny_shop, tmp_path / "index"))
    assert "socket" in found["policies/s.md"]


def test_a_device_behind_a_symlink_is_skipped(tiny_shop: Path, tmp_path: Path) -> None:
    (tiny_shop / "policies").mkdir()
    (tiny_shop / "policies" / "zero.md").symlink_to("/dev/zero")
    found = problems(ingest(tiny_shop, tmp_path / "index"))
    assert "outside the shop" in found["policies/zero.md"]
    files, issues = discover_files(tiny_shop)
    assert [f.source for f in files] == ["faq/faq.csv"]
    assert [i.source for i in issues] == ["policies/zero.md"]


def test_a_file_name_that_is_not_utf8_is_reported(tiny_shop: Path, tmp_path: Path) -> None:
    folder = os.fsencode(tiny_shop / "faq")
    with open(os.path.join(folder, b"bad-\xff\xfe.csv"), "wb") as fh:
        fh.write("question,answer\n退货吗,七天无理由\n".encode())
    report = ingest(tiny_shop, tmp_path / "index")
    [(source, problem)] = [(s, p) for s, p in problems(report).items() if s != "faq/faq.csv"]
    assert "UTF-8" in problem and "rename" in problem
    source.encode("utf-8")  # the report itself stays printable and serialisable
    assert report.files_added == ["faq/faq.csv"]
    report.model_dump_json()
