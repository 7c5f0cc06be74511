"""The emotion / escalation rules of ``data/emotion.yaml``, compiled (Chinese e-commerce).

The word lists, patterns and weights are data: the packaged ``emotion`` rule set, or a shop's
merged one (``ShopConfig.rule_set("emotion")``: ``shop.yaml`` ``rules: {emotion: {...}}``).
:func:`lexicon` compiles a rule set into a :class:`Lexicon` once per distinct rule set; this
module holds only what the code itself defines: the names of the escalation features and of the
cues that escalate by themselves.

Patterns are matched on text that went through :meth:`Lexicon.fold` (:func:`normalize`: NFKC,
so full-width ``！？：`` become ``!?:``; lower case; then chat-log placeholders folded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._data import RuleCompiler, compiled, packaged_rules
from ..text._normalize import normalize
from ..text._query import to_simplified

__all__ = [
    "EXCLAIM_RUN_RE",
    "FEATURE_NAMES",
    "FORCING",
    "MAX_CHARS",
    "QUESTION_RUN_RE",
    "QUOTED_RE",
    "RISK_OF_CUE",
    "STRONG_CUES",
    "Lexicon",
    "Shape",
    "lexicon",
    "similarity",
]

#: Cues that hand a conversation to a human by themselves (unless negated / reported speech).
#: Each is also an escalation feature and raises the risk flag ``RISK_OF_CUE[cue]``.
STRONG_CUES: tuple[str, ...] = (
    "complaint_threat",
    "review_threat",
    "public_exposure",
    "legal_threat",
    "profanity",
    "human_requested",
)
RISK_OF_CUE: dict[str, str] = {name: name for name in STRONG_CUES} | {
    "review_threat": "bad_review_threat"
}

#: The escalation features :mod:`._flag` computes, in feature-vector order (the order of an
#: ``EscalationModel``'s weights); ``escalation_weights`` in the rule set has one weight each.
FEATURE_NAMES: tuple[str, ...] = (
    # the current message
    *STRONG_CUES,
    *("sarcasm", "exasperation", "anger_emoji", "heat", "unresolved", "no_reply", "long_wait"),
    *("presence", "refund_demand", "compensation_demand", "demand", "counterfeit", "quality"),
    *("dispute", "negation", "pushback", "negative_answer", "sigh", "blame", "accept"),
    *("softener", "anxiety", "confusion", "thanks", "ack", "confirm", "polite", "exclaim"),
    *("question_run", "bare_punct", "has_question", "text_len", "placeholder_only"),
    *("safety", "vulnerable", "urgent_deadline", "accusation", "other_target", "withdrawn"),
    *("recent_order", "property_damage", "self_fault", "rhetorical", "purchase_intent"),
    "aside_then_ask",
    # the conversation before it
    *("repeat_sim", "repeat_cold", "repeat_count", "context_repeats", "customer_streak"),
    *("streak_presence", "agent_canned", "agent_repeat", "agent_refusal", "agent_deflect"),
    *("agent_apology", "agent_closing", "agent_question", "agent_short", "prior_negative"),
    *("prior_thanks", "turn_index", "wait_gap", "no_agent_yet"),
)

#: Features that escalate by themselves: the strong cues, a safety incident and damage the product
#: did to the customer's other things (who pays for a floor is a person's decision).
FORCING: tuple[str, ...] = (*STRONG_CUES, "safety", "property_damage")

# Not language rules: runs of punctuation, a short quoted span (folded text: NFKC keeps curly
# quotes and turns full-width ＂ into "), and what counts as content when comparing questions.
EXCLAIM_RUN_RE, QUESTION_RUN_RE = re.compile(r"!+"), re.compile(r"\?+")
QUOTED_RE = re.compile(r'[“"「『‘][^“”"「」『』‘’\n]{1,12}[”"」』’]')
_NOT_CONTENT_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
MAX_CHARS = 4000  # longer messages: the first 3000 and the last 1000 characters are read

# Mappings whose keys the code reads by name: a shop may change their values, not their keys.
_KEYED = (
    "customer_cues",
    "agent_cues",
    "emoji",
    "placeholders",
    "emotion_weights",
    "escalation_weights",
)


@dataclass(frozen=True)
class Shape:
    """Content characters and character bigrams of a question, for near-duplicate checks."""

    chars: frozenset[str]
    bigrams: frozenset[str]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """One emotion rule set, compiled: cue regexes by name, guards, folding and weights."""

    cues: Mapping[str, re.Pattern[str]]  # customer cues
    agent: Mapping[str, re.Pattern[str]]  # agent-turn cues
    negatable: frozenset[str]
    reportable: frozenset[str]
    hypothetical: frozenset[str]
    asked: frozenset[str]  # demand cues dropped when asked about as the shop's policy
    withdrawable: frozenset[str]
    conditional: frozenset[str]  # negation is a condition next to an ultimatum
    labels: Mapping[str, str]  # cue → human-readable name, in signal order
    emoji: Mapping[str, str]  # class → characters
    emotion_weights: Mapping[str, Mapping[str, float]]
    weights: Mapping[str, float]  # escalation logit weights, "bias" included
    learned_labels: bool  # the emotion label from data/emotion_labels.json (else the rules)
    negated: re.Pattern[str]
    negated_after: re.Pattern[str]
    reported: re.Pattern[str]
    withdrawn: re.Pattern[str]
    withdrawn_after: re.Pattern[str]
    supposed: re.Pattern[str]  # hypothetical_before
    asked_before: re.Pattern[str]
    asked_after: re.Pattern[str]
    other_sense: Mapping[str, re.Pattern[str]]  # cue → what follows it in another sense
    other_sense_before: Mapping[str, re.Pattern[str]]  # cue → what precedes it in another sense
    presence: re.Pattern[str]
    ack: re.Pattern[str]
    confirm: re.Pattern[str]
    question_end: re.Pattern[str]
    polar_question: re.Pattern[str]  # a clause that asks yes or no, not rhetorically
    negation: re.Pattern[str]
    not_negation: re.Pattern[str]
    synonyms: tuple[tuple[re.Pattern[str], str], ...]
    stopwords: re.Pattern[str]
    function: re.Pattern[str]
    emoji_placeholder: re.Pattern[str]
    number_placeholder: re.Pattern[str]
    other_placeholder: re.Pattern[str]
    link: re.Pattern[str]
    punct_only: re.Pattern[str]
    placeholder_only: re.Pattern[str]
    # a withdrawable cue (a threat word) ending a text, with a joining word after it: the run of
    # threat words one verb governs ("不会去12315投诉", "本来想给差评曝光")
    threat_run: re.Pattern[str]

    def fold(self, text: str) -> str:
        """What every pattern is matched on: ``normalize`` (NFKC, lower case, no invisible
        characters), Traditional characters in Simplified (OpenCC, as questions are read:
        "你們這個錶是假貨，我要報警" meets the same cues as "你们这个表是假货，我要报警"; as typed
        without it) plus JDDC-style placeholders folded (``[数字x]`` → 几, ``[ORDERID_1]``/links
        → #, emoji placeholders removed)."""
        if len(text) > MAX_CHARS:
            text = text[: MAX_CHARS - 1000] + "\n" + text[-1000:]
        text = to_simplified(normalize(text))
        text = self.number_placeholder.sub("几", self.emoji_placeholder.sub(" ", text))
        return self.link.sub("#", self.other_placeholder.sub("#", text)).strip()

    def shape(self, folded: str) -> Shape:
        """A folded question without stop-words/function characters, question words canonical."""
        text = self.stopwords.sub("", folded.replace("#", ""))
        for pattern, canonical in self.synonyms:
            text = pattern.sub(canonical, text)
        content = self.function.sub("", _NOT_CONTENT_RE.sub("", text))
        grams = {content[i : i + 2] for i in range(len(content) - 1)}
        return Shape(frozenset(content), frozenset(grams or ({content} if content else set())))


def similarity(a: Shape, b: Shape) -> float:
    """Bigram Jaccard; near-containment of one question in the other counts at a discount."""
    if not a.bigrams or not b.bigrams:
        return 0.0
    common, smaller = len(a.bigrams & b.bigrams), min(len(a.bigrams), len(b.bigrams))
    score = common / len(a.bigrams | b.bigrams)
    if smaller >= 2:
        score = max(score, 0.8 * common / smaller)
    if min(len(a.chars), len(b.chars)) >= 3:
        score = max(score, 0.7 * len(a.chars & b.chars) / min(len(a.chars), len(b.chars)))
    return score


def lexicon(rules: Mapping[str, Any] | None = None) -> Lexicon:
    """The compiled emotion rules: of ``rules`` (a shop's merged ``emotion`` rule set) or the
    packaged ones. Compiled once per distinct rule set; ``ShopError`` names a bad key."""
    return compiled(packaged_rules("emotion") if rules is None else rules, _compile)


# ---------------------------------------------------------------------------- compiling
def _cue_names(c: RuleCompiler, key: str, cues: Iterable[str]) -> frozenset[str]:
    """A list of cue names (``negatable``...), each one a cue of the rule set."""
    names, known = frozenset(map(str, c.rules[key])), frozenset(cues)
    for name in sorted(names - known):
        raise c.error(key, f"unknown cue {name!r}; known: {', '.join(sorted(known))}")
    return names


def _check_names(c: RuleCompiler) -> None:
    """Keys the code reads by name are the packaged ones; weights are of known features."""
    c.same_names(_KEYED)
    packaged = packaged_rules("emotion")["emotion_weights"]
    known = set(FEATURE_NAMES) | {name for weights in packaged.values() for name in weights}
    for emotion, weights in c.rules["emotion_weights"].items():
        for name in weights:
            if name not in known:
                raise c.error(f"emotion_weights.{emotion}.{name}", "unknown feature")


def _compile(rules: Mapping[str, Any]) -> Lexicon:
    c = RuleCompiler("emotion", rules)
    _check_names(c)
    cues = {
        name: c.regex(f"customer_cues.{name}", alts, wrap=True)
        for name, alts in rules["customer_cues"].items()
    }
    placeholders, labelled = rules["placeholders"], _cue_names(c, "cue_labels", cues)
    return Lexicon(
        cues=cues,
        agent={
            name: c.regex(f"agent_cues.{name}", alts, wrap=True)
            for name, alts in rules["agent_cues"].items()
        },
        negatable=_cue_names(c, "negatable", cues),
        reportable=_cue_names(c, "reportable", cues),
        hypothetical=_cue_names(c, "hypothetical", cues),
        asked=_cue_names(c, "asked", cues),
        withdrawable=_cue_names(c, "withdrawable", cues),
        conditional=_cue_names(c, "conditional", cues),
        labels={str(k): str(v) for k, v in rules["cue_labels"].items() if k in labelled},
        emoji={str(k): str(v) for k, v in rules["emoji"].items()},
        emotion_weights={
            str(emotion): {str(n): float(v) for n, v in weights.items()}
            for emotion, weights in rules["emotion_weights"].items()
        },
        weights={str(n): float(v) for n, v in rules["escalation_weights"].items()},
        learned_labels=bool(rules.get("learned_labels", False)),
        negated=c.key("negated_before"),
        negated_after=c.key("negated_after"),
        reported=c.key("reported_before"),
        withdrawn=c.key("withdrawn_before"),
        withdrawn_after=c.key("withdrawn_after"),
        supposed=c.key("hypothetical_before"),
        asked_before=c.key("asked_before"),
        asked_after=c.key("asked_after"),
        other_sense={
            name: c.regex(f"other_sense_after.{name}", pattern)
            for name, pattern in rules["other_sense_after"].items()
            if name in _cue_names(c, "other_sense_after", cues)
        },
        other_sense_before={
            name: c.regex(f"other_sense_before.{name}", pattern)
            for name, pattern in rules["other_sense_before"].items()
            if name in _cue_names(c, "other_sense_before", cues)
        },
        presence=c.key("presence_only"),
        ack=c.key("acknowledgement_only"),
        confirm=c.key("confirm"),
        question_end=c.key("question_end"),
        polar_question=c.key("polar_question"),
        negation=c.regex("negation_chars", f"[{rules['negation_chars']}]"),
        not_negation=c.key("not_negation"),
        synonyms=tuple(
            (c.regex(f"question_synonyms.{canonical}", alts), str(canonical))
            for canonical, alts in rules["question_synonyms"].items()
        ),
        stopwords=c.key("question_stopwords"),
        function=c.regex("function_chars", f"[{rules['function_chars']}]"),
        emoji_placeholder=c.regex("placeholders.emoji", placeholders["emoji"]),
        number_placeholder=c.regex("placeholders.number", placeholders["number"]),
        other_placeholder=c.regex("placeholders.other", placeholders["other"]),
        link=c.regex("placeholders.link", placeholders["link"]),
        punct_only=c.key("punctuation_only"),
        placeholder_only=c.key("placeholder_only"),
        threat_run=re.compile(
            "(?:"
            + "|".join(
                f"(?:{cues[n].pattern})" for n in sorted(_cue_names(c, "withdrawable", cues))
            )
            + ")[和或及与、]?$"
        ),
    )
