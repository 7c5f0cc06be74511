"""Eval suites (data contract, sections 2 and 3): reading, checking cases, metrics.

The runner (:func:`kefu_copilot.evals._runner.run_suite`, ``kefu eval``) builds on these.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .._errors import EvalError
from .._fs import write_text_atomic
from .._models import Answer

__all__ = [
    "answer_metrics",
    "answer_result_metrics",
    "check_answer_case",
    "check_emotion_case",
    "check_reply_text",
    "emotion_expectation",
    "emotion_metrics",
    "evaluate_retrieval",
    "rank_retrieval",
    "read_retrieval_lines",
    "read_retrieval_set",
    "read_suite",
    "read_suite_lines",
    "reply_metrics",
    "retrieval_embedder",
    "retrieval_hits",
    "retrieval_metrics",
    "validate_answer_case",
    "validate_emotion_case",
    "validate_reply_case",
]


def read_suite(
    path: str | Path, *, strict: bool = False
) -> tuple[list[dict[str, Any]], list[EvalError]]:
    """Cases of a JSONL suite, plus an error per malformed line (raised at once when strict)."""
    rows, errors = read_suite_lines(path, strict=strict)
    return [case for _, case in rows], errors


def read_suite_lines(
    path: str | Path, *, strict: bool = False, require_id: bool = True
) -> tuple[list[tuple[int, dict[str, Any]]], list[EvalError]]:
    """Like :func:`read_suite`, keeping each case's 1-based line number (for later errors)."""
    path = Path(path)
    rows: list[tuple[int, dict[str, Any]]] = []
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
            if require_id:
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
        rows.append((n, case))
    return rows, errors


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
    """The answer metrics (contract section 3) of ``(case, answer, failures)`` triples."""
    return answer_result_metrics(
        {"expect": c.get("expect"), "decision": a.decision, "passed": not f} for c, a, f in results
    )


def answer_result_metrics(results: Iterable[dict[str, Any]]) -> dict[str, float]:
    """``auto_rate``, ``auto_precision``, ``handoff_recall``, ``pass_rate`` of result records
    (``{"expect", "decision", "passed"}``); a case expects handoff when handoff is its only
    acceptable decision. ``answerable_auto_rate``: of the cases that accept ``auto``, the share
    answered auto and passed (issue 15's "answerable answered auto")."""
    rows = list(results)
    auto = [r for r in rows if r.get("decision") == "auto"]
    handoff = [r for r in rows if _as_list((r.get("expect") or {}).get("decision")) == ["handoff"]]
    answerable = [r for r in rows if "auto" in _as_list((r.get("expect") or {}).get("decision"))]
    return {
        "auto_rate": _share(auto, rows),
        "auto_precision": _share([r for r in auto if r["passed"]], auto),
        "handoff_recall": _share([r for r in handoff if r.get("decision") == "handoff"], handoff),
        "pass_rate": _share([r for r in rows if r["passed"]], rows),
        # of the cases that accept an automatic answer, the share answered auto (and right)
        "answerable_auto_rate": _share(
            [r for r in answerable if r["passed"] and r.get("decision") == "auto"], answerable
        ),
    }


def _share(part: list[Any], whole: list[Any]) -> float:
    return len(part) / len(whole) if whole else 0.0


# -- case shapes ---------------------------------------------------------------------------------
DECISIONS = ("auto", "draft", "handoff")
EMOTIONS = ("angry", "anxious", "confused", "neutral", "satisfied")


def _check_strings(expect: dict[str, Any], *keys: str) -> None:
    for key in keys:
        values = _as_list(expect.get(key))
        if not all(isinstance(v, str) and v for v in values):
            raise ValueError(f"expect.{key} must be a string or a list of non-empty strings")


def _check_turns(case: dict[str, Any], key: str, *, required: bool = False) -> None:
    turns = case.get(key)
    if turns is None and not required:
        return
    if not isinstance(turns, list) or (required and not turns):
        raise ValueError(f"{key!r} must be a {'non-empty ' if required else ''}list of turns")
    for turn in turns:
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            raise ValueError(f"{key!r} items must be {{'role', 'text'}} objects")


