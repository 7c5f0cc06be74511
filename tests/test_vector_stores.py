"""The exact vector store and the exact/HNSW tiering (issue 22 item 3).

ExactStore must return what a brute-force search returns, through any sequence of adds,
replacements and deletes (its segments are merged and compacted as they go); a writer that dies
part-way leaves readers on the previous complete manifest; and the tiered store answers exactly
below its crossover and from an HNSW mirror filled from the exact store above it. Timing is
measured in benchmarks/, not here.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from kefu_copilot import Settings
from kefu_copilot._errors import VectorStoreError
from kefu_copilot.index._exact import ExactStore
from kefu_copilot.index._vectors import (
    ChromaStore,
    MemoryStore,
    TieredStore,
    open_chroma_store,
    open_vector_store,
)

DIM = 12


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def same_results(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> None:
    assert [cid for cid, _ in a] == [cid for cid, _ in b]
    assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)


def test_exact_store_matches_brute_force_through_adds_replacements_and_deletes(
    tmp_path: Path,
) -> None:
    rng, pick = np.random.default_rng(7), random.Random(7)
    store, truth = ExactStore(tmp_path / "v"), MemoryStore()
    known: list[str] = []
    for step in range(40):
        op = pick.random()
        if op < 0.6 or not known:
            ids = [f"s{step}-{i}" for i in range(pick.randint(1, 30))]
            if known and pick.random() < 0.3:  # replace a few existing vectors too
                ids += pick.sample(known, min(3, len(known)))
            vectors = unit(rng, len(ids))
            store.add(ids, vectors)
            truth.add(ids, vectors)
            known = sorted(set(known) | set(ids))
        else:
            drop = pick.sample(known, pick.randint(1, max(1, len(known) // 3)))
            store.delete(drop)
            truth.delete(drop)
            known = sorted(set(known) - set(drop))
        assert store.all_ids() == truth.all_ids() == set(known)
        assert len(store) == len(known)
        for q in unit(rng, 3):
            same_results(store.query(q, 10), truth.query(q, 10))
    segments = [p for p in (tmp_path / "v").iterdir() if p.suffix == ".npy"]
    assert len(segments) <= 8, "small segments are merged as they accumulate"
    assert not [p for p in (tmp_path / "v").iterdir() if p.name.endswith(".tmp")]
    store.check()


def test_a_second_reader_sees_each_published_manifest(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    writer, reader = ExactStore(tmp_path / "v"), ExactStore(tmp_path / "v")
    assert reader.query(unit(rng, 1)[0], 5) == [] and not reader.exists()
    vectors = unit(rng, 20)
    writer.add([f"a{i}" for i in range(20)], vectors)
    assert reader.query(vectors[3], 1)[0][0] == "a3"
    writer.delete(["a3"])
    assert "a3" not in [cid for cid, _ in reader.query(vectors[3], 20)]
    assert len(reader) == 19


def test_a_writer_dying_before_its_manifest_leaves_the_previous_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(2)
    store = ExactStore(tmp_path / "v")
    first = unit(rng, 10)
    store.add([f"a{i}" for i in range(10)], first)
    real_replace = os.replace

    def dies_at_manifest(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(dst).name == "MANIFEST":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("kefu_copilot.index._exact.os.replace", dies_at_manifest)
    with pytest.raises(VectorStoreError, match="adding vectors"):
        store.add([f"b{i}" for i in range(10)], unit(rng, 10))
    monkeypatch.undo()
    reader = ExactStore(tmp_path / "v")
    assert reader.all_ids() == {f"a{i}" for i in range(10)}
    assert reader.query(first[4], 1)[0][0] == "a4"
    store.add(["c"], unit(rng, 1))  # the next write removes the dead writer's segment files
    named = {p.name.split(".", 1)[0] for p in (tmp_path / "v").glob("seg-*")}
    assert len(named) == len(reader._current().segments)  # type: ignore[union-attr]


def test_damaged_segment_is_a_vector_store_error_naming_the_fix(tmp_path: Path) -> None:
    store = ExactStore(tmp_path / "v")
    store.add(["a", "b"], unit(np.random.default_rng(3), 2))
    segment = next((tmp_path / "v").glob("seg-*.npy"))
    for damaged in (segment.read_bytes()[:40], b""):  # cut short, or left empty by a full disk
        segment.write_bytes(damaged)
        with pytest.raises(VectorStoreError, match="kefu repair"):
            ExactStore(tmp_path / "v").query(np.ones(DIM, dtype=np.float32), 1)
    store.reset()
    assert ExactStore(tmp_path / "v").all_ids() == set()


def test_tiered_store_searches_exactly_then_through_a_mirror_filled_from_the_exact_store(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(4)
    exact = ExactStore(tmp_path / "vectors" / "x", local_dir=tmp_path)
    tiered = TieredStore(
        exact, lambda: open_chroma_store(tmp_path, "test-model", lazy=True), crossover=30
    )
    vectors = unit(rng, 50)
    ids = [f"c{i}" for i in range(50)]
    tiered.add(ids[:25], vectors[:25])
    assert not tiered.uses_hnsw() and not (tmp_path / "chroma").exists()
    same_results(tiered.query(vectors[0], 5), exact.query(vectors[0], 5))
    tiered.add(ids[25:], vectors[25:])  # past the crossover: the mirror is filled
    assert tiered.uses_hnsw()
    assert tiered.hnsw.all_ids() == set(ids)
    got = tiered.query(vectors[7], 5)
    assert got[0][0] == "c7" and abs(got[0][1] - 1.0) < 1e-4
    tiered.delete(["c7"])
    assert "c7" not in tiered.hnsw.all_ids() and "c7" not in tiered.all_ids()
    # A mirror that lost its files is refilled from the exact store by ingest's check.
    tiered.hnsw.reset()
    tiered._hnsw = None
    tiered.check()
    assert tiered.uses_hnsw() and tiered.hnsw.all_ids() == set(ids) - {"c7"}


def test_an_index_from_before_the_exact_store_is_searched_then_adopted(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    vectors = unit(rng, 8)
    legacy = open_chroma_store(tmp_path, "test-model", index_key="k")
    legacy.add([f"c{i}" for i in range(8)], vectors)
    store = open_vector_store(tmp_path, "test-model", index_key="k")
    assert isinstance(store, TieredStore) and store.uses_hnsw()
    assert store.query(vectors[2], 1)[0][0] == "c2"  # served from Chroma before any ingest
    store.check()  # what ingest runs first: copies the vectors, nothing is embedded
    assert store.exact.all_ids() == {f"c{i}" for i in range(8)} and not store.uses_hnsw()
    assert store.query(vectors[2], 1)[0][0] == "c2"


def test_vector_search_setting_chooses_the_store(tmp_path: Path) -> None:
    assert Settings().vector_search == "auto"
    with pytest.raises(ValueError):
        Settings(vector_search="fast")  # type: ignore[arg-type]
    exact = open_vector_store(tmp_path, "m", search="exact")
    assert isinstance(exact, ExactStore)
    assert isinstance(open_vector_store(tmp_path, "m", search="hnsw", lazy=True), ChromaStore)
    tiered = open_vector_store(tmp_path, "m", search="auto", lazy=True)
    assert isinstance(tiered, TieredStore)
    server = open_vector_store(tmp_path, "m", url="http://127.0.0.1:1", lazy=True)
    assert isinstance(server, ChromaStore)  # a shared server stays the shared store
