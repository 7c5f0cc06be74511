from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SHARED = ROOT.parent / "shared"
STATIC_MODEL = SHARED / "models" / "w2v-zh-synonyms-100d"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test cleanly when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is optional)")
    return path


@pytest.fixture(autouse=True)
def _no_kefu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A private copy of the sample shop."""
    target = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, target, ignore=shutil.ignore_patterns(".kefu-index"))
    return target


@pytest.fixture(scope="session")
def sample_copilot(tmp_path_factory: pytest.TempPathFactory):
    """The sample shop, ingested once, lexical retrieval only."""
    from kefu_copilot import Copilot

    index = tmp_path_factory.mktemp("index")
    copilot = Copilot(KNOWLEDGE, index_dir=index, embed_model="none")
    copilot.ingest()
    return copilot


def make_shop(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def ingested_copilot(root: Path, files: dict[str, str | bytes]) -> Any:
    """A copilot over a shop of ``files`` under ``root`` (lexical only), ingested."""
    from kefu_copilot import Copilot

    copilot = Copilot(make_shop(root / "shop", files), index_dir=root / "index", embed_model="none")
    copilot.ingest()
    return copilot
