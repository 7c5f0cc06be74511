"""Fit the pre-sales line ranker (``presales/_quotes.py``) on the dev shops' pre-sales suites and
write ``src/kefu_copilot/data/quote_model.json``.

usage: python scripts/train_quote_model.py [--index DIR] [--cache FILE] [--check SHOP ...]
       [--no-write]

Each case naming product pages (``sources``) and strings a right answer quotes (``contains``)
gives, for each of its pages the advisor ranks, a group: every candidate line of the page
(facts, prose sentences), labelled quoted when it holds one of the ``contains`` strings and
none of the ``not_contains`` ones. Groups
with no such line (the string is a price, a title) or only such lines say nothing of which line
to quote and are left out. A conditional logit (the quoted lines against the rest of the group)
is fitted with an L2 pull towards zero. Printed: the share of groups whose top ``quoted_facts``
lines hold a quoted one — the lines the advisor quotes today against the model's, the model
fitted leave-one-shop-out on the dev shops, and (``--check``) fitted on all dev shops but the
check shops and scored on them. The model written is fitted on every dev shop (and the sample
shop) but the ``--check`` shops."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fitting import write_model
from folds import dev_shops

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT.parent / "shared/models/w2v-zh-synonyms-100d"
OUT = ROOT / "src/kefu_copilot/data/quote_model.json"
L2 = 0.05


def groups_of(shop: str, index_root: Path) -> list[dict]:
    from kefu_copilot import Copilot
    from kefu_copilot.presales._objections import lead
    from kefu_copilot.presales._quotes import candidate_lines, line_features, need_classes
    from kefu_copilot.presales._recommend import _quoted, marked_lines, rank
    from kefu_copilot.text._normalize import normalize

    if shop == "sample":
        shop_dir, suite = ROOT / "knowledge", ROOT / "evals/presales.jsonl"
    else:
        shop_dir = ROOT / "evals/shops" / shop / "shop"
        suite = ROOT / "evals/shops" / shop / "presales.jsonl"
    copilot = Copilot(shop_dir, index_dir=index_root / shop, embed_model=str(MODEL))
    copilot.ingest()
    advisor = copilot.advisor()
    answerer, _ = copilot._generation()
    rules = advisor.rules
    profiles = {p.source: p for p in advisor.profiles}
    skip = [str(s) for s in rules["not_selling_points"]]
    out = []
    for raw in suite.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        case = json.loads(raw)
        expect = case["expect"]
        wants = [normalize(str(c)) for c in expect.get("contains") or []]
        unwanted = [normalize(str(c)) for c in expect.get("not_contains") or []]
        pages = [s for s in expect.get("sources") or [] if s in profiles]
        if not wants or not pages:
            continue
        question = case["question"]
        prepared = answerer.prepare(question, [], explain=False)
        support: dict[str, float] = {}
        for candidate in prepared.candidates:
            source = candidate.hit.chunk.source
            support[source] = max(support.get(source, 0.0), candidate.support)
        needs = advisor.needs(question)
        passages = advisor.passages(prepared.candidates)
        scored, _ = rank(
            needs, advisor.profiles, rules, support, index=advisor.kinds, passages=passages
        )
        by_source = {s.profile.source: s for s in scored[:3]}
        classes = need_classes(needs)
        for page in pages:
            profile = profiles[page]
            lines = candidate_lines(profile, skip, lead(profile))
            labels = [
                any(w and w in normalize(line.text) for w in wants)
                and not any(u and u in normalize(line.text) for u in unwanted)
                for line in lines
            ]  # a line saying what a right answer must not is never the one to quote
            if not any(labels) or all(labels):
                continue
            s = by_source.get(page)
            marked = marked_lines(s) if s is not None else []
            today = [t for _, t in _page_order(_quoted, s, rules)] if s is not None else []
            feats = line_features(
                question, profile, lines, classes,
                [str(w).lower() for w in rules["selling_words"]],
                [str(d) for d in rules["selling_measures"]], marked,
            )  # fmt: skip
            out.append({
                "shop": shop, "id": case["id"], "page": page, "shown": s is not None,
                "features": feats, "labels": labels,
                "today": any(w and w in normalize(t) for t in today for w in wants),
            })  # fmt: skip
    return out


def _page_order(quoted, scored, rules):  # type: ignore[no-untyped-def]
    """What ``quoted`` quotes with no line ranker (the selling facts in page order)."""
    from kefu_copilot.presales import _recommend

    model = _recommend.quote_model
    _recommend.quote_model = lambda: None  # type: ignore[assignment]
    try:
        return quoted(scored, rules)
    finally:
        _recommend.quote_model = model


def matrix(groups: list[dict], names: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (
            np.array([[f.get(n, 0.0) for n in names] for f in g["features"]]),
            np.array(g["labels"], float),
        )
        for g in groups
    ]


def fit(
    data: list[tuple[np.ndarray, np.ndarray]], dim: int, steps: int = 400, l2: float = L2
) -> np.ndarray:
    """The conditional logit's weights, by gradient ascent on the mean log-likelihood of the
    quoted lines of each group (all groups' rows stacked, one softmax per group)."""
    xs = np.vstack([x for x, _ in data])
    ys = np.concatenate([y for _, y in data])
    group = np.repeat(np.arange(len(data)), [len(y) for _, y in data])
    w = np.zeros(dim)
    for _ in range(steps):
        s = xs @ w
        top = np.full(len(data), -np.inf)
        np.maximum.at(top, group, s)
        e = np.exp(s - top[group])
        p = e / np.bincount(group, e, len(data))[group]
        py = p * ys
        q = py / np.bincount(group, py, len(data))[group]
        w += 0.5 * (xs.T @ (q - p) / len(data) - l2 * w)
    return w


def hits(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray, k: int) -> int:
    n = 0
    for xs, ys in data:
        s = xs @ w
        top = sorted(range(len(s)), key=lambda i: (-s[i], i))[:k]
        n += bool(ys[top].any())
    return n


def load_groups(args: list[str], groups_of: Callable[[str, Path], list[dict]]) -> list[dict]:
    """Every dev shop's (and the sample shop's) groups, ingested under ``--index DIR`` (else a
    temporary directory), or read from ``--cache FILE`` when it exists (written there when not);
    shared by both line rankers' training scripts."""
    import tempfile

    index = Path(args[args.index("--index") + 1]) if "--index" in args else None
    cache = Path(args[args.index("--cache") + 1]) if "--cache" in args else None
    if cache and cache.exists():
        return list(json.loads(cache.read_text(encoding="utf-8")))
    groups: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = index or Path(tmp)
        for shop in [*dev_shops(), "sample"]:
            groups += groups_of(shop, root)
            print(shop, len(groups), flush=True, file=sys.stderr)
    if cache:
        cache.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")
    return groups


def main(args: list[str]) -> None:
    check = args[args.index("--check") + 1 :] if "--check" in args else []
    groups = load_groups(args, groups_of)
    names = sorted({k for g in groups for f in g["features"] for k in f})
    k = 3
    n = len(groups)
    print(f"{n} groups (case × page), {len({g['shop'] for g in groups})} shops")
    print(
        f"today's quoted lines (no ranker) hold a right one: {sum(g['today'] for g in groups) / n:.3f}"
    )
    loso = shown = 0
    for shop in sorted({g["shop"] for g in groups}):
        w = fit(matrix([g for g in groups if g["shop"] != shop], names), len(names))
        loso += hits(matrix([g for g in groups if g["shop"] == shop], names), w, k)
        on = [g for g in groups if g["shop"] == shop and g["shown"]]
        shown += hits(matrix(on, names), w, k) if on else 0
    print(f"model's top {k}, fitted leave-one-shop-out: {loso / n:.3f}")
    ranked = [g for g in groups if g["shown"]]
    print(
        f"of the {len(ranked)} groups whose page the advisor ranks in its first three: today "
        f"{sum(g['today'] for g in ranked) / len(ranked):.3f}, model (leave-one-shop-out) "
        f"{shown / len(ranked):.3f}"
    )
    if check:
        held = [g for g in groups if g["shop"] in check]
        w = fit(matrix([g for g in groups if g["shop"] not in check], names), len(names))
        for label, part in (("all", held), ("ranked", [g for g in held if g["shown"]])):
            got = hits(matrix(part, names), w, k)
            print(
                f"check shops {' '.join(check)}, left out of the fit, {label} ({len(part)} "
                f"groups): today {sum(g['today'] for g in part) / len(part):.3f}, "
                f"model {got / len(part):.3f}"
            )
    w = fit(matrix([g for g in groups if g["shop"] not in check], names), len(names))
    weights = {n_: round(float(v), 4) for n_, v in zip(names, w, strict=True)}
    print(json.dumps(weights, ensure_ascii=False))
    if "--no-write" not in args:
        write_model(
            OUT,
            "presales line ranker (presales/_quotes.py); refit by scripts/train_quote_model.py",
            groups=sum(g["shop"] not in check for g in groups),
            weights=weights,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
