"""Shared state: the store contract on every backend, approvals that run once across threads,
processes and a Redis server, survive restarts and kills, expire and are audited; customer
memory with retention, redaction and forget."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kefu_copilot import ConfigError, InputError, Settings
from kefu_copilot.agent._approvals import redacted
from kefu_copilot.agent._conversation import Conversation
from kefu_copilot.agent._memory import MemoryBook, stated_preferences
from kefu_copilot.agent._tools import PendingAction, ToolRegistry
from kefu_copilot.state._open import open_state_store
from kefu_copilot.state._sqlite import SQLiteStore
from kefu_copilot.state._store import InMemoryStore, StateError, StateStore, update

from ._redis_server import RedisServer, RedisServerUnavailable

WORKER = Path(__file__).with_name("_state_worker.py")
ROOT = Path(__file__).resolve().parents[1]
PHONE, STREET = "13812345678", "杭州市西湖区文三路123号"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RedisServerUnavailable as exc:
        pytest.skip(f"no Redis server for the shared-state tests: {exc}")
    yield server
    server.stop()


_namespaces = iter(range(10**6))


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        made: StateStore = InMemoryStore()
    elif request.param == "sqlite":
        made = open_state_store(f"sqlite:///{tmp_path / 'state.db'}")
    else:
        server = request.getfixturevalue("redis_server")
        made = open_state_store(f"{server.url}?namespace=t{next(_namespaces)}")
    yield made
    made.close()


def _url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    server = request.getfixturevalue("redis_server")
    return f"{server.url}?namespace=p{next(_namespaces)}-{os.getpid()}"


# -- the store contract ----------------------------------------------------------------------------
def test_documents_change_only_by_compare_and_set(store: StateStore) -> None:
    assert store.get("action", "a") is None
    assert store.create("action", "a", {"n": 1, "text": "中文"}, tag="pending")
    assert not store.create("action", "a", {"n": 2}, tag="pending")  # exists: unchanged
    doc = store.get("action", "a")
    assert doc is not None and (doc.value, doc.version, doc.tag) == (
        {"n": 1, "text": "中文"},
        1,
        "pending",
    )
    assert store.swap("action", "a", {"n": 3}, version=1, tag="running")
    assert not store.swap("action", "a", {"n": 4}, version=1, tag="done")  # stale version
    assert [d.key for d in store.documents("action", tag="running")] == ["a"]
    assert store.documents("action", tag="pending") == []
    store.create("action", "b", {"n": 5}, tag="pending")
    assert [d.key for d in store.documents("action")] == ["a", "b"]
    assert store.delete("action", "a") and not store.delete("action", "a")
    assert not store.swap("action", "a", {"n": 6}, version=2)  # deleted
    assert [d.key for d in store.documents("action")] == ["b"]


def test_the_log_is_append_only_and_ordered(store: StateStore) -> None:
    for i in range(5):
        store.append("audit", {"i": i})
    assert [e["i"] for e in store.entries("audit")] == [0, 1, 2, 3, 4]
    assert [e["i"] for e in store.entries("audit", limit=2)] == [3, 4]
    assert store.entries("other") == []


def test_one_of_many_racing_writers_wins(store: StateStore) -> None:
    store.create("doc", "k", {"winner": None})
    wins: list[int] = []
    barrier = threading.Barrier(8)

    def race(n: int) -> None:
        barrier.wait()
        if store.swap("doc", "k", {"winner": n}, version=1):
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    doc = store.get("doc", "k")
    assert doc is not None and doc.value == {"winner": wins[0]}


def test_update_retries_lost_races(store: StateStore) -> None:
    def bump(current: dict | None) -> tuple[dict, str]:
        return {"n": (current or {"n": 0})["n"] + 1}, ""

    threads = [
        threading.Thread(target=lambda: [update(store, "doc", "c", bump) for _ in range(10)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = store.get("doc", "c")
    assert doc is not None and doc.value == {"n": 40}


def test_state_urls_and_their_errors(tmp_path: Path) -> None:
    assert isinstance(open_state_store("memory://"), InMemoryStore)
    default = open_state_store(None, index_dir=tmp_path / "idx")
    assert isinstance(default, SQLiteStore) and default.path == tmp_path / "idx" / "state.sqlite3"
    assert isinstance(open_state_store(f"sqlite:///{tmp_path}/x.db"), SQLiteStore)
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_state_store("mongodb://x")
    with pytest.raises(ConfigError, match="give a file"):
        open_state_store("sqlite://")
    with pytest.raises(ConfigError, match="KEFU_STATE_URL"):
        open_state_store(None)
    settings = Settings.from_env({"KEFU_STATE_URL": "redis://:hunter2@10.0.0.7:6379/0"})
    assert settings.state_url_value == "redis://:hunter2@10.0.0.7:6379/0"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_an_unreachable_redis_is_a_state_error_naming_the_server() -> None:
    pytest.importorskip("redis")
    store = open_state_store("redis://:secret@127.0.0.1:1/0")
    with pytest.raises(StateError, match=r"127\.0\.0\.1:1") as info:
        store.get("action", "x")
    assert "secret" not in str(info.value)


# -- approvals in one process ------------------------------------------------------------------------
class Shop:
    """A write tool that counts its executions."""

    def __init__(self, *, sleep: float = 0.0) -> None:
        self.calls: Counter[str] = Counter()
        self.sleep = sleep
        self.lock = threading.Lock()

    def registry(self, store: StateStore | None = None, **kw: object) -> ToolRegistry:
        tools = ToolRegistry(store=store or InMemoryStore(), **kw)  # type: ignore[arg-type]

        def change_address(order_id: str, address: str) -> str:
            time.sleep(self.sleep)
            with self.lock:
                self.calls[order_id] += 1
            return f"address of {order_id} changed"

        tools.register(change_address, writes=True)
        return tools


def _queue(tools: ToolRegistry, order_id: str = "O1") -> PendingAction:
    return tools.queue(
        PendingAction(
            tool="change_address",
            arguments={"order_id": order_id, "address": f"{STREET} 手机{PHONE}"},
            summary=f"把订单 {order_id} 的地址改为 {STREET}",
            conversation_id="c1",
        )
    )


def test_concurrent_approvals_run_the_write_once(store: StateStore) -> None:
    shop = Shop(sleep=0.05)
    tools = shop.registry(store)
    action = _queue(tools)
    barrier = threading.Barrier(6)
    results: list[PendingAction] = []

    def approve(n: int) -> None:
        barrier.wait()
        results.append(tools.approve(action.id, by=f"agent-{n}"))

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shop.calls == {"O1": 1}
    assert {r.status for r in results} == {"executed"}  # the losers waited for the result
    assert len({r.decided_by for r in results}) == 1
    events = [r.event for r in tools.audit(action.id)]
    assert events == ["requested", "approved", "executed"]


def test_a_retried_approve_returns_the_recorded_result() -> None:
    shop = Shop()
    tools = shop.registry()
    action = _queue(tools)
    first = tools.approve(action.id, by="agent-1")
    again = tools.approve(action.id, by="agent-2")
    assert shop.calls == {"O1": 1}
    assert again.status == first.status == "executed" and again.decided_by == "agent-1"
    assert again.result is not None and again.result.value == "address of O1 changed"


def test_rejected_and_expired_actions_cannot_be_approved() -> None:
    now = [1_000_000.0]
    shop = Shop()
    tools = shop.registry(max_age=3600)
    tools.ledger.clock = lambda: now[0]
    rejected, old = _queue(tools, "O1"), _queue(tools, "O2")
    assert tools.reject(rejected.id, "顾客已改主意", by="agent-1").status == "rejected"
    assert tools.reject(rejected.id, by="agent-1").status == "rejected"  # a retried reject
    with pytest.raises(InputError, match="rejected"):
        tools.approve(rejected.id)
    now[0] += 3601
    assert tools.pending() == []  # expired: no longer offered
    with pytest.raises(InputError, match="expired"):
        tools.approve(old.id, by="agent-1")
    with pytest.raises(InputError, match="expired"):
        tools.reject(old.id)
    with pytest.raises(InputError, match="no pending action"):
        tools.approve("nope")
    assert not shop.calls
    assert tools.action(old.id).status == "expired"
    assert [r.event for r in tools.audit(old.id)] == ["requested", "expired"]


def test_the_audit_record_redacts_personal_data() -> None:
    shop = Shop()
    tools = shop.registry()
    action = _queue(tools)
    tools.approve(action.id, by="agent-7")
    records = tools.audit(action.id)
    text = " ".join(r.model_dump_json() for r in records)
    assert PHONE not in text and "文三路123号" not in text
    approved = records[1]
    assert approved.by == "agent-7" and approved.arguments == {
        "order_id": "O1",
        "address": "[地址]",
    }
    assert approved.requested_at is not None and approved.at >= approved.requested_at
    done = records[2]
    assert done.event == "executed" and done.ok and done.result == "address of O1 changed"
    assert redacted({"note": f"call {PHONE}", "items": [f"{STREET}"]}) == {
        "note": "call [手机号]",
        "items": ["[地址]"],
    }


def test_a_claim_whose_worker_died_goes_back_to_pending() -> None:
    now = [1_000_000.0]
    shop = Shop()
    tools = shop.registry()
    tools.ledger.clock = lambda: now[0]
    action = _queue(tools)
    claim = tools.ledger.claim(action.id, "doomed", timeout=1)  # then the worker dies
    assert claim.run and tools.action(action.id).status == "running"
    assert tools.pending() == []
    now[0] += tools.ledger.claim_grace + 1
    assert [a.id for a in tools.pending()] == [action.id]  # released
    assert tools.approve(action.id, by="agent-2").status == "executed"
    assert shop.calls == {"O1": 1}
    assert not tools.ledger.start(claim)  # the dead worker's claim is worthless


def test_a_write_interrupted_midway_is_never_retried() -> None:
    now = [1_000_000.0]
    shop = Shop()
    tools = shop.registry(timeout=1)
    tools.ledger.clock = lambda: now[0]
    action = _queue(tools)
    claim = tools.ledger.claim(action.id, "doomed", timeout=1)
    assert tools.ledger.start(claim)  # the write may have run; then the worker died
    now[0] += 1 + tools.ledger.run_grace + 1
    after = tools.approve(action.id, by="agent-2")
    assert after.status == "failed" and "interrupted" in after.note and not shop.calls
    assert [r.event for r in tools.audit(action.id)][-1] == "interrupted"


def test_a_long_write_still_running_is_left_alone() -> None:
    now = [1_000_000.0]
    tools = Shop().registry(timeout=120)
    tools.ledger.clock = lambda: now[0]
    action = _queue(tools)
    tools.ledger.start(tools.ledger.claim(action.id, "busy", timeout=120))
    now[0] += 60  # past run_grace, within the tool's own timeout
    assert tools.pending() == [] and tools.action(action.id).status == "running"
    with pytest.raises(InputError, match="already running"):
        tools.reject(action.id)
    assert "interrupted" not in [r.event for r in tools.audit(action.id)]


# -- several processes ---------------------------------------------------------------------------------
def _worker(url: str, *args: str | Path, wait: bool = True) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), url, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return proc


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_processes_share_approvals_and_run_each_write_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    ids, log, go = tmp_path / "ids", tmp_path / "executions.log", tmp_path / "go"
    _worker(url, "queue", 60, ids)  # queued by one process, which then exits
    workers = [_worker(url, "approve", ids, log, go, wait=False) for _ in range(4)]
    time.sleep(0.5)
    go.touch()
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "60 approved, not executed: 0"
    executions = Counter(log.read_text().split())
    assert len(executions) == 60 and set(executions.values()) == {1}
    tools = ToolRegistry(store=open_state_store(url, namespace="kefu-test"))
    audit = tools.audit()
    assert Counter(r.event for r in audit) == {"requested": 60, "approved": 60, "executed": 60}


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_approvals_survive_a_restart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    ids, log = tmp_path / "ids", tmp_path / "executions.log"
    _worker(url, "queue", 3, ids)
    if backend == "redis":  # the server restarts too: AOF brings the actions back
        server = request.getfixturevalue("redis_server")
        server.stop()
        server.start()
    shop = Shop()
    tools = shop.registry(open_state_store(url, namespace="kefu-test"))
    assert [a.id for a in tools.pending()] == ids.read_text().split()
    _worker(url, "approve", ids, log)
    assert len(log.read_text().split()) == 3 and tools.pending() == []


def _kill_at(marker: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_kill_9_between_approve_and_execute_never_runs_a_write_twice(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(backend, tmp_path, request)
    ids, log = tmp_path / "ids", tmp_path / "executions.log"
    _worker(url, "queue", 2, ids)
    claimed_only, in_tool = ids.read_text().split()
    shop = Shop()
    tools = shop.registry(open_state_store(url, namespace="kefu-test"), timeout=0.5)
    tools.ledger.claim_grace, tools.ledger.run_grace = 0.5, 0.5

    # killed after winning the claim, before the write started: pending again, then runs once
    _kill_at(
        tmp_path / "m1", _worker(url, "hang-after-claim", claimed_only, tmp_path / "m1", wait=False)
    )
    assert tools.action(claimed_only).status == "running"
    assert [a.id for a in tools.pending()] == [in_tool]
    time.sleep(0.6)
    assert [a.id for a in tools.pending()] == [claimed_only, in_tool]  # released
    assert tools.approve(claimed_only, by="agent-2").status == "executed"
    assert shop.calls == {"O00000": 1} and not log.exists()

    # killed inside the write: it ran once; it is never run again, a human checks it
    _kill_at(
        tmp_path / "m2", _worker(url, "hang-in-tool", in_tool, log, tmp_path / "m2", wait=False)
    )
    time.sleep(1.1)
    after = tools.approve(in_tool, by="agent-2")
    assert after.status == "failed" and "interrupted" in after.note
    assert log.read_text().split() == ["O00001"] and "O00001" not in shop.calls
    assert tools.approve(in_tool).status == "failed" and "O00001" not in shop.calls


# -- the Copilot's store ---------------------------------------------------------------------------------
def test_a_copilot_keeps_approvals_in_the_index_directory(sample_copilot, tmp_path: Path) -> None:
    from kefu_copilot import Copilot

    first = Copilot(sample_copilot.shop_dir, index_dir=tmp_path / "idx", embed_model="none")
    shop = Shop()
    first.register_tool(writes=True)(shop.registry().get("change_address").fn)
    action = _queue(first.tools)
    assert (tmp_path / "idx" / "state.sqlite3").is_file()
    second = Copilot(sample_copilot.shop_dir, index_dir=tmp_path / "idx", embed_model="none")
    second.register_tool(writes=True)(shop.registry().get("change_address").fn)
    assert [a.id for a in second.pending_actions()] == [action.id]  # another worker sees it
    assert second.approve(action.id, by="agent-1").status == "executed"
    assert first.approve(action.id).decided_by == "agent-1" and shop.calls == {"O1": 1}
    memory_only = Copilot(
        sample_copilot.shop_dir, index_dir=tmp_path / "idx2", embed_model="none",
        state_url="memory://",
    )  # fmt: skip
    assert isinstance(memory_only.state, InMemoryStore)
    own = ToolRegistry()  # a registry given to a Copilot uses the Copilot's store and max age
    adopted = Copilot(
        sample_copilot.shop_dir, index_dir=tmp_path / "idx", embed_model="none", tools=own,
        approval_max_age_hours=2,
    )  # fmt: skip
    assert adopted.tools is own and own.ledger.max_age == 7200
    assert (
        isinstance(own.store, SQLiteStore) and own.store.path == tmp_path / "idx" / "state.sqlite3"
    )
    kept = ToolRegistry(store=InMemoryStore())
    Copilot(sample_copilot.shop_dir, index_dir=tmp_path / "idx", embed_model="none", tools=kept)
    assert isinstance(kept.store, InMemoryStore)


# -- customer memory -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我平时穿L码，要黑色的", {"size": "L码", "color": "黑色"}),
        ("xl码还有吗", {"size": "XL码"}),
        ("鞋子要38码的", {"size": "38码"}),
        ("颜色选米白", {"color": "米白色"}),
        ("S码和M码哪个合适", {}),  # two sizes: a question, not a choice
        ("订单123456789012到哪了", {}),
        ("买了100件", {}),
    ],
)
def test_stated_preferences(text: str, expected: dict[str, str]) -> None:
    assert stated_preferences(text) == expected


def test_memory_remembers_redacted_and_forgets(store: StateStore) -> None:
    now = [datetime(2024, 6, 1, 10, 0)]
    book = MemoryBook(store, retention_days=30, clock=lambda: now[0])
    first = Conversation.of(
        [{"role": "customer", "text": f"订单123456789012改地址到{STREET}，电话{PHONE}，要L码"}],
        id="c1",
        customer_id="u1",
    )
    book.observe(first, channel="taobao")
    memory = book.recall("u1")
    assert memory is not None
    assert [o.text for o in memory.order_ids] == ["123456789012"]
    assert memory.preferences["size"].text == "L码"
    stored = store.get("memory", "u1")
    assert (
        stored is not None and PHONE not in str(stored.value) and "文三路" not in str(stored.value)
    )
    now[0] += timedelta(days=10)
    book.observe(Conversation.of("我要黑色的", id="c2", customer_id="u1"), channel="wechat")
    lines = book.lines("u1", exclude_conversation="c2")
    assert any("taobao" in line and "[手机号]" in line for line in lines), lines
    assert any("尺码L码" in line and "颜色黑色" in line for line in lines), lines
    now[0] += timedelta(days=25)  # c1 is now 35 days old, c2 25
    memory = book.recall("u1")
    assert memory is not None and [s.conversation_id for s in memory.sessions] == ["c2"]
    assert memory.order_ids == [] and set(memory.preferences) == {"color"}
    assert book.forget("u1") and book.recall("u1") is None and not book.forget("u1")


def test_memory_feeds_the_handoff_packet_and_drafts(sample_copilot, tmp_path: Path) -> None:
    from kefu_copilot import Copilot

    copilot = Copilot(
        sample_copilot.shop_dir, index_dir=sample_copilot.index_dir, embed_model="none",
        state_url=f"sqlite:///{tmp_path / 'state.db'}", customer_memory=True,
    )  # fmt: skip
    copilot.handle(
        Conversation.of(f"订单123456789012还没发货，我要L码的，电话{PHONE}", id="old"),
        customer_id="u9",
        channel="抖音",
    )
    turn = copilot.handle(Conversation.of("我要投诉，转人工！", id="new", customer_id="u9"))
    assert turn.decision == "handoff" and turn.handoff is not None
    history = turn.handoff.customer_history
    assert any("123456789012" in line for line in history), history
    assert "顾客历史" in turn.handoff.render() and PHONE not in turn.handoff.render()
    memory = copilot.memory
    assert memory is not None
    record = memory.recall("u9")
    assert record is not None and "handoff:new" in record.open_issues
    drafts = copilot.suggest_reply("这个订单怎么样了", customer_id="u9")
    assert drafts and drafts[0].text
    assert copilot.forget("u9") and memory.recall("u9") is None
    off = Copilot(sample_copilot.shop_dir, index_dir=sample_copilot.index_dir, embed_model="none")
    assert off.memory is None  # off by default


def test_memory_read_and_write_are_fast_on_sqlite(tmp_path: Path) -> None:
    book = MemoryBook(open_state_store(f"sqlite:///{tmp_path / 'state.db'}"))
    conversation = Conversation.of("订单123456789012要换成M码", id="c", customer_id="u")
    times = []
    for i in range(200):
        start = time.perf_counter()
        book.observe(conversation.model_copy(update={"id": f"c{i % 7}"}))
        book.recall("u")
        times.append(time.perf_counter() - start)
    times.sort()
    assert times[int(len(times) * 0.99) - 1] < 0.05  # the benchmark's target is 5 ms; CI is slow
