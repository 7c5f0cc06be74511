"""Evaluation of answer suites (data contract, sections 2 and 3).

The full runner (``kefu eval``, emotion/reply/retrieval suites, comparisons) builds on this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._errors import EvalError
from ._models import Answer

__all__ = [
    "answer_metrics",
    "check_answer_case",
    "evaluate_retrieval",
    "read_suite",
    "retrieval_metrics",
]


def read_suite(
    path: str | Path, *, strict: bool = False
) -> tuple[list[dict[str, Any]], list[EvalError]]:
    """Cases of a JSONL suite, plus an error per malformed line (raised at once when strict)."""
    path = Path(path)
    cases: list[dict[str, Any]] = []
    errors: list[EvalError] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read suite: {exc}", path=str(path)) from None
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            if not isinstance(case, dict):
                raise ValueError("expected a JSON object")
            if "id" not in case:
                raise ValueError("missing 'id'")
            if str(case["id"]) in seen:
                raise ValueError(f"duplicate id {case['id']!r}")
            seen.add(str(case["id"]))
        except ValueError as exc:
            error = EvalError(str(exc).split(": line")[0], path=str(path), line=n)
            if strict:
                raise error from None
            errors.append(error)
            continue
        cases.append(case)
    return cases, errors


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def check_answer_case(case: dict[str, Any], answer: Answer) -> list[str]:
    """Human-readable failures of one answer case (empty list = passed)."""
    expect = case.get("expect") or {}
    failures: list[str] = []
    accepted = _as_list(expect.get("decision"))
    if accepted and answer.decision not in accepted:
        failures.append(f"decision {answer.decision}, expected {' or '.join(accepted)}")
    if answer.decision in ("auto", "draft") and not failures:
        sources = _as_list(expect.get("sources"))
        cited = {c.source for c in answer.citations}
        if sources and not cited & set(sources):
            failures.append(f"cited {sorted(cited) or 'nothing'}, expected one of {sources}")
        for text in _as_list(expect.get("contains")):
            if str(text) not in answer.text:
                failures.append(f"answer lacks {text!r}")
    for text in _as_list(expect.get("not_contains")):
        if str(text) in answer.text:
            failures.append(f"answer contains forbidden {text!r}")
    return failures


def answer_metrics(results: Iterable[tuple[dict[str, Any], Answer, list[str]]]) -> dict[str, float]:
    rows = list(results)
    n = len(rows)
    auto = [(c, a, f) for c, a, f in rows if a.decision == "auto"]
    expect_handoff = [
        (c, a)
        for c, a, _ in rows
        if "handoff" in _as_list((c.get("expect") or {}).get("decision"))
        and len(_as_list((c.get("expect") or {}).get("decision"))) == 1
    ]
    return {
        "auto_rate": len(auto) / n if n else 0.0,
        "auto_precision": sum(1 for *_, f in auto if not f) / len(auto) if auto else 0.0,
        "handoff_recall": (
            sum(1 for _, a in expect_handoff if a.decision == "handoff") / len(expect_handoff)
            if expect_handoff
            else 0.0
        ),
        "pass_rate": sum(1 for *_, f in rows if not f) / n if n else 0.0,
    }


def read_retrieval_set(
    directory: str | Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, float]]]:
    """corpus, queries and qrels (query id → {doc id: relevance}) of a BEIR-like directory."""
    directory = Path(directory)
    loaded: dict[str, list[dict[str, Any]]] = {}
    for name in ("corpus", "queries", "qrels"):
        path = directory / f"{name}.jsonl"
        rows, errors = read_suite(path, strict=False) if name != "qrels" else (_read_rows(path), [])
        if errors:
            raise errors[0]
        loaded[name] = rows
    qrels: dict[str, dict[str, float]] = {}
    for row in loaded["qrels"]:
        qrels.setdefault(str(row["query_id"]), {})[str(row["doc_id"])] = float(
            row.get("relevance", 1)
        )
    return loaded["corpus"], loaded["queries"], qrels


def _read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise EvalError(f"invalid JSON: {exc}", path=str(path), line=n) from None
    return rows


def retrieval_metrics(
    ranked: dict[str, list[str]], qrels: dict[str, dict[str, float]]
) -> dict[str, float]:
    """mrr@10, recall@1/5/10 and ndcg@10 over the queries that have judgements."""
    import math

    totals = {"mrr@10": 0.0, "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "ndcg@10": 0.0}
    judged = [q for q in ranked if qrels.get(q)]
    for q in judged:
        relevant = qrels[q]
        docs = ranked[q][:10]
        for rank, doc in enumerate(docs, start=1):
            if relevant.get(doc, 0) > 0:
                totals["mrr@10"] += 1 / rank
                break
        n_rel = sum(1 for v in relevant.values() if v > 0)
        for k in (1, 5, 10):
            totals[f"recall@{k}"] += sum(1 for d in docs[:k] if relevant.get(d, 0) > 0) / n_rel
        dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(docs))
        ideal = sorted(relevant.values(), reverse=True)[:10]
        idcg = sum((2**v - 1) / math.log2(i + 2) for i, v in enumerate(ideal))
        totals["ndcg@10"] += dcg / idcg if idcg else 0.0
    return {k: (v / len(judged) if judged else 0.0) for k, v in totals.items()}


def evaluate_retrieval(
    directory: str | Path, *, embedder: Any = None, tokenizer: Any = None
) -> dict[str, float]:
    """Retrieve each query against the corpus with the hybrid retriever; return the metrics.

    Corpus entries are indexed like FAQ questions (the usual shape of such sets: find the
    stored question a customer's question matches).
    """
    import tempfile

    from ._index import load_snapshot, publish_generation
    from ._loaders import chunk_id
    from ._models import Chunk
    from ._retrieve import Retriever
    from ._store import MemoryStore
    from ._tokenize import ChineseTokenizer

    corpus, queries, qrels = read_retrieval_set(directory)
    tokenizer = tokenizer or ChineseTokenizer()
    chunks = [
        Chunk(
            id=chunk_id("corpus", str(d["id"]), str(d["text"])),
            kind="faq",
            source="corpus",
            locator=str(d["id"]),
            text=str(d["text"]),
            match_text=str(d["text"]),
            question=str(d["text"]),
            meta={"doc_id": str(d["id"])},
        )
        for d in corpus
    ]
    tokens = {c.id: (tokenizer.tokenize(c.text), [tokenizer.tokenize(c.text)]) for c in chunks}
    store = None
    if embedder is not None:
        store = MemoryStore()
        store.add([c.id for c in chunks], embedder.embed_documents([c.text for c in chunks]))
    with tempfile.TemporaryDirectory() as tmp:
        publish_generation(
            Path(tmp),
            1,
            chunks,
            tokens,
            {"files": {}},
            embedder=embedder.name if embedder is not None else None,
            tokenizer=tokenizer.fingerprint,
        )
        snapshot = load_snapshot(Path(tmp))
        assert snapshot is not None
        retriever = Retriever(snapshot, tokenizer, embedder=embedder, store=store)
        ranked = {
            str(q["id"]): [h.chunk.meta["doc_id"] for h in retriever.retrieve(str(q["text"]), 10)]
            for q in queries
        }
    return retrieval_metrics(ranked, qrels)
