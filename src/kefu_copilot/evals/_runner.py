"""The eval runner: run a suite, keep every case's outcome and the contract's metrics.

A JSONL suite (contract section 2) may mix case types; each type is a :class:`CaseType` in
:data:`CASE_TYPES` (``answer``, ``emotion``, ``reply``, ``grounding`` — see
:mod:`._grounding_cases`), and :func:`register_case_type` plugs in
new ones. A directory with ``corpus.jsonl``/``queries.jsonl``/``qrels.jsonl`` is a retrieval set.

Metric names are the contract's (section 3), un-prefixed, one set per case type present. Only
when two types present define the same name (``answer`` and ``reply`` both have ``pass_rate``)
are those names namespaced: ``answer.pass_rate``, ``reply.pass_rate``. Judge scores (see
``judges`` in :func:`run_suite`) are averaged as ``judge.<name>``.

A case passes when — answer: the contract's rule; emotion: ``escalate`` matches, and
``emotion`` too when the case expects one (``accuracy`` = share passed; ``balanced_accuracy``
= mean of that share over cases expecting and not expecting escalation); reply: the
expectations hold *and* the lint is empty (``lint_pass_rate`` counts lint alone); retrieval
query: a relevant document is in the top 10.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import EvalError
from . import _suite as ev
from ._grounding_cases import grounding_metrics, run_grounding_case, validate_grounding_case

__all__ = [
    "CASE_TYPES",
    "REPLY_UNAVAILABLE",
    "CaseType",
    "EvalContext",
    "EvalResult",
    "Judge",
    "infer_case_type",
    "register_case_type",
    "run_suite",
]

#: ``judge(case, output) -> {score name: value}``; ``output`` is the case's result record.
Judge = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, float]]
#: ``progress(phase, done, total)``, as for :meth:`Copilot.ingest`.
Progress = Callable[[str, int, int], None]

REPLY_UNAVAILABLE = "suggest_reply is not available in this version"


@dataclass
class EvalContext:
    """What case handlers share during one run."""

    copilot: Any = None
    escalation_keywords: tuple[str, ...] = ()
    #: The shop's merged ``emotion`` rule set (None: the packaged one).
    emotion_rules: Mapping[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: What a case type builds once per run (e.g. a scripted LLM server), by its own key.
    cache: dict[str, Any] = field(default_factory=dict)
    #: Called when the run ends, last added first.
    closers: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True)
class CaseType:
    """How to validate, run and score one type of eval case.

    ``run(case, context)`` returns the case's details: at least ``failures`` (a list of
    human-readable reasons, empty when passed); ``input`` and ``expect`` are shown in reports.
    ``metrics(records)`` turns the result records of this type into named figures.
    ``needs_copilot()`` says whether the run needs a :class:`Copilot` (built from ``shop``).
    ``judged`` types are handed to the ``judges`` of :func:`run_suite`.
    """

    name: str
    validate: Callable[[dict[str, Any]], None]
    run: Callable[[dict[str, Any], EvalContext], dict[str, Any]]
    metrics: Callable[[list[dict[str, Any]]], dict[str, float]]
    needs_copilot: Callable[[], bool] = lambda: False
    judged: bool = False


CASE_TYPES: dict[str, CaseType] = {}


def register_case_type(case_type: CaseType) -> CaseType:
    """Add (or replace) a case type; its metrics are reported after the built-in types'."""
    CASE_TYPES[case_type.name] = case_type
    return case_type


def infer_case_type(case: Mapping[str, Any]) -> str:
    """The case's ``type``; a case without one but with ``text`` and ``escalate`` (the shape of
    ``../shared/evaldata/emotion``) is an emotion case. Raises ValueError otherwise."""
    kind = case.get("type")
    if kind is None:
        if "escalate" in case and "text" in case:
            return "emotion"
        raise ValueError("missing 'type' (and no 'text' + 'escalate' to read it as emotion)")
    if kind not in CASE_TYPES:
        raise ValueError(f"unknown case type {kind!r} (known: {', '.join(CASE_TYPES)})")
    return str(kind)