def _expect(case: dict[str, Any]) -> dict[str, Any]:
    expect = case.get("expect")
    if expect is None:
        return {}
    if not isinstance(expect, dict):
        raise ValueError("'expect' must be an object")
    return expect


def validate_answer_case(case: dict[str, Any]) -> None:
    """Raise ValueError when an ``answer`` case cannot be run."""
    if not isinstance(case.get("question"), str) or not case["question"].strip():
        raise ValueError("answer case needs a non-empty 'question'")
    _check_turns(case, "history")
    expect = _expect(case)
    bad = [d for d in _as_list(expect.get("decision")) if d not in DECISIONS]
    if bad:
        raise ValueError(f"expect.decision {bad[0]!r} is not one of {', '.join(DECISIONS)}")
    _check_strings(expect, "sources", "contains", "not_contains")


def emotion_expectation(case: dict[str, Any]) -> tuple[bool, str | None]:
    """(expected escalate, expected emotion or None): ``expect`` first, else the shared-data
    shape ``{id, text, context, label, escalate}`` (whose ``label`` is not an emotion name)."""
    expect = _expect(case)
    escalate = expect["escalate"] if "escalate" in expect else case.get("escalate")
    if not isinstance(escalate, bool):
        raise ValueError("emotion case needs a boolean 'escalate' expectation")
    emotion = expect.get("emotion")
    if emotion is not None and emotion not in EMOTIONS:
        raise ValueError(f"expect.emotion {emotion!r} is not one of {', '.join(EMOTIONS)}")
    return escalate, emotion


def validate_emotion_case(case: dict[str, Any]) -> None:
    if not isinstance(case.get("text"), str):
        raise ValueError("emotion case needs a 'text' string")
    _check_turns(case, "context")
    emotion_expectation(case)


def validate_reply_case(case: dict[str, Any]) -> None:
    _check_turns(case, "conversation", required=True)
    if case.get("draft") is not None and not isinstance(case["draft"], str):
        raise ValueError("'draft' must be a string")
    _check_strings(_expect(case), "sources", "contains", "not_contains")


def check_emotion_case(case: dict[str, Any], escalate: bool, emotion: str) -> list[str]:
    """Failures of one emotion case given the predicted ``escalate`` and ``emotion``."""
    want_escalate, want_emotion = emotion_expectation(case)
    failures = []
    if escalate != want_escalate:
        failures.append(f"escalate {escalate}, expected {want_escalate}")
    if want_emotion is not None and emotion != want_emotion:
        failures.append(f"emotion {emotion}, expected {want_emotion}")
    return failures


def emotion_metrics(results: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Escalation precision/recall/F1, ``accuracy`` (share of cases passed: escalate right, and
    emotion right where expected) and ``balanced_accuracy`` (mean of that share over the cases
    expecting escalation and those expecting none)."""
    rows = list(results)
    expected = [bool(r["expect"]["escalate"]) for r in rows]
    predicted = [bool(r["escalate"]) for r in rows]
    tp = sum(1 for e, p in zip(expected, predicted, strict=True) if e and p)
    precision = tp / sum(predicted) if any(predicted) else 0.0
    recall = tp / sum(expected) if any(expected) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    groups = [
        [r for r, e in zip(rows, expected, strict=True) if e is want] for want in (True, False)
    ]
    per_class = [_share([r for r in g if r["passed"]], g) for g in groups if g]
    return {
        "escalate_precision": precision,
        "escalate_recall": recall,
        "escalate_f1": f1,
        "accuracy": _share([r for r in rows if r["passed"]], rows),
        "balanced_accuracy": sum(per_class) / len(per_class) if per_class else 0.0,
    }


def check_reply_text(case: dict[str, Any], text: str, sources: Iterable[str]) -> list[str]:
    """Failures of a suggested reply against the case's ``expect`` (lint is checked apart)."""
    expect = _expect(case)
    failures = []
    wanted, cited = _as_list(expect.get("sources")), set(sources)
    if wanted and not cited & set(wanted):
        failures.append(f"cited {sorted(cited) or 'nothing'}, expected one of {wanted}")
    failures += [f"reply lacks {t!r}" for t in _as_list(expect.get("contains")) if t not in text]
    failures += [
        f"reply contains forbidden {t!r}" for t in _as_list(expect.get("not_contains")) if t in text
    ]
    return failures


def reply_metrics(results: Iterable[dict[str, Any]]) -> dict[str, float]:
    """``pass_rate`` (expectations met and lint clean) and ``lint_pass_rate``."""
    rows = list(results)
    return {
        "pass_rate": _share([r for r in rows if r["passed"]], rows),
        "lint_pass_rate": _share([r for r in rows if r.get("lint_passed")], rows),
    }


RETRIEVAL_FILES = ("corpus.jsonl", "queries.jsonl", "qrels.jsonl")


def is_retrieval_set(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and all((path / name).is_file() for name in RETRIEVAL_FILES)


def read_retrieval_set(
    directory: str | Path, *, strict: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, float]]]:
    """corpus, queries and qrels (query id → {doc id: relevance}) of a BEIR-like directory.

    Raises :class:`EvalError` on the first malformed line; see :func:`read_retrieval_lines`
    for the lenient form.
    """
    corpus, queries, qrels, _ = read_retrieval_lines(directory, strict=strict)
    return corpus, queries, qrels


