"""Start and stop a real ``redis-server`` on 127.0.0.1 for tests (and the state benchmark).

``start()`` raises :class:`RedisServerUnavailable` with the reason (no ``redis-server`` binary,
no ``redis`` Python client, the server did not answer); tests turn that into a skip. The data
directory is kept across ``stop()``/``start()`` with AOF on, so a restart test sees what a real
restart keeps.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["RedisServer", "RedisServerUnavailable", "find_redis_server"]


class RedisServerUnavailable(RuntimeError):
    """The server could not be started; the message says why."""


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process with its data in ``path`` (AOF, fsync on every write)."""

    def __init__(self, path: Path, *, timeout: float = 15.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = find_redis_server()
        if binary is None:
            raise RedisServerUnavailable(
                "no redis-server binary on PATH (apt-get install redis-server)"
            )
        try:
            import redis
        except ImportError:
            raise RedisServerUnavailable(
                "the redis client is not installed (pip install 'kefu-copilot[redis]')"
            ) from None
        self.path.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        log = open(self.path / "redis.log", "ab")  # noqa: SIM115 - kept open for the process
        self._proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.path),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = (self.path / "redis.log").read_text(errors="replace")[-500:]
                raise RedisServerUnavailable(f"redis-server exited: {tail}")
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    client.close()
                    return self
            time.sleep(0.05)
        self.stop()
        raise RedisServerUnavailable(f"redis-server did not answer within {self.timeout:g} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # SIGTERM: redis finishes the AOF and exits
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