# -- the built-in case types ---------------------------------------------------------------------
def _run_answer(case: dict[str, Any], ctx: EvalContext) -> dict[str, Any]:
    answer = ctx.copilot.answer(case["question"], case.get("history"))
    return {
        "input": case["question"],
        "expect": case.get("expect") or {},
        "decision": answer.decision,
        "confidence": round(float(answer.confidence), 4),
        "text": answer.text,
        "sources": list(dict.fromkeys(c.source for c in answer.citations)),
        # The confidence is the calibrated one (a match was weighed), not a rule's 0 or 1.
        "calibrated": bool(answer.citations),
        "failures": ev.check_answer_case(case, answer),
    }


def _run_emotion(case: dict[str, Any], ctx: EvalContext) -> dict[str, Any]:
    from ..emotion._flag import emotion_flag

    flag = emotion_flag(
        case["text"],
        case.get("context"),
        extra_keywords=ctx.escalation_keywords,
        rules=ctx.emotion_rules,
    )
    escalate, emotion = ev.emotion_expectation(case)
    return {
        "input": case["text"],
        "expect": {"escalate": escalate, **({"emotion": emotion} if emotion else {})},
        "escalate": bool(flag.escalate),
        "emotion": str(flag.emotion),
        "score": float(flag.score),
        "signals": [str(s) for s in flag.signals],
        "failures": ev.check_emotion_case(case, bool(flag.escalate), str(flag.emotion)),
    }


def _run_reply(case: dict[str, Any], ctx: EvalContext) -> dict[str, Any]:
    record: dict[str, Any] = {
        "input": ev.last_customer_text(case["conversation"]),
        "expect": case.get("expect") or {},
        "text": "",
        "sources": [],
        "lint": [],
        "lint_passed": False,
    }
    suggest = getattr(ctx.copilot, "suggest_reply", None)
    if suggest is None:
        if REPLY_UNAVAILABLE not in ctx.notes:
            ctx.notes.append(f"{REPLY_UNAVAILABLE}: reply cases are recorded as failed")
        return {**record, "failures": [REPLY_UNAVAILABLE]}
    drafts = list(suggest(case["conversation"], draft=case.get("draft"), n=1) or [])
    if not drafts:
        return {**record, "failures": ["suggest_reply returned no draft"]}
    draft = drafts[0]
    text = str(getattr(draft, "text", ""))
    sources = list(dict.fromkeys(c.source for c in getattr(draft, "citations", None) or []))
    lint = [ev.issue_text(i) for i in getattr(draft, "lint", None) or []]
    failures = ev.check_reply_text(case, text, sources) + [f"lint: {m}" for m in lint]
    return {
        **record,
        "text": text,
        "sources": sources,
        "lint": lint,
        "lint_passed": not lint,
        "failures": failures,
    }


def _suggest_reply_available() -> bool:
    from .._copilot import Copilot

    return hasattr(Copilot, "suggest_reply")


register_case_type(
    CaseType(
        "answer",
        ev.validate_answer_case,
        _run_answer,
        ev.answer_result_metrics,
        needs_copilot=lambda: True,
        judged=True,
    )
)
register_case_type(CaseType("emotion", ev.validate_emotion_case, _run_emotion, ev.emotion_metrics))
register_case_type(
    CaseType(
        "reply",
        ev.validate_reply_case,
        _run_reply,
        ev.reply_metrics,
        needs_copilot=_suggest_reply_available,
        judged=True,
    )
)
register_case_type(
    CaseType(
        "grounding",
        validate_grounding_case,
        run_grounding_case,
        grounding_metrics,
        needs_copilot=lambda: True,
    )
)
RETRIEVAL_METRICS = ("mrr@10", "recall@1", "recall@5", "recall@10", "ndcg@10")


