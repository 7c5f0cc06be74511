"""A fitted chooser of the policy passage said for a conversation.

When an agent's draft refuses, dismisses or says too little, the reply says the shop's policy
for the turn. Retrieval finds candidate passages (policies, FAQ entries, the product's own page);
which of them is *the* policy was a hand-weighted sum (retrieval strength, topic-word fit, the
complaint's topic class in the heading, the product named), tuned on a few shops. The model
scores each candidate from measures that mean the same on any shop (:data:`FEATURES`: how
retrieval ranks it, how much of the turn's topic words it states, whether its heading or text is
on the turn's topic class of ``data/reply_topics.yaml`` or on *another* topic class, whether it
names the conversation's product, its class or another product, its kind) and the best score is
chosen. It is a conditional logit (a softmax over one turn's candidates) fitted by
``scripts/train_policy_model.py`` on the dev shops' reply suites — the label: the candidate's
document is one the case expects — and selected leave-one-shop-out; the file is
``data/policy_model.json``. Without the file the hand-weighted score chooses, as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .._data import DATA_DIR

__all__ = ["FEATURES", "FORMAT", "PolicyModel", "policy_model"]

FORMAT = "kefu-copilot/policy-model"

#: The measures of a candidate passage, each in 0..1.
FEATURES = (
    "strength",  # retrieval strength (its score / 2, capped at 1)
    "rank",  # 1 / (1 + its rank among the retrieved)
    "fit",  # topic-word fit of the passage (its best window, the product's part counting more)
    "coverage",  # share of the turn's and the draft's own words it states
    "heading_coverage",  # share of those words its heading states
    "on_topic",  # on the turn's topic class: 1 by its heading, 0.5 by its text
    "on_heading",  # on the turn's topic class by its heading
    "other_topic",  # its heading is on a topic class the turn is not of
    "narrowed",  # on a secondary topic too (the compensation asked or offered)
    "named",  # names the conversation's product or its class (or is the product's page)
    "other_named",  # names another product class of the catalogue
    "own_page",  # the conversation's product's own page
    "policy",  # a policy passage
    "faq",  # an FAQ entry
    "numbers",  # states a number of the draft's facts or the turn
    "sure",  # the passage the answerer's sure answer quotes
    "source_share",  # share of the candidates' retrieval strength its document holds
    "no_topic",  # the turn names no topic class (the topic measures say nothing)
    "document_on_topic",  # the most any passage of its document is on the turn's topic class
    "document_fit",  # the best topic-word fit of a passage of its document
    "hand",  # the hand-weighted score (a third of it, at most 1)
)


@dataclass(frozen=True)
class PolicyModel:
    """A linear score over :data:`FEATURES` (``weights``; a missing feature counts 0)."""

    weights: Mapping[str, float]
    info: Mapping[str, Any]

    def score(self, features: Mapping[str, float]) -> float:
        return math.fsum(self.weights.get(k, 0.0) * v for k, v in features.items())

    @classmethod
    def load(cls, path: str | Path) -> PolicyModel:
        """Read a model file written by ``scripts/train_policy_model.py``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file")
        return cls({k: float(v) for k, v in data["weights"].items()}, data.get("info", {}))


@cache
def policy_model() -> PolicyModel | None:
    """The packaged policy model (``data/policy_model.json``), or ``None`` without one."""
    path = Path(DATA_DIR) / "policy_model.json"
    return PolicyModel.load(path) if path.is_file() else None
