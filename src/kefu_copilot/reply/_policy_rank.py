"""Which line of the retrieved knowledge a rewritten draft says as the shop's policy: a fitted
line ranker.

The policy replacing a refusal (or said for a curt or dismissive draft) is chosen by rules
(:meth:`~._advisor.ReplyAdvisor._policy_by_retrieval`): the answerer's sure answer, else the
passage retrieval ranks best plus its fit to the complaint's topic, and its sentences by the
draft's numbers and the turn's words. Measured on the dev shops' reply suites (round 20), the fact
a case expects is in one of the retrieved passages in three of four failing cases — the rules
chose another passage, or another line of the right one. Here every quotable sentence of every
candidate passage (the same candidates the rules score) is described by general features — the
passage's retrieval strength, rank, kind and topic fit, whether the rules chose it (``today``),
the line's coverage of the turn's and the draft's words, the characters and pairs it shares with
the turn, numbers and the draft's figures it states or contradicts, its place — and scored by a
conditional logit fitted on the dev shops' reply suites (the line holding a ``contains`` string
of an expected source is the right one). The weights ship as ``data/reply_policy_model.json``,
refitted by ``scripts/train_reply_policy_model.py`` (leave-one-shop-out estimate printed). The
rules' choice is said; the model's top line after it when it is not in it and scores more than
the rules' best line by the file's ``margin`` (never instead of it: the rules' two sentences
often hold the fact, the model's one line alone would lose it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..answer._quoting import KINDS, LONG_LINE  # the same kinds and line length as answers
from ..text._normalize import normalize
from ..text._overlap import AskedWords
from ..text._ranker import LineRanker, load_ranker, ranker_file

__all__ = ["PolicyLine", "policy_line_features", "reply_policy_margin", "reply_policy_model"]

MODEL_FILE = "reply_policy_model.json"


@dataclass(frozen=True)
class PolicyLine:
    """One candidate line: its passage's measures (as the rules score it) and its own."""

    chunk: Any
    text: str
    unit: int  # its order among its passage's sentences
    units: int  # how many its passage has
    rank: int  # its passage's retrieval rank
    strength: float  # its passage's retrieval strength (0–1)
    fit: float  # its passage's topic fit (the rules' 0.5 × fit)
    on_topic: float  # its passage's fit to the complaint's topic class
    named: bool  # its passage is on the topic and names the conversation's product
    own: bool  # its passage is the conversation's product page
    today: bool  # the rules' choice says this line
    today_chunk: bool  # the rules' choice cites this line's passage
    covers: float  # share of the turn's and the draft's topic words the line states
    line_topic: bool  # the line uses the policy's words for the complaint's topic
    stated: bool  # the line states a figure of the draft's facts
    other_value: bool  # the line states another value in a unit of the draft's facts
    leads_other: bool  # the line leads with another product class's name


def policy_line_features(question: str, lines: Sequence[PolicyLine]) -> list[dict[str, float]]:
    """One feature mapping per line (see the module's doc); ``question`` is the customer's turn
    (with the turn that named the complaint)."""
    words = AskedWords.of(normalize(question))
    norms = [normalize(line.text) for line in lines]
    counts = [words.shared(norm) for norm in norms]
    top_chars = max((c for c, _ in counts), default=0) or 1
    top_pairs = max((p for _, p in counts), default=0) or 1
    top_covers = max((line.covers for line in lines), default=0.0) or 1.0
    top_strength = max((line.strength for line in lines), default=0.0) or 1.0
    asks = any(ch in question for ch in ("多少", "几", "多久", "多长", "多大", "费用", "运费"))
    out = []
    for line, norm, (chars, pairs) in zip(lines, norms, counts, strict=True):
        number = float(any(ch.isdigit() for ch in norm))
        chars_share, pairs_share = words.shares(chars, pairs)
        f = {
            "today": float(line.today),
            "today_chunk": float(line.today_chunk),
            "strength": line.strength / top_strength,
            "rank": math.log1p(line.rank),
            "fit": line.fit,
            "on_topic": float(line.on_topic > 0),
            "named": float(line.named),
            "own": float(line.own),
            "covers": line.covers,
            "covers_top": line.covers / top_covers,
            "line_topic": float(line.line_topic),
            "stated": float(line.stated),
            "other_value": float(line.other_value),
            "leads_other": float(line.leads_other),
            "chars_share": chars_share,
            "pairs_share": pairs_share,
            "chars_top": chars / top_chars,
            "pairs_top": pairs / top_pairs,
            "number": number,
            "asks*number": float(asks) * number,
            "first": float(line.unit == 0),
            "position": line.unit / max(line.units, 1),
            "long": float(len(line.text) > LONG_LINE),
            "short": float(len(line.text) < 8),
        }
        for kind in KINDS:
            f[kind] = float(line.chunk.kind == kind)
        out.append(f)
    return out


@cache
def reply_policy_model() -> LineRanker | None:
    """``data/reply_policy_model.json`` of the package, or None when it is not there."""
    return load_ranker(MODEL_FILE)


@cache
def reply_policy_margin() -> float:
    """How much more than the best line of the rules' choice the model's top line must score
    to be said after it (the model file's ``margin``, chosen leave-one-shop-out)."""
    data = ranker_file(MODEL_FILE)
    return 0.0 if data is None else float(data.get("margin", 0.0))