# -- running -------------------------------------------------------------------------------------
@contextmanager
def _progress(progress: bool | Progress | None) -> Iterator[Progress | None]:
    if progress is True:
        from ..present._console import rich_progress

        with rich_progress() as callback:
            yield callback
    else:
        yield progress or None


def run_suite(
    suite: str | Path,
    *,
    copilot: Any = None,
    shop: str | Path | None = None,
    index_dir: str | Path | None = None,
    strict: bool = False,
    progress: bool | Progress = False,
    judges: Sequence[Judge] = (),
    **copilot_options: Any,
) -> EvalResult:
    """Run an eval suite and return every case's outcome with the suite's metrics.

    ``suite`` is a JSONL file of cases (contract section 2; types may be mixed) or a retrieval
    directory. Answer (and reply) cases need a copilot: ``copilot``, or one built from ``shop``
    (``index_dir`` and ``copilot_options`` such as ``embed_model="none"`` are passed to
    :class:`Copilot`) and ingested incrementally first. Malformed lines are collected in
    ``.errors`` (with file and line) and skipped; with ``strict`` the first one raises
    :class:`EvalError`. ``judges`` score the outputs of answer and reply cases; their mean
    scores join the metrics as ``judge.<name>``. Cases keep the suite's order; the same inputs
    give the same result.
    """
    path = Path(suite)
    if path.is_dir():
        return _run_retrieval(path, str(suite), copilot, strict, progress, copilot_options)
    rows, errors = ev.read_suite_lines(path)
    cases: list[tuple[CaseType, dict[str, Any]]] = []
    for line, case in rows:
        try:
            case_type = CASE_TYPES[infer_case_type(case)]
            case_type.validate(case)
            cases.append((case_type, case))
        except ValueError as exc:
            errors.append(EvalError(str(exc), path=str(path), line=line))
    errors.sort(key=lambda e: e.line or 0)
    if strict and errors:
        raise errors[0]
    if not cases:
        detail = f"{len(errors)} malformed lines, first: {errors[0]}" if errors else "it is empty"
        raise EvalError(f"no usable cases ({detail})", path=str(path))
    ctx = EvalContext()
    if copilot is None and any(t.needs_copilot() for t, _ in cases):
        copilot = _build_copilot(shop, index_dir, progress, copilot_options, ctx.notes)
    ctx.copilot = copilot
    config = _shop_config(copilot, shop)
    ctx.escalation_keywords = tuple(getattr(config, "escalation_keywords", None) or ())
    rule_set = getattr(config, "rule_set", None)  # a stand-in copilot may have a bare config
    ctx.emotion_rules = rule_set("emotion") if callable(rule_set) else None
    records = []
    try:
        with _progress(progress) as tick:
            for done, (case_type, case) in enumerate(cases, start=1):
                records.append(_run_case(case_type, case, ctx, judges))
                if tick is not None:
                    tick("eval", done, len(cases))
    finally:
        for close in reversed(ctx.closers):
            close()
    return EvalResult(
        suite=str(suite),
        n=len(records),
        metrics=_metrics(records),
        cases=records,
        errors=errors,
        notes=ctx.notes,
        calibration=answer_calibration(records),
    )


def answer_calibration(records: Sequence[Mapping[str, Any]], bins: int = 10) -> dict[str, Any]:
    """The reliability of answer confidence: per confidence bin, the answers whose confidence
    was calibrated (a match was weighed, no rule decided) and the share that was right. Right:
    an answer sent or drafted that passed; a handoff where only a handoff was acceptable is a
    wrong answer not sent (whether a handed-off answerable question would have been answered
    right is not known, so those are left out). ``ece``: the expected calibration error."""
    from ..answer._calibration import reliability

    confidences: list[float] = []
    right: list[int] = []
    for r in records:
        if r.get("type") != "answer" or not r.get("calibrated"):
            continue
        handoff_only = ev._as_list((r.get("expect") or {}).get("decision")) == ["handoff"]
        if r.get("decision") != "handoff":
            confidences.append(float(r["confidence"]))
            right.append(int(bool(r["passed"]) and not handoff_only))
        elif handoff_only:
            confidences.append(float(r["confidence"]))
            right.append(0)
    if not confidences:
        return {}
    table = reliability(confidences, right, bins)
    ece = sum(b["n"] * abs(b["confidence"] - b["accuracy"]) for b in table) / len(confidences)
    return {"n": len(confidences), "ece": round(ece, 4), "bins": table}


