"""Start and stop a real Chroma server (``chroma run``) on 127.0.0.1 for tests.

>>> with ChromaServer(tmp_path / "chroma") as server:     # doctest: +SKIP
...     Copilot(shop, chroma_url=server.url, ...)

``start()`` raises :class:`ChromaServerUnavailable` with the reason (no ``chroma`` executable,
the process exited, no heartbeat within the timeout); tests turn that into a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

__all__ = ["ChromaServer", "ChromaServerUnavailable", "find_chroma", "free_port"]

HEARTBEATS = ("/api/v2/heartbeat", "/api/v1/heartbeat")  # chromadb >= 1.0 answers only v2


class ChromaServerUnavailable(RuntimeError):
    """The server could not be started; the message says why."""


def find_chroma() -> str | None:
    """The ``chroma`` executable next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("chroma")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """One ``chroma run --path PATH --host 127.0.0.1 --port PORT`` process group."""

    def __init__(self, path: Path, *, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.host = host
        self.timeout = timeout
        self.port = 0
        self.heartbeat_path = ""
        self.log_file = self.path.with_name(self.path.name + ".log")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
            return "\n".join(text.strip().splitlines()[-lines:])
        return ""

    def _heartbeat(self) -> str | None:
        """The heartbeat path that answers 200, or None."""
        for path in HEARTBEATS:
            try:
                with urllib.request.urlopen(self.url + path, timeout=1) as response:
                    if response.status == 200:
                        return path
            except (urllib.error.URLError, OSError):
                continue
        return None

    def start(self) -> ChromaServer:
        exe = find_chroma()
        if exe is None:
            raise ChromaServerUnavailable("the `chroma` executable is not installed")
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_TELEMETRY": "False"}
        last = ""
        for _attempt in range(3):  # another process may grab the free port first
            self.port = free_port(self.host)
            cmd = [exe, "run", "--path", str(self.path), "--host", self.host]
            cmd += ["--port", str(self.port)]
            with open(self.log_file, "wb") as log:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # its own process group: stop() kills it all
                )
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    last = f"`chroma run` exited with {self._proc.returncode}: {self._log_tail()}"
                    break
                path = self._heartbeat()
                if path:
                    self.heartbeat_path = path
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                raise ChromaServerUnavailable(
                    f"no heartbeat from {self.url} within {self.timeout:.0f}s: {self._log_tail()}"
                )
            self.stop()
            if "in use" not in last.lower():
                break
        raise ChromaServerUnavailable(last)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