def read_retrieval_lines(
    directory: str | Path, *, strict: bool = False
) -> tuple[
    list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, float]], list[EvalError]
]:
    """A retrieval set plus an error per malformed line (raised at once when strict)."""
    directory = Path(directory)
    missing = [name for name in RETRIEVAL_FILES if not (directory / name).is_file()]
    if missing:
        raise EvalError(
            f"not a retrieval set: {', '.join(missing)} missing (a retrieval suite is a "
            f"directory with {', '.join(RETRIEVAL_FILES)})",
            path=str(directory),
        )
    errors: list[EvalError] = []
    loaded: dict[str, list[dict[str, Any]]] = {}
    for name in ("corpus", "queries", "qrels"):
        path = directory / f"{name}.jsonl"
        rows, bad = read_suite_lines(path, strict=strict, require_id=name != "qrels")
        errors += bad
        keys = ("query_id", "doc_id") if name == "qrels" else ("id", "text")
        loaded[name] = []
        for n, row in rows:
            absent = [k for k in keys if row.get(k) is None]
            if absent:
                error = EvalError(f"missing {', '.join(map(repr, absent))}", path=str(path), line=n)
                if strict:
                    raise error
                errors.append(error)
                continue
            loaded[name].append(row)
    qrels: dict[str, dict[str, float]] = {}
    for row in loaded["qrels"]:
        qrels.setdefault(str(row["query_id"]), {})[str(row["doc_id"])] = float(
            row.get("relevance", 1)
        )
    return loaded["corpus"], loaded["queries"], qrels, errors


