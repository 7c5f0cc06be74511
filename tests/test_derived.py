"""What ingestion derives for the stages above it (issue 22): the pre-sales profiles stored in a
generation and the catalogue's table columns read the same as when built at open."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kefu_copilot import Copilot
from kefu_copilot.ingest._catalog import table_columns
from kefu_copilot.presales._profiles import (
    PROFILES_FILE,
    build_profiles,
    related_rules,
    stored_profiles,
)

from .conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Copilot, Path]:
    root = tmp_path_factory.mktemp("derived")
    shop = root / "shop"
    shutil.copytree(KNOWLEDGE, shop, ignore=shutil.ignore_patterns(".kefu-index"))
    copilot = Copilot(shop, index_dir=root / "index", embed_model="none")
    copilot.ingest()
    return copilot, shop


def _built(copilot: Copilot, shop: Path | None) -> list:
    snapshot, answerer, _ = copilot._current()
    keys, cues = related_rules(copilot.advisor().rules)
    return build_profiles(
        answerer.products, snapshot.chunks, shop_dir=shop, related_keys=keys, related_cues=cues
    )


def test_the_profiles_stored_at_ingestion_equal_those_built_at_open(ingested) -> None:
    copilot, shop = ingested
    snapshot, _, _ = copilot._current()
    assert snapshot.derived(PROFILES_FILE) is not None
    keys, cues = related_rules(copilot.advisor().rules)
    stored = stored_profiles(snapshot, keys, cues, True)
    assert stored is not None and stored
    assert stored == _built(copilot, shop)
    assert copilot.advisor().profiles == stored


def test_profiles_stored_for_other_rules_or_damaged_are_built_again(ingested) -> None:
    copilot, _ = ingested
    snapshot, _, _ = copilot._current()
    keys, cues = related_rules(copilot.advisor().rules)
    assert stored_profiles(snapshot, [*keys, "另一个键"], cues, True) is None
    assert stored_profiles(snapshot, keys, cues, False) is None  # not read from the shop's files


def test_a_generation_without_stored_profiles_builds_them(ingested, tmp_path: Path) -> None:
    copilot, shop = ingested
    index = tmp_path / "index"
    shutil.copytree(copilot.index_dir, index)
    for path in index.glob(f"gen-*/derived/{PROFILES_FILE}"):
        path.write_bytes(path.read_bytes()[:-40])  # damaged: read as missing
    again = Copilot(shop, index_dir=index, embed_model="none")
    snapshot, _, _ = again._current()
    keys, cues = related_rules(again.advisor().rules)
    assert stored_profiles(snapshot, keys, cues, True) is None
    assert again.advisor().profiles == _built(copilot, shop)


def test_stored_table_columns_equal_those_read_from_the_tables(ingested) -> None:
    copilot, _ = ingested
    _, answerer, _ = copilot._current()
    products = answerer.products
    stored = [(s, h, list(c)) for s, h, c in products.columns()]
    read = [(s, h, list(c)) for s in products.titles for h, c in table_columns(products.tables[s])]
    assert stored == read and stored


def test_fields_of_any_plain_shape_are_stored_and_others_store_nothing() -> None:
    """A field added to a profile is stored with the rest when JSON can hold it; a type it
    cannot (an arbitrary class) stores nothing, and the advisor builds its profiles at open."""
    import dataclasses

    from kefu_copilot._fs import json_bytes, load_json
    from kefu_copilot.presales._profiles import _codec

    @dataclasses.dataclass
    class Shape:
        words: set[str]
        table: dict[str, list[int]]
        pair: tuple[str, int]
        parts: list[tuple[int, str]]
        price: float | None = None

    codec = _codec(Shape)
    assert codec is not None
    value = Shape({"b", "a"}, {"k": [1, 2]}, ("s", 3), [(1, "t")], 2.5)
    assert codec[1](load_json(json_bytes(codec[0](value)))) == value

    class Opaque:
        pass

    @dataclasses.dataclass
    class Other:
        thing: Opaque

    assert _codec(Other) is None
