"""The array-built BM25 index equals bm25s's own (the scores kefu ranks by do not change)."""

from __future__ import annotations

import numpy as np
import pytest

from kefu_copilot.index._bm25 import LexicalIndex

bm25s = pytest.importorskip("bm25s")


def test_build_flat_matches_bm25s() -> None:
    rng = np.random.default_rng(1)
    docs = [list(rng.integers(0, 500, rng.integers(0, 60))) for _ in range(3000)]
    vocab = {f"t{i}": i for i in range(520)}  # 20 tokens no document uses
    ref = bm25s.BM25(k1=1.2, b=0.75)
    ref.index(([[int(x) for x in d] for d in docs], dict(vocab)), show_progress=False)
    flat = np.concatenate([np.asarray(d, dtype=np.int32) for d in docs])
    mine = LexicalIndex.build_flat(flat, np.array([len(d) for d in docs]), vocab)
    model = mine._model
    assert model is not None
    for key in ("indptr", "indices"):
        assert np.array_equal(np.asarray(ref.scores[key]), np.asarray(model.scores[key]))  # type: ignore[attr-defined]
    assert np.allclose(ref.scores["data"], model.scores["data"], atol=1e-6)  # type: ignore[attr-defined]
    for query in (["t1", "t7", "t300"], ["t519"], ["t42", "t42", "t9"]):
        unique = list(dict.fromkeys(query))  # LexicalIndex counts a repeated word once
        assert np.allclose(ref.get_scores(unique), mine.scores(query), atol=1e-5)
    top = mine.top(["t1", "t7"], 5)
    assert [i for i, _ in top] == list(np.argsort(-ref.get_scores(["t1", "t7"]), kind="stable")[:5])


def test_build_flat_saves_and_loads(tmp_path) -> None:
    vocab = {"退货": 0, "运费": 1, "尺码": 2}
    index = LexicalIndex.build_flat(np.array([0, 1, 2, 2], np.int32), np.array([2, 0, 2]), vocab)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, 3)
    assert [i for i, _ in loaded.top(["尺码"], 3)] == [2]
    assert [i for i, _ in loaded.top(["退货", "运费"], 3)] == [0]
    assert loaded.top(["没有"], 3) == []
    assert len(LexicalIndex.build_flat(np.zeros(0, np.int32), np.zeros(0, np.int64), {})) == 0
