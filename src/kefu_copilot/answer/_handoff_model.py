"""Whether a shopper's message needs a person: a logistic regression fitted on many shops.

The message rules (:mod:`._rules`) hand off what their cues name; a shop never seen words the
same needs otherwise, and lists read from dev cases did not carry to shops nobody read (round
18: +.10 handoff recall on the fold read, nothing on the fold not read). This model learns the
*kind* of message instead, from every answer and pre-sales case of the dev shops (label: the
case accepts only a handoff or a draft-or-handoff, against the ones that accept an automatic
answer), over cheap, general features (:func:`handoff_features`):

* the character 1–3-grams of the message normalised (digits read as one class), kept only
  where they occur in several shops — a shop's own product words carry no weight;
* the ``message_rules`` classes it says (:func:`~._rules.rule_classes`) as prior features;
* its question form (a question mark, 吗/呢, a wh-word, 能不能…, none: a request or statement);
* whether it holds an order or waybill reference, a long number, a phone number, a date or an
  amount of money (:mod:`kefu_copilot.text._patterns`, :mod:`kefu_copilot.text._numbers`).

At question time the model is a sum of weights looked up by feature; nothing is retrieved,
and the answer path hands it the message rules' own reading (:class:`~._rules.MessageRead`), so
the rule classes, references and amounts are not searched twice (~40 µs a question). ``scripts/train_handoff_model.py`` refits it (leave-one-shop-out estimates, the
threshold chosen by nested leave-one-shop-out) and writes ``data/handoff_model.json``; the
answer path (:meth:`~._extractive.Answerer._ruled`) hands off a message the model is sure of
(probability ≥ the file's ``threshold``), naming it in the reasons and the trace, after the
rules and before retrieval. Held-out shops are never read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import cache
from itertools import repeat
from operator import add
from pathlib import Path
from typing import Any

from .._data import DATA_DIR, packaged_rules
from .._errors import ConfigError
from ..text._normalize import normalize
from ..text._numbers import money_amounts
from ..text._patterns import DATE, LANDLINE, LONG_NUMBER, PHONE, order_references
from ._rules import MessageRead, rule_classes

__all__ = ["FORMAT", "HANDOFF_MODEL", "HandoffModel", "handoff_features", "handoff_model"]

FORMAT = "kefu-copilot/handoff-model"
HANDOFF_MODEL = "the message reads as one a person answers (the fitted handoff model)"
_ASK_MARK = re.compile(r"[?？]")
_PARTICLE = re.compile(r"(吗|嘛|么|呢|没|不)[?？!！。.~～\s]*$")
_WH = re.compile(r"多少|几|什么|啥|怎么|咋|哪|为什么|为啥|多久|多大|多长|谁")
#: The characters of a message the model reads: a shopper's message is short (the dev shops'
#: longest case is 100 characters), and its cues re-read the message rules — on a pathological
#: run of thousands of digits those cost what the rules themselves cost, twice over.
MAX_CHARS = 200
_CAN = re.compile(r"能不能|可不可以|可以吗|能否|行不行|是否|会不会|有没有|要不要|能.{0,6}吗")


def handoff_features(
    text: str, rules: Mapping[str, Any] | None = None, read: MessageRead | None = None
) -> set[str]:
    """The features of ``text`` (in 简体) the model weighs: n-grams, ``#rule:`` classes of the
    ``message_rules`` (``rules``: a shop's merged set, default the packaged one), ``#q:``
    question form, ``#num:`` references and figures, ``#len:`` a length band; only the first
    :data:`MAX_CHARS` characters are read.

    ``read``: the message rules read over ``text`` already (:class:`~._rules.MessageRead`, by
    the answer path before it asks the model), whose searches are taken instead of made again —
    the same features (a message longer than :data:`MAX_CHARS`, read whole by the rules, or
    another rule set than ``rules``, is read afresh)."""
    shared = (
        read is not None
        and read.text == text
        and len(text) <= MAX_CHARS
        and read.rules is (packaged_rules("message_rules") if rules is None else rules)
    )
    if read is not None and shared:
        norm = read.norm
        classes = read.classes()
        order, long, money = read.order_referenced, read.long_number, read.money
    else:
        norm = normalize(text[:MAX_CHARS])
        classes = rule_classes(norm, rules)
        order = lambda: bool(order_references(norm))  # noqa: E731
        long = lambda: LONG_NUMBER.search(norm) is not None  # noqa: E731
        money = lambda: bool(money_amounts(norm))  # noqa: E731
    chars = "".join("0" if ch.isdigit() else ch for ch in norm)
    feats: set[str] = set()
    for piece in chars.split():  # its characters, pairs and triples, in one update
        pairs = list(map(add, piece, piece[1:]))
        feats.update(piece, pairs, map(add, pairs, piece[2:]))
    feats.update(f"#rule:{name}" for name in classes)
    asks = [
        name
        for name, pattern in (
            ("mark", _ASK_MARK),
            ("particle", _PARTICLE),
            ("wh", _WH),
            ("can", _CAN),
        )
        if pattern.search(norm)
    ]
    feats.update(f"#q:{name}" for name in asks or ["none"])
    for name, found in (
        ("order", order()),
        ("long", long()),
        ("phone", PHONE.search(norm) is not None or LANDLINE.search(norm) is not None),
        ("date", DATE.search(norm) is not None),
        ("money", money()),
    ):
        if found:
            feats.add(f"#num:{name}")
    size = len(norm.replace(" ", ""))
    feats.add(f"#len:{next(band for band in (8, 16, 32, 10**9) if size <= band)}")
    return feats


class HandoffModel:
    """The fitted weights: :meth:`probability` that a message needs a person."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ConfigError(
                f"not a {FORMAT} file (format {data.get('format')!r}): refit it with "
                "scripts/train_handoff_model.py"
            )
        self.bias = float(data["bias"])
        self.weights: dict[str, float] = {str(k): float(v) for k, v in data["weights"].items()}
        self.threshold = float(data["threshold"])
        self.info: dict[str, Any] = dict(data.get("info", {}))

    def probability(
        self, text: str, rules: Mapping[str, Any] | None = None, read: MessageRead | None = None
    ) -> float:
        """The probability that ``text`` (in 简体) needs a person (``read``: the message rules
        read over it already, see :func:`handoff_features`)."""
        weights = self.weights
        z = self.bias + sum(map(weights.get, handoff_features(text, rules, read), repeat(0.0)))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def sure(
        self, text: str, rules: Mapping[str, Any] | None = None, read: MessageRead | None = None
    ) -> float | None:
        """The probability when it reaches the threshold (the model is sure), else None."""
        p = self.probability(text, rules, read)
        return p if p >= self.threshold else None


@cache
def handoff_model(path: str | None = None) -> HandoffModel:
    """The packaged model (``data/handoff_model.json``), or the one at ``path``."""
    file = Path(path) if path else DATA_DIR / "handoff_model.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the handoff model {file}: {exc}; refit it with "
            "scripts/train_handoff_model.py"
        ) from exc
    return HandoffModel(data)
