"""Fit the answer calibrator (``src/kefu_copilot/data/calibration.json``) across several shops.

    python benchmarks/fit_calibration.py --embed-model /work/shared/models/w2v-zh-synonyms-100d \
        --index-root /tmp/cal-idx --rows /tmp/cal-rows.json

Shops: the sample shop (``knowledge/`` + ``evals/answer.jsonl``) and the eighteen dev shops
(``evals/shops/<s>/answer.jsonl`` and the answer cases of ``presales.jsonl``; six until round
11, toys/instruments/health/fruit/ebike/lighting added in round 12, meddevice/liquor/smartlock/
fishing/garden/watch in round 14). The rows file also keeps, per case, the path that decided it
(``routes``: ``benchmarks/answer_routes.py`` reads it), why a typed answer is not sure and
whether it would pass sent as is, and the gate that held a retrieval answer back. The shops held
out from reading are left out of the fit too, so that their eval figures measure a calibrator
that never saw them (``--held-out`` adds four of them as fit data only — this script never
prints a case of theirs; ``--synthetic`` adds the benchmark's synthetic shop). Typed catalogue answers
(a size, an attribute's value) are left out: their confidence is set by what they checked, not
by this model. Each question that reaches a decision (no message rule fired, some knowledge
matched) gives one row: the decision's measures (:meth:`Answerer.features`), whether the
proposed answer is right (the case's expectations hold for it sent as is; a case that expects
only a handoff or a draft is never right to send), and whether a gate after the decision would
hold it back whatever its confidence (``gated``).

Reported: leave-one-shop-out (each shop scored by a model fitted on the others); the
precision/coverage curve of those out-of-shop predictions over the rows a threshold decides
(the ungated ones); the auto threshold chosen on them (:func:`choose_auto_threshold`: the most
right answers at precision ≥ 0.98, sending at least 20; else the same at 0.95); draft: below it
95 % of the should-not-answer questions fall; the reliability table.
The model written is fitted on every shop.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from corpus import generate_shop  # noqa: E402
from folds import dev_shops, trained_shops  # noqa: E402

from kefu_copilot import Copilot  # noqa: E402
from kefu_copilot._models import Message  # noqa: E402
from kefu_copilot.answer._calibration import (  # noqa: E402
    FEATURES,
    SUPPORT_THRESHOLDS,
    Calibrator,
    Decided,
    choose_auto_threshold,
    choose_draft_threshold,
    decided_cut,
    fit_logistic,
    reliability,
    threshold_cut,
)
from kefu_copilot.answer._extractive import TYPED_SURE  # noqa: E402
from kefu_copilot.evals._suite import _as_list, check_answer_case, read_suite  # noqa: E402

PRECISION = 0.98
#: The L2 penalties tried; the one with the least leave-one-shop-out log-loss is fitted (with
#: ~25 measures and a few hundred rows per shop, more shrinkage transfers better across shops).
L2_GRID = (1.0, 3.0, 10.0, 20.0, 30.0, 50.0, 100.0)
CURVE = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
DEV_SHOPS = dev_shops()  # evals/shops/folds.json
#: In-repo blind shops held out from reading (their cases and failures are never opened): fit
#: data only with ``--held-out``; by default they are left out so their figures stay blind.
HELD_OUT_SHOPS = trained_shops()


class _Sure:
    """A calibrator sure of everything: what is left of the decision is the gates after it."""

    def probability(self, values: Any) -> float:
        return 1.0


def _route(prepared: Any, advised: bool) -> str:
    """Which path decided a question: a message rule, nothing to look up, the typed catalogue
    (sure or not), the pre-sales advisor, or retrieval by the kind of the chunk quoted."""
    if prepared.ruled:
        return "rule"
    if not prepared.candidates or prepared.query is None:
        return "no match"
    if prepared.candidates[0].basis == "typed":
        return "typed sure" if prepared.extractive.confidence >= TYPED_SURE else "typed unsure"
    if advised:
        return "presales"
    return f"retrieval {prepared.candidates[0].hit.chunk.kind}"


def _rows(
    copilot: Copilot,
    cases: list[dict[str, Any]],
    shop: str,
    typed_rows: list[dict[str, Any]],
    routes: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per question that reaches a calibrated decision; the typed catalogue's answers
    go to ``typed_rows`` (not fitted), every case's route to ``routes``."""
    from kefu_copilot.presales._routing import presales_answer

    answerer, _ = copilot._generation()
    answerer.calibrator = _Sure()  # type: ignore[assignment]
    rows = []
    for case in cases:
        history = [Message(role=t["role"], text=t["text"]) for t in case.get("history") or []]
        prepared = answerer.prepare(case["question"], history)
        accepted = _as_list((case.get("expect") or {}).get("decision"))
        if routes is not None:
            reached = not prepared.ruled and prepared.candidates and prepared.query is not None
            advised = bool(reached) and (
                presales_answer(copilot.advisor(), prepared, explain=False) is not None
            )
            routes.append({"shop": shop, "id": case["id"], "route": _route(prepared, advised)})
        if prepared.ruled or not prepared.candidates or prepared.query is None:
            continue
        if prepared.candidates[0].basis == "typed":
            # a typed catalogue answer: its confidence is not the calibrator's, so it is not
            # fitted; kept for the end-to-end share of answerable questions sent as is
            typed = prepared.extractive
            advised = presales_answer(copilot.advisor(), prepared, explain=False) is not None
            typed_rows.append(
                {
                    "shop": shop,
                    "id": case["id"],
                    "answerable": "auto" in accepted or not accepted,
                    "auto": typed.decision == "auto" and not advised,
                    "right": int(typed.decision == "auto" and not check_answer_case(case, typed)),
                    # whether the typed answer would pass sent as is, sure or not, and why it
                    # is not sure (what a measure of the typed path could read)
                    "sure": typed.confidence >= TYPED_SURE,
                    "right_if_sent": int(
                        ("auto" in accepted or not accepted)
                        and not check_answer_case(
                            case, typed.model_copy(update={"decision": "auto"})
                        )
                    ),
                    "reasons": list(typed.reasons),
                }
            )
            continue
        proposal = answerer.propose(case["question"], prepared.candidates)
        if "judge" in case:
            right = case["judge"](proposal)
        elif accepted and "auto" not in accepted:
            right = False
        else:
            right = not check_answer_case(case, proposal)
        held = prepared.extractive.decision != "auto"
        presales = presales_answer(copilot.advisor(), prepared, explain=False) is not None
        draft = proposal.model_copy(update={"decision": "draft"})
        handoff = answerer._handoff(case["question"], [], proposal.citations, 0.0)
        rows.append(
            {
                "shop": shop,
                "id": case["id"],
                "question": case["question"],
                "handoff_only": accepted == ["handoff"],
                "answerable": "auto" in accepted or not accepted,
                # never sent as is whatever its confidence: a gate after the decision holds it
                # back (a size, health or payment question, a follow-up, several products, money
                # beyond the shop's limits) or the pre-sales advisor answers instead
                "gated": held or presales,
                "held": held,
                "presales": presales,
                # whether the case passes with the proposal as a draft / with a handoff: what
                # the draft threshold is chosen on (fit_draft_threshold)
                "draft_passes": "judge" not in case and not check_answer_case(case, draft),
                "handoff_passes": "judge" not in case and not check_answer_case(case, handoff),
                "features": answerer.features(prepared.query, prepared.candidates),
                "tried": answerer.tried_measures(prepared.query, prepared.candidates),
                "right": int(right),
                "text": proposal.text,
                "held_for": prepared.extractive.reasons[-1]
                if held and prepared.extractive.reasons
                else "",
            }
        )
    return rows


