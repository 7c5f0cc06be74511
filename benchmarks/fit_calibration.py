"""Fit the answer calibrator (``src/kefu_copilot/data/calibration.json``) across several shops.

    python benchmarks/fit_calibration.py --embed-model /work/shared/models/w2v-zh-synonyms-100d

Shops: the sample shop (``knowledge/`` + ``evals/answer.jsonl``), the benchmark's synthetic shop
(``benchmarks/corpus.py``, its questions and answering sources) and the six DEV blind shops
(``DEV_SHOPS``: ``evals/shops/<s>/answer.jsonl`` and ``presales.jsonl``). The held-out blind shops
are never read. Typed catalogue answers (a size, an attribute's value) are left out: their
confidence is set by what they checked, not by this model. Each question that reaches a decision (no message rule fired, some knowledge
matched) gives one row: the decision's measures (:meth:`Answerer.features`) and whether the
proposed answer is right (the case's expectations hold for it sent as is; a case that expects
only a handoff or a draft is never right to send).

Reported: leave-one-shop-out (each shop scored by a model fitted on the others), the thresholds
chosen on those out-of-shop predictions (auto: the lowest confidence from which precision stays
≥ 0.98 pooled and on every shop; draft: below it 95 % of the should-not-answer questions fall),
and the reliability table. The model written is fitted on every shop.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import generate_shop

from kefu_copilot import Copilot
from kefu_copilot._models import Message
from kefu_copilot.answer._calibration import FEATURES, fit_logistic, reliability
from kefu_copilot.evals._suite import _as_list, check_answer_case, read_suite

PRECISION = 0.98
HANDOFF_RECALL = 0.95
DEV_SHOPS = ("apparel", "digital", "cosmetics", "food", "home", "sports")


def _rows(copilot: Copilot, cases: list[dict[str, Any]], shop: str) -> list[dict[str, Any]]:
    answerer, _ = copilot._generation()
    rows = []
    for case in cases:
        history = [Message(role=t["role"], text=t["text"]) for t in case.get("history") or []]
        prepared = answerer.prepare(case["question"], history)
        if prepared.ruled or not prepared.candidates or prepared.query is None:
            continue
        if prepared.candidates[0].basis == "typed":
            continue  # a typed catalogue answer: its confidence is not the calibrator's
        proposal = answerer.propose(case["question"], prepared.candidates)
        accepted = _as_list((case.get("expect") or {}).get("decision"))
        if "judge" in case:
            right = case["judge"](proposal)
        elif accepted and "auto" not in accepted:
            right = False
        else:
            right = not check_answer_case(case, proposal)
        rows.append(
            {
                "shop": shop,
                "id": case["id"],
                "question": case["question"],
                "handoff_only": accepted == ["handoff"],
                "answerable": "auto" in accepted or not accepted,
                "features": answerer.features(prepared.query, prepared.candidates),
                "right": int(right),
            }
        )
    return rows


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


def _collect(embed_model: str | None, tmp: Path) -> list[dict[str, Any]]:
    options = {"embed_model": embed_model} if embed_model else {"embed_model": "none"}
    shops: list[tuple[str, Path, list[dict[str, Any]]]] = [
        ("sample", ROOT / "knowledge", read_suite(ROOT / "evals" / "answer.jsonl")[0])
    ]
    for name in DEV_SHOPS:
        base = ROOT / "evals" / "shops" / name
        cases = [c for f in ("answer", "presales") for c in read_suite(base / f"{f}.jsonl")[0]]
        shops.append((name, base / "shop", [c for c in cases if c.get("type") == "answer"]))
    bench = tmp / "bench-shop"
    shops.append(("synthetic", bench, _bench_cases(bench)))
    rows = []
    for name, shop_dir, cases in shops:
        copilot = Copilot(shop_dir, index_dir=tmp / f"idx-{name}", **options)
        copilot.ingest()
        found = _rows(copilot, cases, name)
        print(f"{name}: {len(cases)} cases, {len(found)} reach a decision", file=sys.stderr)
        rows += found
    return rows


def _precision(rows: list[dict[str, Any]], p: list[float], t: float) -> tuple[float, int]:
    sent = [r["right"] for r, q in zip(rows, p, strict=True) if q >= t]
    return (sum(sent) / len(sent) if sent else 1.0), len(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embed-model", default=None)
    parser.add_argument("--rows", default=None, help="read/write the collected rows here")
    parser.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/calibration.json"))
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()
    if args.rows and Path(args.rows).exists():
        rows = json.loads(Path(args.rows).read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = _collect(args.embed_model, Path(tmp))
        if args.rows:
            Path(args.rows).write_text(json.dumps(rows, ensure_ascii=False))
    shops = sorted({r["shop"] for r in rows})
    out_of_shop: dict[int, float] = {}
    for shop in shops:
        train = [r for r in rows if r["shop"] != shop]
        model = fit_logistic([r["features"] for r in train], [r["right"] for r in train], l2=args.l2)
        for i, r in enumerate(rows):
            if r["shop"] == shop:
                out_of_shop[i] = model.probability(r["features"])
    p = [out_of_shop[i] for i in range(len(rows))]
    # auto: the lowest threshold from which precision stays >= PRECISION, pooled and per shop
    candidates = sorted({round(x, 4) for x in p} | {1.0})
    auto = 1.0
    for t in reversed(candidates):
        ok = _precision(rows, p, t)[0] >= PRECISION and all(
            _precision(
                [r for r in rows if r["shop"] == s], [q for r, q in zip(rows, p, strict=True) if r["shop"] == s], t
            )[0]
            >= PRECISION
            for s in shops
        )
        if not ok:
            break
        auto = t
    unanswerable = sorted(q for r, q in zip(rows, p, strict=True) if r["handoff_only"])
    at = int(HANDOFF_RECALL * len(unanswerable))
    draft = min(auto, unanswerable[at] if at < len(unanswerable) else 1.0) if unanswerable else auto
    per_shop = []
    for s in shops:
        idx = [i for i, r in enumerate(rows) if r["shop"] == s]
        sub, q = [rows[i] for i in idx], [p[i] for i in idx]
        precision, sent = _precision(sub, q, auto)
        answerable = [(r, x) for r, x in zip(sub, q, strict=True) if r["answerable"] and r["right"]]
        handoff = [(r, x) for r, x in zip(sub, q, strict=True) if r["handoff_only"]]
        per_shop.append(
            {
                "shop": s,
                "rows": len(sub),
                "right": sum(r["right"] for r in sub),
                "auto": sent,
                "auto_precision": round(precision, 4),
                "right_answers_sent_auto": round(
                    sum(x >= auto for _, x in answerable) / len(answerable), 4
                )
                if answerable
                else None,
                "unanswerable_handed_off": round(
                    sum(x < draft for _, x in handoff) / len(handoff), 4
                )
                if handoff
                else None,
            }
        )
    final = fit_logistic([r["features"] for r in rows], [r["right"] for r in rows], l2=args.l2)
    report = {
        "shops": shops,
        "rows": len(rows),
        "auto_threshold": auto,
        "draft_threshold": round(draft, 4),
        "target_precision": PRECISION,
        "leave_one_shop_out": per_shop,
        "reliability_leave_one_shop_out": reliability(p, [r["right"] for r in rows]),
        "reliability_in_sample": reliability(
            [final.probability(r["features"]) for r in rows], [r["right"] for r in rows]
        ),
    }
    data = {
        "_doc": "The answer calibrator (answer/_calibration.py), fitted by "
        "benchmarks/fit_calibration.py across the shops in report.shops; report holds the "
        "leave-one-shop-out figures and the thresholds chosen for auto precision >= 0.98.",
        **final.to_dict(),
        "report": report,
    }
    assert list(final.features) == list(FEATURES)
    Path(args.out).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
