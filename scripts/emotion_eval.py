"""Escalation and risk figures of `emotion_flag` on every labelled set (before/after reports).

    python scripts/emotion_eval.py [--json OUT] [--sets sample,dev,heldout,jddc,plain,train]

Sets: the sample suite (evals/emotion.jsonl); the blind shop turns (evals/shops/*/emotion.jsonl,
apparel+digital+cosmetics+food+home+sports+toys+instruments+health+fruit+ebike+lighting+meddevice+liquor+smartlock
+fishing+garden+watch = dev; baby+pets+kitchen+tools = trained on, never
read (in-sample here: their out-of-shop figures are the model's info.cv); eyewear+stationery+
luggage+tea+jewelry+autoparts+bedding+camping+furniture+florist = held out (shoes+bathroom+books dev from round 16): never fitted on, selected on or read — figures only; read with each
shop's keywords and rules, as `kefu eval` does); the JDDC untuned split (see kefu_copilot.emotion._corpus.jddc_split: half of
the dialogues of jddc_satisfaction_turns.jsonl by a SHA-256 hash of the dialogue id, never used
for training or tuning); plain product questions (every `answer` / `presales` question of the
blind shops that the shop may answer itself — none should escalate; pooled and per shop, the
2 % bound being per shop); ``train``: the blind-written training turns
(evals/training/emotion_train.jsonl) per vertical — out of sample only for a model not trained on
them (the training script prints their leave-one-vertical-out figures). Per risk flag: how often it fires and the share of those
turns that a human labelled `escalate` (precision against escalate), plus safety-incident recall
on turns whose author's note names a safety problem (the script reads the notes; we do not).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# --src TREE/src measures another checkout's code (e.g. main, for the "before" figures)
_SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv else str(ROOT / "src")
sys.path.insert(0, _SRC)
sys.path.insert(0, str(ROOT / "scripts"))

from folds import dev_shops, held_out_shops, trained_shops  # noqa: E402

from kefu_copilot.config._shop import load_shop_config  # noqa: E402
from kefu_copilot.emotion._flag import emotion_flag  # noqa: E402

# --learned-labels: the emotion label from data/emotion_labels.json (rules: learned_labels)
LEARNED = "--learned-labels" in sys.argv


def _with_learned(rules: Any) -> Any:
    if not LEARNED:
        return rules
    from kefu_copilot._data import packaged_rules

    return {**(rules if rules is not None else packaged_rules("emotion")), "learned_labels": True}


def jddc_split(case_id: str) -> str:
    """The untuned JDDC split (a copy of kefu_copilot.emotion._corpus.jddc_split, so that the
    same split is read when measuring a checkout that does not have it)."""
    dialogue = re.sub(r"[-_:]t\d+$", "", case_id)
    digit = int(hashlib.sha256(dialogue.encode()).hexdigest()[0], 16)
    return "untuned" if digit % 2 == 0 else "train"


EVALDATA = ROOT.parent / "shared" / "evaldata"
# toys, instruments and health were round 10's never-read fold, dev (read) from round 11; fruit,
# ebike and lighting round 11's, dev from round 12, meddevice, liquor and smartlock round 12's,
# dev from round 13, fishing, garden and watch round 13's, dev from round 14 (their risk flags are
# not labelled: their safety recall is by the author's note, as for the held-out shops).
DEV = dev_shops()
# Trained on (a fold each in the training script), never read: in-sample here.
TRAINED = trained_shops()
# Held out: never fitted on, never read — figures only.
HELD_OUT = held_out_shops()
BLIND: tuple[str, ...] = ()
# Safety incidents of the dev shops, labelled by reading them (held-out shops: by note only); a
# turn whose own words or whose conversation show the incident it is about (toys e026: a bitten
# magnet shell; health e025: blue lips after a low oxygen reading).
DEV_SAFETY = {
    "apparel": {f"apparel-e{n:03d}" for n in (5, 6, 7, 8, 9, 24, 25, 27, 32, 33)},
    "digital": {f"e{n:03d}" for n in (1, 2, 3, 4, 6, 20, 22, 25, 68)},
    "cosmetics": {f"cos-e{n:03d}" for n in range(1, 10)},
    "food": {f"food-e{n:03d}" for n in (4, 5, 6, 7, 20, 21, 22, 27, 29)},
    "home": {f"home-e{n:03d}" for n in (1, 2, 3, 4, 16, 19, 25, 27, 65)},
    "sports": {f"e{n:03d}" for n in (7, 8, 9, 10, 11, 20, 28)},
    "toys": {f"e{n:03d}" for n in (4, 5, 6, 7, 8, 14, 15, 16, 17, 26)},
    "instruments": {f"e{n:03d}" for n in (5, 6, 7, 17, 19, 64)},
    "health": {f"e{n:03d}" for n in (1, 2, 3, 12, 13, 14, 18, 22, 25)},
}

# Safety incidents of the later dev shops (fruit … books), labelled by reading them in round 16
# (coffee, curtains and phones in round 17)
# (their other risk flags are not labelled): harm to a person or a pet, fire, smoke, an electric
# shock, a swollen battery, a near miss (差点划到孩子). Recall and precision over all the dev
# shops: ``dev_risk_flags.safety_incident_all_dev``.
LATER_SAFETY = {
    "fruit": {"e013", "e015", "e031", "e037", "e047", "e056"},
    "ebike": {"e001", "e002", "e003", "e004", "e005", "e006", "e007", "e023", "e024", "e026"},
    "lighting": {"e001", "e002", "e005", "e010", "e014", "e015", "e021", "e025"},
    "meddevice": {"e005", "e006", "e007", "e011", "e013", "e016", "e019", "e023", "e027"},
    "liquor": {"e002", "e003", "e006", "e007", "e008", "e014", "e016", "e022", "e023"},
    "smartlock": {"e004", "e006", "e017", "e024", "e026"},  # e024 (heat stroke) from round 18
    "fishing": {"e004", "e005", "e006", "e007", "e008", "e018", "e020", "e030"},
    "garden": {"e005", "e006", "e007", "e008", "e012", "e022", "e023", "e029", "e069"},
    "watch": {"e005", "e006", "e007", "e022", "e028"},
    "aquarium": {"e013", "e014", "e015", "e016", "e025"},
    "printink": {"e004", "e009", "e017", "e028"},
    "cake": {"e005", "e006", "e007", "e017", "e027"},
    "shoes": {"e005", "e006", "e007", "e008", "e016", "e021", "e026", "e064"},
    "bathroom": {"e001", "e003", "e007", "e014", "e015", "e019", "e022", "e027"},
    "books": {"e005", "e006", "e007", "e013", "e024", "e028", "e029"},
    # round 16's never-read fold, read (for safety) in round 17
    "coffee": {"e002", "e003", "e004", "e005", "e006", "e017", "e024", "e026"},
    "curtains": {"e004", "e005", "e006", "e010", "e021", "e027"},
    "phones": {"ph-e004", "ph-e005", "ph-e013", "ph-e022", "ph-e026"},
    # round 17's never-read fold, read (for safety) in round 18: incidents that happened (harm,
    # heat illness, smoke, a shock, a fallen outdoor unit, a breaker tripped with a burning
    # smell, a battery a child bit open) — not a hazard feared (aircon e003, e019, e069: a loose
    # bracket, a fitter without a rope, a rusty bracket)
    "aircon": {"e004", "e007", "e011", "e012", "e020", "e024", "e027", "e029"},
    "baking": {f"baking-e{n:03d}" for n in (4, 5, 6, 14, 16, 28, 29)},
    "camera": {"e017", "e018", "e019", "e020"},
    # round 18's never-read fold (dev from round 19) and round 19's (dev from round 21), read
    # for safety in round 21: harm that happened (poisoning, a rash, bleeding, a scald, frostbite
    # from dry ice, a bone stuck in a throat, a shock, breathlessness), fire, smoke, a burning
    # smell, a swollen battery, a hot crackling socket, a near miss (a child nearly sank or
    # caught fire). Not: property damage (a fridge's board burnt, a floor soaked), a fear asked
    # about (会不会起火), another's product (同事的别牌电源冒烟了), a ventilator user's power
    # station that shut down (powerstation e016: urgent, escalated, no harm or hazard of the
    # product's own).
    "seafood": {"e006", "e007", "e008", "e019", "e020", "e021"},
    "purifier": {"e004", "e005", "e011", "e019", "e024"},
    "swim": {"e004", "e005", "e006", "e015", "e018"},
    "gaming": {"e011", "e012", "e013", "e014", "e021"},
    "hanfu": {"e003", "e004", "e010", "e016", "e023"},
    "powerstation": {"e001", "e002", "e003", "e010", "e012", "e020", "e023", "e026", "e054"},
}


# Risk flags of the dev shops' turns, labelled by reading them (never the held-out shops), as
# "shop:id" (ids repeat across shops). A rhetorical question that mocks ("所以是我的错咯？",
# "还让我耐心？") counts as sarcasm.
def _ids(shop: str, fmt: str, *numbers: int) -> set[str]:
    return {f"{shop}:{fmt.format(n)}" for n in numbers}


_A = lambda *n: _ids("apparel", "apparel-e{:03d}", *n)  # noqa: E731
_D = lambda *n: _ids("digital", "e{:03d}", *n)  # noqa: E731
_C = lambda *n: _ids("cosmetics", "cos-e{:03d}", *n)  # noqa: E731
_F = lambda *n: _ids("food", "food-e{:03d}", *n)  # noqa: E731
_H = lambda *n: _ids("home", "home-e{:03d}", *n)  # noqa: E731
_S = lambda *n: _ids("sports", "e{:03d}", *n)  # noqa: E731
_T = lambda *n: _ids("toys", "e{:03d}", *n)  # noqa: E731
_I = lambda *n: _ids("instruments", "e{:03d}", *n)  # noqa: E731
_HE = lambda *n: _ids("health", "e{:03d}", *n)  # noqa: E731
DEV_RISK = {
    "safety_incident": {f"{s}:{i}" for s, ids in DEV_SAFETY.items() for i in ids},
    "urgent_deadline": _A(10, 11)
    | _D(15, 16)
    | _C(18, 19)
    | _F(12, 13)
    | _H(13, 14)
    | _S(12, 13, 26)
    | _T(11, 27)
    | _I(8, 16, 27, 65)
    | _HE(11, 24),
    "complaint_threat": _A(1, 2, 3, 4, 15, 19, 20, 29)
    | _D(7, 8, 9, 13, 21, 27)
    | _C(10, 11, 12, 13, 14, 15)
    | _F(2, 3, 9, 10, 23, 26)
    | _H(5, 6, 7, 8, 15, 21, 23, 66)
    | _S(2, 3, 4, 5, 21, 22)
    | _T(2, 3, 4, 11, 12, 18, 20, 22, 24)
    | _I(2, 3, 4, 11, 18, 21, 23, 24, 25, 28, 29, 63, 65)
    | _HE(4, 5, 6, 7, 8, 17, 19, 20, 24, 26),
    "refund_or_compensation_demand": _A(2, 16, 28, 31)
    | _D(5, 9, 13, 14, 22, 26)
    | _C(12, 14, 16, 17)
    | _F(2, 19, 23, 30)
    | _H(8, 12, 23, 24)
    | _S(1, 6, 18, 19, 21, 22)
    | _T(2, 11, 27)
    | _I(1, 21, 25, 65)
    | _HE(4, 21, 23, 24),
    "repeated_question": _A(12, 21, 26, 34)
    | _D(10, 19, 28)
    | _C(20, 25, 29, 30)
    | _F(1, 24)
    | _H(9, 10, 64, 67)
    | _S(14, 16)
    | _T(13, 20)
    | _I(9, 13, 26)
    | _HE(15, 16),
    "sarcasm": _A(12, 17)
    | _D(11, 27, 69)
    | _C(20, 22, 28)
    | _F(11, 14)
    | _H(9, 13, 18, 26)
    | _S(14, 15)
    | _T(9, 10, 28)
    | _I(9, 10, 20, 29)
    | _HE(9, 10, 15, 20),
    "property_damage": _A(28) | _D(5) | _H(24) | _I(14) | _HE(10, 14),
}
# A note naming a safety problem (written by the blind author; read by this script only).
SAFETY_NOTE = re.compile(
    r"safety|injur|burn|shock|fire|smoke|allerg|chok|scald|spark|安全|受伤|过敏|烫|触电|漏电|起火|冒烟|窒息|child \+",
    re.I,
)

# Risk flags named by the blind author's note on an escalate=true turn (read by this script only):
# each flag's recall on text the cues were not written from (the training verticals, held-out
# shops). "deadline not at risk" notes are on escalate=false turns, so they never count.
NOTE_RISK = {
    "safety_incident": SAFETY_NOTE,
    "sarcasm": re.compile(r"sarcas|iron", re.I),
    "urgent_deadline": re.compile(r"deadline", re.I),
}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _metrics(y: list[bool], p: list[bool]) -> dict[str, float]:
    tp = sum(a and b for a, b in zip(y, p, strict=True))
    fp = sum(b and not a for a, b in zip(y, p, strict=True))
    fn = sum(a and not b for a, b in zip(y, p, strict=True))
    tn = len(y) - tp - fp - fn
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    spec = tn / (tn + fp) if tn + fp else 0.0
    return {
        "n": len(y),
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "balanced_accuracy": round((rec + spec) / 2, 4),
    }


def _run(cases: list[dict[str, Any]], shop: Path | None = None) -> dict[str, Any]:
    name = shop.parent.name if shop is not None else ""
    safety_ids = DEV_SAFETY.get(name) or LATER_SAFETY.get(name) or set()
    keywords: tuple[str, ...] = ()
    rules = None
    if shop is not None:
        config = load_shop_config(shop)
        keywords, rules = tuple(config.escalation_keywords or ()), config.rule_set("emotion")
    rules = _with_learned(rules)
    y, p, risk, safety, wrong = [], [], Counter(), [], []
    risk_true: Counter[str] = Counter()
    flags: list[tuple[str, set[str]]] = []
    labelled = right = 0
    by_note_risk: dict[str, list[bool]] = {r: [] for r in NOTE_RISK}
    for case in cases:
        expect = case.get("expect") or {}
        label = bool(expect.get("escalate", case.get("escalate")))
        flag = emotion_flag(case["text"], case.get("context"), extra_keywords=keywords, rules=rules)
        y.append(label)
        p.append(flag.escalate)
        for r in flag.risk:
            risk[r] += 1
            risk_true[r] += label
        by_note = not safety_ids and SAFETY_NOTE.search(str(case.get("note", "")))
        if by_note or case.get("id") in safety_ids:
            safety.append("safety_incident" in flag.risk and flag.escalate)
        for r, note in NOTE_RISK.items():
            if r != "safety_incident" and label and note.search(str(case.get("note", ""))):
                by_note_risk[r].append(r in flag.risk)
        flags.append((f"{shop.parent.name if shop else 'sample'}:{case.get('id')}", set(flag.risk)))
        if expect.get("emotion"):
            labelled += 1
            right += flag.emotion == expect["emotion"]
        if label != flag.escalate:
            wrong.append(case.get("id"))
    out = _metrics(y, p)
    if labelled:
        out["emotion_accuracy"] = round(right / labelled, 4)
    out["risk"] = {
        r: {"fired": n, "escalate_share": round(risk_true[r] / n, 3)}
        for r, n in sorted(risk.items())
    }
    if safety:
        out["safety_by_note"] = {"n": len(safety), "recall": round(sum(safety) / len(safety), 3)}
    for r, hits in by_note_risk.items():
        if hits:
            out[f"{r}_by_note"] = {"n": len(hits), "recall": round(sum(hits) / len(hits), 3)}
    out["_wrong"] = wrong
    if shop is not None and shop.parent.name in DEV:
        out["_flags"] = flags
    return out


def _risk_flags(dev: dict[str, Any]) -> dict[str, Any]:
    """Precision / recall of each risk flag against DEV_RISK on the dev shops' turns."""
    # only the shops whose risk flags were labelled (fruit, ebike, lighting are not)
    labelled = {f"{s}:" for s in DEV_SAFETY}
    every = [f for shop in dev.values() for f in shop.pop("_flags", [])]
    fired = [(i, r) for i, r in every if any(i.startswith(s) for s in labelled)]
    out = {}
    # safety incidents over every dev shop (the later ones labelled for safety only)
    gold = DEV_RISK["safety_incident"] | {
        f"{s}:{i}" for s, ids in LATER_SAFETY.items() for i in ids
    }
    tp = sum("safety_incident" in r and i in gold for i, r in every)
    fp = sorted(i for i, r in every if "safety_incident" in r and i not in gold)
    fn = sorted(i for i, r in every if "safety_incident" not in r and i in gold)
    out["safety_incident_all_dev"] = {
        "P": round(tp / (tp + len(fp)), 3) if tp + len(fp) else None,
        "R": round(tp / (tp + len(fn)), 3) if tp + len(fn) else None,
        "gold": len(gold),
        "fp": fp,
        "fn": fn,
    }
    for risk, gold in DEV_RISK.items():
        tp = sum(risk in r and i in gold for i, r in fired)
        fp = sum(risk in r and i not in gold for i, r in fired)
        fn = sum(risk not in r and i in gold for i, r in fired)
        out[risk] = {
            "P": round(tp / (tp + fp), 3) if tp + fp else None,
            "R": round(tp / (tp + fn), 3) if tp + fn else None,
            "gold": len(gold),
            "fp": sorted(i for i, r in fired if risk in r and i not in gold),
            "fn": sorted(i for i, r in fired if risk not in r and i in gold),
        }
    return out


