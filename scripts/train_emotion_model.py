"""Train the packaged escalation model (src/kefu_copilot/data/escalation_model.json) and, with
``--labels``, the emotion-label model beside it (data/emotion_labels.json).

    python scripts/train_emotion_model.py [--evaldata ../shared/evaldata] [--out PATH]
                                          [--grid] [--cache FILE] [--no-save] [--labels]
                                          [--weight KIND=W ...] [--prior rules|zero]

``--labels``: a multinomial model of the emotion label (angry / anxious / confused / neutral /
satisfied) on the labelled turns of the sample suite, the dev shops and the training verticals;
options (``LABEL_GRID``) chosen by leave-one-group-out accuracy (groups: the dev shops and the
verticals; each turn's label read consistently with its escalate label). The dev shops' label
figures are therefore cross-validated ones; the held-out shops are never read.

Data (labelled customer turns; the JDDC and review texts are research-only: they fit weights and
are never shipped):
  * shop-style turns, one *shop* each for cross-validation: the sample suite evals/emotion.jsonl
    and the emotion turns of the blind shops evals/shops/<shop>/emotion.jsonl — the DEV shops
    (apparel, digital, cosmetics, food, home, sports, and since round 11 toys, instruments,
    health: round 10's never-read fold, fruit, ebike, lighting: round 11's, meddevice, liquor,
    smartlock: round 12's) and four trained-on ones (baby, pets, kitchen, tools),
    read with each shop's own ``rules: {emotion}`` and escalation keywords, as `kefu eval` does.
    The trained-on shops' failures are never printed or read and no cue is written from them;
    their answer / presales questions only measure false escalations. The held-out shops
    (eyewear, stationery, luggage, tea, jewelry, autoparts, bedding, camping, furniture,
    florist) are never read here (shoes, bathroom, books: dev from round 16) — not fitted on, not selected on: scripts/emotion_eval.py
    measures them with the shipped model;
  * blind-written training turns over twelve other verticals (books, toys, phones, ...:
    evals/training/emotion_train.jsonl, written by an author who saw neither the code nor any
    eval set), one fold per ``vertical``, read with the packaged rules;
  * plain product questions, all escalate=false: the `answer` / `presales` questions that the
    sample and dev shops may answer themselves, and synthetic ones filled from their catalogues
    (product titles, colours, attributes; ``TEMPLATES`` below, one quoting the product name so
    that a quote alone is not read as a scare quote) — each in its shop's fold; the
    2 % bound on escalated plain questions is measured on the asked ones only;
  * JDDC: every rated customer turn of the 230 case-library dialogues (context = the 20 turns
    before it) and the "train" half of emotion/jddc_satisfaction_turns.jsonl
    (kefu_copilot.emotion._corpus.jddc_split; the other half is never read) —
    escalate = dissatisfied;
  * emotion/review_sentiment.jsonl — negative product reviews as weak positives, low weight.
Each source counts about as much as its weight in ``WEIGHTS`` whatever its size.

Model selection transfers across shops instead of fitting one: **leave-one-group-out**
cross-validation. Folds are the shops (sample, the 21 dev shops and the four unread ones:
their turns and their plain questions together), the training verticals, and three groups of JDDC
dialogues / reviews. Every turn is scored by a model that never saw its shop or vertical. The
threshold is the one with the best out-of-shop F1 of the **dev shops'** turns pooled (``SELECT``)
with at most 2 % of their plain questions escalated, pooled too (a shop drawn from them, not the
one with the most alarm-like questions: round 12's per-shop bound pinned the threshold near 0.5);
the source weights (``--grid``: the JDDC weight) by the dev shops' nested figure — each shop's
turns decided at the threshold the rule picks on the other seventeen, pooled — settings within
``NESTED_TIE`` of the best told apart by their out-of-fold F1 on the JDDC training half — among
the settings that take no dev shop over 2 % of its plain questions, leave-one-shop-out or in the
fit that would ship (``final_plain``, round 20), when there are any. The
unread shops and the verticals are folds and are reported, never selected on (``--select-only``:
the grid scores only the selection folds, then the chosen setting in full). The refit is saved
only if it beats the shipped model (``beats``: nested pooled F1 above the shipped model's own on
all 21 dev shops and on the fifteen it never saw, JDDC training-half F1 not lower; ``--force``
saves anyway).
Forced escalations (threats, profanity, requests for a human, safety incidents, a shop's
escalation keywords) count as escalated whatever the model says.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import itertools
import json
import os
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

# One BLAS thread (set before numpy loads): the fits are many small problems, and OpenBLAS's
# threads spin against each other and every other process on a shared machine — round 15, two
# cores under load: a full refit had used ~5 CPU-minutes in 13 minutes and was not half done
# with them; with one thread a refit of the selection folds takes ~25 CPU-seconds.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from folds import dev_shops, trained_shops, written_in  # noqa: E402

from kefu_copilot.config._shop import load_shop_config  # noqa: E402
from kefu_copilot.emotion._corpus import jddc_split  # noqa: E402
from kefu_copilot.emotion._cues import FORCING, lexicon  # noqa: E402
from kefu_copilot.emotion._flag import (  # noqa: E402
    FEATURE_NAMES,
    LABEL_FEATURES,
    _keyword_hits,
    escalation_features,
    escalation_grams,
    label_inputs,
)
from kefu_copilot.emotion._label_training import fit_labels, predict_labels  # noqa: E402
from kefu_copilot.emotion._labels import LABEL_FILE  # noqa: E402
from kefu_copilot.emotion._model import (  # noqa: E402
    EscalationModel,
    escalation_metrics,
    plain_question,
)

# The dev shops: read, trained on, their failures printed (--show-wrong). The last three were
# round 11's never-read fold (dev from round 12): no cue of the rule set was written reading
# them, so their leave-one-shop-out figure (``new_dev_shops`` in the summary) is the fairer one.
# toys, instruments and health were round 10's never-read fold (dev from round 11).
# The packaged model predates both (fitted in round 10 without them). The round-12 refit with all
# twelve (threshold and JDDC weight chosen as below: t 0.51, jddc 2) gave out-of-shop F1 new dev
# shops 0.815 nested (the packaged model, never fitted on them, scores them 0.841), unread shops
# 0.886 (0.898), verticals 0.934 (0.951), JDDC training half 0.369 (0.477): the dev shops' plain
# questions bound the threshold at ~0.5, their rule-forced positives cost nothing there, a new
# shop loses recall. It was not shipped.
# (the folds: evals/shops/folds.json — a fold by the round it was written in)
FIRST_SIX = tuple(s for s in dev_shops() if s in (*written_in(0), *written_in(3)))
# The never-read folds of rounds 10, 11 and 12, dev from the round after: the packaged model
# (fitted in round 10 on the first six) never saw any of them, so on these twelve shops its own (fishing, garden and watch,
# round 13's never-read fold, are dev from round 14)
# figure and a refit's nested leave-one-shop-out figure compare like with like.
FOLD_R10 = written_in(10)
FOLD_R11 = written_in(11)
FOLD_R12 = written_in(12)
FOLD_R13 = written_in(13)  # round 13's never-read fold, dev from round 14
FOLD_R14 = written_in(14)  # round 14's never-read fold, dev from round 15
FOLD_R15 = written_in(15)  # round 15's never-read fold, dev from round 16
FOLD_R16 = written_in(16)  # round 16's never-read fold, dev from round 17
FOLD_R17 = written_in(17)  # round 17's never-read fold, dev from round 18
FOLD_R18 = written_in(18)  # round 18's never-read fold, dev from round 19
FOLD_R19 = written_in(19)  # round 19's never-read fold, unread in round 20, dev from round 21
NEW_DEV_SHOPS = (
    *FOLD_R11, *FOLD_R12, *FOLD_R13, *FOLD_R14, *FOLD_R15, *FOLD_R16, *FOLD_R17, *FOLD_R18,
    *FOLD_R19,
)  # fmt: skip
DEV_SHOPS = (
    *FIRST_SIX, *FOLD_R10, *FOLD_R11, *FOLD_R12, *FOLD_R13, *FOLD_R14, *FOLD_R15, *FOLD_R16,
    *FOLD_R17, *FOLD_R18, *FOLD_R19,
)  # fmt: skip
UNSEEN = (*FOLD_R10, *NEW_DEV_SHOPS)  # the dev shops the packaged model was not fitted on
# Shops whose emotion turns are trained on (a fold each) although nobody reads them: their
# failures are never printed and no cue is written from them; their answer / presales questions
# only measure (plain). More verticals of real shop turns carry over to shops never seen
# (round 7: luggage .893 → .947 with them, the other held-out shops within .004).
TRAIN_SHOPS = trained_shops()
BLIND_SHOPS = (*DEV_SHOPS, *TRAIN_SHOPS)
# The held-out shops (eyewear, stationery, luggage, tea, jewelry, autoparts, bedding, camping,
# furniture, florist) are never read here:
# not trained on, not selected on — scripts/emotion_eval.py measures them.
SHOPS = ("sample", *BLIND_SHOPS)
TRAINING = ROOT / "evals/training/emotion_train.jsonl"  # blind-written turns, one fold a vertical
WEIGHTS = {"shop": 6.0, "plain": 1.0, "jddc": 1.0, "reviews": 0.15}
OPTIONS: dict[str, Any] = {"text": True, "l2": 300.0, "gram_l2": 1.0, "min_count": 3}
# l2 10-1000 and gram_l2 0.5-4 were searched in rounds 9-11 (300 / 1 each time); round 12
# searches the JDDC weight (one setting's 35 folds take ~8 CPU-minutes in round 13). Round 15
# (21 dev shops, --select-only): JDDC weight 1-4, gram_l2 0.5-4, plain weight 0.25-1,
# --min-domains 3 / 5 — nested pooled F1 0.928-0.943, JDDC training-half F1 0.38-0.44 at the
# threshold the dev shops pick (0.34-0.44); see CHANGELOG.
GRID = {
    "l2": (300.0,),
    # round 18 (30 dev shops): gram_l2 1 / 2 and JDDC weight 0.75 / 1 / 1.5, plain weight 1 (2
    # was below 1 on nested F1 and JDDC F1 in rounds 17 and 18). Round 19 (33 dev shops,
    # --select-only): gram_l2 1, JDDC weight 1 / 1.5 × plain weight 1 / 2 / 4 / 8 (JDDC 1.5 with
    # plain 1 not run; JDDC 0.75 with plain 1): nested pooled F1 .934-.946, JDDC training-half F1
    # .454-.469 at the threshold the dev shops pick (.24-.32), below the shipped recipe's .473 in
    # every setting; see CHANGELOG.
    # Round 20 (the neighbours of plain 2 / JDDC 1, all folds; gram_l2 2 at plain 2 / JDDC 1:
    # nested .934, swim 2.5 %): see CHANGELOG.
    "gram_l2": (1.0,),
    "shop": (6.0,),
    # Round 21 (36 dev shops, the aside_then_ask feature; a loaded machine): the four settings
    # round 20 left within the plain-question bound with the best nested F1 — JDDC .75 / 1 ×
    # plain 2 / 3 (plain 1.5 took aircon over 2 % in the fit that ships, JDDC 1.25 scored the
    # JDDC training half lower); see CHANGELOG.
    "jddc": (0.75, 1.0),
    # the plain questions' weight (round 17): more weight holds their scores down where the
    # JDDC turns want a lower threshold (out of fold, 27 dev shops: at the threshold where JDDC
    # training-half F1 is ~.48, one dev shop over 2 % of plain questions escalated against three).
    # Round 19, JDDC weight 1: plain weight 2 takes every dev shop to 2 % or under leave-one-
    # shop-out (aircon 3.0 → 1.5 %, swim 2.5 → .8, garden 2.3 → .8; 31 → 19 of 3,950 pooled).
    # Round 20: 1.5 / 2 / 3 with JDDC .75 / 1 / 1.25; the settings with JDDC training-half F1
    # over .46 all take a dev shop over 2 % (plain 1.5: aircon 2.3 % in the fit that ships)
    "plain": (2.0, 3.0),
}
# The groups settings and the threshold are selected on: the dev shops (leave-one-shop-out),
# then the JDDC training half's out-of-fold F1 among settings within NESTED_TIE. The unread
# trained-on shops and the training verticals are folds too, reported but never selected on.
SELECT = DEV_SHOPS
NESTED_TIE = 0.005
# Text features must recur in this many domains (shops, verticals, JDDC) to get a weight. Round 9
# measured 3 and 5 against 1 leave-one-group-out: the unread shops' and the verticals' mean F1
# within one turn of each other (1: 0.898 / 0.951; 5: 0.898 / 0.951; 3: 0.893 / 0.951), so the
# default keeps every gram; ``--min-domains`` re-measures it on new data.
MIN_DOMAINS = 1
MAX_PLAIN = 0.02  # at most this share of plain product questions may escalate
JDDC_FOLDS = 3
# Plain questions a customer asks about a catalogue item (synthetic negatives). {p}: a short
# product name, {c}: one of its colours / variants, {a}: one of its attribute names.
TEMPLATES = (
    "{p}有{c}的吗",
    "{p}{c}还有货吗",
    "{p}多少钱",
    "请问{p}的{a}是什么",
    "{p}的{a}怎么样",
    "{p}适合送人吗",
    "{p}什么时候发货",
    "{p}和别的款有什么区别",
    "{c}的{p}好看吗",
    "想买{p}，{a}能说一下吗",
    "“{p}”有{c}的吗",  # a quoted product name is not a scare quote
)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _bucket(key: str, n: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % n


def _shop_dir(shop: str) -> Path | None:
    return None if shop == "sample" else ROOT / "evals/shops" / shop / "shop"


def _eval_dir(shop: str) -> Path:
    return ROOT / "evals" if shop == "sample" else ROOT / "evals/shops" / shop


def _catalogue_questions(shop: str) -> list[str]:
    """Synthetic plain questions filled from the shop's JSON product files."""
    folder = _shop_dir(shop) or ROOT / "knowledge"
    out: list[str] = []
    for path in sorted(glob.glob(str(folder / "**" / "*.json"), recursive=True)):
        try:
            product = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(product, dict) or not isinstance(product.get("title"), str):
            continue
        words = [w for w in re.split(r"[\s/|]+", product["title"]) if len(w) >= 2]
        category = str(product.get("category") or "").replace("／", "/").split("/")[-1].strip()
        names = [category] if 2 <= len(category) <= 6 else []
        names = names or [w for w in words[1:3] if not re.search(r"\d", w)] or words[:1]
        colours = [
            str(v.get("color") or v.get("name") or "")
            for v in product.get("variants") or []
            if isinstance(v, dict)
        ]
        colours = [c for c in colours if c and len(c) <= 6] or ["黑色"]
        attrs = [a for a in (product.get("attributes") or {}) if isinstance(a, str)] or ["材质"]
        for k, template in enumerate(TEMPLATES):
            p, c, a = names[k % len(names)], colours[k % len(colours)], attrs[k % len(attrs)]
            out.append(template.format(p=p, c=c, a=a))
    return out


