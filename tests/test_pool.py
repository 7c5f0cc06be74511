"""CopilotPool and SharedResources: many shops in one process.

Opened lazily (nothing on construction, one open per shop even when threads race its first
question), least recently used evicted by count and by a memory budget, evicted copilots
closed (at once, or when the thread using one is done), shared tokenizers and embedders really
shared (the same objects), and the same answers as a copilot on its own.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from kefu_copilot import (
    Copilot,
    CopilotPool,
    InputError,
    SharedResources,
    ShopLocation,
)
from kefu_copilot._resources import shop_tokenizer
from kefu_copilot.config._shop import load_shop_config

from .conftest import KNOWLEDGE, STATIC_MODEL, make_shop

FAQ = '"question","answer","similar"\n"{q}","{a}",""\n"怎么开发票？","亲，下单后在订单详情页申请电子发票即可。",""\n'


def _shop(root: Path, n: int, synonyms: str = "") -> Path:
    files = {
        "shop.yaml": f"name: 店铺{n}\n" + synonyms,
        "faq/faq.csv": FAQ.format(q="付款后多久发货？", a=f"亲，付款后{n + 1}天内发货哦。"),
    }
    return make_shop(root / f"shop-{n}", files)


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four small shops, ingested (lexical only); shop-3 has its own synonyms."""
    root = tmp_path_factory.mktemp("shops")
    out = {}
    for n in range(4):
        synonyms = "synonyms:\n  - [发货, 寄出]\n" if n == 3 else ""
        path = _shop(root, n, synonyms)
        Copilot(path, embed_model="none").ingest()
        out[f"s{n}"] = path
    return out


def _pool(shops: dict[str, Path], **options: object) -> CopilotPool:
    options.setdefault("embed_model", "none")
    return CopilotPool(lambda shop_id: shops[shop_id], **options)  # type: ignore[arg-type]


def test_opens_lazily_and_answers_like_a_lone_copilot(shops: dict[str, Path]) -> None:
    opened: list[str] = []
    pool = _pool(shops, on_open=lambda shop_id, _copilot: opened.append(shop_id))
    assert len(pool) == 0 and opened == []
    answer = pool.answer("s1", "付款后几天发货？")
    assert opened == ["s1"] and "s1" in pool and "s0" not in pool
    alone = Copilot(shops["s1"], embed_model="none").answer("付款后几天发货？")
    assert answer.model_dump() == alone.model_dump()
    assert "2天" in answer.text
    pool.answer("s1", "怎么开发票？")
    assert opened == ["s1"] and pool.stats.opens == 1 and pool.stats.hits == 1


def test_lru_eviction_by_count_closes_the_evicted(shops: dict[str, Path]) -> None:
    pool = _pool(shops, max_open=2)
    with pool.lease("s0") as first:
        pass
    pool.answer("s1", "怎么开发票？")
    pool.answer("s0", "怎么开发票？")  # s0 is now the most recently used
    pool.answer("s2", "怎么开发票？")
    assert pool.open_shops() == ["s0", "s2"]
    assert pool.stats.evictions == 1
    assert first._state is not None  # s0 stayed open
    with pool.lease("s0") as again:
        assert again is first


def test_memory_budget_evicts_least_recently_used(shops: dict[str, Path]) -> None:
    pool = _pool(shops, max_bytes=250, size_of=lambda _copilot: 100)
    for shop_id in ("s0", "s1", "s2"):
        pool.answer(shop_id, "怎么开发票？")
    assert pool.open_shops() == ["s1", "s2"]
    assert pool.stats.estimated_bytes == 200
    tight = _pool(shops, max_bytes=10, size_of=lambda _copilot: 100)
    tight.answer("s0", "怎么开发票？")
    tight.answer("s1", "怎么开发票？")
    assert tight.open_shops() == ["s1"]  # the shop just opened stays, even over budget


def test_default_estimate_grows_with_the_index(shops: dict[str, Path]) -> None:
    pool = _pool(shops, max_bytes=1 << 30)
    pool.answer("s0", "怎么开发票？")
    assert pool.stats.estimated_bytes > 0


def test_evicted_copilot_in_use_is_closed_when_released(shops: dict[str, Path]) -> None:
    pool = _pool(shops, max_open=1)
    with pool.lease("s0") as copilot:
        pool.answer("s1", "怎么开发票？")  # evicts s0, which this block still uses
        assert "s0" not in pool
        assert copilot._state is not None
        copilot.answer("怎么开发票？")  # still works
    assert copilot._state is None  # closed once released
    pool.evict("s1")
    assert len(pool) == 0


