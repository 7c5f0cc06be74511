"""The state store on a Redis server: approvals and customer memory shared by several machines.

Each document is a hash ``<namespace>:d:<kind>:<key>`` (``v`` version, ``t`` tag, ``d`` JSON);
the keys of a kind are in the set ``<namespace>:k:<kind>`` and, per tag, in
``<namespace>:t:<kind>:<tag>``. Create, compare-and-set and delete are Lua scripts: Redis runs a
script atomically, so the version check, the write and the index update happen as one step,
and of several workers swapping the same version exactly one succeeds. A log is a list
``<namespace>:l:<name>`` (RPUSH only). Run Redis with persistence (AOF ``appendfsync
everysec`` or ``always``) so approvals survive a server restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._errors import MissingExtraError
from ._store import Document, StateError, dumps

__all__ = ["RedisStore"]

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 't', ARGV[1], 'd', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3] .. ARGV[1], ARGV[3])
return 1
"""
_SWAP = """
local found = redis.call('HMGET', KEYS[1], 'v', 't')
if not found[1] or tonumber(found[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 't', ARGV[2], 'd', ARGV[3])
if found[2] ~= ARGV[2] then
  redis.call('SREM', KEYS[3] .. found[2], ARGV[4])
  redis.call('SADD', KEYS[3] .. ARGV[2], ARGV[4])
end
return 1
"""
_DELETE = """
local tag = redis.call('HGET', KEYS[1], 't')
if not tag then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3] .. tag, ARGV[1])
return 1
"""


class RedisStore:
    """A :class:`~kefu_copilot.state._store.StateStore` on a Redis server (``redis`` extra)."""

    def __init__(self, url: str, *, namespace: str = "kefu", timeout: float = 5.0) -> None:
        try:
            import redis
        except ImportError:
            raise MissingExtraError("a Redis state store", "redis", "redis") from None
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "namespace"]
        self.url = urlunsplit(parts._replace(query=urlencode(query)))
        self.namespace = namespace
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)
        try:
            self._redis = redis.Redis.from_url(
                self.url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except (ValueError, *self._errors) as exc:
            raise StateError(f"KEFU_STATE_URL: cannot use {self._shown()}: {exc}") from None
        self._scripts = {
            name: self._redis.register_script(source)
            for name, source in (("create", _CREATE), ("swap", _SWAP), ("delete", _DELETE))
        }

    def _shown(self) -> str:
        """The URL without its password, for messages."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))

    def _keys(self, kind: str, key: str) -> list[str]:
        ns = self.namespace
        return [f"{ns}:d:{kind}:{key}", f"{ns}:k:{kind}", f"{ns}:t:{kind}:"]

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise StateError(f"Redis state store {self._shown()}: {what} failed: {exc}") from None

    # -- the protocol --------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Document | None:
        found = self._call("get", self._redis.hmget, self._keys(kind, key)[0], "v", "t", "d")
        return _document(key, found)

    def create(self, kind: str, key: str, value: Mapping[str, Any], *, tag: str = "") -> bool:
        args = [tag, dumps(value), key]
        return bool(self._call("create", self._scripts["create"], self._keys(kind, key), args))

    def swap(
        self, kind: str, key: str, value: Mapping[str, Any], *, version: int, tag: str = ""
    ) -> bool:
        args = [version, tag, dumps(value), key]
        return bool(self._call("swap", self._scripts["swap"], self._keys(kind, key), args))

    def delete(self, kind: str, key: str) -> bool:
        return bool(self._call("delete", self._scripts["delete"], self._keys(kind, key), [key]))

    def documents(self, kind: str, *, tag: str | None = None) -> list[Document]:
        _, all_keys, tag_prefix = self._keys(kind, "")
        index = all_keys if tag is None else tag_prefix + tag
        keys = sorted(k.decode() for k in self._call("list", self._redis.smembers, index))
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._keys(kind, key)[0], "v", "t", "d")
        rows = self._call("list", pipe.execute) if keys else []
        docs = (_document(key, row) for key, row in zip(keys, rows, strict=True))
        return [d for d in docs if d is not None and (tag is None or d.tag == tag)]

    def append(self, log: str, entry: Mapping[str, Any]) -> None:
        self._call("append", self._redis.rpush, f"{self.namespace}:l:{log}", dumps(entry))

    def entries(self, log: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        start = -limit if limit else 0
        rows = self._call("read", self._redis.lrange, f"{self.namespace}:l:{log}", start, -1)
        return [json.loads(r) for r in rows]

    def ping(self) -> None:
        """Raise :class:`StateError` (naming the server) unless it answers."""
        self._call("ping", self._redis.ping)

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisStore({self._shown()!r}, namespace={self.namespace!r})"


def _document(key: str, row: list[Any]) -> Document | None:
    version, tag, data = row
    if version is None or data is None:
        return None
    return Document(key, json.loads(data), int(version), (tag or b"").decode())