def load(evaldata: Path) -> list[dict[str, Any]]:
    """Training turns: {text, context, y, source, kind, fold, shop}."""
    out: list[dict[str, Any]] = []

    def add(
        text: str,
        context: Any,
        y: bool,
        kind: str,
        fold: str,
        shop: str | None,
        synthetic: bool = False,
        train: bool = True,
    ) -> None:
        out.append(
            {
                "text": text,
                "context": list(context or []),
                "y": bool(y),
                "kind": kind,  # shop | plain | jddc | reviews: what WEIGHTS counts
                "fold": fold,  # the cross-validation fold: a shop, a vertical or a JDDC group
                "shop": shop,  # whose rules and keywords read the turn (None: packaged)
                "synthetic": synthetic,  # a catalogue-template question (trains, never measures)
                "train": train,  # False: measured only, never fitted on
            }
        )

    for shop in SHOPS:
        rules_shop = None if shop == "sample" else shop
        for case in _rows(_eval_dir(shop) / "emotion.jsonl"):
            if case.get("type", "emotion") == "emotion":
                y = case["expect"]["escalate"]
                add(case["text"], case.get("context"), y, "shop", shop, rules_shop)
        suites = ("answer",) if shop == "sample" else ("answer", "presales")
        for suite in suites:
            for case in _rows(_eval_dir(shop) / f"{suite}.jsonl"):
                question = plain_question(case)  # as `kefu train-emotion` reads it
                if question is not None:
                    add(
                        question[0],
                        question[1],
                        False,
                        "plain",
                        shop,
                        rules_shop,
                        train=shop not in TRAIN_SHOPS,
                    )
        if shop in TRAIN_SHOPS:
            continue
        for text in _catalogue_questions(shop):
            add(text, [], False, "plain", shop, rules_shop, synthetic=True)
    for case in _rows(TRAINING):
        add(
            case["text"],
            case.get("context"),
            case["expect"]["escalate"],
            "shop",
            f"v:{case['vertical']}",
            None,
        )
    for dialogue in _rows(evaldata / "case_library/jddc_dialogues.jsonl"):
        turns = dialogue["turns"]
        fold = f"jddc{_bucket(dialogue['dialogue_id'], JDDC_FOLDS)}"
        for i, turn in enumerate(turns):
            if turn["role"] == "customer" and turn.get("label"):
                context = [
                    {"role": t["role"], "text": t["text"]} for t in turns[max(0, i - 20) : i]
                ]
                add(turn["text"], context, turn["label"] == "dissatisfied", "jddc", fold, None)
    for case in _rows(evaldata / "emotion/jddc_satisfaction_turns.jsonl"):
        if jddc_split(case["id"]) == "train":
            fold = f"jddc{_bucket(case['id'].rsplit('-t', 1)[0], JDDC_FOLDS)}"
            add(case["text"], case["context"], case["escalate"], "jddc", fold, None)
    for case in _rows(evaldata / "emotion/review_sentiment.jsonl"):
        fold = f"jddc{_bucket(case['id'], JDDC_FOLDS)}"
        add(case["text"][:200], [], case["label"] == "negative", "reviews", fold, None)
    return out


