"""The two systems under test behind one small interface: ``ingest``, ``open``, ``answer``.

* ``kefu``: :class:`kefu_copilot.Copilot` with the static model (Chroma PersistentClient under
  ``index_dir/chroma``).
* ``fair`` (the baseline every ratio is against): plain llama-index: ``VectorStoreIndex`` on
  ``ChromaVectorStore`` (PersistentClient) with the *same* embedder wrapped as a
  ``BaseEmbedding``, plus a ``BM25Retriever`` over **jieba** tokens, persisted at ingest and
  loaded at open (what a careful llama-index user serving Chinese would build), fused by
  ``QueryFusionRetriever`` (reciprocal rerank, ``num_queries=1``, a ``MockLLM`` so no LLM is ever
  called). The "answer" is the top node's text. llama-index's global ``Settings`` are never
  touched.
* ``stock``: the same with the stock ``BM25Retriever`` (English stemmer, ``\\w\\w+`` tokens: a
  Chinese clause is one token), rebuilt from the nodes in Chroma at every open: what the
  out-of-the-box pipeline does; kept as a second row.

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

__all__ = ["BASELINES", "BASELINE_DEPTH", "Result", "System", "ingest", "open_system"]

BASELINE_DEPTH = 50  # candidates per baseline retriever: the same depth kefu's fusion uses
FUSED_TOP_K = 10
COLLECTION = "baseline"
BASELINES = ("fair", "stock")
BM25_DIR = "bm25"  # the fair baseline's persisted retriever, under the index directory


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

    from kefu_copilot.ingest._loaders import load_file
    from kefu_copilot.ingest._pipeline import discover_files

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


def _jieba_tokens(text: str) -> list[str]:
    """jieba's default segmentation, lower-cased, punctuation and spaces dropped: the plain way
    to tokenise Chinese for BM25 (no shop vocabulary, nothing kefu-specific)."""
    import jieba

    words = (w.strip().lower() for w in jieba.lcut(text))
    return [w for w in words if w and any(c.isalnum() for c in w)]


def jieba_bm25(nodes: list[Any], depth: int = BASELINE_DEPTH) -> Any:
    """A llama-index ``BM25Retriever`` whose index and queries use jieba tokens.

    The retriever's own ``tokenizer`` argument is deprecated and only takes a stemmer, so the
    ``bm25s.BM25`` is built from jieba tokens and passed as ``existing_bm25``; ``_retrieve``
    tokenises the query the same way. It persists and loads with the stock
    ``persist``/``from_persist_dir`` (bm25s arrays + the node corpus)."""
    import bm25s
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    bm25 = bm25s.BM25()
    bm25.index(
        [_jieba_tokens(n.get_content(metadata_mode=MetadataMode.EMBED)) for n in nodes],
        show_progress=False,
    )
    bm25.corpus = [node_to_metadata_dict(n) | {"node_id": n.node_id} for n in nodes]
    return _jieba_class()(
        existing_bm25=bm25, similarity_top_k=min(depth, len(nodes)), skip_stemming=True
    )


_JIEBA_CLASS: Any = None


def _jieba_class() -> Any:
    """``JiebaBM25Retriever``, defined on first use (llama-index is imported lazily)."""
    global _JIEBA_CLASS
    if _JIEBA_CLASS is not None:
        return _JIEBA_CLASS
    from llama_index.core.schema import NodeWithScore, QueryBundle
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
    from llama_index.retrievers.bm25 import BM25Retriever

    class JiebaBM25Retriever(BM25Retriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            vocab = self.bm25.vocab_dict
            tokens = [t for t in _jieba_tokens(query_bundle.query_str) if t in vocab]
            if not tokens:  # bm25s cannot score a query with no known token
                return []
            docs, scores = self.bm25.retrieve(
                [tokens], k=self.similarity_top_k, show_progress=False
            )
            out = []
            for doc, score in zip(docs[0], scores[0], strict=True):
                if float(score) <= 0.0:
                    continue
                meta = doc if isinstance(doc, dict) else self.corpus[int(doc)]
                out.append(NodeWithScore(node=metadata_dict_to_node(meta), score=float(score)))
            return out

    _JIEBA_CLASS = JiebaBM25Retriever
    return _JIEBA_CLASS


def stock_bm25(nodes: list[Any], depth: int = BASELINE_DEPTH) -> Any:
    from llama_index.retrievers.bm25 import BM25Retriever

    return BM25Retriever(nodes=nodes, similarity_top_k=min(depth, len(nodes)))


def build_fusion(index: Any, bm25: Any, depth: int = BASELINE_DEPTH) -> Any:
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever

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
    """Open a persisted baseline: Chroma → index; BM25 loaded from its saved directory (fair)
    or rebuilt from every node read back from Chroma (stock); fusion."""

    def __init__(
        self, index_dir: Path, model: Path, fair: bool = True, depth: int = BASELINE_DEPTH
    ) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=_chroma_collection(index_dir))
        index = VectorStoreIndex.from_vector_store(store, embed_model=make_embedding(model))
        if fair:
            bm25 = _jieba_class().from_persist_dir(str(index_dir / BM25_DIR))
            bm25.similarity_top_k = depth
        else:
            bm25 = stock_bm25(_all_nodes(store), depth)
        self.retriever = build_fusion(index, bm25, depth)

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
    embedding = make_embedding(model)
    t0 = time.perf_counter()
    phase("parse")
    nodes = shop_nodes(shop)
    t1 = time.perf_counter()
    phase("embed")
    baseline_index(nodes, index_dir, embedding)
    t2 = time.perf_counter()
    phase("bm25")
    if system == "fair":  # built and saved, as kefu builds and saves its BM25
        (index_dir / BM25_DIR).mkdir(parents=True, exist_ok=True)
        jieba_bm25(nodes).persist(str(index_dir / BM25_DIR))
    else:  # built only to time it: the stock baseline rebuilds it at every open
        stock_bm25(nodes)
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
    if system not in BASELINES:
        raise ValueError(f"unknown system {system!r}: kefu, {', '.join(BASELINES)}")
    return BaselineSystem(index_dir, model, fair=system == "fair")


def baseline_retrieval_quality(
    directory: Path, model: Path, workdir: Path, fair: bool = True
) -> dict[str, float]:
    """MRR@10 etc. of the baseline's fused retriever on a BEIR-like set (kefu's metric code)."""
    from llama_index.core.schema import TextNode

    from kefu_copilot.evals._suite import read_retrieval_set, retrieval_metrics

    corpus, queries, qrels = read_retrieval_set(directory)
    nodes = [TextNode(id_=str(d["id"]), text=str(d["text"])) for d in corpus]
    index = baseline_index(nodes, workdir, make_embedding(model))
    fusion = build_fusion(index, jieba_bm25(nodes) if fair else stock_bm25(nodes))
    ranked = {
        str(q["id"]): [n.node.node_id for n in fusion.retrieve(str(q["text"]))] for q in queries
    }
    return retrieval_metrics(ranked, qrels)
