"""The two systems under test behind one small interface: ``ingest``, ``open``, ``answer``.

* ``kefu``: :class:`kefu_copilot.Copilot` with the static model (Chroma PersistentClient under
  ``index_dir/chroma``).
* ``baseline``: plain llama-index: ``VectorStoreIndex`` on ``ChromaVectorStore`` (PersistentClient)
  with the *same* embedder wrapped as a ``BaseEmbedding``, plus the stock ``BM25Retriever``
  (default tokenizer: English stemmer, ``\\w\\w+`` tokens), fused by ``QueryFusionRetriever``
  (reciprocal rerank, ``num_queries=1``, a ``MockLLM`` so no LLM is ever called). The "answer" is
  the top node's text. llama-index's global ``Settings`` are never touched.

Heavy imports happen inside the functions so that a worker can time them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__all__ = ["BASELINE_DEPTH", "Result", "System", "ingest", "open_system"]

BASELINE_DEPTH = 50  # candidates per baseline retriever: the same depth kefu's fusion uses
FUSED_TOP_K = 10
COLLECTION = "baseline"


@dataclass
class Result:
    text: str
    source: str | None  # of the top citation / top node
    locator: str
    decision: str


class System(Protocol):
    def answer(self, question: str) -> Result: ...


# -- kefu ------------------------------------------------------------------------------------------
class KefuSystem:
    def __init__(self, shop: Path, index_dir: Path, model: Path) -> None:
        from kefu_copilot import Copilot

        self.copilot = Copilot(shop, index_dir=index_dir, embed_model=str(model), offline=True)

    def answer(self, question: str) -> Result:
        a = self.copilot.answer(question)
        top = a.citations[0] if a.citations else None
        return Result(a.text, top.source if top else None, top.locator if top else "", a.decision)


# -- baseline --------------------------------------------------------------------------------------
def make_embedding(model: Path, embedder: Any = None) -> Any:
    """The kefu static embedder as a llama-index ``BaseEmbedding`` (same vectors, same cache)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    from kefu_copilot.embed._embedder import load_embedder

    class StaticEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Any) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=256)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in self._embedder.embed_query(query)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [list(map(float, row)) for row in self._embedder.embed_documents(texts)]

    return StaticEmbedding(embedder or load_embedder(str(model), offline=True))


def _chroma_collection(index_dir: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_or_create_collection(
        COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )


def shop_nodes(shop: Path) -> list[Any]:
    """The shop's chunks as llama-index ``TextNode``s (kefu's parser: identical units)."""
    from llama_index.core.schema import TextNode

    from kefu_copilot.ingest._pipeline import discover_files
    from kefu_copilot.ingest._loaders import load_file

    found, _ = discover_files(shop)
    nodes = []
    for f in found:
        chunks, _issues = load_file(f.source, f.path.read_bytes())
        for c in chunks:
            nodes.append(
                TextNode(
                    id_=c.id,
                    text=c.match_text or c.text,
                    metadata={"source": c.source, "locator": c.locator},
                    excluded_embed_metadata_keys=["source", "locator"],
                    excluded_llm_metadata_keys=["source", "locator"],
                )
            )
    return nodes


def build_fusion(index: Any, nodes: list[Any], depth: int = BASELINE_DEPTH) -> Any:
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    bm25 = BM25Retriever(nodes=nodes, similarity_top_k=min(depth, len(nodes)))
    vector = index.as_retriever(similarity_top_k=depth)
    return QueryFusionRetriever(
        [vector, bm25],
        llm=MockLLM(),
        mode="reciprocal_rerank",  # type: ignore[arg-type]
        num_queries=1,
        similarity_top_k=FUSED_TOP_K,
        use_async=False,
    )


def baseline_index(nodes: list[Any], index_dir: Path, embedding: Any) -> Any:
    """Embed ``nodes`` into a Chroma-backed ``VectorStoreIndex`` under ``index_dir``."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = ChromaVectorStore(chroma_collection=_chroma_collection(index_dir))
    context = StorageContext.from_defaults(vector_store=store)
    return VectorStoreIndex(
        nodes, storage_context=context, embed_model=embedding, insert_batch_size=4096
    )


def _all_nodes(store: Any, page: int = 10_000) -> list[Any]:
    """Every node stored in Chroma. ``store.get_nodes(None)`` would be the one-liner, but Chroma
    fails with "too many SQL variables" for ~100k records in one ``get``: page through it."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    nodes: list[Any] = []
    while True:
        batch = store.client.get(limit=page, offset=len(nodes), include=["documents", "metadatas"])
        for text, meta in zip(batch["documents"], batch["metadatas"], strict=True):
            nodes.append(metadata_dict_to_node(meta, text=text))
        if len(batch["ids"]) < page:
            return nodes


class BaselineSystem:
    """Open a persisted baseline: Chroma → index, all nodes from Chroma → BM25, fusion."""

    def __init__(self, index_dir: Path, model: Path, depth: int = BASELINE_DEPTH) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=_chroma_collection(index_dir))
        index = VectorStoreIndex.from_vector_store(store, embed_model=make_embedding(model))
        nodes = _all_nodes(store)
        self.retriever = build_fusion(index, nodes, depth)
        self.nodes = len(nodes)

    def answer(self, question: str) -> Result:
        found = self.retriever.retrieve(question)
        if not found:
            return Result("", None, "", "handoff")
        node = found[0].node
        meta = node.metadata
        return Result(node.get_content(), meta.get("source"), meta.get("locator", ""), "auto")