def featurize(data: list[dict[str, Any]]) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
    """Feature matrix, text features, and which rows escalate whatever the model says."""
    configs = {s: load_shop_config(_shop_dir(s)) for s in BLIND_SHOPS}
    rules = {s: c.rule_set("emotion") for s, c in configs.items()}
    keywords = {s: tuple(c.escalation_keywords or ()) for s, c in configs.items()}
    x, grams, forced = [], [], []
    for d in data:
        r = rules.get(d["shop"]) if d["shop"] else None
        f = escalation_features(d["text"], d["context"], rules=r)
        x.append([f[n] for n in FEATURE_NAMES])
        grams.append(escalation_grams(d["text"], d["context"], rules=r))
        hard = any(f[n] for n in FORCING)
        if d["shop"] in keywords:
            lex = lexicon(r)
            hard = hard or bool(_keyword_hits(lex, lex.fold(d["text"]), keywords[d["shop"]]))
        forced.append(hard)
    return np.array(x, dtype=float), grams, np.array(forced)


def _weights(data: list[dict[str, Any]], weights: dict[str, float]) -> np.ndarray:
    size: dict[str, int] = defaultdict(int)
    for d in data:
        size[d["kind"]] += 1
    return np.array(
        [
            weights[d["kind"]] * len(data) / (len(weights) * size[d["kind"]]) if d["train"] else 0.0
            for d in data
        ]
    )


