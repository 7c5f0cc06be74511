"""The streamed BM25 index equals bm25s's own (the scores kefu ranks by do not change), whatever
the batch and block sizes it is built in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kefu_copilot.index._bm25 import BM25Writer, LexicalIndex

bm25s = pytest.importorskip("bm25s")


def _build(
    where: Path, docs: list[list[int]], vocab: dict[str, int], **limits: Any
) -> LexicalIndex:
    writer = BM25Writer(where / "work", **limits)
    for doc in docs:
        writer.add(doc)
    n = writer.finish(where / "index", vocab)
    assert not (where / "work").exists()  # scratch files removed
    return LexicalIndex.load(where / "index", n)


@pytest.mark.parametrize("limits", [{}, {"batch_tokens": 50, "block_entries": 40}])
def test_streamed_bm25_matches_bm25s(tmp_path: Path, limits: dict[str, int]) -> None:
    rng = np.random.default_rng(1)
    docs = [[int(x) for x in rng.integers(0, 500, rng.integers(0, 60))] for _ in range(3000)]
    vocab = {f"t{i}": i for i in range(520)}  # 20 tokens no document uses
    ref = bm25s.BM25(k1=1.2, b=0.75)
    ref.index((docs, dict(vocab)), show_progress=False)
    mine = _build(tmp_path, docs, vocab, **limits)
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


def test_batch_and_block_sizes_do_not_change_a_byte(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    docs = [[int(x) for x in rng.integers(0, 300, rng.integers(0, 40))] for _ in range(800)]
    vocab = {f"t{i}": i for i in range(300)}
    _build(tmp_path / "one", docs, vocab)
    _build(tmp_path / "many", docs, vocab, batch_tokens=7, block_entries=3)
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        one = (tmp_path / "one" / "index" / name).read_bytes()
        assert one == (tmp_path / "many" / "index" / name).read_bytes(), name


def test_streamed_bm25_saves_and_loads(tmp_path: Path) -> None:
    vocab = {"退货": 0, "运费": 1, "尺码": 2}
    loaded = _build(tmp_path, [[0, 1], [], [2, 2]], vocab)
    assert [i for i, _ in loaded.top(["尺码"], 3)] == [2]
    assert [i for i, _ in loaded.top(["退货", "运费"], 3)] == [0]
    assert loaded.top(["没有"], 3) == []
    assert len(_build(tmp_path / "empty", [], {})) == 0
    assert len(_build(tmp_path / "blank", [[], []], vocab)) == 2  # documents without tokens


def _reference_top(index: LexicalIndex, query: list[str], k: int) -> list[tuple[int, float]]:
    """Every document scored, the k best positive ones by score then document number."""
    scores = index.scores(query)
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def test_exact_top_k_equals_ranking_every_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The k best found without partitioning every score are exactly the full ranking: the same
    documents, the same float32 scores, ties (frequent: equal documents, equal lengths) by
    document number, a last place shared by many documents included."""
    from kefu_copilot.index import _bm25, _topk

    rng = np.random.default_rng(3)
    vocab = {f"t{i}": i for i in range(400)}
    # Zipf-like: a few tokens in most documents, many rare ones; repeated documents tie.
    weights = 1 / np.arange(1, 401) ** 1.1
    weights /= weights.sum()
    docs = [[int(x) for x in rng.choice(400, rng.integers(1, 30), p=weights)] for _ in range(4000)]
    docs += docs[:300] + [[7]] * 200
    index = _build(tmp_path, docs, vocab)
    monkeypatch.setattr(_bm25, "EXACT_ORDER_DOCS", 0)
    monkeypatch.setattr(_topk, "SEED_POSTINGS", 300)  # both ways of finding the bound
    queries = [["t7"], ["t7", "t399"], ["t0", "t1", "t2"], ["t398", "t399"], ["zz"], []]
    for _ in range(300):
        query = [f"t{x}" for x in rng.choice(400, rng.integers(1, 8), p=weights)]
        queries.append(query + [f"t{x}" for x in rng.integers(0, 400, rng.integers(0, 3))])
    for query in queries:
        for k in (1, 5, 50, 150, 5000):
            assert index.top(query, k) == _reference_top(index, query, k), (query, k)


def test_distinct_postings_are_numpys_unique() -> None:
    """The seed's distinct documents (a sort, not numpy 2's hash-based unique, ~100x slower on
    a few thousand postings) are np.unique's: sorted, each once."""
    from kefu_copilot.index._topk import _distinct

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 50, 6000):
        for high in (2, 1000, 300_000):
            values = rng.integers(0, high, n).astype(np.int32)
            got = _distinct(values)
            assert got.dtype == values.dtype
            assert got.tolist() == np.unique(values).tolist()