def _build_copilot(
    shop: str | Path | None,
    index_dir: str | Path | None,
    progress: bool | Progress,
    options: dict[str, Any],
    notes: list[str],
) -> Any:
    if shop is None:
        raise EvalError(
            "answer and reply cases need a shop's knowledge: pass --shop SHOP_DIR "
            "(in Python: run_suite(..., shop=...) or copilot=...)"
        )
    from .._copilot import Copilot

    copilot = Copilot(shop, index_dir=index_dir, **options)
    copilot.ingest(progress=progress)
    mode = "hybrid (BM25 + dense)" if copilot.retriever.dense else "lexical (BM25)"
    problem = copilot.embedding_problem
    notes.append(f"retrieval: {mode}" + (f" — {problem}" if problem else ""))
    return copilot


def _shop_config(copilot: Any, shop: str | Path | None) -> Any:
    """The shop's configuration: the copilot's, else read from ``shop``, else None."""
    config = getattr(copilot, "shop", None)
    if config is None and shop is not None:
        from ..config._shop import load_shop_config

        config = load_shop_config(Path(shop))
    return config


def _run_case(
    case_type: CaseType, case: dict[str, Any], ctx: EvalContext, judges: Sequence[Judge]
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": case["id"], "type": case_type.name}
    try:
        details = case_type.run(case, ctx)
    except Exception as exc:  # a report: one broken case must not stop the others
        message = f"error: {type(exc).__name__}: {exc}"
        details = {"expect": case.get("expect") or {}, "failures": [message], "error": message}
    failures = [str(f) for f in details.pop("failures", [])]
    record.update(passed=not failures, **details, failures=failures)
    if judges and case_type.judged and "error" not in record:
        scores: dict[str, float] = {}
        for judge in judges:
            try:
                scores.update({str(k): float(v) for k, v in judge(case, record).items()})
            except Exception as exc:  # a judge's failure is reported, not fatal
                record.setdefault("judge_errors", []).append(f"{type(exc).__name__}: {exc}")
        record["judge"] = scores
    return record


def _metrics(records: list[dict[str, Any]]) -> dict[str, float]:
    per_type = {
        name: case_type.metrics(rows)
        for name, case_type in CASE_TYPES.items()
        if (rows := [r for r in records if r["type"] == name])
    }
    counts: dict[str, int] = {}
    for figures in per_type.values():
        for key in figures:
            counts[key] = counts.get(key, 0) + 1
    metrics = {
        (f"{name}.{key}" if counts[key] > 1 else key): round(value, 6)
        for name, figures in per_type.items()
        for key, value in figures.items()
    }
    judged = sorted({k for r in records for k in r.get("judge", {})})
    for key in judged:
        values = [r["judge"][key] for r in records if key in r.get("judge", {})]
        metrics[f"judge.{key}"] = round(sum(values) / len(values), 6)
    return metrics


def _run_retrieval(
    path: Path,
    label: str,
    copilot: Any,
    strict: bool,
    progress: bool | Progress,
    options: dict[str, Any],
) -> EvalResult:
    corpus, queries, qrels, errors = ev.read_retrieval_lines(path, strict=strict)
    embedder, problem = ev.retrieval_embedder(copilot, options)
    mode = f"hybrid (BM25 + {embedder.name})" if embedder else "lexical (BM25)"
    notes = [f"retrieval: {mode}" + (f" — {problem}" if problem else "")]
    judged = [q for q in queries if any(v > 0 for v in qrels.get(str(q["id"]), {}).values())]
    if len(judged) < len(queries):
        notes.append(f"{len(queries) - len(judged)} queries without a relevant doc not scored")
    if not judged:
        raise EvalError("no query has a relevant document in qrels.jsonl", path=str(path))
    with _progress(progress) as tick:
        ranked = ev.rank_retrieval(
            corpus,
            judged,
            embedder=embedder,
            progress=(lambda d, t: tick("retrieve", d, t)) if tick else None,
        )
    cases = []
    for q in judged:
        qid = str(q["id"])
        relevant = [d for d, v in qrels[qid].items() if v > 0]
        top = ranked[qid]
        rank = next((i for i, d in enumerate(top, start=1) if d in relevant), None)
        cases.append(
            {
                "id": q["id"],
                "type": "retrieval",
                "passed": rank is not None,
                "input": str(q["text"]),
                "expect": {"relevant": relevant},
                "rank": rank,
                "retrieved": top,
                "failures": [] if rank else [f"no relevant document in the top {len(top)}"],
            }
        )
    metrics = ev.retrieval_metrics(ranked, qrels)
    return EvalResult(
        suite=label,
        n=len(cases),
        metrics={k: round(metrics[k], 6) for k in RETRIEVAL_METRICS},
        cases=cases,
        errors=errors,
        notes=notes,
    )


# -- results -------------------------------------------------------------------------------------
@dataclass
class EvalResult:
    """One run of a suite: ``metrics``, ``cases`` (result records in suite order: ``id``,
    ``type``, ``passed``, ``failures`` and the type's details), ``errors`` (malformed lines,
    skipped) and ``notes`` (e.g. the retrieval mode used). JSON: contract section 3."""

    suite: str
    n: int
    metrics: dict[str, float]
    cases: list[dict[str, Any]]
    errors: list[EvalError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Answer suites: the reliability of confidence (:func:`answer_calibration`).
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.cases if not c["passed"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "n": self.n,
            "metrics": dict(self.metrics),
            "cases": self.cases,
            "errors": [ev.error_record(e) for e in self.errors],
            "notes": list(self.notes),
            **({"calibration": self.calibration} if self.calibration else {}),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def save(self, path: str | Path) -> Path:
        """Write the JSON atomically (a temporary file, then ``os.replace``)."""
        path = Path(path)
        try:
            ev.atomic_write(path, self.to_json() + "\n")
        except OSError as exc:
            raise EvalError(f"cannot write results: {exc}", path=str(path)) from None
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> EvalResult:
        try:
            cases = [dict(c) for c in data["cases"]]
            if not all("id" in c and isinstance(c.get("passed"), bool) for c in cases):
                raise ValueError("every case needs 'id' and a boolean 'passed'")
            metrics = {str(k): float(v) for k, v in dict(data["metrics"]).items()}
            errors = [
                EvalError(str(e.get("message", "")), path=e.get("path"), line=e.get("line"))
                for e in data.get("errors") or []
            ]
            return cls(
                suite=str(data["suite"]),
                n=int(data["n"]),
                metrics=metrics,
                cases=cases,
                errors=errors,
                notes=[str(n) for n in data.get("notes") or []],
                calibration=dict(data.get("calibration") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EvalError(f"not an eval result: {exc}", path=path) from None

    @classmethod
    def load(cls, path: str | Path) -> EvalResult:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise EvalError(f"cannot read eval result: {exc}", path=str(path)) from None
        if not isinstance(data, dict):
            raise EvalError("not an eval result: expected a JSON object", path=str(path))
        return cls.from_dict(data, path=str(path))

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per case (nested keys dotted, lists joined), e.g. for pandas."""
        records = []
        for case in self.cases:
            out: dict[str, Any] = {}
            ev.flatten_record("", case, out)
            records.append(out)
        return records

    def _repr_html_(self) -> str:
        from ..present._evals import result_html

        return result_html(self)

    def __rich__(self) -> Any:
        from ..present._evals import result_renderable

        return result_renderable(self)
