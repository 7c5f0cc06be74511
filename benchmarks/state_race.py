"""Shared state under load (issue 23): approve races across processes, and memory latency.

    python benchmarks/state_race.py                       # SQLite and Redis, 1,000 actions, 4 processes
    python benchmarks/state_race.py --backend sqlite --actions 200 --json out.json

1. **Approve races.** One process queues N write actions; W worker processes (separate
   interpreters, started together) each approve *every* action, in the same order, so every
   action is raced by all W. The write tool appends its order id to a log file with one
   ``O_APPEND`` write per execution. Reported: double executions (ids in the log more than
   once; the target is 0), actions never executed, the wall time and approvals per second.
2. **Customer memory on SQLite.** ``MemoryBook.observe`` (a write: summary, order ids,
   preferences) then ``recall`` (a read) for a few customers; p50/p99 per operation and per
   read + write pair (target: p99 <= 5 ms).

Redis needs a ``redis-server`` binary (started here on a free port with AOF) and the ``redis``
client; without them that backend is skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests._redis_server import RedisServer, RedisServerUnavailable  # noqa: E402

WORKER = ROOT / "tests" / "_state_worker.py"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


def _run(url: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, *map(str, args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def race(url: str, work: Path, actions: int, workers: int) -> dict[str, object]:
    ids, log, go = work / "ids", work / "executions.log", work / "go"
    queue = _run(url, "queue", actions, ids)
    _, err = queue.communicate()
    if queue.returncode:
        raise RuntimeError(err)
    procs = [_run(url, "approve", ids, log, go) for _ in range(workers)]
    time.sleep(1.0)  # every interpreter started and waiting
    start = time.perf_counter()
    go.touch()
    outputs = [p.communicate() for p in procs]
    seconds = time.perf_counter() - start
    for proc, (_, err) in zip(procs, outputs, strict=True):
        if proc.returncode:
            raise RuntimeError(err)
    executions = Counter(log.read_text().split()) if log.exists() else Counter()
    return {
        "actions": actions,
        "workers": workers,
        "approve_calls": actions * workers,
        "double_executions": sum(n - 1 for n in executions.values() if n > 1),
        "never_executed": actions - len(executions),
        "seconds": round(seconds, 3),
        "approve_calls_per_s": round(actions * workers / seconds, 1),
        "worker_reports": [out.strip() for out, _ in outputs],
    }


def memory_latency(work: Path, rounds: int) -> dict[str, object]:
    from kefu_copilot.agent._conversation import Conversation
    from kefu_copilot.agent._memory import MemoryBook
    from kefu_copilot.state._open import open_state_store

    book = MemoryBook(open_state_store(f"sqlite:///{work / 'memory.db'}"))
    messages = [
        {"role": "customer", "text": "订单123456789012还没发货吗，我要L码黑色的，电话13812345678"},
        {"role": "bot", "text": "亲，正在为您查询"},
        {"role": "customer", "text": "寄到杭州市西湖区文三路123号"},
    ]
    writes, reads, pairs, cpu = [], [], [], []
    for i in range(rounds):
        conv = Conversation.of(messages, id=f"c{i % 9}", customer_id=f"u{i % 50}")
        c0, t0 = time.thread_time(), time.perf_counter()
        book.observe(conv, channel="taobao")
        t1 = time.perf_counter()
        book.lines(f"u{i % 50}")
        t2, c2 = time.perf_counter(), time.thread_time()
        writes.append(t1 - t0)
        reads.append(t2 - t1)
        pairs.append(t2 - t0)
        cpu.append(c2 - c0)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    # wall time includes waiting for a core on a loaded machine; CPU time does not (and does
    # not include waiting for the disk either): both are reported
    return {
        "rounds": rounds,
        "load_average": round(os.getloadavg()[0], 2),
        **{
            f"{name}_ms": {"p50": pct(v, 0.50), "p99": pct(v, 0.99)}
            for name, v in (
                ("write", writes),
                ("read", reads),
                ("read_plus_write", pairs),
                ("read_plus_write_cpu", cpu),
            )
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "redis", "both"], default="both")
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--memory-rounds", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="kefu-state-") as tmp:
        work = Path(tmp)
        if args.backend in ("sqlite", "both"):
            (work / "sqlite").mkdir()
            url = f"sqlite:///{work / 'sqlite' / 'state.db'}"
            results["sqlite"] = race(url, work / "sqlite", args.actions, args.workers)
        if args.backend in ("redis", "both"):
            (work / "redis").mkdir()
            server = RedisServer(work / "redis" / "data")
            try:
                server.start()
            except RedisServerUnavailable as exc:
                results["redis"] = {"skipped": str(exc)}
            else:
                try:
                    url = f"{server.url}?namespace=bench"
                    results["redis"] = race(url, work / "redis", args.actions, args.workers)
                finally:
                    server.stop()
        results["memory_sqlite"] = memory_latency(work, args.memory_rounds)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    doubles = [r.get("double_executions", 0) for r in results.values() if isinstance(r, dict)]
    sys.exit(1 if any(doubles) else 0)


if __name__ == "__main__":
    main()
