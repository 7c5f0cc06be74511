"""Fit the extractive answer's line ranker (``answer/_quoting.py``) on the dev shops' answer,
reply and pre-sales suites and write ``src/kefu_copilot/data/answer_quote_model.json``.

usage: python scripts/train_answer_quote_model.py [--index DIR] [--cache FILE] [--no-write]
       [--no-loso]

Each case naming the files a right answer cites (``sources``) and strings it quotes
(``contains``), answered from retrieval (not a message rule, not the typed catalogue), gives a
group when the best chunk's file is one it names: the candidate lines of that file's quoted
chunks (:meth:`Answerer.quote_lines`), a line labelled right when it holds one of the
``contains`` strings and none of the ``not_contains`` ones. Groups with no right line, or only
right ones, say nothing of which line to quote and are left out. A conditional logit is fitted
(``train_quote_model.fit``, the pre-sales ranker's). Printed: the share of groups whose quote
holds a right line — today's (the best chunk's best sentences by coverage) against the
model's (its top line; today's quote where that line is in it), the model fitted
leave-one-shop-out on the dev shops. The model written is fitted on every dev shop and the
sample shop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from fitting import case_turn, suite_cases, write_model
from train_quote_model import fit, load_groups, matrix

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT.parent / "shared/models/w2v-zh-synonyms-100d"
OUT = ROOT / "src/kefu_copilot/data/answer_quote_model.json"
SUITES = ("answer", "reply", "presales")
STEPS, L2 = 3000, 0.002  # the pull towards zero: .05 (the pre-sales ranker's) underfits here


def groups_of(shop: str, index_root: Path) -> list[dict]:
    from kefu_copilot import Copilot
    from kefu_copilot.text._normalize import normalize

    shop_dir = ROOT / "knowledge" if shop == "sample" else ROOT / "evals/shops" / shop / "shop"
    copilot = Copilot(shop_dir, index_dir=index_root / shop, embed_model=str(MODEL))
    copilot.ingest()
    answerer, _ = copilot._generation()
    answerer.quote_ranker = None  # today's quote: the best chunk's best sentences
    out = []
    for suite, case in suite_cases(shop, SUITES):
        expect = case.get("expect") or {}
        wants = [normalize(str(c)) for c in expect.get("contains") or []]
        unwanted = [normalize(str(c)) for c in expect.get("not_contains") or []]
        sources = set(expect.get("sources") or [])
        if not wants or not sources:
            continue
        turn = case_turn(suite, case)
        if turn is None:
            continue
        question, history = turn
        if answerer._ruled(question, history) is not None:
            continue
        query = answerer.read(question, history)
        if not query.terms and not query.products:
            continue
        if answerer._typed(query, history)[0] is not None:
            continue
        measures = answerer._measure(query)
        candidates, focus = answerer._score(
            query, measures, answerer._retrieve(query), explain=False
        )
        if not candidates or candidates[0].hit.chunk.source not in sources:
            continue
        answerer._quote(candidates, query, measures, focus)
        lines = answerer.quote_lines(candidates, query, measures, focus)

        labels = [_right(normalize(line.text), wants, unwanted) for line in lines]
        if not any(labels) or all(labels):
            continue
        out.append({
            "shop": shop, "suite": suite, "id": case["id"], "question": question,
            "features": answerer.quote_features(query, candidates, lines),
            "labels": labels, "texts": [line.text for line in lines],
            "today_lines": [line.today and line.candidate == 0 for line in lines],
            "today": _right(normalize(candidates[0].text), wants, unwanted),
        })  # fmt: skip
    return out


def _right(norm: str, wants: list[str], unwanted: list[str]) -> bool:
    """A line a right answer quotes: it holds a ``contains`` string and no ``not_contains``."""
    return any(w and w in norm for w in wants) and not any(u and u in norm for u in unwanted)


def chosen_right(group: dict, names: list[str], w: np.ndarray) -> bool:
    """Whether the answer the model makes quotes a right line: today's quote when its top
    line is in it, else the top line alone."""
    xs = np.array([[f.get(n, 0.0) for n in names] for f in group["features"]])
    s = xs @ w
    top = sorted(range(len(s)), key=lambda i: (-s[i], i))[0]
    return bool(group["today"]) if group["today_lines"][top] else bool(group["labels"][top])


def main(args: list[str]) -> None:
    groups = load_groups(args, groups_of)
    names = sorted({k for g in groups for f in g["features"] for k in f})
    n = len(groups)
    print(f"{n} groups (case × quoted file), {len({g['shop'] for g in groups})} shops")
    w = fit(matrix(groups, names), len(names), STEPS, L2)
    weights = {n_: round(float(v), 4) for n_, v in zip(names, w, strict=True)}
    print(json.dumps(weights, ensure_ascii=False), flush=True)
    if "--no-write" not in args:
        write_model(
            OUT,
            "extractive answer's line ranker (answer/_quoting.py); refit by "
            "scripts/train_answer_quote_model.py",
            groups=n,
            weights=weights,
        )
    if "--no-loso" in args:
        return
    right: dict[int, bool] = {}  # each group: whether the model fitted without its shop is right
    for shop in sorted({g["shop"] for g in groups}):
        w = fit(matrix([g for g in groups if g["shop"] != shop], names), len(names), STEPS, L2)
        right.update(
            {i: chosen_right(g, names, w) for i, g in enumerate(groups) if g["shop"] == shop}
        )
    for suite in (None, *SUITES):
        part = [i for i, g in enumerate(groups) if suite is None or g["suite"] == suite]
        if part:
            print(
                f"{suite or 'all'} ({len(part)} groups): today's quote holds a right line "
                f"{sum(groups[i]['today'] for i in part) / len(part):.3f}, the model's "
                f"(leave-one-shop-out) {sum(right[i] for i in part) / len(part):.3f}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