# -- entry points ----------------------------------------------------------------------------------
def _no_phase(name: str) -> None:
    pass


def ingest(
    system: str,
    shop: Path,
    index_dir: Path,
    model: Path,
    phase: Callable[[str], None] = _no_phase,
) -> dict[str, Any]:
    """Index ``shop``; returns counts and phase timings (seconds). ``phase(name)`` is told
    which phase starts (for memory accounting)."""
    import time

    started = time.perf_counter()
    phase("setup")
    if system == "kefu":

        def progress(name: str, done: int, total: int) -> None:
            phase("publish" if name == "embed" and done >= total else name)

        report = KefuSystem(shop, index_dir, model).copilot.ingest(progress=progress)
        return {
            "chunks": report.chunks_total,
            "embedded": report.chunks_embedded,
            "issues": len(report.issues),
            "seconds": time.perf_counter() - started,
        }
    from llama_index.retrievers.bm25 import BM25Retriever

    embedding = make_embedding(model)
    t0 = time.perf_counter()
    phase("parse")
    nodes = shop_nodes(shop)
    t1 = time.perf_counter()
    phase("embed")
    baseline_index(nodes, index_dir, embedding)
    t2 = time.perf_counter()
    phase("bm25")
    BM25Retriever(nodes=nodes, similarity_top_k=BASELINE_DEPTH)  # built, as kefu builds its BM25
    t3 = time.perf_counter()
    return {
        "chunks": len(nodes),
        "embedded": len(nodes),
        "issues": 0,
        "seconds": t3 - started,
        "parse_s": t1 - t0,
        "embed_store_s": t2 - t1,
        "bm25_s": t3 - t2,
    }


def open_system(system: str, shop: Path, index_dir: Path, model: Path) -> System:
    if system == "kefu":
        return KefuSystem(shop, index_dir, model)
    return BaselineSystem(index_dir, model)


def baseline_retrieval_quality(directory: Path, model: Path, workdir: Path) -> dict[str, float]:
    """MRR@10 etc. of the baseline's fused retriever on a BEIR-like set (kefu's metric code)."""
    from llama_index.core.schema import TextNode

    from kefu_copilot.evals._suite import read_retrieval_set, retrieval_metrics

    corpus, queries, qrels = read_retrieval_set(directory)
    nodes = [TextNode(id_=str(d["id"]), text=str(d["text"])) for d in corpus]
    index = baseline_index(nodes, workdir, make_embedding(model))
    fusion = build_fusion(index, nodes)
    ranked = {
        str(q["id"]): [n.node.node_id for n in fusion.retrieve(str(q["text"]))] for q in queries
    }
    return retrieval_metrics(ranked, qrels)