def _decided(row: dict[str, Any], probability: float) -> Decided:
    return Decided(
        probability=probability,
        support=float(row["features"]["support"]),
        held=bool(row["held"]),
        right=bool(row["right"]),
        draft_passes=bool(row["draft_passes"]),
        handoff_passes=bool(row["handoff_passes"]),
        handoff_only=bool(row["handoff_only"]),
    )


def _measures(row: dict[str, Any]) -> dict[str, float]:
    """A row's measures: the calibrator's and the ones tried and left out."""
    return {**row["features"], **(row.get("tried") or {})}


def _leave_one_shop_out(
    rows: list[dict[str, Any]],
    shops: list[str],
    l2: float,
    features: tuple[str, ...] = FEATURES,
) -> list[float]:
    """Each row's probability from a model fitted on the other shops' rows."""
    p = [0.0] * len(rows)
    for shop in shops:
        train = [_measures(r) for r in rows if r["shop"] != shop]
        labels = [r["right"] for r in rows if r["shop"] != shop]
        model = fit_logistic(train, labels, features=features, l2=l2)
        for i, r in enumerate(rows):
            if r["shop"] == shop:
                p[i] = model.probability(_measures(r))
    return p


def _nested_auto(
    rows: list[dict[str, Any]], p: list[float], shops: list[str]
) -> dict[str, tuple[float, list[int]]]:
    """Per shop, the auto threshold chosen on the other shops' out-of-shop predictions (so
    neither the model nor the threshold saw the shop) and the rows it sends as is."""
    out = {}
    live = [i for i, r in enumerate(rows) if not r.get("gated")]
    for shop in shops:
        others = [i for i in live if rows[i]["shop"] != shop]
        threshold, _ = choose_auto_threshold(
            [p[i] for i in others], [rows[i]["right"] for i in others], PRECISION
        )
        sent = [i for i in live if rows[i]["shop"] == shop and p[i] >= threshold]
        out[shop] = (threshold, sent)
    return out


