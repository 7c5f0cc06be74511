"""Fit the typed answer's row ranker (``answer/_rows.py``) on the dev shops' answer, pre-sales
and reply suites and write ``src/kefu_copilot/data/row_model.json``.

usage: python scripts/train_row_model.py [--index DIR] [--cache FILE] [--no-write]

Each case naming strings a right answer quotes (``contains``) whose typed answer (the typed
catalogue, :mod:`kefu_copilot.answer._attributes`) would list several rows of a table — the
question names none of them alone — gives a group: those rows, a row labelled right when its
text (its cells) holds one of the ``contains`` strings and none of the ``not_contains`` ones.
Groups with no right row, or only right ones, say nothing of which row to read and are left
out. A conditional logit is fitted (``train_quote_model.fit``). The threshold (the probability
the top row must reach to be read alone) is chosen on the leave-one-shop-out probabilities:
the lowest at which (and above which) reading the top row turns no group from right to wrong
— listing every row is right today when no row's text holds a ``not_contains`` string. Printed: per threshold, the groups read
alone, right and wrong, and those that gain and lose against listing every row, the model
fitted leave-one-shop-out. The model written is fitted on every dev shop and the sample
shop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from fitting import case_turn, suite_cases, write_model
from train_quote_model import fit, load_groups, matrix

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT.parent / "shared/models/w2v-zh-synonyms-100d"
OUT = ROOT / "src/kefu_copilot/data/row_model.json"
SUITES = ("answer", "reply", "presales")
STEPS, L2 = 2000, 0.01
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


class _Recorder:
    """Reads no row, and keeps the features it was asked to choose from."""

    def __init__(self) -> None:
        self.features: list[dict[str, float]] | None = None

    def choose(self, features):  # type: ignore[no-untyped-def]
        self.features = list(features)
        return None


def groups_of(shop: str, index_root: Path) -> list[dict]:
    from kefu_copilot import Copilot
    from kefu_copilot.answer._attributes import Attributes
    from kefu_copilot.text._normalize import normalize

    shop_dir = ROOT / "knowledge" if shop == "sample" else ROOT / "evals/shops" / shop / "shop"
    copilot = Copilot(shop_dir, index_dir=index_root / shop, embed_model=str(MODEL))
    copilot.ingest()
    answerer, _ = copilot._generation()
    attributes = answerer._catalog_answers().attributes
    recorder = _Recorder()
    attributes.row_choice = recorder
    seen: list[tuple[list[dict[str, float]], list[str]]] = []
    original = Attributes._row_read

    def recording(self, norm, previous, title, rows, columns, read, covered):  # type: ignore[no-untyped-def]
        recorder.features = None
        original(self, norm, previous, title, rows, columns, read, covered)
        if recorder.features is not None:
            texts = [" ".join(str(c) for c in rows[i][1]) for i in read]
            seen.append((recorder.features, texts))

    Attributes._row_read = recording  # type: ignore[method-assign]
    out = []
    try:
        for suite, case in suite_cases(shop, SUITES):
            expect = case.get("expect") or {}
            wants = [normalize(str(c)) for c in expect.get("contains") or []]
            unwanted = [normalize(str(c)) for c in expect.get("not_contains") or []]
            if not wants:
                continue
            turn = case_turn(suite, case)
            if turn is None:
                continue
            question, history = turn
            question = copilot._clean_question(question)
            if answerer._ruled(question, history) is not None:
                continue
            query = answerer.read(question, history)
            if not query.terms and not query.products:
                continue
            seen.clear()
            answerer._typed(query, history)
            for features, texts in seen:
                labels = [_right(normalize(t), wants, unwanted) for t in texts]
                if not any(labels) or all(labels):
                    continue
                listed = " ".join(normalize(t) for t in texts)
                out.append({
                    "shop": shop, "suite": suite, "id": case["id"], "question": question,
                    "features": features, "labels": labels, "texts": texts,
                    "today": not any(u and u in listed for u in unwanted),
                })  # fmt: skip
    finally:
        Attributes._row_read = original  # type: ignore[method-assign]
    return out


def _right(norm: str, wants: list[str], unwanted: list[str]) -> bool:
    """A row a right answer reads: it holds a ``contains`` string and no ``not_contains``."""
    return any(w and w in norm for w in wants) and not any(u and u in norm for u in unwanted)


def top_row(group: dict, names: list[str], w: np.ndarray) -> tuple[int, float]:
    xs = np.array([[f.get(n, 0.0) for n in names] for f in group["features"]])
    s = xs @ w
    p = np.exp(s - s.max())
    p /= p.sum()
    top = sorted(range(len(s)), key=lambda i: (-p[i], i))[0]
    return top, float(p[top])


def choose_threshold(groups: list[dict], tops: dict[int, tuple[int, float]]) -> float:
    print("threshold  read  right  wrong  gained  lost (leave-one-shop-out, against listing all)")
    chosen, safe, lines = THRESHOLDS[-1], True, []
    for t in reversed(THRESHOLDS):
        read = [i for i, (_, p) in tops.items() if p >= t]
        right = [i for i in read if groups[i]["labels"][tops[i][0]]]
        gained = sum(not groups[i]["today"] for i in right)
        lost = sum(groups[i]["today"] for i in read if i not in right)
        lines.append(f"{t:9.2f} {len(read):5d} {len(right):6d} {len(read) - len(right):6d} "
                     f"{gained:7d} {lost:5d}")  # fmt: skip
        safe = safe and lost == 0
        if safe:
            chosen = t
    print("\n".join(reversed(lines)))
    return chosen


def main(args: list[str]) -> None:
    groups = load_groups(args, groups_of)
    names = sorted({k for g in groups for f in g["features"] for k in f})
    n = len(groups)
    print(f"{n} groups (case × table), {len({g['shop'] for g in groups})} shops")
    tops: dict[int, tuple[int, float]] = {}
    for shop in sorted({g["shop"] for g in groups}):
        w = fit(matrix([g for g in groups if g["shop"] != shop], names), len(names), STEPS, L2)
        tops.update({i: top_row(g, names, w) for i, g in enumerate(groups) if g["shop"] == shop})
    right = sum(groups[i]["labels"][top] for i, (top, _) in tops.items())
    print(f"top row right (leave-one-shop-out): {right}/{n}; listing every row right today: "
          f"{sum(g['today'] for g in groups)}/{n}")  # fmt: skip
    threshold = choose_threshold(groups, tops)
    print(f"threshold {threshold}")
    w = fit(matrix(groups, names), len(names), STEPS, L2)
    weights = {n_: round(float(v), 4) for n_, v in zip(names, w, strict=True)}
    print(json.dumps(weights, ensure_ascii=False), flush=True)
    if "--no-write" not in args:
        write_model(
            OUT,
            "typed answer's row ranker (answer/_rows.py); refit by scripts/train_row_model.py",
            groups=n,
            threshold=threshold,
            weights=weights,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
