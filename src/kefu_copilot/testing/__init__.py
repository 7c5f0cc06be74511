"""Test helpers for code built on kefu-copilot (public, stable API; stdlib + numpy only).

* :class:`LoopbackLLMServer` — a real HTTP server on 127.0.0.1 speaking the OpenAI
  chat-completions protocol (JSON and SSE streaming), scriptable per test: canned replies,
  a responder function, 429/500 errors with ``retry-after``, slow answers, cut or stalled
  streams, malformed JSON. Point the real ``openai`` SDK at :attr:`LoopbackLLMServer.base_url`.
* :func:`loopback_llm` — the same as a context-manager function (handy in pytest fixtures).
* :class:`FakeEmbedder` — a deterministic hashing-trick embedder (not for quality).

Example::

    from kefu_copilot.testing import loopback_llm

    with loopback_llm() as server:
        server.respond_with(lambda req: f"echo:{req.last_user_text}")
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
"""

from ._embedder import FakeEmbedder
from ._server import LoopbackLLMServer, RecordedRequest, Responder, Response, loopback_llm

__all__ = [
    "FakeEmbedder",
    "LoopbackLLMServer",
    "RecordedRequest",
    "Responder",
    "Response",
    "loopback_llm",
]