#: Top-N of the out-of-shop ranking at which the wrong answers are counted (the ablation).
TOP_N = (40, 60, 80, 100, 130, 160, 200)


def _ablation(
    rows: list[dict[str, Any]], shops: list[str], l2: float, base: list[float]
) -> list[dict[str, Any]]:
    """What each measure tried and left out (:meth:`Answerer.tried_measures`) would change,
    added alone to the calibrator's: on how many shops the out-of-shop log-loss falls / rises,
    the answers sent as is at the target precision (nested thresholds) and the wrong answers
    among the N surest out-of-shop predictions."""
    tried = sorted({k for r in rows for k in r.get("tried") or {}})
    live = [i for i, r in enumerate(rows) if not r.get("gated")]

    def summary(p: list[float]) -> dict[str, Any]:
        per = {}
        for shop in shops:
            mine = [i for i, r in enumerate(rows) if r["shop"] == shop]
            per[shop] = _log_loss([p[i] for i in mine], [rows[i]["right"] for i in mine])
        nested = _nested_auto(rows, p, shops)
        sent = [i for _, ids in nested.values() for i in ids]
        order = sorted(live, key=lambda i: -p[i])
        # the thresholds as the fit chooses them, and the cases passing (drafts and handoffs)
        auto, _ = choose_auto_threshold(
            [p[i] for i in live], [rows[i]["right"] for i in live], PRECISION
        )
        decided = [_decided(r, q) for r, q in zip(rows, p, strict=True) if not r["presales"]]
        cut = decided_cut(decided, auto, choose_draft_threshold(decided, auto)[0])
        return {
            "per_shop": per,
            "log_loss": round(_log_loss(p, [r["right"] for r in rows]), 4),
            "sent": len(sent),
            "sent_right": sum(rows[i]["right"] for i in sent),
            "passed": cut["passed"],
            "handoff_recall": cut["handoff_recall"],
            "wrong_in_top": {n: sum(1 - rows[i]["right"] for i in order[:n]) for n in TOP_N},
        }

    reference = summary(base)
    out = [
        {"measure": "(the calibrator's)", **{k: v for k, v in reference.items() if k != "per_shop"}}
    ]
    for name in tried:
        found = summary(_leave_one_shop_out(rows, shops, l2, (*FEATURES, name)))
        per, ref = found.pop("per_shop"), reference["per_shop"]
        out.append(
            {
                "measure": name,
                "helps": sum(per[s] < ref[s] - 1e-4 for s in shops),
                "hurts": sum(per[s] > ref[s] + 1e-4 for s in shops),
                **found,
            }
        )
    return out


def _log_loss(p: list[float], labels: list[int]) -> float:
    return -sum(
        math.log(max(1e-9, q if y else 1.0 - q)) for q, y in zip(p, labels, strict=True)
    ) / len(labels)


def _bench_cases(root: Path) -> list[dict[str, Any]]:
    info = generate_shop(root, 900, seed=11, questions=500)
    cases = []
    for n, q in enumerate(info.questions):
        if q.kind == "handoff":
            cases.append({"id": f"b{n}", "question": q.text, "expect": {"decision": ["handoff"]}})
            continue

        def judge(answer: Any, q: Any = q) -> bool:
            return any(q.answered_by(c.source, c.locator) for c in answer.citations[:1])

        cases.append({"id": f"b{n}", "question": q.text, "expect": {}, "judge": judge})
    return cases


