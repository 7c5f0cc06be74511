"""One Copilot shared by 8 threads and 50 asyncio tasks (GitHub issue 8).

Every conversation asks about a different product or topic; every concurrent result must equal
the result of the same call made sequentially (``model_dump()``), also while another thread
keeps calling ``reload()`` and re-ingesting the unchanged shop.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from kefu_copilot import Copilot

from .conftest import KNOWLEDGE, STATIC_MODEL

try:
    from kefu_copilot.emotion._flag import emotion_flag
except ImportError:  # pragma: no cover - the emotion module is optional here
    emotion_flag = None  # type: ignore[assignment]

THREADS = 8
TASKS = 50
THREAD_ROUNDS = 3
TASK_ROUNDS = 4

Conversation = tuple[str, list[dict[str, str]]]
CONVERSATIONS: list[Conversation] = [
    ("卫衣会起球吗", []),
    ("买多少钱能包邮？", []),
    ("牛仔裤会掉色吗？", []),
    ("羽绒服往外钻绒正常吗", []),
    ("可以发顺丰吗", []),
    ("新疆包邮吗", []),
    ("怎么开发票", []),
    ("支持七天无理由退货吗", []),
    ("会员有什么权益", []),
    ("优惠券可以叠加使用吗", []),
    ("买了之后降价了能退差价吗", []),
    ("我的订单到哪了？", []),
    ("再不处理我就去12315投诉你们", [{"role": "customer", "text": "衣服破了个洞"}]),
    ("身高175穿多大码", [{"role": "customer", "text": "我想买加绒连帽卫衣"}]),
    ("有什么颜色", [{"role": "customer", "text": "那条连衣裙怎么样"}]),
    (
        "这都第三次问了，到底什么时候发货？",
        [
            {"role": "customer", "text": "什么时候发货"},
            {"role": "agent", "text": "亲，付款后48小时内发货哦"},
            {"role": "customer", "text": "已经三天了还没发"},
        ],
    ),
    ("你们卖笔记本电脑吗", []),
    ("转人工", []),
]


def dump(value: Any) -> Any:
    """A comparable form of a result: pydantic models via model_dump(), lists element-wise."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    return repr(value)


@pytest.fixture(scope="module")
def copilot(tmp_path_factory: pytest.TempPathFactory) -> Copilot:
    root = tmp_path_factory.mktemp("concurrency")
    shop = root / "shop"
    shutil.copytree(KNOWLEDGE, shop, ignore=shutil.ignore_patterns(".kefu-index"))
    model = str(STATIC_MODEL) if STATIC_MODEL.is_dir() else "none"
    copilot = Copilot(shop, index_dir=root / "index", embed_model=model)
    copilot.ingest()
    assert copilot.retriever.dense == (model != "none")
    return copilot


def operations(copilot: Copilot) -> dict[str, Callable[[Conversation], Any]]:
    """The calls made concurrently, each a function of one conversation."""
    ops: dict[str, Callable[[Conversation], Any]] = {
        "answer": lambda c: copilot.answer(c[0], c[1]),
    }
    if emotion_flag is not None:
        ops["emotion_flag"] = lambda c: emotion_flag(c[0], c[1])
    if hasattr(copilot, "suggest_reply"):
        ops["suggest_reply"] = lambda c: copilot.suggest_reply(
            [*c[1], {"role": "customer", "text": c[0]}]
        )
    return ops


def test_threads_and_tasks_share_one_copilot(copilot: Copilot) -> None:
    ops = operations(copilot)
    expected = {
        (name, i): dump(op(c)) for name, op in ops.items() for i, c in enumerate(CONVERSATIONS)
    }
    assert len({str(expected[("answer", i)]) for i in range(len(CONVERSATIONS))}) > 12
    generation = copilot._current()[0].generation

    errors: list[str] = []
    counts: dict[str, int] = {name: 0 for name in [*ops, "aanswer", "reload", "ingest"]}
    counts_lock = threading.Lock()
    stop = threading.Event()

    def record(name: str, key: tuple[str, int], result: Any) -> None:
        if dump(result) != expected[key]:
            errors.append(f"{name} on conversation {key[1]} differs from the sequential result")
        with counts_lock:
            counts[name] += 1

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        jobs = [(name, i) for name in ops for i in range(len(CONVERSATIONS))] * THREAD_ROUNDS
        rng.shuffle(jobs)
        for name, i in jobs:
            try:
                record(name, (name, i), ops[name](CONVERSATIONS[i]))
            except Exception as exc:
                errors.append(f"{name} on conversation {i}: {exc!r}")

    def maintenance() -> None:  # reload and re-ingest the unchanged shop, over and over
        while not stop.is_set():
            try:
                copilot.reload()
                with counts_lock:
                    counts["reload"] += 1
                report = copilot.ingest()
                if report.changed or report.generation != generation:
                    errors.append(f"re-ingest of the unchanged shop changed it: {report}")
                with counts_lock:
                    counts["ingest"] += 1
            except Exception as exc:
                errors.append(f"maintenance: {exc!r}")

    async def task(n: int) -> None:
        for r in range(TASK_ROUNDS):
            i = (n + r * 7) % len(CONVERSATIONS)
            try:
                record("aanswer", ("answer", i), await copilot.aanswer(*CONVERSATIONS[i]))
            except Exception as exc:
                errors.append(f"aanswer on conversation {i}: {exc!r}")

    async def all_tasks() -> None:
        await asyncio.gather(*(task(n) for n in range(TASKS)))

    started = time.perf_counter()
    keeper = threading.Thread(target=maintenance)
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    keeper.start()
    for thread in workers:
        thread.start()
    asyncio.run(all_tasks())
    for thread in workers:
        thread.join(120)
    stop.set()
    keeper.join(60)
    seconds = time.perf_counter() - started

    calls = sum(v for k, v in counts.items() if k not in ("reload", "ingest"))
    print(f"\nconcurrent calls: {counts} = {calls} calls in {seconds:.1f}s, {len(errors)} errors")
    assert not errors, errors[:5]
    assert counts["answer"] == THREADS * THREAD_ROUNDS * len(CONVERSATIONS)
    assert counts["aanswer"] == TASKS * TASK_ROUNDS
    assert counts["reload"] >= 2 and counts["ingest"] >= 2
    assert copilot._current()[0].generation == generation


def test_answers_during_reload_storm_match_sequential(copilot: Copilot) -> None:
    """Reloads from several threads at once while others answer: still one consistent state."""
    expected = [dump(copilot.answer(q, h)) for q, h in CONVERSATIONS]
    errors: list[str] = []
    barrier = threading.Barrier(6)

    def reloader() -> None:
        barrier.wait()
        for _ in range(5):
            try:
                copilot.reload()
            except Exception as exc:
                errors.append(repr(exc))

    def answerer(offset: int) -> None:
        barrier.wait()
        for n in range(3 * len(CONVERSATIONS)):
            i = (n + offset) % len(CONVERSATIONS)
            try:
                if dump(copilot.answer(*CONVERSATIONS[i])) != expected[i]:
                    errors.append(f"conversation {i} differs")
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=reloader) for _ in range(2)]
    threads += [threading.Thread(target=answerer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:5]