def _plain(shops: tuple[str, ...]) -> dict[str, Any]:
    """False escalations of plain product questions, pooled and per shop (the bound is per
    shop: a pooled 2 % can hide one shop whose customers see many false handoffs)."""
    per: dict[str, list[int]] = {}
    n = esc = 0
    for s in shops:
        per[s] = [0, 0]
        config = load_shop_config(ROOT / "evals/shops" / s / "shop")
        keywords, rules = tuple(config.escalation_keywords or ()), config.rule_set("emotion")
        for suite in ("answer", "presales"):
            for case in _rows(ROOT / "evals/shops" / s / f"{suite}.jsonl"):
                text = case.get("question") or case.get("text")
                decisions = (case.get("expect") or {}).get("decision")
                if not text or "auto" not in (
                    decisions if isinstance(decisions, list) else [decisions]
                ):
                    continue  # a question the shop may answer itself: a plain product question
                hit = emotion_flag(
                    text, case.get("history"), extra_keywords=keywords, rules=rules
                ).escalate
                n, esc = n + 1, esc + hit
                per[s][0] += 1
                per[s][1] += hit
    return {
        "n": n,
        "false_escalations": esc,
        "rate": round(esc / n, 4) if n else 0.0,
        "per_shop": {s: round(e / m, 4) if m else 0.0 for s, (m, e) in per.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--src", help="the src folder of the checkout to measure")
    ap.add_argument("--sets", default="sample,dev,trained,heldout,blind,jddc,plain")
    ap.add_argument("--show-wrong", action="store_true", help="ids of wrong dev/sample turns")
    ap.add_argument("--learned-labels", action="store_true", help="the learned emotion label")
    args = ap.parse_args()
    sets = args.sets.split(",")
    report: dict[str, Any] = {}
    if "sample" in sets:
        report["sample"] = _run(_rows(ROOT / "evals/emotion.jsonl"))
    for name, shops in (
        ("dev", DEV),
        ("trained", TRAINED),
        ("heldout", HELD_OUT),
        ("blind", BLIND),
    ):
        if name not in sets:
            continue
        per = {
            s: _run(
                _rows(ROOT / "evals/shops" / s / "emotion.jsonl"), ROOT / "evals/shops" / s / "shop"
            )
            for s in shops
        }
        report[name] = per
        if name in ("trained", "heldout", "blind"):  # never look at their failures
            for s in per.values():
                s.pop("_wrong")
    if "dev" in sets:
        report["dev_risk_flags"] = _risk_flags(report["dev"])
    if "jddc" in sets:
        turns = _rows(EVALDATA / "emotion/jddc_satisfaction_turns.jsonl")
        untuned = [t for t in turns if jddc_split(t["id"]) == "untuned"]
        report["jddc_untuned"] = _run(untuned)
        report["jddc_untuned"].pop("_wrong")
    if "train" in sets:
        rows = _rows(ROOT / "evals/training/emotion_train.jsonl")
        verticals = sorted({r["vertical"] for r in rows})
        report["train"] = {v: _run([r for r in rows if r["vertical"] == v]) for v in verticals}
        report["train"]["all"] = _run(rows)
        for m in report["train"].values():
            m.pop("_wrong")
    if "plain" in sets:
        report["plain_dev"] = _plain(DEV)
        report["plain_trained"] = _plain(TRAINED)
        report["plain_heldout"] = _plain(HELD_OUT)
        report["plain_blind"] = _plain(BLIND)
    for key, value in report.items():
        if key in ("dev", "trained", "heldout", "blind", "train"):
            for s, m in value.items():
                print(
                    f"{key:8} {s:10}", {k: v for k, v in m.items() if k not in ("risk", "_wrong")}
                )
                print(" " * 20, "risk:", m["risk"])
                if args.show_wrong:
                    print(" " * 20, "wrong:", m.get("_wrong"))
        else:
            print(f"{key:20}", {k: v for k, v in value.items() if k not in ("risk", "_wrong")})
            if "risk" in value:
                print(" " * 20, "risk:", value["risk"])
            if args.show_wrong and value.get("_wrong"):
                print(" " * 20, "wrong:", value["_wrong"])
    if args.json:
        Path(args.json).write_text(
            json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
