"""The standing fault suite (GitHub issue 21): hostile files, hostile settings, hostile input
sizes and a dying vector store, each driven for real and checked for a typed, reported outcome.

Every test here must stay quick (CI runs the folder on every push); the few that start a
server or a subprocess are marked ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu_copilot import Copilot, IngestReport

from ..test_chroma_server import server  # noqa: F401 - a real `chroma run` (skips without one)

FAQ = "question,answer\n几天发货,付款后48小时内发货\n"


@pytest.fixture
def tiny_shop(tmp_path: Path) -> Path:
    """A shop with one good FAQ file; each test adds its hostile file next to it."""
    shop = tmp_path / "shop"
    (shop / "faq").mkdir(parents=True)
    (shop / "faq" / "faq.csv").write_text(FAQ, encoding="utf-8")
    return shop


def ingest(shop: Path, index: Path, *, workers: int = 0) -> IngestReport:
    """Ingest lexically (``workers``: parse processes; 0 parses in this process)."""
    return Copilot(shop, index_dir=index, embed_model="none", ingest_workers=workers).ingest()


def problems(report: IngestReport) -> dict[str, str]:
    return {issue.source: issue.problem for issue in report.issues}
