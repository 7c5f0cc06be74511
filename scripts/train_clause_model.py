"""Train the packaged clause model (src/kefu_copilot/data/clause_model.json).

    python scripts/train_clause_model.py [--evaldata ../shared/evaldata] [--no-save]

Data:
  * the clauses of the dev shops' agent drafts (evals/shops/<dev shop>/reply.jsonl and the
    sample suite evals/reply.jsonl), each labelled by hand in evals/training/clause_labels.jsonl
    (fact, action, question, refusal, answer, blame, dismissal, filler) — one *group* per shop;
  * the clauses of real agent replies (JDDC case library, research-only: they fit weights and
    are never shipped), labelled by the cue patterns with the corrections in JDDC_FIXES (keyed
    by case id and clause index, no text) — three groups of dialogues. The JDDC reply-eval file
    is never read here (it measures the rewrite).
  * the suites' contract (round 19): every dev shop's reply cases say which of the draft's
    clauses must not reach the reply (``not_contains``) and which carry what it must say
    (``contains``, a number or a policy term of an expected source) — see ``contract_labels``.
    A hand label the contract contradicts (a clause labelled a fact that ``not_contains``
    names: "清洗都要钱的", "瑰夏不打折") is fitted as a refusal — the rule said in cold words, which
    a rewrite replaces by the policy; a clause no one labelled takes the contract's label
    (dropped: the patterns' class, or a refusal where they call it kept; kept: the patterns'
    class where it keeps the clause). Hand labels only where the contract says nothing or
    contradicts itself (29 clauses of seafood, purifier and swim in round 19).
The held-out shops are never read.

Round 19 (issue 18): no refit passed the gate, so the packaged model is still round 18's —
``--settings 3.0,0.5,uncued,refusal=0.6,blame=0.6 --fit-labels hand --exclude
seafood,purifier,swim`` fits its training set (not re-run in round 19: the info figures would
be scored on the contract labels). Leave-one-group-out over the 33 dev shops and the sample,
every figure scored on the labels with the contract (kept-or-not, mean per shop; patterns
.7933): hand labels .8808, JDDC kept .9960; contract labels, relabel refusal .8683, JDDC .9959;
with seafood, purifier and swim out of every fit (the transfer figure, 130 clauses; patterns
.669): hand labels .777, contract labels with refusal .762, with dismissal .792 (the other
shops .8905 / .8880 / .8993) but JDDC kept .9942 — every one under the gate (.9962). With
dismissal and ``dismissal=0.6`` (same fits): dev .8856, JDDC .9969 — above both; but its
transfer figure (measured at the round's end) is .754, under the hand labels' .777: dropped.

The packaged model (round 18) is fitted with ``--settings 3.0,0.5,uncued,refusal=0.6,blame=0.6``
on every labelled dev shop (aircon, baking and camera labelled in round 18; coffee, curtains and
phones no longer left out): at refusal=0.6 alone the JDDC clauses kept fell to .9959, under the
patterns' .9982 less .002 — a blame, like a refusal, removes the agent's words, so the model must
be surer of it (leave-one-group-out dev .8955 → .8954, JDDC kept .9959 → .9962).
Round 15 fitted ``--settings 3.0,0.5,uncued``: the grid's best by
leave-one-group-out accuracy (L2 0.3, threshold 0.7: 0.889 vs 0.881) learnt single labels by heart
(fruit's "没货了" as a refusal, so a curt stock answer was replaced by a product's 货号 line).

Features: kefu_copilot.reply._clause_model.clause_features (character 1–3-grams kept only when
they occur in MIN_DOMAINS domains — shops, JDDC — of the training rows, the structure of
``clause_features`` in data/reply.yaml, the cue patterns' class as a prior). Multinomial
logistic regression, L2. Settings (L2, threshold to overrule the patterns, the pattern classes it
may overrule) are chosen by leave-one-group-out accuracy on the dev shops, with the JDDC groups'
clauses kept verbatim no less often than by the patterns (real replies must not lose content).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu_copilot.reply._clause_model import (  # noqa: E402
    KINDS,
    ClauseModel,
    clause_features,
    normalise,
)
from kefu_copilot.reply._clauses import KEPT, classify_clauses, has_facts, has_numbers  # noqa: E402
from kefu_copilot.reply._models import fold  # noqa: E402
from kefu_copilot.reply._phrases import phrases as reply_phrases  # noqa: E402

PHRASES = reply_phrases()
sys.path.insert(0, str(ROOT / "scripts"))
from folds import dev_shops  # noqa: E402

DEV = [*dev_shops(), "sample"]  # the groups scored: the labelled dev shops present (see main)
JDDC_FOLDS = 3
JDDC_WEIGHT = 0.5  # the JDDC clauses together count this much of the dev clauses
MIN_DOMAINS = 3
GRID = {
    "l2": [0.3, 1.0, 3.0],
    "threshold": [0.5, 0.6, 0.7, 0.8],
    "overrule": ["uncued", "kept", "all"],
}
OVERRULE = {
    "uncued": ("fact", "filler"),  # only where no cue pattern decided
    "kept": ("fact", "filler", "question", "action", "answer"),
    "all": KINDS,
}
# Cue-pattern classes of JDDC clauses corrected by hand (case id # clause index → class).
JDDC_FIXES = {
    "jddccase-valid-d005-t29#0": "question",
    "jddccase-valid-d060-t04#0": "question",
    "jddccase-valid-d060-t07#2": "fact",
    "jddccase-valid-d086-t04#1": "fact",
    "jddccase-valid-d108-t14#3": "fact",
    "jddccase-valid-d127-t14#1": "fact",
    "jddccase-valid-d219-t12#0": "fact",
    "jddccase-valid-d219-t14#4": "action",
    "jddccase-valid-d229-t10#1": "question",
    "jddccase-valid-d239-t11#0": "fact",
    "jddccase-valid-d315-t08#2": "question",
}


COUNTS: Counter = Counter()
RELABEL = ["refusal"]  # the class of a clause the contract drops that the labels keep
_STRIP = " ,.!?;~。\n\t，！？；～、"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def contract_labels(suite: Path, docs: Path) -> dict:
    """Kept-or-not labels of a dev shop's draft clauses read from its reply suite's contract
    (``suite``: evals/shops/<shop>/reply.jsonl, the sample shop's evals/reply.jsonl; ``docs``
    the shop's knowledge directory the expected sources are read from): a clause named by
    ``not_contains`` must not be said ("drop"); a clause stating a ``contains`` term, a number
    or a policy term of an expected source carries what the reply must say ("keep"). A clause
    with both, or a dropped one stating numbers (a rewrite keeps every number of the draft),
    gets no label. Keys (case id, clause text stripped); values ("drop" or "keep", the
    patterns' class)."""
    if not suite.exists():
        return {}
    out: dict = {}
    for line in suite.read_text().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        expect, draft = case.get("expect") or {}, case.get("draft") or ""
        source = fold("".join(
            (docs / s).read_text(errors="ignore") for s in expect.get("sources", [])
            if (docs / s).is_file()))  # fmt: skip
        banned = [fold(n).strip(_STRIP) for n in expect.get("not_contains", [])]
        terms = [fold(n) for n in expect.get("contains", [])]
        for clause in classify_clauses(draft, fitted=False):
            body = fold(clause.text).strip(_STRIP)
            if not body:
                continue
            drop = any(b and (b in body or (len(body) >= 2 and body in b)) for b in banned)
            keep = (
                any(t and t in body for t in terms)
                or bool(set(_NUMBER.findall(body)) & set(_NUMBER.findall(source)))
                or any(t in body and t in source for t in PHRASES.policy_terms)
            )
            if drop and (keep or has_numbers(body)):
                COUNTS["contract_conflict"] += 1
                continue
            if drop or keep:
                said = "drop" if drop else "keep"
                COUNTS[f"contract_{said}"] += 1
                out[(case["id"], clause.text.strip())] = (said, clause.kind)
    return out


def _bucket(key: str, n: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n


def load_rows(evaldata: Path) -> list[dict]:
    """Every labelled clause: text, label, the patterns' class and cue, group, domain, weight."""
    phrases = reply_phrases()
    rows = []

    def add(
        text: str, label: str, group: str, domain: str, weight: float, hand: str | None = None
    ) -> None:
        clause = classify_clauses(text, fitted=False)[0]
        body = fold(text).strip(" ,.!?;~。\n\t")
        rows.append({
            "text": text, "label": label, "hand": hand, "rule": clause.kind, "cue": clause.cue,
            "features": clause_features(body, clause.kind, clause.cue, phrases,
                                        numbers=has_numbers(body), facts=has_facts(body, phrases)),
            "group": group, "domain": domain, "weight": weight,
        })  # fmt: skip

    contract = {
        shop: contract_labels(ROOT / "evals/reply.jsonl", ROOT / "knowledge")
        if shop == "sample"
        else contract_labels(
            ROOT / "evals/shops" / shop / "reply.jsonl", ROOT / "evals/shops" / shop / "shop"
        )
        for shop in DEV
    }
    seen = set()
    for line in (ROOT / "evals/training/clause_labels.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["text"].strip() and fold(r["text"]).strip(" ,.!?;~。\n\t"):
            cid = r["id"].removeprefix(f"{r['shop']}-")
            said = contract.get(r["shop"], {}).get((cid, r["text"].strip()), ("", ""))[0]
            seen.add((r["shop"], cid, r["text"].strip()))
            label = r["label"]
            if said == "drop" and label in KEPT:  # the suite's contract: it must not be said
                label = RELABEL[0]
                COUNTS["overruled_hand"] += 1
            add(r["text"], label, r["shop"], r["shop"], 1.0, r["label"])
    for shop, labels in contract.items():  # clauses no one labelled: the contract's label
        for (cid, text), (said, rule) in labels.items():
            if (shop, cid, text) in seen:
                continue
            if said == "drop":
                add(text, rule if rule not in KEPT else RELABEL[0], shop, shop, 1.0)
                COUNTS["contract_only"] += 1
            elif rule in KEPT or rule in ("refusal", "answer"):
                add(text, rule, shop, shop, 1.0)
                COUNTS["contract_only"] += 1
            else:
                COUNTS["contract_unlabelled"] += 1
    n_dev = len(rows)
    jddc = []
    for line in (evaldata / "case_library/jddc_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        for i, clause in enumerate(classify_clauses(case["agent_reply"], fitted=False)):
            text = clause.text.strip()
            if not fold(text).strip(" ,.!?;~。\n\t"):
                continue
            label = JDDC_FIXES.get(f"{case['id']}#{i}", clause.kind)
            fold_ = f"jddc{_bucket(case['dialogue_id'], JDDC_FOLDS)}"
            jddc.append((text, label if label != "banned" else "fact", fold_))
    for text, label, group in jddc:
        add(text, label, group, "jddc", JDDC_WEIGHT * n_dev / len(jddc), label)
    return rows


class Fitted:
    def __init__(self, rows: list[dict], l2: float) -> None:
        domains = defaultdict(set)
        for r in rows:
            for f in set(r["features"]):
                domains[f].add(r["domain"])
        self.vocab = {
            f: i for i, f in enumerate(sorted(
                f for f, d in domains.items() if not f.startswith("g:") or len(d) >= MIN_DOMAINS))
        }  # fmt: skip
        ids, ptr, rowid = [], [0], []
        for n, r in enumerate(rows):
            fs = [self.vocab[f] for f in r["features"] if f in self.vocab]
            ids += fs
            rowid += [n] * len(fs)
            ptr.append(len(ids))
        idx, rid = np.array(ids), np.array(rowid)
        starts = np.array(ptr[:-1])  # every row has its prior feature: no row is empty
        y = np.array([KINDS.index(r["label"]) for r in rows])
        w = np.array([r["weight"] for r in rows])
        nf, nk = len(self.vocab), len(KINDS)
        onehot = np.eye(nk)[y]
        W, b = np.zeros((nf, nk)), np.zeros(nk)
        mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros(nk), np.zeros(nk)
        lr, total = 0.1, w.sum()
        for t in range(1, 301):
            scores = np.add.reduceat(W[idx], starts, axis=0) + b
            scores -= scores.max(1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(1, keepdims=True)
            d = (p - onehot) * w[:, None] / total
            drow = d[rid]
            gW = np.stack([np.bincount(idx, drow[:, k], nf) for k in range(nk)], 1)
            gW += l2 * W / total
            gb = d.sum(0)
            for g, m, v, prm in ((gW, mW, vW, W), (gb, mb, vb, b)):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                prm -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        self.W, self.b = W, b

    def model(self, threshold: float, overrule: str, info: dict | None = None) -> ClauseModel:
        names = sorted(self.vocab, key=self.vocab.__getitem__)
        weights = {
            f: tuple(float(x) for x in self.W[i])
            for f, i in zip(names, range(len(names)), strict=True)
            if np.abs(self.W[i]).max() > 1e-4
        }
        return ClauseModel(KINDS, weights, tuple(float(x) for x in self.b), threshold,
                           frozenset(OVERRULE[overrule]), info or {})  # fmt: skip


def decide(model: ClauseModel, row: dict) -> str:
    """The class the copilot says (kefu_copilot.reply._clauses._refit): the model's when it
    overrules the patterns, a blame only when the clause names someone to blame."""
    verdict = model.verdict(row["features"], row["rule"])
    if verdict is None:
        return row["rule"]
    if verdict[0] == "blame" and not PHRASES.blamed.search(normalise(fold(row["text"]))):
        return row["rule"]
    return verdict[0]


def scores(pairs: list[tuple[dict, str]]) -> dict:
    """Accuracy of classes, and of kept-verbatim vs not (what a rewrite does with the clause)."""
    n = len(pairs)
    acc = sum(p == r["label"] for r, p in pairs) / n
    kept = sum((p in KEPT) == (r["label"] in KEPT) for r, p in pairs) / n
    cold = [(r, p) for r, p in pairs if r["label"] not in KEPT]
    recall = sum(p not in KEPT for _, p in cold) / len(cold) if cold else float("nan")
    said = [(r, p) for r, p in pairs if p not in KEPT]
    precision = sum(r["label"] not in KEPT for r, _ in said) / len(said) if said else float("nan")
    return {
        "n": n,
        "acc": acc,
        "kept_acc": kept,
        "drop_recall": recall,
        "drop_precision": precision,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--evaldata", default=str(ROOT.parent / "shared/evaldata"))
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--exclude", default="", help="shops left out (comma-separated): a transfer check"
    )
    ap.add_argument(
        "--settings",
        default="",
        help="l2,threshold,overrule[,class=threshold...]: fit these, no grid",
    )
    ap.add_argument(
        "--compare",
        nargs="*",
        default=[],
        help="with --settings: other threshold[,class=threshold...] scored on the same fits",
    )
    ap.add_argument(
        "--transfer",
        default="",
        help="with --settings: shops left out of every fit (comma-separated), scored by the fit "
        "on the others: the transfer figure",
    )
    ap.add_argument(
        "--fit-labels",
        choices=["contract", "hand"],
        default="contract",
        help="with --settings: fit on the hand labels alone (round 18), scored on the labels "
        "with the suites' contract",
    )
    ap.add_argument(
        "--relabel",
        choices=["refusal", "dismissal"],
        default="refusal",
        help="the class fitted for a clause the suite's contract drops that the labels keep",
    )
    ap.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/clause_model.json"))
    args = ap.parse_args()
    RELABEL[0] = args.relabel
    rows = load_rows(Path(args.evaldata))
    rows = [r for r in rows if r["group"] not in args.exclude.split(",")]
    print(len(rows), "clauses;", dict(sorted(COUNTS.items())))
    if args.settings:  # these settings, their leave-one-group-out figures stated with them
        l2, th, ov, *raised = args.settings.split(",")
        classes = {k: float(v) for k, v in (x.split("=") for x in raised)}
        groups = sorted({r["group"] for r in rows})
        DEV[:] = [g for g in DEV if g in groups]
        transfer = {g for g in args.transfer.split(",") if g}
        if args.fit_labels == "hand":
            fit_rows = [dict(r, label=r["hand"]) for r in rows if r["hand"] is not None]
        else:
            fit_rows = rows
        fit_rows = [r for r in fit_rows if r["group"] not in transfer]
        held = {g: Fitted([r for r in fit_rows if r["group"] != g], float(l2))
                for g in groups if g not in transfer}  # fmt: skip
        if transfer:
            out_of_fit = Fitted(fit_rows, float(l2))
            held.update({g: out_of_fit for g in transfer})
        for other in args.compare:  # other thresholds, on the same held-out fits
            t, *more = other.split(",")
            alt = {k: float(v) for k, v in (x.split("=") for x in more)}
            models = {g: replace(f.model(float(t), ov), thresholds=alt) for g, f in held.items()}
            got = [(r, decide(models[r["group"]], r)) for r in rows]
            d = {g: scores([(r, p) for r, p in got if r["group"] == g]) for g in DEV}
            j = scores([(r, p) for r, p in got if r["domain"] == "jddc"])
            print(f"compare {other}: dev acc {np.mean([d[g]['acc'] for g in DEV]):.4f} kept-acc "
                  f"{np.mean([d[g]['kept_acc'] for g in DEV]):.4f} | jddc kept-acc "
                  f"{j['kept_acc']:.4f}")  # fmt: skip
        models = {g: replace(f.model(float(th), ov), thresholds=classes) for g, f in held.items()}
        pairs = [(r, decide(models[r["group"]], r)) for r in rows]
        dev = {g: scores([(r, p) for r, p in pairs if r["group"] == g]) for g in DEV}
        base = {g: scores([(r, r["rule"]) for r in rows if r["group"] == g]) for g in DEV}
        jd = scores([(r, p) for r, p in pairs if r["domain"] == "jddc"])
        base_jd = scores([(r, r["rule"]) for r in rows if r["domain"] == "jddc"])
        for g in DEV:
            print(f"  {g:12} n={dev[g]['n']:4} acc {base[g]['acc']:.3f} -> {dev[g]['acc']:.3f}  "
                  f"kept-acc {base[g]['kept_acc']:.3f} -> {dev[g]['kept_acc']:.3f}")  # fmt: skip
        if transfer:
            tr = scores([(r, p) for r, p in pairs if r["group"] in transfer])
            tb = scores([(r, r["rule"]) for r in rows if r["group"] in transfer])
            rest = [g for g in DEV if g not in transfer]
            print(f"transfer {sorted(transfer)} (out of every fit): n={tr['n']} acc "
                  f"{tb['acc']:.3f} -> {tr['acc']:.3f} kept-acc {tb['kept_acc']:.3f} -> "
                  f"{tr['kept_acc']:.3f}; other dev shops kept-acc "
                  f"{np.mean([dev[g]['kept_acc'] for g in rest]):.4f}")  # fmt: skip
        info = {
            "n_train": len(rows),
            "labels": dict(sorted(COUNTS.items())),
            "excluded": args.exclude,
            "cv": "leave-one-group-out (dev shops; three JDDC groups)",
            "cv_dev_acc": round(float(np.mean([dev[g]["acc"] for g in DEV])), 4),
            "cv_dev_kept_acc": round(float(np.mean([dev[g]["kept_acc"] for g in DEV])), 4),
            "patterns_dev_acc": round(float(np.mean([base[g]["acc"] for g in DEV])), 4),
            "patterns_dev_kept_acc": round(float(np.mean([base[g]["kept_acc"] for g in DEV])), 4),
            "cv_jddc_kept_acc": round(jd["kept_acc"], 4),
            "patterns_jddc_kept_acc": round(base_jd["kept_acc"], 4),
            "l2": float(l2),
            "min_domains": MIN_DOMAINS,
        }
        print(json.dumps(info))
        if args.no_save or transfer:
            return
        fit_all = Fitted(fit_rows, float(l2))
        model = replace(fit_all.model(float(th), ov, info), thresholds=classes)
        Path(args.out).write_text(json.dumps(model.to_dict(), ensure_ascii=False) + "\n")
        print("saved", args.out, len(model.weights), "features")
        return
    groups = sorted({r["group"] for r in rows})
    DEV[:] = [g for g in DEV if g in groups]  # a shop left out (--exclude) is not scored
    print(len(rows), "clauses;", Counter(r["label"] for r in rows if r["domain"] != "jddc"))
    results = {}
    for l2 in GRID["l2"]:
        preds: dict[tuple, list] = defaultdict(list)
        for g in groups:
            fit = Fitted([r for r in rows if r["group"] != g], l2)
            test = [r for r in rows if r["group"] == g]
            for th, ov in itertools.product(GRID["threshold"], GRID["overrule"]):
                m = fit.model(th, ov)
                preds[(th, ov)] += [(r, decide(m, r)) for r in test]
        for key, pairs in preds.items():
            dev = {g: scores([(r, p) for r, p in pairs if r["group"] == g]) for g in DEV}
            jd = scores([(r, p) for r, p in pairs if r["domain"] == "jddc"])
            results[(l2, *key)] = (dev, jd)
    base_pairs = [(r, r["rule"]) for r in rows]
    base_dev = {g: scores([(r, p) for r, p in base_pairs if r["group"] == g]) for g in DEV}
    base_jd = scores([(r, p) for r, p in base_pairs if r["domain"] == "jddc"])

    def mean(dev: dict, k: str) -> float:
        return float(np.mean([dev[g][k] for g in DEV]))

    print(f"patterns only: dev acc {mean(base_dev, 'acc'):.3f} kept-acc "
          f"{mean(base_dev, 'kept_acc'):.3f} drop R/P {mean(base_dev, 'drop_recall'):.3f}/"
          f"{mean(base_dev, 'drop_precision'):.3f} | jddc acc {base_jd['acc']:.3f} kept-acc "
          f"{base_jd['kept_acc']:.3f}")  # fmt: skip
    ok = {k: v for k, v in results.items() if v[1]["kept_acc"] >= base_jd["kept_acc"] - 0.002}
    for k, (dev, jd) in sorted(results.items(), key=lambda kv: -mean(kv[1][0], "acc")):
        print(f"  l2={k[0]:<4} th={k[1]} overrule={k[2]:7} dev acc {mean(dev, 'acc'):.3f} kept-acc "
              f"{mean(dev, 'kept_acc'):.3f} drop R/P {mean(dev, 'drop_recall'):.3f}/"
              f"{mean(dev, 'drop_precision'):.3f} | jddc acc {jd['acc']:.3f} kept-acc "
              f"{jd['kept_acc']:.3f}" + ("" if k in ok else "  (loses jddc content)"))  # fmt: skip
    best = max(
        ok, key=lambda k: (round(mean(results[k][0], "kept_acc"), 3), mean(results[k][0], "acc"))
    )
    dev, jd = results[best]
    print("chosen", best)
    for g in DEV:
        print(f"  {g:12} n={dev[g]['n']:4} acc {base_dev[g]['acc']:.3f} -> {dev[g]['acc']:.3f}  "
              f"kept-acc {base_dev[g]['kept_acc']:.3f} -> {dev[g]['kept_acc']:.3f}")  # fmt: skip
    info = {
        "n_train": len(rows),
        "cv": "leave-one-group-out (dev shops; three JDDC groups)",
        "cv_dev_acc": round(mean(dev, "acc"), 4),
        "cv_dev_kept_acc": round(mean(dev, "kept_acc"), 4),
        "patterns_dev_acc": round(mean(base_dev, "acc"), 4),
        "patterns_dev_kept_acc": round(mean(base_dev, "kept_acc"), 4),
        "cv_jddc_kept_acc": round(jd["kept_acc"], 4),
        "patterns_jddc_kept_acc": round(base_jd["kept_acc"], 4),
        "l2": best[0],
        "min_domains": MIN_DOMAINS,
    }
    if not args.no_save:
        model = Fitted(rows, best[0]).model(best[1], best[2], info)
        Path(args.out).write_text(json.dumps(model.to_dict(), ensure_ascii=False) + "\n")
        print("saved", args.out, len(model.weights), "features")


if __name__ == "__main__":
    main()
