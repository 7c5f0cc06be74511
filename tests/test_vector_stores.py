"""The exact vector store and the exact/HNSW tiering (issue 22 item 3).

ExactStore must return what a brute-force search returns, through any sequence of adds,
replacements and deletes (its segments are merged and compacted as they go); a writer that dies
part-way leaves readers on the previous complete manifest; its large segments carry inverted
lists that a store probing them searches with the recall they were calibrated for; and the
tiered store serves an index from before the exact store from Chroma until ingest copies its
vectors and deletes the Chroma files. Timing is measured in benchmarks/, not here.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from kefu_copilot import Settings
from kefu_copilot._errors import VectorStoreError
from kefu_copilot.index import _ivf
from kefu_copilot.index._exact import ExactStore
from kefu_copilot.index._vectors import (
    EXACT_SEARCH_MAX,
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


def clustered(rng: np.random.Generator, n: int, centres: int = 40) -> np.ndarray:
    """Unit vectors around a few centres (embeddings of a shop's chunks cluster by topic)."""
    middle = unit(rng, centres)
    x = middle[rng.integers(0, centres, size=n)] + 0.25 * unit(rng, n)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_large_segments_get_inverted_lists_searched_with_their_calibrated_recall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ivf, "IVF_MIN_ROWS", 1500)
    rng = np.random.default_rng(6)
    vectors = clustered(rng, 4000)
    ids = [f"c{i}" for i in range(4000)]
    store = ExactStore(tmp_path / "v", probe_above=0)
    for start in range(0, 4000, 500):
        store.add(ids[start : start + 500], vectors[start : start + 500])
    store.delete(["c7", "c8"])
    view = store._current()
    assert view is not None and any(s.lists is not None for s in view.segments)
    listed = next(s for s in view.segments if s.lists is not None)
    assert 1 <= listed.lists.nprobe < len(listed.lists.centroids)  # type: ignore[union-attr]
    # Grouping by list reorders rows only: every stored vector is still found by its id.
    assert np.allclose(store.vectors(["c0", "c3999"]), vectors[[0, 3999]], atol=1e-6)
    full, truth = ExactStore(tmp_path / "v"), MemoryStore()  # the same files, every row
    truth.add([i for i in ids if i not in {"c7", "c8"}], np.delete(vectors, [7, 8], axis=0))
    found = 0
    for q in clustered(rng, 30):
        same_results(full.query(q, 20), truth.query(q, 20))
        got, want = store.query(q, 20), truth.query(q, 20)
        exact_sims = dict(truth.query(q, 4000))
        assert all(abs(sim - exact_sims[cid]) < 1e-5 for cid, sim in got)  # scored exactly
        assert not {"c7", "c8"} & {cid for cid, _ in got}
        found += len({c for c, _ in got} & {c for c, _ in want})
    assert found / (30 * 20) >= 0.95
    assert store.query(vectors[9], 1)[0][0] == "c9"
    store.check()
    # What ingest runs after adding: one merged segment (each segment is probed separately).
    store.add([f"x{i}" for i in range(700)], clustered(rng, 700))  # a second segment
    assert len(store._current().segments) == 2  # type: ignore[union-attr]
    before = [store.query(q, 20) for q in vectors[:5]]
    store.optimize()
    view = store._current()
    assert view is not None and len(view.segments) == 1 and not view.deleted
    assert len(store) == 4698 and store.query(vectors[9], 1)[0][0] == "c9"
    for q, was in zip(vectors[:5], before, strict=True):
        assert len({c for c, _ in store.query(q, 20)} & {c for c, _ in was}) >= 18


def test_older_segments_get_lists_and_probing_starts_above_the_crossover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(8)
    vectors = clustered(rng, 2000)
    ids = [f"c{i}" for i in range(2000)]
    ExactStore(tmp_path / "v").add(ids, vectors)  # below IVF_MIN_ROWS: no lists
    monkeypatch.setattr(_ivf, "IVF_MIN_ROWS", 1000)
    store = ExactStore(tmp_path / "v", probe_above=2000)
    assert all(s.lists is None for s in store._current().segments)  # type: ignore[union-attr]
    store.add_lists()  # what ingest's check runs
    assert all(s.lists is not None for s in store._current().segments)  # type: ignore[union-attr]
    truth = MemoryStore()
    truth.add(ids, vectors)
    q = clustered(rng, 1)[0]
    same_results(store.query(q, 30), truth.query(q, 30))  # 2,000 vectors: every row scanned
    store.add(["x"], clustered(rng, 1))
    probed = ExactStore(tmp_path / "v", probe_above=0)
    assert store.query(q, 30) == probed.query(q, 30)  # past it: the lists are probed


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
    assert not (tmp_path / "chroma").exists()  # nothing reads the old collection any more


def test_vector_search_setting_chooses_the_store(tmp_path: Path) -> None:
    assert Settings().vector_search == "auto"
    with pytest.raises(ValueError):
        Settings(vector_search="fast")  # type: ignore[arg-type]
    exact = open_vector_store(tmp_path, "m", search="exact")
    assert isinstance(exact, ExactStore) and exact.probe_above is None
    ivf = open_vector_store(tmp_path, "m", search="ivf")
    assert isinstance(ivf, ExactStore) and ivf.probe_above == 0
    assert isinstance(open_vector_store(tmp_path, "m", search="hnsw", lazy=True), ChromaStore)
    tiered = open_vector_store(tmp_path, "m", search="auto", lazy=True)
    assert isinstance(tiered, TieredStore) and tiered.exact.probe_above == EXACT_SEARCH_MAX
    server = open_vector_store(tmp_path, "m", url="http://127.0.0.1:1", lazy=True)
    assert isinstance(server, ChromaStore)  # a shared server stays the shared store