def retrieval_metrics(
    ranked: dict[str, list[str]], qrels: dict[str, dict[str, float]]
) -> dict[str, float]:
    """mrr@10, recall@1/5/10 and ndcg@10 over the queries that have judgements."""
    import math

    totals = {"mrr@10": 0.0, "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "ndcg@10": 0.0}
    judged = [q for q in ranked if any(v > 0 for v in qrels.get(q, {}).values())]
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


def rank_retrieval(
    corpus: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    *,
    embedder: Any = None,
    tokenizer: Any = None,
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[str]]:
    """Query id → the ``k`` best corpus ids, ranked by the hybrid retriever.

    Corpus entries are indexed like FAQ questions (the usual shape of such sets: find the
    stored question a customer's question matches). ``progress(done, total)`` is called after
    each query.
    """
    hits = retrieval_hits(
        corpus, queries, embedder=embedder, tokenizer=tokenizer, k=k, progress=progress
    )
    return {qid: [h.chunk.meta["doc_id"] for h in found] for qid, found in hits.items()}


def retrieval_hits(
    corpus: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    *,
    embedder: Any = None,
    tokenizer: Any = None,
    k: int = 10,
    weights: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Any]]:
    """Query id → the ``k`` best :class:`~kefu_copilot.retrieval._hybrid.Hit` of the hybrid
    retriever (with ``weights``: a :class:`~kefu_copilot.retrieval._hybrid.Weights`), each with
    every retriever's score and rank: what fusion weights are fitted on."""

    from .._models import Chunk
    from ..index._analysis import Vocabulary, analyse_chunk, analyser
    from ..index._generations import load_snapshot, publish_generation
    from ..index._vectors import MemoryStore
    from ..ingest._loaders import chunk_id
    from ..retrieval._hybrid import Retriever
    from ..text._tokenize import ChineseTokenizer

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
    analyse, vocab = analyser(tokenizer), Vocabulary()
    tokens = {c.id: analyse_chunk(c, analyse, vocab, quote=False) for c in chunks}
    store = None
    if embedder is not None:
        store = MemoryStore()
        store.add([c.id for c in chunks], embedder.embed_documents([c.text for c in chunks]))
    found: dict[str, list[Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        publish_generation(
            Path(tmp),
            1,
            chunks,
            tokens,
            vocab,
            {"files": {}},
            embedder=embedder.name if embedder is not None else None,
            tokenizer=tokenizer.fingerprint,
        )
        snapshot = load_snapshot(Path(tmp))
        assert snapshot is not None
        retriever = Retriever(snapshot, tokenizer, embedder=embedder, store=store, weights=weights)
        for done, q in enumerate(queries, start=1):
            found[str(q["id"])] = retriever.retrieve(str(q["text"]), k)
            if progress is not None:
                progress(done, len(queries))
    return found


def retrieval_embedder(copilot: Any, options: dict[str, Any]) -> tuple[Any, str | None]:
    """The embedder a retrieval set is ranked with (None: lexical), and why it is missing:
    ``options["embedder"]``, else the copilot's settings, else settings from ``options``
    (``embed_model=...``) and ``KEFU_*``."""
    from .._errors import EmbeddingError
    from ..config._settings import resolve_settings
    from ..embed._embedder import load_embedder

    if "embedder" in options:
        return options["embedder"], None
    if copilot is not None:
        settings = copilot.settings
    else:
        overrides = {k: v for k, v in options.items() if k != "settings"}
        settings = resolve_settings(options.get("settings"), **overrides)
    if not settings.embeddings_enabled:
        return None, None
    try:
        model = settings.embed_model
        return load_embedder(
            model, cache_dir=settings.embed_cache_dir, offline=settings.offline
        ), None
    except EmbeddingError as exc:
        return None, str(exc)


def evaluate_retrieval(
    directory: str | Path, *, embedder: Any = None, tokenizer: Any = None
) -> dict[str, float]:
    """Retrieve each query against the corpus with the hybrid retriever; return the metrics."""
    corpus, queries, qrels = read_retrieval_set(directory)
    ranked = rank_retrieval(corpus, queries, embedder=embedder, tokenizer=tokenizer)
    return retrieval_metrics(ranked, qrels)


# -- helpers of the runner ----------------------------------------------------------------------
def last_customer_text(conversation: list[dict[str, Any]]) -> str:
    customer = [t for t in conversation if t.get("role", "customer") == "customer"]
    return str((customer or conversation)[-1].get("text", ""))


def issue_text(issue: Any) -> str:
    for attr in ("message", "problem", "text"):
        value = getattr(issue, attr, None)
        if isinstance(value, str) and value:
            code = getattr(issue, "code", None) or getattr(issue, "rule", None)
            return f"{code}: {value}" if isinstance(code, str) and code else value
    return str(issue)


def error_record(error: EvalError) -> dict[str, Any]:
    where = error.path if error.line is None else f"{error.path}:{error.line}"
    message = str(error)
    if where and message.startswith(f"{where}: "):
        message = message[len(where) + 2 :]
    return {"path": error.path, "line": error.line, "message": message}


def flatten_record(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            flatten_record(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, list | tuple):
        scalar = all(isinstance(v, str | int | float | bool) or v is None for v in value)
        out[prefix] = (
            "; ".join(map(str, value)) if scalar else json.dumps(value, ensure_ascii=False)
        )
    else:
        out[prefix] = value


def atomic_write(path: Path, text: str) -> None:
    write_text_atomic(path, text)
