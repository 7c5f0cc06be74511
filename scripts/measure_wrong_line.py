"""Which code path picks the wrong line when an answer cites the right file: the dev shops'
failing answer and pre-sales cases that cite a file ``sources`` names yet miss a ``contains``
string (or hold a ``not_contains`` one), classified by the path that chose the quoted text.

usage: python scripts/measure_wrong_line.py RESULTS_DIR [SHOP ...] [--index DIR] [--show]

RESULTS_DIR holds ``<shop>-answer.json`` / ``<shop>-presales.json`` eval results (``kefu eval
--json``). Each such case is answered again (explain off) and put in one class:

- ``presales``: the pre-sales advisor answered (its own line ranker);
- ``rule``: a message rule answered;
- ``typed:listed``/``typed:one``/``typed:size``: the typed catalogue, listing every variant's
  value (no row chosen), stating one value (a row, a column or a fact chosen), or the size
  advisor;
- ``ranker:wrong``: retrieval; a right line was among the quote ranker's lines, it chose
  another;
- ``ranker:none``: retrieval; no right line among the ranker's lines, but the file holds one;
- ``clause``: every line of the cited files stating a right value states a wrong one too
  (two clauses of one sentence: the general rule and its exception, two variants);
- ``absent``: no chunk of the cited files holds a right line (the ``contains`` string is
  worded otherwise, or is the answer's framing).

Printed: counts per class and suite, and with ``--show`` each case."""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from folds import dev_shops

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT.parent / "shared/models/w2v-zh-synonyms-100d"


def _right(norm: str, wants: list[str], unwanted: list[str]) -> bool:
    return any(w and w in norm for w in wants) and not any(u and u in norm for u in unwanted)


def _failing(results: Path, shop: str) -> list[tuple[str, dict]]:
    out = []
    for suite in ("answer", "presales"):
        path = results / f"{shop}-{suite}.json"
        if not path.exists():
            continue
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            expect = case.get("expect") or {}
            if case["passed"] or (not expect.get("contains") and not expect.get("not_contains")):
                continue
            if not set(expect.get("sources") or []) & set(case.get("sources") or []):
                continue
            if not any("contain" in f for f in case.get("failures") or []):
                continue
            out.append((suite, case))
    return out


def classify(shop: str, cases: list[tuple[str, dict]], index_root: Path) -> list[dict]:
    from kefu_copilot import Copilot
    from kefu_copilot._models import Message
    from kefu_copilot.text._normalize import normalize

    base = ROOT / "evals" if shop == "sample" else ROOT / "evals/shops" / shop
    shop_dir = ROOT / "knowledge" if shop == "sample" else base / "shop"
    copilot = Copilot(shop_dir, index_dir=index_root / shop, embed_model=str(MODEL))
    copilot.ingest()
    answerer, _ = copilot._generation()
    raw = {}
    for suite in ("answer", "presales"):
        path = base / f"{suite}.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    c = json.loads(line)
                    raw[(suite, c["id"])] = c
    chunks = copilot._generation()[0].snapshot.chunks
    out = []
    for suite, result in cases:
        case = raw[(suite, result["id"])]
        expect = case["expect"]
        wants = [normalize(str(c)) for c in expect.get("contains") or []]
        unwanted = [normalize(str(c)) for c in expect.get("not_contains") or []]
        sources = set(expect.get("sources") or []) & set(result.get("sources") or [])
        history = [Message(**m) for m in case.get("history") or []]
        question = copilot._clean_question(case["question"])
        prepared = answerer.prepare(question, history, explain=False)
        in_file = any(
            c.source in sources and _right(normalize(c.text), wants, unwanted) for c in chunks
        )
        # the right value stated only beside a wrong one (one sentence, two clauses)
        beside = any(c.source in sources and _right(normalize(c.text), wants, []) for c in chunks)
        if copilot._presales(answerer, prepared, False) is not None:
            kind = "presales"
        elif prepared.ruled:
            kind = "rule"
        elif prepared.candidates and prepared.candidates[0].basis == "typed":
            reasons = " ".join(prepared.extractive.reasons)
            if "size" in reasons:
                kind = "typed:size"
            elif "；" in prepared.extractive.text:
                kind = "typed:listed"  # every variant's value: no row chosen
            else:
                kind = "typed:one"  # one value: a row, a column or a fact chosen
        else:
            query = answerer.read(question, history)
            measures = answerer._measure(query)
            candidates, focus = answerer._score(
                query, measures, answerer._retrieve(query), explain=False
            )
            lines = answerer.quote_lines(candidates, query, measures, focus) if candidates else []
            if any(_right(normalize(line.text), wants, unwanted) for line in lines):
                kind = "ranker:wrong"
            else:
                kind = "ranker:none" if in_file else "clause" if beside else "absent"
        if kind.startswith("typed") and not in_file:
            kind += "(absent)"
        out.append({
            "shop": shop, "suite": suite, "id": case["id"], "kind": kind,
            "question": case["question"], "text": result["text"][:120],
            "contains": expect.get("contains"), "decision": result["decision"],
        })  # fmt: skip
    return out


def main(args: list[str]) -> None:
    results = Path(args[0])
    shops = [a for a in args[1:] if not a.startswith("--") and not a.startswith("/")]
    shops = shops or [*dev_shops(), "sample"]
    allowed = set(dev_shops()) | {"sample"}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args[args.index("--index") + 1]) if "--index" in args else Path(tmp)
        for shop in shops:
            if shop not in allowed:
                raise SystemExit(f"{shop} is not a dev shop")
            cases = _failing(results, shop)
            if cases:
                rows += classify(shop, cases, root)
    counts = Counter((r["kind"], r["suite"]) for r in rows)
    for (kind, suite), n in sorted(counts.items()):
        print(f"{kind:22} {suite:9} {n}")
    print("total", len(rows))
    if "--show" in args:
        for r in sorted(rows, key=lambda r: r["kind"]):
            print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
