"""A shop's retrieval and answers as llama-index components, and a safety postprocessor.

The copilot does the work; these classes only translate its results into llama-index's types
(``TextNode``, ``NodeWithScore``, ``Response``), so a llama-index pipeline gets the same
retrieval and the same auto / draft / handoff decisions as :meth:`Copilot.answer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import Field
from llama_index.core.callbacks import CallbackManager
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from .._copilot import Copilot
from .._models import Answer, Chunk
from ..text._injection import scrub_injections
from ..text._pii import redact

__all__ = ["KefuQueryEngine", "KefuRetriever", "KefuSafetyPostprocessor", "chunk_node"]

#: Metadata that describes retrieval, not the knowledge: kept out of what an LLM or an
#: embedding model sees of a node.
_SCORE_KEYS = ["bm25", "faq", "dense", "ranks", "chunk_id"]


def chunk_node(chunk: Chunk, **extra: Any) -> TextNode:
    """A chunk as a ``TextNode`` (id = chunk id) with ``source``, ``locator``, ``kind`` and
    ``title`` (and ``question`` for an FAQ) in its metadata."""
    metadata: dict[str, Any] = {
        "source": chunk.source,
        "locator": chunk.locator,
        "kind": chunk.kind,
        "title": chunk.title,
    }
    if chunk.question:
        metadata["question"] = chunk.question
    metadata.update(extra)
    hidden = [k for k in metadata if k in _SCORE_KEYS]
    return TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=hidden,
    )


class KefuRetriever(BaseRetriever):
    """The copilot's hybrid retrieval as a llama-index retriever.

    Each node's score is the fused score; its metadata holds the raw evidence of each
    retriever (``bm25``, ``faq``, ``dense``: 0 when that retriever did not find it) and the
    chunk's ``source`` / ``locator`` for citing. ``kinds`` limits the chunk kinds searched
    (``faq``, ``product``, ``table_row``, ``policy``, ``case``).
    """

    def __init__(
        self,
        copilot: Copilot,
        *,
        top_k: int | None = None,
        kinds: Collection[str] | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        self._copilot = copilot
        self._top_k = top_k if top_k is not None else copilot.settings.top_k
        self._kinds = kinds
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str.strip()[: self._copilot.settings.max_input_chars]
        if not query:
            return []
        hits = self._copilot.retriever.retrieve(query, self._top_k, kinds=self._kinds)
        return [
            NodeWithScore(
                node=chunk_node(
                    hit.chunk,
                    bm25=hit.bm25,
                    faq=hit.faq,
                    dense=hit.dense,
                    ranks=dict(hit.ranks),
                    chunk_id=hit.chunk.id,
                ),
                score=hit.score,
            )
            for hit in hits
        ]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


def _response(answer: Answer) -> Response:
    sources = [
        NodeWithScore(
            node=TextNode(
                id_=c.chunk_id or f"{c.source}#{c.locator}",
                text=c.snippet,
                metadata={"source": c.source, "locator": c.locator},
            ),
            score=c.score,
        )
        for c in answer.citations
    ]
    metadata = {
        "decision": answer.decision,
        "confidence": answer.confidence,
        "citations": [c.model_dump() for c in answer.citations],
        "reasons": list(answer.reasons),
        "mode": answer.mode,
        "answer": answer,
    }
    return Response(response=answer.text, source_nodes=sources, metadata=metadata)


class KefuQueryEngine(BaseQueryEngine):
    """:meth:`Copilot.answer` as a llama-index query engine.

    ``str(response)`` is what the copilot would say; ``response.metadata`` holds ``decision``
    (``auto`` / ``draft`` / ``handoff``: route on it, a handoff's text is the shop's handoff
    message), ``confidence``, ``citations``, ``reasons``, ``mode`` and the full ``answer``;
    ``response.source_nodes`` are the citations.
    """

    def __init__(
        self, copilot: Copilot, *, callback_manager: CallbackManager | None = None
    ) -> None:
        self._copilot = copilot
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def _query(self, query_bundle: QueryBundle) -> Response:
        return _response(self._copilot.answer(query_bundle.query_str))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return _response(await self._copilot.aanswer(query_bundle.query_str))

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return KefuRetriever(self._copilot).retrieve(query_bundle)


class KefuSafetyPostprocessor(BaseNodePostprocessor):
    """Redacts personal data (phones, ID and bank card numbers, e-mails, addresses) and strips
    instructions aimed at an assistant ("忽略之前的规则…") from retrieved nodes, with the same
    detectors kefu applies to its own knowledge and prompts.

    Nodes are copied, never changed in place (they may belong to a docstore); a node left
    empty is dropped. ``keep`` is passed to :func:`kefu_copilot.redact` (kinds or exact values,
    such as the shop's own hotline). The copy's metadata says what was done:
    ``kefu_redacted`` (kinds replaced) and ``kefu_removed`` (sentences removed). ``copilot``:
    its shop's ``injection`` rules are used (default: the packaged ones).
    """

    redact_pii: bool = Field(default=True, description="replace personal data by placeholders")
    strip_injections: bool = Field(default=True, description="remove instruction-like text")
    keep: list[str] = Field(default_factory=list, description="passed to kefu_copilot.redact")
    copilot: Any = Field(default=None, description="a Copilot: its shop's injection rules")

    @classmethod
    def class_name(cls) -> str:
        return "KefuSafetyPostprocessor"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        return [n for n in (self._clean(node) for node in nodes) if n is not None]

    def _clean(self, scored: NodeWithScore) -> NodeWithScore | None:
        text = scored.node.get_content(metadata_mode=MetadataMode.NONE)
        removed: list[str] = []
        if self.strip_injections:
            shop = self.copilot.shop if self.copilot is not None else None
            text, removed = scrub_injections(text, shop.rule_set("injection") if shop else None)
        kinds: Iterable[str] = ()
        if self.redact_pii:
            redaction = redact(text, keep=self.keep)
            text, kinds = redaction.text, sorted(redaction.kinds)
        if not text.strip():
            return None
        node = scored.node.model_copy(deep=True)
        node.set_content(text)
        if removed:
            node.metadata["kefu_removed"] = len(removed)
        if kinds:
            node.metadata["kefu_redacted"] = list(kinds)
        return NodeWithScore(node=node, score=scored.score)
