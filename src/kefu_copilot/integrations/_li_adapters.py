"""A llama-index embedding model or LLM serving as kefu's :class:`Embedder` / :class:`LLM`.

So a shop can reuse the model objects its llama-index code already configures (a hosted
embedding API, a local HuggingFace model, any LLM integration) while kefu keeps its own
retrieval, grounding checks and fallbacks. Failures become kefu's typed errors
(:class:`EmbeddingError`, :class:`LLMError`), which is what those fallbacks catch.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import ChatMessage as LIChatMessage
from llama_index.core.base.llms.types import ChatResponse, MessageRole
from llama_index.core.llms import LLM as LIBaseLLM

from .._errors import EmbeddingError, LLMError
from .._models import Usage
from ..embed._embedder import _normalize_rows
from ..llm._chat import ChatMessage, Completion

__all__ = ["LlamaIndexEmbedder", "LlamaIndexLLM"]


class LlamaIndexEmbedder:
    """A llama-index ``BaseEmbedding`` behind kefu's :class:`Embedder` protocol.

    Vectors are L2-normalised (kefu's dense scores are cosines). ``name`` identifies the
    model in the index (vectors of different names never mix): by default
    ``llama-index:<class>:<model_name>``. ``dim`` is measured once with a probe text unless
    given.
    """

    def __init__(
        self, embed_model: BaseEmbedding, *, name: str | None = None, dim: int | None = None
    ) -> None:
        self._model = embed_model
        self._name = name or f"llama-index:{embed_model.class_name()}:{embed_model.model_name}"
        self._dim = dim
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        with self._lock:
            if self._dim is None:
                self._dim = int(self.embed_query("维度").shape[0])
            return self._dim

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            vectors = self._model.get_text_embedding_batch(list(texts))
        except Exception as exc:
            raise EmbeddingError(f"embedding failed with {self._name}: {exc}") from exc
        return _normalize_rows(np.asarray(vectors, dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        try:
            vector = self._model.get_query_embedding(text)
        except Exception as exc:
            raise EmbeddingError(f"embedding failed with {self._name}: {exc}") from exc
        return _normalize_rows(np.asarray(vector, dtype=np.float32))[0]


def _messages(messages: Sequence[ChatMessage]) -> list[LIChatMessage]:
    roles = {r.value for r in MessageRole}
    return [
        LIChatMessage(
            role=MessageRole(m["role"]) if m["role"] in roles else MessageRole.USER,
            content=m["content"],
        )
        for m in messages
    ]


def _usage(response: ChatResponse) -> Usage:
    """Token counts where the integration reports them (OpenAI-style ``raw.usage``)."""
    raw = response.raw
    usage = raw.get("usage") if isinstance(raw, dict) else getattr(raw, "usage", None)
    if isinstance(usage, dict):
        return Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )
    if usage is not None:
        return Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )
    extra = response.additional_kwargs
    return Usage(
        prompt_tokens=int(extra.get("prompt_tokens") or 0),
        completion_tokens=int(extra.get("completion_tokens") or 0),
    )


def _failed(name: str, exc: Exception) -> LLMError:
    return LLMError(f"llama-index LLM {name} failed: {exc!r}")


class LlamaIndexLLM:
    """A llama-index ``LLM`` behind kefu's :class:`LLM` protocol (chat, async, streaming).

    ``json_mode`` and ``max_tokens`` are hints the llama-index model does not take per call:
    kefu's prompts ask for JSON themselves and its parser repairs or falls back, and token
    limits are the llama-index model's own settings (e.g. ``OpenAI(max_tokens=600)``).
    Every failure is raised as :class:`LLMError`, so answers fall back to the extractive one
    as with kefu's own client.
    """

    def __init__(self, llm: LIBaseLLM, *, name: str | None = None) -> None:
        self._llm = llm
        self._name = name or f"llama-index:{llm.metadata.model_name}"

    @property
    def name(self) -> str:
        return self._name

    def _completion(self, response: ChatResponse) -> Completion:
        return Completion(
            text=response.message.content or "",
            usage=_usage(response),
            model=self._llm.metadata.model_name,
        )

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion:
        try:
            return self._completion(self._llm.chat(_messages(messages)))
        except Exception as exc:
            raise _failed(self._name, exc) from exc

    async def acomplete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion:
        try:
            return self._completion(await self._llm.achat(_messages(messages)))
        except Exception as exc:
            raise _failed(self._name, exc) from exc

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        try:
            for chunk in self._llm.stream_chat(_messages(messages)):
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:
            raise _failed(self._name, exc) from exc

    async def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        try:
            stream: Any = await self._llm.astream_chat(_messages(messages))
            async for chunk in stream:
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:
            raise _failed(self._name, exc) from exc
