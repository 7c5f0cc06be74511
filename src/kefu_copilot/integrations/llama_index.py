"""kefu-copilot inside llama-index pipelines, and llama-index models inside kefu-copilot.

Install with ``pip install "kefu-copilot[llama-index]"``. Importing :mod:`kefu_copilot` never
imports llama-index; importing this module without the extra raises
:class:`~kefu_copilot.MissingExtraError` naming it.

- :class:`KefuRetriever` — a llama-index retriever over a shop's hybrid index (BM25 over Chinese
  words, FAQ phrasings, dense vectors): ``NodeWithScore`` with ``source``, ``locator``, ``kind``
  and the ``bm25`` / ``faq`` / ``dense`` evidence in each node's metadata.
- :class:`KefuQueryEngine` — :meth:`Copilot.answer` as a query engine: ``decision``,
  ``confidence``, ``citations`` and ``reasons`` in the response metadata, citations as
  ``source_nodes``.
- :class:`KefuSafetyPostprocessor` — redacts personal data and strips injected instructions
  from the nodes of any llama-index pipeline.
- :func:`ingest_documents` — ``Document`` objects from any llama-index reader (LlamaHub: Feishu,
  Notion, web pages, databases…) become shop files and go through kefu's Chinese chunking, table
  handling and safety checks; :class:`KefuNodeParser` does the same chunking as a llama-index
  node parser.
- :class:`LlamaIndexEmbedder` / :class:`LlamaIndexLLM` — a llama-index embedding model or LLM
  serving as kefu's :class:`~kefu_copilot.Embedder` / :class:`~kefu_copilot.LLM`.
"""

from __future__ import annotations

from .._errors import MissingExtraError

try:
    import llama_index.core  # noqa: F401  (the extra's presence, checked once)
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError(
        "kefu_copilot.integrations.llama_index", "llama-index-core", "llama-index"
    ) from exc

from ._li_adapters import LlamaIndexEmbedder, LlamaIndexLLM
from ._li_documents import KefuNodeParser, ingest_documents
from ._li_retrieval import KefuQueryEngine, KefuRetriever, KefuSafetyPostprocessor

__all__ = [
    "KefuNodeParser",
    "KefuQueryEngine",
    "KefuRetriever",
    "KefuSafetyPostprocessor",
    "LlamaIndexEmbedder",
    "LlamaIndexLLM",
    "ingest_documents",
]
