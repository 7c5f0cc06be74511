"""Fit the rewritten draft's policy line ranker (``reply/_policy_rank.py``) on the dev shops'
reply suites and write ``src/kefu_copilot/data/reply_policy_model.json``.

usage: python scripts/train_reply_policy_model.py [--index DIR] [--cache FILE] [--no-write]
       [--no-loso]

Each reply case naming strings the reply must say (``contains``) gives a group for every
policy choice the rewrite makes (``ReplyAdvisor.policy_log``, the rules choosing:
``policy_ranker = None``): the sentences of the passages the rules scored, a line labelled right
when it holds one of the ``contains`` strings and none of the ``not_contains`` ones, and comes
from a file the case names (``sources``) when it names any. Groups with no right line, or only
right ones, say nothing of which line to say and are left out. A conditional logit is fitted
(``train_quote_model.fit``). Printed: the share of groups whose policy holds a right line — the
rules' against the model's (its top line; the rules' choice where that line is in it), the model
fitted leave-one-shop-out on the dev shops. The model written is fitted on every dev shop and the
sample shop. The held-out shops are never read."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# one BLAS thread: the fit's small products are many times slower split across busy cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from fitting import write_model  # noqa: E402
from train_quote_model import load_groups, matrix  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT.parent / "shared/models/w2v-zh-synonyms-100d"
OUT = ROOT / "src/kefu_copilot/data/reply_policy_model.json"
STEPS, L2 = 3000, 0.01
#: how much more than the rules' best line the model's top line must score to be said instead
MARGIN = 0.0
MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def fit(data: list[tuple[np.ndarray, np.ndarray]], dim: int, steps: int, l2: float) -> np.ndarray:
    """``train_quote_model.fit``'s conditional logit (same gradient ascent on the mean
    log-likelihood of the right lines of each group), its per-group sums by ``reduceat`` over
    the groups' consecutive rows: the same weights, many times faster."""
    xs = np.vstack([x for x, _ in data])
    ys = np.concatenate([y for _, y in data])
    sizes = np.array([len(y) for _, y in data])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    w = np.zeros(dim)
    for _ in range(steps):
        s = xs @ w
        top = np.repeat(np.maximum.reduceat(s, starts), sizes)
        e = np.exp(s - top)
        p = e / np.repeat(np.add.reduceat(e, starts), sizes)
        py = p * ys
        q = py / np.repeat(np.add.reduceat(py, starts), sizes)
        w += 0.5 * (xs.T @ (q - p) / len(data) - l2 * w)
    return w


def _right(text: str, source: str, expect: dict) -> bool:
    wants = [str(c) for c in expect.get("contains") or []]
    unwanted = [str(c) for c in expect.get("not_contains") or []]
    sources = set(expect.get("sources") or [])
    return (
        any(w and w in text for w in wants)
        and not any(u and u in text for u in unwanted)
        and (not sources or source in sources)
    )


def groups_of(shop: str, index_root: Path) -> list[dict]:
    from kefu_copilot import Copilot

    base = ROOT / "evals" if shop == "sample" else ROOT / "evals/shops" / shop
    path = base / "reply.jsonl"
    if not path.exists():
        return []
    shop_dir = ROOT / "knowledge" if shop == "sample" else base / "shop"
    copilot = Copilot(shop_dir, index_dir=index_root / shop, embed_model=str(MODEL))
    copilot.ingest()
    advisor = copilot._reply_advisor()
    advisor.policy_ranker = None  # the rules' choice is "today"
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        case = json.loads(raw)
        expect = case.get("expect") or {}
        if not expect.get("contains"):
            continue
        advisor.policy_log = []
        advisor.suggest(case["conversation"], draft=case.get("draft"))
        for entry in advisor.policy_log:
            labels = [
                _right(t, s, expect) for t, s in zip(entry["lines"], entry["sources"], strict=True)
            ]
            if not any(labels) or all(labels):
                continue
            today_sources = entry["today_sources"]
            out.append({
                "shop": shop, "suite": "reply", "id": case["id"],
                "features": entry["features"], "labels": labels, "texts": entry["lines"],
                "today_lines": [bool(f["today"]) for f in entry["features"]],
                "today": any(_right(entry["today"], s, expect) for s in today_sources),
            })  # fmt: skip
    return out


def chosen_right(group: dict, names: list[str], w: np.ndarray, margin: float) -> bool:
    """Whether the policy the model makes says a right line: the rules' choice, with the
    model's top line said after it when that line is not in it and scores ``margin`` more than
    the best line it says (all of them when it says none of the lines)."""
    xs = np.array([[f.get(n, 0.0) for n in names] for f in group["features"]])
    s = xs @ w
    top = sorted(range(len(s)), key=lambda i: (-s[i], i))[0]
    kept = [s[i] for i, t in enumerate(group["today_lines"]) if t]
    if group["today_lines"][top] or (kept and s[top] - max(kept) <= margin):
        return bool(group["today"])
    return bool(group["today"]) or bool(group["labels"][top])


def main(args: list[str]) -> None:
    groups = load_groups(args, groups_of)
    names = sorted({k for g in groups for f in g["features"] for k in f})
    n = len(groups)
    print(f"{n} groups (case × policy choice), {len({g['shop'] for g in groups})} shops")
    w = fit(matrix(groups, names), len(names), STEPS, L2)
    weights = {n_: round(float(v), 4) for n_, v in zip(names, w, strict=True)}
    print(json.dumps(weights, ensure_ascii=False), flush=True)
    margin = MARGIN
    if "--no-loso" not in args:
        held_out: dict[str, np.ndarray] = {}  # each shop: the weights fitted without it
        for shop in sorted({g["shop"] for g in groups}):
            held = [g for g in groups if g["shop"] != shop]
            held_out[shop] = fit(matrix(held, names), len(names), STEPS, L2)
        today = sum(g["today"] for g in groups)
        print(f"reply ({n} groups): the rules' policy holds a right line {today / n:.3f}")
        for m in MARGINS:
            right = [chosen_right(g, names, held_out[g["shop"]], m) for g in groups]
            won = sum(r and not g["today"] for r, g in zip(right, groups, strict=True))
            lost = [
                f"{g['shop']}/{g['id']}"
                for r, g in zip(right, groups, strict=True)
                if g["today"] and not r
            ]
            print(
                f"  margin {m}: the model's (leave-one-shop-out) {sum(right) / n:.3f}, "
                f"won {won}, lost {len(lost)}" + (f": {' '.join(lost)}" if m == margin else "")
            )
    if "--no-write" not in args:
        write_model(
            OUT,
            "rewritten draft's policy line ranker (reply/_policy_rank.py); refit "
            "by scripts/train_reply_policy_model.py",
            groups=n,
            margin=margin,
            weights=weights,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