def _collect(
    embed_model: str | None, tmp: Path, blind: tuple[str, ...], synthetic: bool
) -> dict[str, Any]:
    """The rows of every shop, the typed answers' rows and each shop's number of answerable
    cases (those accepting an answer sent as is)."""
    options = {"embed_model": embed_model} if embed_model else {"embed_model": "none"}
    shops: list[tuple[str, Path, list[dict[str, Any]]]] = [
        ("sample", ROOT / "knowledge", read_suite(ROOT / "evals" / "answer.jsonl")[0])
    ]
    for name in blind:
        base = ROOT / "evals" / "shops" / name
        cases = [c for f in ("answer", "presales") for c in read_suite(base / f"{f}.jsonl")[0]]
        shops.append((name, base / "shop", [c for c in cases if c.get("type") == "answer"]))
    if synthetic:
        bench = tmp / "bench-shop"
        shops.append(("synthetic", bench, _bench_cases(bench)))
    rows: list[dict[str, Any]] = []
    typed: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    answerable: dict[str, int] = {}
    for name, shop_dir, cases in shops:
        index = tmp / f"idx-{name}"
        copilot = Copilot(shop_dir, index_dir=index, **options)
        copilot.ingest()
        found = _rows(copilot, cases, name, typed, routes)
        answerable[name] = sum(
            "auto" in (accepted := _as_list((c.get("expect") or {}).get("decision")))
            or not accepted
            for c in cases
        )
        print(f"{name}: {len(cases)} cases, {len(found)} reach a decision", file=sys.stderr)
        rows += found
    return {"rows": rows, "typed": typed, "routes": routes, "answerable": answerable}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embed-model", default=None)
    parser.add_argument("--rows", default=None, help="read/write the collected rows here")
    parser.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/calibration.json"))
    parser.add_argument(
        "--l2",
        type=float,
        default=None,
        help="the L2 penalty (default: the one of L2_GRID with the least leave-one-shop-out "
        "log-loss)",
    )
    parser.add_argument(
        "--index-root", default=None, help="keep the shops' indexes here between runs"
    )
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="fit on four held-out shops too (their eval figures then no longer measure a "
        "calibrator that never saw them)",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="add the benchmark's synthetic shop"
    )
    parser.add_argument(
        "--keep-model",
        action="store_true",
        help="report only: keep the model and thresholds of --out (the report says what a "
        "refit would choose); for a refit that is not adopted",
    )
    args = parser.parse_args()
    if args.rows and Path(args.rows).exists():
        collected = json.loads(Path(args.rows).read_text())
    else:
        blind = DEV_SHOPS + HELD_OUT_SHOPS if args.held_out else DEV_SHOPS
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(args.index_root) if args.index_root else Path(tmp)
            collected = _collect(args.embed_model, root, blind, args.synthetic)
        if args.rows:
            Path(args.rows).write_text(json.dumps(collected, ensure_ascii=False))
    rows = collected["rows"]
    shops = sorted({r["shop"] for r in rows})
    labels = [r["right"] for r in rows]
    penalties = [args.l2] if args.l2 is not None else list(L2_GRID)
    losses = {l2: _log_loss(_leave_one_shop_out(rows, shops, l2), labels) for l2 in penalties}
    l2 = min(losses, key=lambda k: losses[k])
    p = _leave_one_shop_out(rows, shops, l2)
    # thresholds are chosen on the rows they decide: a gated row is never sent as is
    live = [i for i, r in enumerate(rows) if not r.get("gated")]
    live_rows, live_p = [rows[i] for i in live], [p[i] for i in live]
    auto, why = choose_auto_threshold(live_p, [r["right"] for r in live_rows], PRECISION)
    kept = Calibrator.from_dict(json.loads(Path(args.out).read_text())) if args.keep_model else None
    refit: dict[str, Any] = {}
    if kept is not None:
        refit = {"auto_threshold": auto, "auto_threshold_chosen_for": why}
        auto, why = (
            kept.report["auto_threshold"],
            "kept: " + kept.report["auto_threshold_chosen_for"],
        )
    # the draft threshold: on the rows a threshold decides (the pre-sales advisor answers the
    # others), the most cases passing at handoff recall >= support's; each shop's from the others
    decided: dict[str, list[Decided]] = {s: [] for s in shops}
    for r, q in zip(rows, p, strict=True):
        if not r["presales"]:
            decided[r["shop"]].append(_decided(r, q))
    pooled = [c for s in shops for c in decided[s]]
    draft, draft_why = choose_draft_threshold(pooled, auto)
    if kept is not None:
        refit |= {"draft_threshold": round(draft, 4), "draft_threshold_chosen_for": draft_why}
        draft = kept.report["draft_threshold"]
        draft_why = "kept: " + kept.report["draft_threshold_chosen_for"]
    nested_auto = _nested_auto(rows, p, shops)
    typed_rows, answerable = collected["typed"], collected["answerable"]
    per_shop = []
    for s in shops:
        sub = [(r, q) for r, q in zip(live_rows, live_p, strict=True) if r["shop"] == s]
        others = [c for o in shops if o != s for c in decided[o]]
        nested = choose_draft_threshold(others, auto)[0]
        threshold, sent = nested_auto[s]
        typed = [t for t in typed_rows if t["shop"] == s]
        typed_right = sum(t["right"] and t["answerable"] for t in typed)
        sent_right = sum(rows[i]["right"] and rows[i]["answerable"] for i in sent)
        per_shop.append(
            {
                "shop": s,
                "rows": sum(r["shop"] == s for r in rows),
                "decidable": len(sub),
                "right": sum(r["right"] for r, _ in sub),
                **threshold_cut([q for _, q in sub], [r["right"] for r, _ in sub], auto),
                # neither the model nor the threshold saw this shop
                "nested": {
                    "auto_threshold": threshold,
                    "auto": len(sent),
                    "auto_precision": round(sum(rows[i]["right"] for i in sent) / len(sent), 4)
                    if sent
                    else None,
                    # with the typed catalogue's answers: the share of the answerable cases
                    # sent as is and right, and the wrong ones sent as is
                    "typed_auto": sum(t["auto"] for t in typed),
                    "typed_wrong": sum(t["auto"] and not t["right"] for t in typed),
                    "answerable": answerable.get(s, 0),
                    "answerable_auto": round((typed_right + sent_right) / answerable[s], 4)
                    if answerable.get(s)
                    else None,
                },
                "draft_threshold_from_the_others": nested,
                "support": decided_cut(decided[s], *SUPPORT_THRESHOLDS, by_support=True),
                "calibrated": decided_cut(decided[s], auto, nested),
            }
        )
    final = kept or fit_logistic([r["features"] for r in rows], labels, l2=l2)
    report = {
        "shops": shops,
        "rows": len(rows),
        "l2": l2,
        "log_loss_leave_one_shop_out": {str(k): round(v, 5) for k, v in losses.items()},
        "decidable_rows": len(live),
        "auto_threshold": auto,
        "auto_threshold_chosen_for": why,
        "draft_threshold": round(draft, 4),
        "draft_threshold_chosen_for": draft_why,
        "support_thresholds": list(SUPPORT_THRESHOLDS),
        **({"refit_would_choose": refit} if refit else {}),
        "target_precision": PRECISION,
        "leave_one_shop_out": per_shop,
        "tried_measures": _ablation(rows, shops, l2, p),
        "curve_leave_one_shop_out": [
            threshold_cut(live_p, [r["right"] for r in live_rows], t) for t in CURVE
        ],
        "reliability_leave_one_shop_out": reliability(p, labels),
        "reliability_in_sample": reliability(
            [final.probability(r["features"]) for r in rows], labels
        ),
    }
    data = {
        "_doc": "The answer calibrator (answer/_calibration.py), fitted by "
        "benchmarks/fit_calibration.py across the shops in report.shops; report holds the "
        "leave-one-shop-out figures, the precision/coverage curve and the thresholds chosen.",
        **final.to_dict(),
        # a kept model was fitted on the rows of an earlier run: how many is said beside it
        "report": report
        if kept is None
        else {
            **report,
            "model_fitted_on_rows": kept.report.get("model_fitted_on_rows")
            or kept.report.get("rows"),
        },
    }
    assert list(final.features) == list(FEATURES)
    Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if "reliability" not in k}, indent=1))


if __name__ == "__main__":
    main()