def domains(data: list[dict[str, Any]]) -> np.ndarray:
    """Where each row was written: its shop or training vertical; JDDC and the reviews are one."""
    return np.array(["jddc" if d["kind"] in ("jddc", "reviews") else d["fold"] for d in data])


def spread_vocabulary(
    grams: list[list[str]], domain: np.ndarray, rows: np.ndarray, min_domains: int
) -> set[str]:
    """The text features seen in at least ``min_domains`` domains among ``rows``. A bigram of
    one shop's or vertical's products (面膜, 镜片, 充电) is learnt as a cue from that vertical's
    complaints and fires on the next shop's plain questions; one that recurs across verticals
    (差评, 怎么, 还没) is about how customers talk."""
    seen: dict[str, set[str]] = defaultdict(set)
    for i in rows:
        for g in grams[i]:
            seen[g].add(domain[i])
    return {g for g, where in seen.items() if len(where) >= min_domains}


def out_of_fold(
    x: np.ndarray,
    grams: list[list[str]],
    y: np.ndarray,
    w: np.ndarray,
    fold: np.ndarray,
    options: dict[str, Any],
    domain: np.ndarray | None = None,
    min_domains: int = 1,
    only: Any = None,
) -> np.ndarray:
    """Probabilities of every row from a model trained without the row's fold (text features
    restricted to those seen in ``min_domains`` of the training rows' domains); ``only``: the
    folds to score (the others stay 0 — a quicker grid over the selection folds)."""
    oof = np.zeros(len(y))
    for k in np.unique(fold):
        if only is not None and k not in only:
            continue
        test = fold == k
        train = np.flatnonzero(~test & (w > 0))
        vocab = None
        if domain is not None and min_domains > 1:
            vocab = spread_vocabulary(grams, domain, train, min_domains)
        model = EscalationModel(**options).fit_matrix(
            x[train],
            y[train],
            grams=[grams[i] for i in train],
            sample_weight=w[train],
            vocabulary=vocab,
        )
        idx = np.flatnonzero(test)
        oof[test] = model._proba(x[test], [grams[i] for i in idx])
    return oof


THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)


def groups(data: list[dict[str, Any]]) -> tuple[str, ...]:
    """The shops, then the training verticals ("v:books"...): the groups a model must transfer to."""
    verticals = sorted({d["fold"] for d in data if d["fold"].startswith("v:")})
    return (*SHOPS, *verticals)


def shop_scores(
    oof: np.ndarray, y: np.ndarray, forced: np.ndarray, data: list[dict[str, Any]]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: (labels, scores) of its customer turns and the scores of its plain questions."""
    score = np.where(forced, 1.0, oof)
    fold, kind = np.array([d["fold"] for d in data]), np.array([d["kind"] for d in data])
    # the plain questions customers asked (answer / presales suites), not the template ones
    real = ~np.array([bool(d.get("synthetic")) for d in data])
    out = {}
    for group in groups(data):
        turns, plain = (
            (fold == group) & (kind == "shop"),
            (fold == group) & (kind == "plain") & real,
        )
        out[group] = (y[turns], score[turns], score[plain])
    return out


def pooled(
    per_shop: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    thresholds: dict[str, float],
) -> tuple[float, float]:
    """(F1 of the shops' turns pooled, share of their plain questions escalated pooled), each
    shop's turns decided at its own threshold in ``thresholds``."""
    y = np.concatenate([per_shop[s][0] for s in thresholds])
    hit = np.concatenate([per_shop[s][1] >= t for s, t in thresholds.items()])
    plain = np.concatenate([per_shop[s][2] >= t for s, t in thresholds.items()])
    f1 = escalation_metrics(y, hit)["f1"]
    return float(f1), float(plain.mean()) if len(plain) else 0.0


def pick_threshold(
    per_shop: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], shops: tuple[str, ...]
) -> tuple[float, float]:
    """(threshold, pooled F1): the best F1 of ``shops``' turns pooled among the thresholds that
    escalate at most MAX_PLAIN of their plain questions pooled; the lowest on ties (a missed
    escalation costs more than a false one). Pooled, not per shop: the threshold is the one a
    new shop gets, so the false alarms it is held to are those of a shop drawn from these —
    a per-shop bound is set by the one dev shop with the most alarm-like questions (round 12:
    it pinned the threshold near 0.5, where the next shop lost recall); per-shop rates are
    still reported (``plain_escalated``)."""
    best = (-1.0, 0.5)
    for t in THRESHOLDS:
        f1, plain = pooled(per_shop, dict.fromkeys(shops, float(t)))
        if plain > MAX_PLAIN:
            continue
        if f1 > best[0] + 1e-9:
            best = (f1, float(t))
    return best[1], best[0]


def nested_thresholds(
    per_shop: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], shops: tuple[str, ...]
) -> dict[str, float]:
    """Each shop's threshold picked on the other ``shops`` alone (nested leave-one-shop-out)."""
    return {s: pick_threshold(per_shop, tuple(o for o in shops if o != s))[0] for s in shops}


def nested_pooled(
    per_shop: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], shops: tuple[str, ...]
) -> tuple[float, float]:
    """(pooled F1, pooled plain share escalated) of ``shops``, each at its nested threshold:
    what the rule would give a shop it never saw."""
    return pooled(per_shop, nested_thresholds(per_shop, shops))


def report(
    oof: np.ndarray,
    y: np.ndarray,
    forced: np.ndarray,
    data: list[dict[str, Any]],
    threshold: float,
) -> dict[str, Any]:
    """Leave-one-group-out figures at ``threshold`` and nested (threshold from the other
    groups)."""
    per_shop = shop_scores(oof, y, forced, data)
    out: dict[str, Any] = {"threshold": threshold}
    names = groups(data)
    for shop in names:
        labels, scores, plain = per_shop[shop]
        others = tuple(s for s in SELECT if s != shop)
        nested_t, _ = pick_threshold(per_shop, others)
        m = escalation_metrics(labels, scores >= threshold)
        n = escalation_metrics(labels, scores >= nested_t)
        out[shop] = {
            "n": len(labels),
            "P": round(m["precision"], 3),
            "R": round(m["recall"], 3),
            "F1": round(m["f1"], 3),
            "plain_escalated": round(float(np.mean(plain >= threshold)), 4) if len(plain) else None,
            "n_plain": len(plain),
            "nested_threshold": nested_t,
            "nested_F1": round(n["f1"], 3),
        }
    kinds = np.array([d["kind"] for d in data])
    for kind in ("jddc", "reviews"):
        sel = kinds == kind
        m = escalation_metrics(y[sel], (oof[sel] >= threshold) | forced[sel])
        out[kind] = {
            "n": int(sel.sum()),
            "P": round(m["precision"], 3),
            "R": round(m["recall"], 3),
            "F1": round(m["f1"], 3),
            "BA": round(m["balanced_accuracy"], 3),
        }
    nested = nested_thresholds(per_shop, SELECT)
    f1, plain = pooled(per_shop, nested)
    out["dev_nested_pooled"] = {"F1": round(f1, 3), "plain_escalated": round(plain, 4)}
    # each dev shop's plain questions at its nested threshold, scored by a model that never saw
    # them (its questions are in its own fold): the per-shop 2 % bound, leave-one-shop-out
    out["dev_nested_plain"] = {
        s: round(float(np.mean(per_shop[s][2] >= t)), 4) if len(per_shop[s][2]) else 0.0
        for s, t in nested.items()
    }
    # the fifteen dev shops the packaged model (round 10) never saw: like-for-like with its figure
    f1, plain = pooled(per_shop, {s: nested[s] for s in UNSEEN})
    out["unseen_nested_pooled"] = {"F1": round(f1, 3), "plain_escalated": round(plain, 4)}
    out["summary"] = summary(out, names)
    return out