def test_threads_racing_the_first_question_open_once(
    shops: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = _pool(shops)
    calls: list[str] = []
    real_open = pool._open
    gate = threading.Event()

    def slow_open(shop_id: str) -> tuple[Copilot, int]:
        calls.append(shop_id)
        gate.wait(5)  # everybody else arrives meanwhile
        return real_open(shop_id)

    monkeypatch.setattr(pool, "_open", slow_open)
    answers: list[str] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        answers.append(pool.answer("s2", "付款后几天发货？").text)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    while not calls:
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)
    gate.set()
    for t in threads:
        t.join(30)
    assert calls == ["s2"]
    assert len(answers) == 8 and len(set(answers)) == 1
    assert pool.stats.opens == 1


def test_a_failed_open_reaches_every_waiter_and_is_retried(shops: dict[str, Path]) -> None:
    pool = CopilotPool(lambda shop_id: shops[shop_id], embed_model="none")
    with pytest.raises(InputError, match="unknown shop 'nope'"):
        pool.answer("nope", "在吗")
    assert len(pool) == 0
    with pytest.raises(InputError):
        pool.answer("", "在吗")
    assert pool.answer("s0", "怎么开发票？").text


def test_shared_resources_are_shared(shops: dict[str, Path]) -> None:
    pool = _pool(shops)
    with pool.lease("s0") as a, pool.lease("s1") as b, pool.lease("s3") as c:
        tok_a, tok_b, tok_c = (x.retriever.tokenizer for x in (a, b, c))
        assert tok_a is tok_b  # same vocabulary: one tokenizer, one dictionary
        assert tok_c is not tok_a  # shop-3 folds its own synonyms
        assert tok_a is pool.resources.tokenizer(load_shop_config(shops["s2"]))
        # the packaged rule sets are one mapping for every shop that does not extend them
        assert a.shop.rule_set("emotion") is b.shop.rule_set("emotion")
    # the same tokens as a tokenizer of its own
    own = shop_tokenizer(load_shop_config(shops["s3"]))
    assert own.fingerprint == tok_c.fingerprint
    assert own.tokenize("什么时候寄出") == tok_c.tokenize("什么时候寄出")


def test_embedder_loaded_once(tmp_path: Path) -> None:
    if not STATIC_MODEL.is_dir():
        pytest.skip("the static model under ../shared is optional")
    shared = SharedResources()
    one = shared.embedder(str(STATIC_MODEL))
    assert shared.embedder(str(STATIC_MODEL)) is one
    model = str(STATIC_MODEL)
    a = Copilot(KNOWLEDGE, index_dir=tmp_path / "a", embed_model=model, resources=shared)
    b = Copilot(KNOWLEDGE, index_dir=tmp_path / "b", embed_model=model, resources=shared)
    assert a._dense()[0] is b._dense()[0] is one


def test_unloadable_embedder_is_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu_copilot import EmbeddingError
    from kefu_copilot.embed import _embedder

    calls: list[str] = []

    def failing(model: str, **_options: object) -> object:
        calls.append(model)
        raise EmbeddingError("no such model")

    monkeypatch.setattr(_embedder, "load_embedder", failing)
    shared = SharedResources()
    for _ in range(3):
        with pytest.raises(EmbeddingError, match="no such model"):
            shared.embedder("some-model")
    assert calls == ["some-model"]


def test_tokenizers_live_while_used(shops: dict[str, Path]) -> None:
    import gc

    shared = SharedResources(keep_tokenizers=0)
    shop = load_shop_config(shops["s3"])
    tokenizer = shared.tokenizer(shop)
    assert shared.tokenizer(shop) is tokenizer and shared.tokenizers_loaded == 1
    del tokenizer
    gc.collect()
    assert shared.tokenizers_loaded == 0  # nobody uses it: its dictionary is freed


def test_close_and_shop_location(shops: dict[str, Path], tmp_path: Path) -> None:
    index = tmp_path / "elsewhere"
    Copilot(shops["s0"], index_dir=index, embed_model="none").ingest()
    pool = CopilotPool(
        lambda shop_id: ShopLocation(shops["s0"], index_dir=index), embed_model="none"
    )
    with pool:
        with pool.lease("x") as copilot:
            assert copilot.index_dir == index
        assert pool.reload("x") is False
    assert len(pool) == 0 and copilot._state is None
    with pytest.raises(InputError, match="closed"):
        pool.answer("x", "在吗")


def test_async(shops: dict[str, Path]) -> None:
    pool = _pool(shops)

    async def main() -> list[str]:
        answers = await asyncio.gather(*(pool.aanswer("s1", "怎么开发票？") for _ in range(4)))
        return [a.text for a in answers]

    texts = asyncio.run(main())
    assert len(set(texts)) == 1 and pool.stats.opens == 1
