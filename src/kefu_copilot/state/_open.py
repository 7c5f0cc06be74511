"""Open the state store a URL names (``KEFU_STATE_URL``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .._errors import ConfigError
from ._redis import RedisStore
from ._sqlite import SQLiteStore
from ._store import InMemoryStore, StateStore

__all__ = ["SQLITE_FILE", "open_state_store"]

#: The file of the embedded store, under the index directory.
SQLITE_FILE = "state.sqlite3"


def open_state_store(
    url: str | None = None,
    *,
    index_dir: str | Path | None = None,
    namespace: str | None = None,
) -> StateStore:
    """The store a URL names (``KEFU_STATE_URL``):

    * ``memory://``: this process only (lost on exit);
    * ``sqlite:///abs/path/state.db`` (or ``sqlite://relative/path``): one machine, any number
      of processes; the default, ``<index_dir>/state.sqlite3``, when ``url`` is empty;
    * ``redis://[:password@]host:6379/0`` (``rediss://`` for TLS, ``unix:///path.sock``):
      several machines sharing one Redis server; every key starts with ``?namespace=NAME``
      from the URL, else ``namespace``, else ``kefu``. Needs the ``redis`` extra.
    """
    url = (url or "").strip()
    if not url:
        if index_dir is None:
            raise ConfigError("no state store: set KEFU_STATE_URL or give an index directory")
        return SQLiteStore(Path(index_dir) / SQLITE_FILE)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if scheme == "memory":
        return InMemoryStore()
    if scheme == "sqlite":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path or path == "/":
            raise ConfigError(
                f"KEFU_STATE_URL={url}: give a file, e.g. sqlite:///srv/kefu/state.db"
            )
        return SQLiteStore(Path(path), synchronous=options.get("synchronous", "normal"))
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(url, namespace=options.get("namespace") or namespace or "kefu")
    raise ConfigError(
        f"KEFU_STATE_URL={url}: unknown scheme {scheme!r}; use memory://, sqlite:///path or "
        "redis://host:6379/0"
    )