def summary(figures: dict[str, Any], names: tuple[str, ...]) -> dict[str, float]:
    """Nested out-of-group F1 averaged over the dev shops (the cue lexicon was written reading
    their failures, so their figure flatters), over the three of them read only from round 11
    (``new_dev_shops``: no cue was written from them before), over the shops trained on but
    never read (the honest proxy for a blind shop) and over the training verticals, each with its standard
    error over the groups (``<part>_se``: two settings closer than that are the same within
    noise — one turn of a 65-turn shop moves its F1 by ~0.017); and the out-of-fold F1 and
    balanced accuracy on the JDDC training half (``jddc_F1``, ``jddc_BA``)."""
    verticals = [g for g in names if g.startswith("v:")]
    parts = {
        "dev_shops": DEV_SHOPS,
        "new_dev_shops": NEW_DEV_SHOPS,
        "unread_shops": TRAIN_SHOPS,
        "verticals": verticals,
    }
    out: dict[str, float] = {}
    for part, groups_ in parts.items():
        f1 = [figures[g]["nested_F1"] for g in groups_]
        out[part] = round(float(np.mean(f1)), 3) if f1 else 0.0
        se = float(np.std(f1, ddof=1) / np.sqrt(len(f1))) if len(f1) > 1 else 0.0
        out[f"{part}_se"] = round(se, 3)
    if "dev_nested_pooled" in figures:
        out["dev_pooled_F1"] = figures["dev_nested_pooled"]["F1"]
    if "jddc" in figures:
        out["jddc_F1"], out["jddc_BA"] = figures["jddc"]["F1"], figures["jddc"]["BA"]
    return out


# ---------------------------------------------------------------------------- emotion labels
EMOTIONS = ("angry", "anxious", "confused", "neutral", "satisfied")
# The dev shops the shipped label model (data/emotion_labels.json, opt-in) was fitted on; the
# three dev shops of round 11 are not among them (the label model was not refitted).
LABEL_SHOPS = ("apparel", "digital", "cosmetics", "food", "home", "sports")
# prior_l2: the penalty of the rule set's own emotion scores (None: l2); lower, the hand-set
# emotion_weights act as a prior the text features correct.
LABEL_GRID: dict[str, tuple[Any, ...]] = {
    "l2": (100.0, 300.0),
    "gram_l2": (0.1, 0.25),
    "prior_l2": (None, 30.0),
}


def load_labels() -> list[dict[str, Any]]:
    """Turns labelled with an emotion: the sample suite, the dev shops (each a fold, read with
    its own rules) and the training verticals (one fold each)."""
    out: list[dict[str, Any]] = []
    configs = {s: load_shop_config(_shop_dir(s)) for s in BLIND_SHOPS}
    # the sample and the dev shops the shipped label model was fitted on (not the held-out ones)
    sources = [(s, _eval_dir(s) / "emotion.jsonl") for s in ("sample", *LABEL_SHOPS)]
    for shop, path in [*sources, (None, TRAINING)]:
        rules = configs[shop].rule_set("emotion") if shop in configs else None
        for case in _rows(path):
            emotion = (case.get("expect") or {}).get("emotion")
            if case.get("type", "emotion") != "emotion" or emotion not in EMOTIONS:
                continue
            inputs, grams = label_inputs(case["text"], case.get("context"), rules=rules)
            fold = shop or f"v:{case['vertical']}"
            escalate = bool(case["expect"]["escalate"])
            x = [inputs[n] for n in LABEL_FEATURES]
            out.append({"x": x, "grams": grams, "y": emotion, "fold": fold, "escalate": escalate})
    return out


def label_accuracy(data: list[dict[str, Any]], **options: Any) -> dict[str, float]:
    """Leave-one-group-out accuracy of the label model per group (shops and verticals)."""
    x = np.array([d["x"] for d in data], dtype=float)
    fold = np.array([d["fold"] for d in data])
    hit = np.zeros(len(data), bool)
    for k in np.unique(fold):
        test, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        model = fit_labels(
            x[train],
            [data[i]["y"] for i in train],
            [data[i]["grams"] for i in train],
            LABEL_FEATURES,
            EMOTIONS,
            **options,
        )
        # the label consistent with the turn's escalate label (emotion_flag uses its own
        # decision; the escalation model's leave-one-group-out F1 is ~0.97, printed above)
        gate = [data[i]["escalate"] for i in test]
        test_grams = [data[i]["grams"] for i in test]
        predicted = predict_labels(model, x[test], test_grams, LABEL_FEATURES, gate)
        hit[test] = [p == data[i]["y"] for p, i in zip(predicted, test, strict=True)]
    out = {g: round(float(hit[fold == g].mean()), 3) for g in ("sample", *LABEL_SHOPS)}
    out["verticals"] = round(float(hit[np.char.startswith(fold.astype(str), "v:")].mean()), 3)
    return out


