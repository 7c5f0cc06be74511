"""Issue 21 #10: a parse worker whose parent is killed (kill -9 during an ingest) exits on its
own, quietly: no traceback on the shared terminal, no orphan left running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """\
import os, signal, sys
from kefu_copilot.ingest import _workers
from kefu_copilot.text._tokenize import ChineseTokenizer
proc = _workers._launch()
print(proc.pid, flush=True)
if sys.argv[1] != "idle":
    _workers._send(proc, (ChineseTokenizer().spec(), {}))  # the job: tokenizer, parse rules
if sys.argv[1] == "busy":
    _workers._send(proc, [("policies/big.md", sys.argv[2])])
    _workers._send(proc, [("policies/big.md", sys.argv[2])])
os.kill(os.getpid(), signal.SIGKILL)
"""


def _gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch the orphan")
@pytest.mark.parametrize("moment", ["idle", "started", "busy"])
def test_an_orphaned_worker_exits_quietly(tmp_path: Path, moment: str) -> None:
    big = tmp_path / "big.md"
    big.write_text(("## 退换货\n七天无理由退货，运费由买家承担。\n" * 4000), encoding="utf-8")
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as err:
        parent = subprocess.run(
            [sys.executable, "-c", PARENT, moment, str(big)],
            stdout=subprocess.PIPE,
            stderr=err,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            timeout=60,
        )
    assert parent.returncode == -9
    worker = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 60
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(worker), "the worker outlived its parent"
    text = stderr.read_text(errors="replace")
    assert "Traceback" not in text and "Exception ignored" not in text, text
