"""Embedders: a small protocol and its implementation over fastembed or a static model.

The default model (``BAAI/bge-small-zh-v1.5``) is downloaded by fastembed on first use. Offline,
fastembed would sit in download retries for ~40 s; we look in the local cache first, probe the
network once with a short timeout, and fail fast with :class:`EmbeddingError` so the caller can
fall back to lexical retrieval. A local directory in the fastembed/model2vec *static* layout
(``model.safetensors`` + ``tokenizer.json``) loads without any network and without importing
fastembed at all (see :mod:`._static`): same vectors, a fraction of the start-up time.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._errors import ConfigError, EmbeddingError

__all__ = ["Embedder", "FastEmbedEmbedder", "load_embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (rows of a float32 array)."""

    @property
    def name(self) -> str:
        """Identifies the model; vectors of different names never mix in one collection."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalize_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _as_matrix(vectors: Any) -> np.ndarray:
    """A 2-D array as is, or fastembed's iterable of row vectors stacked into one."""
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        return vectors
    return np.vstack(list(vectors))


class FastEmbedEmbedder:
    """An embedding model behind the :class:`Embedder` protocol, with a query cache.

    ``model`` is a fastembed ``TextEmbedding`` or any object with the same ``embed(texts,
    batch_size=...)`` (returning one 2-D array or an iterable of rows) and optionally
    ``query_embed``, such as :class:`._static.StaticModel`.
    """

    def __init__(self, model: Any, name: str, dim: int, *, query_cache_size: int = 4096) -> None:
        self._model = model
        self._name = name
        self._dim = dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = query_cache_size
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        try:
            vectors = _as_matrix(self._model.embed(texts, batch_size=256))
        except Exception as exc:  # onnxruntime / tokenizer failures
            raise EmbeddingError(f"embedding failed with {self._name}: {exc}") from exc
        return _normalize_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        embed = getattr(self._model, "query_embed", None) or self._model.embed
        try:
            vector = _normalize_rows(_as_matrix(embed([text])))[0]
        except Exception as exc:
            raise EmbeddingError(f"embedding failed with {self._name}: {exc}") from exc
        vector.setflags(write=False)
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector


def _network_reachable(host: str = "huggingface.co", port: int = 443, timeout: float = 1.5) -> bool:
    """One quick TCP connect (DNS included) bounded by ``timeout`` seconds."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


@contextmanager
def _quiet_fastembed() -> Iterator[None]:
    """fastembed logs an ERROR line (through loguru) for an expected cache miss: mute it."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover
        yield
        return
    logger.disable("fastembed")
    try:
        yield
    finally:
        logger.enable("fastembed")


def load_embedder(model: str, *, cache_dir: Path | None = None, offline: bool = False) -> Embedder:
    """Load ``model`` (a fastembed model name or a local directory) or raise EmbeddingError.

    A value that looks like a path (``./``, ``/``, ``~`` or several ``/``) but does not exist
    raises :class:`ConfigError` naming it instead: it is a typo to fix, not a model to do
    without."""
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file():
            from ._static import StaticModel  # no fastembed import: it costs ~0.5 s

            static = StaticModel.load(path)
            return FastEmbedEmbedder(static, f"static:{path.name}", static.dim)
        raise EmbeddingError(
            f"{path} is not a model directory that loads offline (expected the static layout "
            "model.safetensors + tokenizer.json); give a fastembed model name instead"
        )
    if (
        model.startswith((".", "/", "~"))
        or model.count("/") > 1
        or (os.sep == "\\" and "\\" in model)
    ):
        # A mistyped path must not quietly turn into lexical retrieval: a configuration error
        # (not an EmbeddingError, which the copilot answers by falling back to lexical).
        raise ConfigError(
            f"embedding model {model!r}: no such directory {path}; fix KEFU_EMBED_MODEL "
            "(or embed_model) — a local model directory, a fastembed model name, or `none`"
        )

    try:
        from fastembed import TextEmbedding
    except ImportError as exc:  # pragma: no cover - fastembed is a core dependency
        raise EmbeddingError(f"fastembed cannot be imported: {exc}") from exc

    supported = {m["model"].lower(): m for m in TextEmbedding.list_supported_models()}
    description = supported.get(model.lower())
    if description is None:
        raise EmbeddingError(
            f"unknown embedding model {model!r}; use a fastembed model name "
            "(TextEmbedding.list_supported_models()) or a local model directory"
        )
    kwargs: dict[str, Any] = {"cache_dir": str(cache_dir) if cache_dir else None}
    try:  # the local cache first: no network at all, and no error lines for a cache miss
        with _quiet_fastembed():
            te = TextEmbedding(model, local_files_only=True, **kwargs)
    except Exception:
        if offline or os.environ.get("HF_HUB_OFFLINE", "").strip() == "1":
            raise EmbeddingError(
                f"embedding model {model} is not in the local cache and offline mode is on; "
                "download it once with network access, or set KEFU_EMBED_MODEL to a local "
                "model directory"
            ) from None
        if not _network_reachable():
            raise EmbeddingError(
                f"embedding model {model} is not cached and the model hub is unreachable; "
                "set KEFU_EMBED_MODEL to a local model directory or run once with network "
                "access"
            ) from None
        try:
            te = TextEmbedding(model, **kwargs)
        except Exception as exc:
            raise EmbeddingError(f"cannot download embedding model {model}: {exc}") from exc
    return FastEmbedEmbedder(te, model, int(description["dim"]))