def train_labels(out: Path | None) -> None:
    """Pick the options (``LABEL_GRID``) by mean leave-one-group-out accuracy (the dev shops' mean and the
    verticals', averaged; the sample suite is trained on, not selected on), fit on everything,
    save next to the escalation model."""
    data = load_labels()
    print("label turns:", len(data))
    results = []
    for values in itertools.product(*LABEL_GRID.values()):
        options = dict(zip(LABEL_GRID, values, strict=True))
        acc = label_accuracy(data, **options)
        score = (float(np.mean([acc[s] for s in LABEL_SHOPS])) + acc["verticals"]) / 2
        print(f"labels {options} mean={score:.3f}", acc, flush=True)
        results.append((score, options, acc))
    score, options, acc = max(results, key=lambda r: r[0])
    print("labels chosen:", options, acc)
    if out is None:
        return
    x = np.array([d["x"] for d in data], dtype=float)
    model = fit_labels(
        x,
        [d["y"] for d in data],
        [d["grams"] for d in data],
        LABEL_FEATURES,
        EMOTIONS,
        **options,
    )
    info = dict(model.info)
    info["cv"] = {"leave_one_group_out_accuracy": acc, "groups": "shops and training verticals"}
    data_out = model.to_dict()
    data_out["info"] = info
    text = json.dumps({k: v for k, v in data_out.items() if k != "grams"}, ensure_ascii=False)
    text = text[:-1] + ', "grams": ' + json.dumps(data_out["grams"], ensure_ascii=False) + "}"
    out.write_text(text + "\n", encoding="utf-8")
    print(f"saved {out}: {out.stat().st_size // 1024} KB, {len(model.grams)} text weights")


def show_wrong(
    oof: np.ndarray, y: np.ndarray, forced: np.ndarray, data: list[dict[str, Any]], t: float
) -> None:
    """The dev shops' turns (and plain questions) the model trained without their shop gets
    wrong: the failure classes to read. Held-out shops are never printed."""
    score = np.where(forced, 1.0, oof)
    for i, d in enumerate(data):
        if d["fold"] in ("sample", *DEV_SHOPS) and bool(score[i] >= t) != bool(y[i]):
            kind = "missed" if y[i] else "false"
            print(f"wrong {d['fold']:9} {d['kind']:5} {kind:6} {score[i]:.2f} {d['text']}")


def shipped_figures(
    path: Path,
    data: list[dict[str, Any]],
    x: np.ndarray,
    grams: list[list[str]],
    y: np.ndarray,
    forced: np.ndarray,
) -> dict[str, Any]:
    """The model at ``path`` (the packaged one) on the same rows: each dev shop's F1 at its own
    threshold, the dev shops pooled, the same pooled with thresholds re-picked by the nested rule
    on its scores, and its recorded out-of-fold JDDC training-half F1 (``info.cv``; scored here
    it would be in-sample)."""
    model = EscalationModel.load(path)
    per_shop = shop_scores(model._proba(x, grams), y, forced, data)
    t = model.threshold
    out: dict[str, Any] = {"threshold": t}
    for shop in SELECT:
        labels, scores, plain = per_shop[shop]
        m = escalation_metrics(labels, scores >= t)
        out[shop] = {
            "F1": round(m["f1"], 3),
            "plain_escalated": round(float(np.mean(plain >= t)), 4) if len(plain) else None,
        }
    out["pooled"] = [round(v, 4) for v in pooled(per_shop, dict.fromkeys(SELECT, t))]
    out["plain"] = {s: out[s]["plain_escalated"] or 0.0 for s in SELECT}
    out["pooled_unseen"] = [round(v, 4) for v in pooled(per_shop, dict.fromkeys(UNSEEN, t))]
    out["nested_pooled"] = [round(v, 4) for v in nested_pooled(per_shop, SELECT)]
    cv = (model.info.get("cv") or {}).get("jddc") or {}
    out["jddc_F1_recorded"] = cv.get("F1")
    out["jddc_today"] = shipped_recipe_jddc(model, data, x, grams, y, forced)
    return out


def shipped_recipe_jddc(
    model: EscalationModel,
    data: list[dict[str, Any]],
    x: np.ndarray,
    grams: list[list[str]],
    y: np.ndarray,
    forced: np.ndarray,
) -> dict[str, float]:
    """The shipped model's JDDC training-half figure with today's features, like for like with a
    refit's: its recipe (the sources its ``info.sources`` names, its source weights and options)
    refitted leave-one-JDDC-group-out on today's feature rows, scored out of fold at its own
    threshold. Its recorded figure (``info.cv``) was read with the features of its day; scoring
    the shipped file itself on these rows would be in-sample (``in_sample_F1``, reported)."""
    info = model.info
    folds = {key.split(":", 1)[1] for key in info.get("sources") or {} if ":" in key}
    rows = np.array(
        [d["kind"] in ("jddc", "reviews") or d["fold"] in folds for d in data], dtype=bool
    )
    idx = np.flatnonzero(rows)
    sub = [data[i] for i in idx]
    weights = dict(WEIGHTS, **(info.get("source_weights") or {}))
    options = {
        "text": True,
        "l2": model.l2,
        "gram_l2": model.gram_l2,
        "min_count": model.min_count,
        "prior": model.prior,
    }
    fold = np.array([d["fold"] for d in sub])
    jddc_folds = tuple(f"jddc{k}" for k in range(JDDC_FOLDS))
    oof = out_of_fold(
        x[idx], [grams[i] for i in idx], y[idx], _weights(sub, weights), fold, options,
        only=jddc_folds,
    )  # fmt: skip
    jddc = np.array([d["kind"] == "jddc" for d in sub])
    t = model.threshold
    m = escalation_metrics(y[idx][jddc], (oof[jddc] >= t) | forced[idx][jddc])
    kinds = np.array([d["kind"] == "jddc" for d in data])
    ins = escalation_metrics(
        y[kinds], (model._proba(x[kinds], _at(grams, kinds)) >= t) | forced[kinds]
    )
    return {
        "threshold": t,
        "F1": round(m["f1"], 3),
        "BA": round(m["balanced_accuracy"], 3),
        "P": round(m["precision"], 3),
        "R": round(m["recall"], 3),
        "in_sample_F1": round(ins["f1"], 3),
    }


def _at(grams: list[list[str]], mask: np.ndarray) -> list[list[str]]:
    return [grams[i] for i in np.flatnonzero(mask)]


def fit_final(
    x: np.ndarray,
    grams: list[list[str]],
    y: np.ndarray,
    w: np.ndarray,
    domain: np.ndarray,
    options: dict[str, Any],
    min_domains: int,
) -> EscalationModel:
    """The model a setting ships: fitted on every training row."""
    keep = np.flatnonzero(w > 0)
    vocab = spread_vocabulary(grams, domain, keep, min_domains)
    return EscalationModel(**options).fit_matrix(
        x[keep],
        y[keep],
        grams=[grams[i] for i in keep],
        sample_weight=w[keep],
        vocabulary=vocab if min_domains > 1 else None,
    )


