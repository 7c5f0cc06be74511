"""A worker process for the shared-state tests and benchmark: it queues or approves write
actions through a state store URL, the way a separate backend worker would.

    python tests/_state_worker.py URL queue N IDS_FILE
    python tests/_state_worker.py URL approve IDS_FILE LOG_FILE [GO_FILE]
    python tests/_state_worker.py URL hang-after-claim ID MARKER
    python tests/_state_worker.py URL hang-in-tool ID LOG_FILE MARKER

The write tool appends its ``order_id`` to LOG_FILE (one ``O_APPEND`` write per execution), so
the log counts executions across processes. ``approve`` waits for GO_FILE to exist, so that
several workers start racing at the same moment.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kefu_copilot.agent._tools import PendingAction, ToolRegistry
from kefu_copilot.state._open import open_state_store


def registry(url: str, log: Path | None = None, hang: Path | None = None) -> ToolRegistry:
    tools = ToolRegistry(store=open_state_store(url, namespace="kefu-test"), timeout=30)

    def change_address(order_id: str, address: str) -> str:
        if log is not None:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{order_id}\n".encode())
            finally:
                os.close(fd)
        if hang is not None:
            hang.write_text("in tool")
            time.sleep(600)
        return "ok"

    tools.register(change_address, writes=True)
    return tools


def main(argv: list[str]) -> None:
    url, mode, *args = argv
    if mode == "queue":
        tools = registry(url)
        ids = []
        for i in range(int(args[0])):
            action = PendingAction(
                tool="change_address",
                arguments={
                    "order_id": f"O{i:05d}",
                    "address": "杭州市西湖区文三路123号 13812345678",
                },
                conversation_id=f"c{i}",
            )
            ids.append(tools.queue(action).id)
        Path(args[1]).write_text("\n".join(ids))
    elif mode == "approve":
        ids = Path(args[0]).read_text().split()
        tools = registry(url, Path(args[1]))
        if len(args) > 2:
            while not Path(args[2]).exists():
                time.sleep(0.001)
        statuses = [tools.approve(i, by=f"worker-{os.getpid()}").status for i in ids]
        bad = [s for s in statuses if s != "executed"]
        print(f"{len(ids)} approved, not executed: {len(bad)}")
    elif mode == "hang-after-claim":
        tools = registry(url)
        start = tools.ledger.start

        def stall(claim: object) -> bool:  # claimed, the write not started: then killed
            Path(args[1]).write_text("claimed")
            time.sleep(600)
            return start(claim)  # type: ignore[arg-type]

        tools.ledger.start = stall  # type: ignore[method-assign]
        tools.approve(args[0], by="doomed")
    elif mode == "hang-in-tool":
        tools = registry(url, Path(args[1]), hang=Path(args[2]))
        tools.approve(args[0], by="doomed")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