def final_plain(
    model: EscalationModel,
    threshold: float,
    data: list[dict[str, Any]],
    x: np.ndarray,
    grams: list[list[str]],
    forced: np.ndarray,
) -> dict[str, float]:
    """Each dev shop's plain questions escalated by the model that would ship, at its threshold:
    what scripts/emotion_eval.py --sets plain measures once it is packaged (issue 17's per-shop
    2 % bound). In sample — the shop's questions were fitted on — and yet it can be higher than
    the leave-one-shop-out figure, which is read at each shop's nested threshold, not the one
    picked on all of them (round 20: plain weight 1.5, aircon 1.5 % out of shop, 2.3 % here)."""
    score = np.where(forced, 1.0, model._proba(x, grams))
    out = {}
    for shop in SELECT:
        rows = [
            i
            for i, d in enumerate(data)
            if d["fold"] == shop and d["kind"] == "plain" and not d.get("synthetic")
        ]
        out[shop] = round(float(np.mean(score[rows] >= threshold)), 4) if rows else 0.0
    return out


def within_plain_bound(figures: dict[str, Any]) -> bool:
    """No dev shop over MAX_PLAIN of its plain questions, out of shop or by the shipped fit."""
    rates = [*figures.get("dev_nested_plain", {}).values()]
    rates += [*figures.get("dev_plain_final", {}).values()]
    return all(r <= MAX_PLAIN for r in rates)


def beats(figures: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """Why a refit must not replace the shipped model (empty: it may): its nested pooled F1 on
    the dev shops must beat the shipped model's own pooled F1 there, on all of them and on the
    ones the shipped model never saw; it must escalate fewer of their plain questions pooled and
    take no dev shop over 2 % of its plain questions (nor further over) that the shipped model
    keeps under, neither leave-one-shop-out nor by the refit at its own threshold
    (``final_plain``); its JDDC training-half F1 must not fall. Round 20 measured the refit
    this gate keeps out (plain weight 2: it meets every issue-17 target it was checked on but
    the never-read fold's pooled F1, one more escalation missed there) and left the gate as it
    is: see CHANGELOG. Round 21's refit (36 dev shops, plain 2, JDDC .75) failed only the JDDC
    clause (.452 < .478), met every issue-17 target the shipped model misses without a lower
    held-out pooled F1, and was saved with ``--force`` (CHANGELOG, round 21)."""
    why = []
    nested = figures["dev_nested_pooled"]["F1"]
    if nested <= shipped["pooled"][0]:
        why.append(f"dev nested pooled F1 {nested:.3f} <= shipped {shipped['pooled'][0]:.3f}")
    unseen, before_unseen = figures["unseen_nested_pooled"]["F1"], shipped["pooled_unseen"][0]
    if unseen <= before_unseen:
        why.append(f"unseen dev shops nested pooled F1 {unseen:.3f} <= shipped {before_unseen:.3f}")
    # plain questions: fewer escalated pooled, and no dev shop over the 2 % bound that the
    # shipped model keeps it under or over it by more (each shop scored leave-one-shop-out)
    plain, before_plain = figures["dev_nested_pooled"].get("plain_escalated"), shipped["pooled"][1]
    if plain is not None and plain >= before_plain:
        why.append(f"dev plain questions escalated {plain:.4f} >= shipped {before_plain:.4f}")
    for shop, rate in (figures.get("dev_nested_plain") or {}).items():
        before_rate = (shipped.get("plain") or {}).get(shop, 0.0)
        if rate > MAX_PLAIN and rate > before_rate:
            why.append(f"{shop} plain questions escalated {rate:.3f} > {before_rate:.3f}")
    # ... nor by the refit itself at its threshold (in sample: what emotion_eval reads once it
    # is packaged, against the shipped model's figure on the same rows)
    for shop, rate in (figures.get("dev_plain_final") or {}).items():
        before_rate = (shipped.get("plain") or {}).get(shop, 0.0)
        if rate > MAX_PLAIN and rate > before_rate:
            why.append(
                f"{shop} plain questions escalated by the refit {rate:.3f} > {before_rate:.3f}"
            )
    # the shipped recipe's out-of-fold figure on today's features (its recorded figure was read
    # with the features of round 10; see shipped_recipe_jddc)
    today = shipped.get("jddc_today") or {}
    jddc, before = figures["jddc"]["F1"], today.get("F1", shipped.get("jddc_F1_recorded"))
    if before is not None and jddc < before:
        why.append(f"JDDC training-half F1 {jddc:.3f} < shipped {before:.3f}")
    return why


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--evaldata", default=str(ROOT.parent / "shared" / "evaldata"))
    ap.add_argument("--out", default=str(ROOT / "src/kefu_copilot/data/escalation_model.json"))
    ap.add_argument("--grid", action="store_true", help="search l2 / gram_l2 / shop weight")
    ap.add_argument("--cache", help="pickle of the featurized data (reused when it exists)")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--select-only",
        action="store_true",
        help="grid: score only the selection folds (dev shops, JDDC), then the chosen one in full",
    )
    ap.add_argument("--oof", help="pickle every setting's out-of-fold scores here (analysis)")
    ap.add_argument("--labels", action="store_true", help="train only the emotion-label model")
    ap.add_argument(
        "--shipped",
        default=str(ROOT / "src/kefu_copilot/data/escalation_model.json"),
        help="the model a refit must beat to be saved (default: the packaged one)",
    )
    ap.add_argument(
        "--force",
        action="store_true",
        help="save the refit even when it does not beat the shipped model (see beats())",
    )
    ap.add_argument(
        "--min-domains",
        type=int,
        default=MIN_DOMAINS,
        help="weight only text features seen in this many shops / verticals / JDDC (1: all)",
    )
    ap.add_argument(
        "--show-wrong",
        action="store_true",
        help="print the dev shops' turns the leave-one-shop-out model gets wrong (never held out)",
    )
    ap.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="KIND=W",
        help="a source weight other than WEIGHTS' (shop, plain, jddc, reviews), e.g. jddc=2",
    )
    ap.add_argument(
        "--prior",
        choices=("rules", "zero"),
        default="rules",
        help="pull the dense weights towards the rule set's hand-set weights or towards zero",
    )
    args = ap.parse_args()
    base_weights = dict(WEIGHTS)
    for item in args.weight:
        kind, _, value = item.partition("=")
        if kind not in WEIGHTS or not value:
            ap.error(f"--weight {item!r}: give KIND=W with KIND one of {', '.join(WEIGHTS)}")
        base_weights[kind] = float(value)
    if args.labels:
        train_labels(None if args.no_save else Path(args.out).with_name(LABEL_FILE))
        return
    if args.cache and Path(args.cache).is_file():
        data, x, grams, forced = pickle.loads(Path(args.cache).read_bytes())
    else:
        data = load(Path(args.evaldata))
        x, grams, forced = featurize(data)
        if args.cache:
            Path(args.cache).write_bytes(pickle.dumps((data, x, grams, forced)))
    y = np.array([d["y"] for d in data])
    domain = domains(data)
    fold = np.array([d["fold"] for d in data])
    counts: dict[str, int] = defaultdict(int)
    for d in data:
        counts[f"{d['kind']}:{d['fold']}" if d["kind"] in ("shop", "plain") else d["kind"]] += 1
    print("data:", dict(counts))

    candidates = [
        (
            OPTIONS["l2"],
            OPTIONS["gram_l2"],
            base_weights["shop"],
            base_weights["jddc"],
            base_weights["plain"],
        )
    ]
    if args.grid:
        candidates = list(
            itertools.product(
                GRID["l2"], GRID["gram_l2"], GRID["shop"], GRID["jddc"], GRID["plain"]
            )
        )
    results = []
    oofs: list[tuple[tuple[float, ...], np.ndarray]] = []
    for l2, gram_l2, shop_weight, jddc_weight, plain_weight in candidates:
        options = dict(OPTIONS, l2=l2, gram_l2=gram_l2, prior=args.prior)
        weights = dict(base_weights, shop=shop_weight, jddc=jddc_weight, plain=plain_weight)
        w = _weights(data, weights)
        only = (*SELECT, *(f"jddc{k}" for k in range(JDDC_FOLDS))) if args.select_only else None
        oof = out_of_fold(x, grams, y, w, fold, options, domain, args.min_domains, only)
        oofs.append(((l2, gram_l2, shop_weight, jddc_weight, plain_weight), oof))
        if args.oof:
            Path(args.oof).write_bytes(pickle.dumps((data, y, forced, oofs)))
        per_shop = shop_scores(oof, y, forced, data)
        names = groups(data)
        threshold, f1 = pick_threshold(per_shop, SELECT)
        figures = report(oof, y, forced, data, threshold)
        final = fit_final(x, grams, y, w, domain, options, args.min_domains)
        figures["dev_plain_final"] = final_plain(final, threshold, data, x, grams, forced)
        verticals = [g for g in names if g.startswith("v:")]
        # selected on the dev shops' nested leave-one-shop-out F1, pooled, only
        nested = figures["dev_nested_pooled"]["F1"]
        print(
            f"l2={l2:<5} gram_l2={gram_l2:<4} shop={shop_weight:<4} jddc={jddc_weight:<4} "
            f"plain={plain_weight:<4} "
            f"t={threshold:.2f} dev LOSO pooled F1={f1:.3f} nested pooled={nested:.3f} "
            + " ".join(f"{s}={figures[s]['F1']:.3f}" for s in SHOPS)
            + f" verticals={np.mean([figures[v]['F1'] for v in verticals] or [0]):.3f}"
            + f" jddc F1={figures['jddc']['F1']:.3f} BA={figures['jddc']['BA']:.3f}"
            + f" plain over 2 %: {not within_plain_bound(figures)}"
            + f" nested means {figures['summary']}",
            flush=True,
        )
        results.append((nested, f1, options, weights, figures, final))
    # Settings that take no dev shop over the 2 % plain-question bound (out of shop, or by the
    # fit that would ship), if any; among them, those within NESTED_TIE of the best dev-shop
    # nested F1 are the same within noise (one turn of a 65-turn shop is ~0.017 F1): the best
    # out-of-fold F1 on the JDDC training half (the untuned half is never read here).
    eligible = [r for r in results if within_plain_bound(r[4])] or results
    best = max(r[0] for r in eligible)
    close = [r for r in eligible if r[0] >= best - NESTED_TIE]
    nested, f1, options, weights, figures, final = max(
        close, key=lambda r: (r[4]["jddc"]["F1"], r[0])
    )
    if args.select_only and len(candidates) > 1:  # the chosen setting's figures over all folds
        w = _weights(data, weights)
        oof = out_of_fold(x, grams, y, w, fold, options, domain, args.min_domains)
        plain_final = figures["dev_plain_final"]
        figures = report(oof, y, forced, data, figures["threshold"])
        figures["dev_plain_final"] = plain_final
    print("chosen:", {k: options[k] for k in ("l2", "gram_l2")}, "weights:", weights)
    print("per shop out-of-fold F1:", {s: figures[s]["F1"] for s in SHOPS})
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.show_wrong:
        w = _weights(data, weights)
        oof = out_of_fold(x, grams, y, w, fold, options, domain, args.min_domains)
        show_wrong(oof, y, forced, data, figures["threshold"])
    shipped = shipped_figures(Path(args.shipped), data, x, grams, y, forced)
    print(
        "dev shop: shipped model F1 at its threshold -> refit nested F1 (threshold); "
        "plain questions escalated, shipped -> refit (leave-one-shop-out)"
    )
    for s in SELECT:
        print(
            f"  {s:12} {shipped[s]['F1']:.3f} -> {figures[s]['nested_F1']:.3f} "
            f"({figures[s]['nested_threshold']:.2f})   plain "
            f"{100 * shipped['plain'][s]:.1f} % -> {100 * figures['dev_nested_plain'][s]:.1f} % "
            f"(refit at its threshold {100 * figures['dev_plain_final'][s]:.1f} %)"
        )
    print(
        "shipped (F1, plain share) pooled:",
        shipped["pooled"],
        "unseen (never fitted):",
        shipped["pooled_unseen"],
        "its scores, nested rule:",
        shipped["nested_pooled"],
        "JDDC recorded:",
        shipped["jddc_F1_recorded"],
        "JDDC today (its recipe, out of fold):",
        shipped["jddc_today"],
    )
    print(
        "refit nested pooled:",
        figures["dev_nested_pooled"],
        "unseen (never fitted):",
        figures["unseen_nested_pooled"],
        "JDDC:",
        figures["jddc"]["F1"],
    )
    why = beats(figures, shipped)
    if why:
        print("not saved: the refit does not beat the shipped model:", "; ".join(why))
    if args.no_save or (why and not args.force):
        return
    model = final
    model.threshold = figures["threshold"]
    model.info = {
        "n_train": len(data),
        "sources": dict(counts),
        "source_weights": weights,
        "threshold": "leave-one-shop-out CV over the dev shops: best pooled out-of-shop F1 with "
        "<= 2 % of their plain questions escalated pooled; settings by the nested figure (each "
        "shop's threshold picked on the other dev shops)",
        "shipped_before": shipped,
        "cv": figures,
        "jddc_split": "sha256(dialogue id)[0] even = untuned (not used)",
        "min_domains": args.min_domains,
    }
    model.save(args.out)
    size = Path(args.out).stat().st_size // 1024
    print(f"saved {args.out}: {size} KB, {len(model.grams)} text weights")


if __name__ == "__main__":
    main()
