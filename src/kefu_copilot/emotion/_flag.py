"""Offline emotion flag and escalation cues for customer messages (rules + context, no LLM).

:func:`emotion_flag` reads a customer message with the conversation before it: how the customer
feels, whether a human should take over, and why (``signals``, ``risk``). Cues come from a Chinese
lexicon (``data/emotion.yaml``, compiled by :mod:`._cues`; a shop extends it in ``shop.yaml``
``rules: {emotion: ...}``: threats such as 12315/差评/曝光/律师, profanity, sarcasm such as
呵呵/真是好服务, demands, waits, punctuation, emoji) and from the context — dissatisfaction often
shows as a repeat of a question the agent did not resolve (character-bigram Jaccard after folding
question words), unanswered customer turns, or template replies. All cues form one named feature
vector (:func:`escalation_features`), with sparse text features beside it
(:func:`escalation_grams`: character bigrams marked by negation scope and by who they are about,
and the agent's last reply). By default the packaged learned model scores them
(``data/escalation_model.json``, trained by ``scripts/train_emotion_model.py`` on real labelled
turns with the rule weights as its prior); a shop's own model (``kefu train-emotion``) or a shop
that changes ``escalation_weights`` uses those instead. With ``learned_labels: true`` in the rule
set the emotion label is the packaged learned label model's (``data/emotion_labels.json``,
:mod:`._labels`: the features above and the rule set's own emotion scores), read consistently
with the escalation decision; otherwise, or when a shop changes ``emotion_weights``, the rules'.

Cue matches are guarded by clause structure: negated ("不会给差评", "差评我是不会给的"), withdrawn
("本来想投诉"), reported ("有人说"), hypothetical ("会不会过敏", "会不会把地板刮花"), another word
sense ("律师事务所", "12315上说的", "朋友是律师", "过敏原"), or about someone else (加班, 别家,
没抢到) or the customer's own mishap (手滑, 是我没看清 — :func:`_attributed_elsewhere`), unless the
message is blame framed as a rhetorical question ("所以是我的错咯？": an accusation). Risk flags
(:data:`RISK_TAXONOMY`) are separate from the emotion label. Threats, profanity, requests for a
human, safety incidents, property damage and the shop's ``escalation_keywords`` (with the same
guards) always escalate (``FORCING``); a safety incident is ``priority="urgent"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field

from .._models import Message
from ..text._normalize import normalize
from ._cues import (
    EXCLAIM_RUN_RE,
    FEATURE_NAMES,
    FORCING,
    QUESTION_RUN_RE,
    QUOTED_RE,
    RISK_OF_CUE,
    STRONG_CUES,
    Lexicon,
    Shape,
    lexicon,
    similarity,
)
from ._labels import decide, packaged_labels
from ._scorer import LinearScorer, packaged_scorer

if TYPE_CHECKING:
    from ._model import EscalationModel

__all__ = [
    "FEATURE_NAMES",
    "RISK_TAXONOMY",
    "Emotion",
    "EmotionFlag",
    "Priority",
    "RiskFlag",
    "emotion_flag",
    "escalation_features",
    "escalation_grams",
    "incident_risks",
    "packaged_model",
    "question_similarity",
]

Emotion = Literal["angry", "anxious", "confused", "neutral", "satisfied"]
RiskFlag = Literal[
    "safety_incident",
    "urgent_deadline",
    "complaint_threat",
    "bad_review_threat",
    "public_exposure",
    "legal_threat",
    "refund_demand",
    "compensation_demand",
    "repeated_question",
    "long_wait",
    "profanity",
    "sarcasm",
    "human_requested",
    "refund_or_compensation_demand",
    "property_damage",
]
Priority = Literal["urgent", "high", "normal"]
ContextItem = Message | Mapping[str, Any]
Rules = Mapping[str, Any]
_EMOTIONS: tuple[Emotion, ...] = get_args(Emotion)


class EmotionFlag(BaseModel):
    """How a customer message reads, and whether a human should take over."""

    model_config = ConfigDict(frozen=True)

    emotion: Emotion
    intensity: float = Field(ge=0.0, le=1.0, description="strength of `emotion`, 0 for neutral")
    escalate: bool
    signals: list[str] = Field(default_factory=list, description="human-readable cues that fired")
    risk: list[RiskFlag] = Field(default_factory=list)
    score: float = Field(ge=0.0, le=1.0, description="escalation probability")
    priority: Priority = Field(
        "normal", description="urgent: a safety incident (a human now); high: escalates"
    )

    def __rich__(self) -> Any:
        from ..present._assist import flag_panel

        return flag_panel(self)

    def _repr_html_(self) -> str:
        from ..present._assist import flag_html

        return flag_html(self)


#: The risk taxonomy, separate from the emotion label: the flags a shop routes on, each with
#: what it means. ``safety_incident`` always goes to a human, first in the queue; the threat
#: flags below ``complaint_threat`` (差评/曝光/律师) are its finer kinds.
RISK_TAXONOMY: dict[str, str] = {
    "safety_incident": "injury, fire or smoke, electric shock, burns, allergy, choking",
    "urgent_deadline": "needed by a near date or event (a wedding, a flight, a birthday)",
    "complaint_threat": "投诉 / 12315 / 差评 / 曝光 / 律师, not negated or withdrawn",
    "refund_or_compensation_demand": "insists on a refund or compensation",
    "repeated_question": "asks again what the agent did not resolve",
    "sarcasm": "praise that means the opposite, 呵呵, 催了个寂寞",
    "property_damage": "the product damaged the customer's other things (a floor, other clothes)",
}


_CONTEXT_FEATURES = FEATURE_NAMES[FEATURE_NAMES.index("repeat_sim") :]
MAX_CONTEXT_TURNS = 20
REPEAT_MIN = 0.5  # question_similarity at which two customer turns ask the same thing
FORCED_SCORE = 0.9  # lowest score reported when a hard cue or a shop keyword forces escalation


def question_similarity(a: str, b: str, *, rules: Rules | None = None) -> float:
    """How alike two customer questions are, 0..1.

    Character-bigram Jaccard over content characters, after folding question words
    (什么时候/哪天 → 何时, 能不能/可以吗 → 能否, ...) and dropping function words; a question
    nearly contained in the other also counts (0.8 × bigram overlap, 0.7 × character overlap).
    ``rules`` is a shop's merged ``emotion`` rule set (default: the packaged one).
    """
    lex = lexicon(rules)
    return similarity(lex.shape(lex.fold(a)), lex.shape(lex.fold(b)))


# ---------------------------------------------------------------------------- cues in one message
def _hits(
    lex: Lexicon,
    name: str,
    text: str,
    dropped: list[str] | None = None,
    *,
    conditional: bool = False,
    exposed: bool = False,
) -> list[str]:
    """Matches of one cue, leaving out negated ("不会给差评"), withdrawn ("本来想投诉"), reported
    ("有人给差评"), hypothetical ("会不会过敏") ones and words in another sense ("律师事务所");
    withdrawn and negated matches of a negatable cue are added to ``dropped``. With
    ``conditional`` (the message holds an ultimatum) a negated ``conditional`` cue is a condition
    ("不赔我…没完") and counts; with ``exposed`` (the product was already eaten or used) a
    worry is not hypothetical ("吃下去了，会不会中毒")."""
    out: list[str] = []
    for match in lex.cues[name].finditer(text):
        before = _governing(lex, text, match.start()) if name in lex.withdrawable else None
        before = before or text[max(0, match.start() - 12) : match.start()]
        rhetorical = before.endswith("不是") and "吗" in text[match.end() : match.end() + 4]
        rhetorical = rhetorical or (conditional and name in lex.conditional)
        after = text[match.end() : match.end() + AFTER_CHARS]
        if after[:1] in ECHO_MARKS and ECHO_START_RE.search(before):
            after = after[1:]  # the word said back as a question, then answered: "差评？不会的"
        negated = lex.negated.search(before) or lex.negated_after.search(after)
        withdrawn = name in lex.withdrawable and (
            lex.withdrawn.search(before) or lex.withdrawn_after.search(after)
        )
        if name in lex.negatable and not rhetorical and (negated or withdrawn):
            if dropped is not None:
                dropped.append(match.group())
            continue
        if name in lex.reportable and lex.reported.search(before):
            continue
        if name in lex.hypothetical and not exposed and lex.supposed.search(before):
            continue
        if name in lex.asked and not conditional and _asked(lex, before, after):
            continue
        sense, sense_before = lex.other_sense.get(name), lex.other_sense_before.get(name)
        if sense is not None and sense.search(after):
            continue
        if sense_before is not None and sense_before.search(before):
            continue
        out.append(match.group())
    return out


def _asked(lex: Lexicon, before: str, after: str) -> bool:
    """A demand cue asked about as the shop's policy ("死苗怎么赔", "有赔偿吗", "运费你们出吗"):
    a question word right before it or a question particle right after it, in its clause."""
    clause = re.split(r"[,.!?;~。，！？；…\s]", before)[-1]
    return bool(lex.asked_before.search(clause) or lex.asked_after.search(after))


#: A cue word echoed as a question ("差评？不会的"): the mark after it, and what may precede it
#: (the start of its clause, a demonstrative) — then its answer is read as its negation.
ECHO_MARKS = ("?", "？")
#: How much of the text after a cue its after-patterns read (anchored, each bounded): room for a
#: threat's object and a pause before it is taken back ("我要曝光你们……开玩笑的").
AFTER_CHARS = 14
ECHO_START_RE = re.compile(r"(?:^|[,.!?;~。，！？；…\s])(?:那个|这个|那|这)?$")


def _governing(lex: Lexicon, text: str, start: int) -> str | None:
    """The 12 characters before the run of threat words that ends at ``start`` (None when no
    threat word ends there): a negation or withdrawal before the run governs each word of it —
    "不会去12315投诉", "本来想给差评曝光的" — as one before a single word does."""
    head, stripped = text[:start], False
    for _ in range(4):
        found = lex.threat_run.search(head)
        if not found or found.start() == len(head):
            break
        head, stripped = head[: found.start()], True
    return head[-12:] if stripped else None


#: Negative cues that say nothing about the shop when their clause is about someone else. Not
#: the threats: "我要投诉快递员", "上班要用 再拖我就投诉" are made to the shop whoever they name.
_ATTRIBUTABLE: tuple[str, ...] = ("profanity", "exasperation", "dissatisfied", "quality")
_ATTRIBUTABLE += ("counterfeit", "sarcasm", "irony_praise", "no_reply", "long_wait", "not_yet")
_ATTRIBUTABLE += ("unresolved", "property_damage")
_CLAUSE_RE = re.compile(r"[^,.!?;~。，、…\s]+")


def _elsewhere(lex: Lexicon, clause: str, rhetorical: bool) -> bool:
    """A clause about someone other than the shop: a third party (加班, 别家, 快递员), or the
    customer's own mishap (手滑, 是我自己没看清) when the message is not a rhetorical question
    ("所以是我的错咯？" puts the blame on the shop)."""
    own = not rhetorical and bool(lex.cues["self_fault"].search(clause))
    return own or bool(lex.cues["third_party"].search(clause))


#: Feeling words, whose cause is whoever acts near them ("孩子练琴练到崩溃": the child).
_FEELINGS: tuple[str, ...] = ("exasperation", "dissatisfied", "profanity")
#: Cues that say something against the goods or the service: with one of them in the message a
#: feeling word is about the shop whoever else is named ("孩子玩了两天就坏了，气死了").
_GOODS_COMPLAINT: tuple[str, ...] = ("quality", "counterfeit", "not_yet", "long_wait", "no_reply")
_GOODS_COMPLAINT += ("unresolved", "safety", "property_damage", "refund_strong")
_GOODS_COMPLAINT += ("compensation_strong", "accusation", "rhetorical", "irony_praise")
_GOODS_COMPLAINT += ("sarcasm", "statutory_claim")


def _feelings_caused_elsewhere(lex: Lexicon, text: str) -> bool:
    """A person of the customer's own acts in the message (``person_actor``: 孩子, 老公, 我家猫)
    and nothing in it is said against the goods or the service: its feeling words are about
    them, not the shop."""
    if not lex.cues["person_actor"].search(text):
        return False
    return not any(lex.cues[name].search(text) for name in _GOODS_COMPLAINT)


def _exonerate_spans(lex: Lexicon, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in lex.cues["exonerate"].finditer(text)]


def _attributed_elsewhere(lex: Lexicon, text: str, hits: dict[str, list[str]]) -> bool:
    """Drop negative hits whose clause (or a neighbouring one) names a third party (another shop,
    a courier, the boss, the weather) or the customer's own mishap while their own clause does
    not address the shop ("你们"), and feeling words caused by a person of the customer's own
    (:func:`_feelings_caused_elsewhere`); True when any hit was dropped. The shop named inside
    an exoneration ("不是你们的问题", "不是说你们不好") is not blamed or disputed."""
    spans = _exonerate_spans(lex, text) if hits["exonerate"] else []
    for name in ("blame", "dispute", "negative_answer", "shop_target"):
        if spans and hits[name]:
            hits[name] = [h for h in hits[name] if not _inside(text, h, spans)]
    clauses = [(m.start(), m.end(), m.group()) for m in _CLAUSE_RE.finditer(text)]
    exonerated = bool(hits["exonerate"])  # "不怪你们": every clause is about something else
    rhetorical = bool(hits["rhetorical"])
    other = [exonerated or _elsewhere(lex, c, rhetorical) for _, _, c in clauses]
    caused = _any(hits, *_FEELINGS) and _feelings_caused_elsewhere(lex, text)
    actor = [caused and bool(lex.cues["person_actor"].search(c)) for _, _, c in clauses]
    if not clauses or not (any(other) or any(actor)):
        return False
    moved = False
    for name in _ATTRIBUTABLE:
        kept = []
        for hit in hits[name]:
            at = text.find(hit)
            k = next((i for i, (a, b, _) in enumerate(clauses) if a <= at < b), None)
            if k is None:
                kept.append(hit)
                continue
            near = any(other[max(0, k - 1) : k + 2])
            near = near or (name in _FEELINGS and any(actor[max(0, k - 1) : k + 2]))
            if exonerated or (near and not lex.cues["shop_target"].search(clauses[k][2])):
                moved = True
            else:
                kept.append(hit)
        hits[name] = kept
    return moved


def _inside(text: str, hit: str, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether every occurrence of ``hit`` in ``text`` lies inside one of ``spans``."""
    starts = [m.start() for m in re.finditer(re.escape(hit), text)]
    return bool(starts) and all(any(a <= at < b for a, b in spans) for at in starts)


_AT_RISK: tuple[str, ...] = ("order_placed", "not_yet", "long_wait", "no_reply", "quality")
_AT_RISK += ("demand", "ultimatum", "dispute")


def _deadline(lex: Lexicon, text: str, hits: Mapping[str, list[str]]) -> bool:
    """A hard event with a date ("后天婚礼", "这周六的飞机"), or a need with a near time in the
    same clause ("明天要穿"), for an order at risk (placed, late, wrong, demanded: ``_AT_RISK``);
    "今天能发吗，周六要用" is a wish normal shipping meets, "下周面试，现在下单能赶得上吗" a
    pre-sales question."""
    if not _any(hits, *_AT_RISK):
        return False
    if hits["deadline_event"] and (hits["deadline_time"] or hits["deadline_day"]):
        return True
    if not (hits["deadline_need"] and hits["deadline_time"]):
        return False
    need, near = lex.cues["deadline_need"], lex.cues["deadline_time"]
    return any(need.search(c) and near.search(c) for c in _CLAUSE_RE.findall(text))


_RESOLVABLE = (*_ATTRIBUTABLE, "compensation_strong", "compensation_mention", "refund_mention")


def _drop_resolved(lex: Lexicon, text: str, hits: dict[str, list[str]], dropped: list[str]) -> None:
    """Drop complaint words inside a past problem the shop already put right ("上次坏了两个你们
    很快就赔了"); "这次又坏了" after it still counts. They count as withdrawn (``dropped``)."""
    spans = [m.span() for m in lex.cues["resolved_past"].finditer(text)]
    if not spans:
        return
    for name in _RESOLVABLE:
        inside, hits[name] = _partition(text, hits[name], spans)
        dropped.extend(inside)


#: Cues that make a question put to the shop more than a question (a challenge, a dispute).
_CHALLENGE: tuple[str, ...] = ("dispute", "accusation", "rhetorical", "sarcasm", "irony_praise")
_CHALLENGE += ("demand", "ultimatum", "human_requested", "bot_rejection")


def _asked_of_shop(lex: Lexicon, text: str, hits: Mapping[str, list[str]]) -> bool:
    """The shop is named only inside polar questions put to it ("你们会派师傅上门装吗", "你们是正品
    吗") and nothing in the message challenges it: a customer asking, not blaming (``blame``
    counts the shop named in a complaint: "你们发错货了", "你们就只会说抱歉吗" with a feeling
    word)."""
    if _any(hits, *_CHALLENGE):
        return False
    clauses = [c for c in _CLAUSE_RE.findall(text) if lex.cues["blame"].search(c)]
    return bool(clauses) and all(lex.polar_question.search(c) for c in clauses)


#: What makes a comparison with another seller a complaint after all: a word against the goods
#: or the service, or a feeling word.
_COMPARISON_BLOCKS = (*(c for c in _GOODS_COMPLAINT if c not in ("accusation", "rhetorical")),)
_COMPARISON_BLOCKS += _FEELINGS
_COMPARISON_BLOCKS += ("sarcasm", "long_wait", "no_reply")

#: Something still pending from the shop: then the goods' age (``goods_age``) is a wait too.
_PENDING = ("not_yet", "no_reply", "unresolved")


def _partition(
    text: str, hits: list[str], spans: Sequence[tuple[int, int]], *, overlapping: bool = False
) -> tuple[list[str], list[str]]:
    """(the ``hits`` in one of ``spans``, the others), each in text order: a hit is in a span
    when it starts inside one (``overlapping``: when any of it overlaps one). The hits are
    found in text order, a repeated word after the last one."""
    inside: list[str] = []
    outside: list[str] = []
    start = 0
    for hit in hits:
        at = text.find(hit, start)
        start = at + 1
        end = at + len(hit) if overlapping else at + 1
        (inside if any(at < b and a < end for a, b in spans) else outside).append(hit)
    return inside, outside


def _outside(pattern: re.Pattern[str], text: str, hits: list[str]) -> list[str]:
    """The ``hits`` (in text order) that overlap no match of ``pattern`` in ``text``."""
    return _partition(text, hits, [m.span() for m in pattern.finditer(text)], overlapping=True)[1]


def _run(pattern: re.Pattern[str], text: str) -> int:
    return max((len(m.group()) for m in pattern.finditer(text)), default=0)


def _tier(strong: list[str], mild: list[str], mild_value: float) -> float:
    return 1.0 if strong else (mild_value if mild else 0.0)


def _any(hits: Mapping[str, list[str]], *names: str) -> bool:
    return any(hits[name] for name in names)


_STRONG_NEGATIVE = ("exasperation", "dissatisfied", "unresolved", "no_reply")
_NEGATIVE = ("long_wait", "quality", "not_yet")
_BINARY: tuple[str, ...] = ("unresolved", "no_reply", "counterfeit", "quality", "negative_answer")
_BINARY += ("sigh", "blame", "accept", "softener", "demand", "polite")


@dataclass
class _Cues:
    """Cue matches of one prepared message and the message-level features derived from them."""

    hits: dict[str, list[str]]
    emoji: dict[str, int]
    features: dict[str, float]


def _message_cues(lex: Lexicon, text: str) -> _Cues:
    """All cues of one folded customer message, as hits and as message-level features."""
    dropped: list[str] = []
    conditional = bool(lex.cues["ultimatum"].search(text))
    exposed = bool(_hits(lex, "exposure", text))
    hits = {
        name: _hits(lex, name, text, dropped, conditional=conditional, exposed=exposed)
        for name in lex.cues
    }
    elsewhere = _attributed_elsewhere(lex, text, hits)
    # The shop set against another seller with nothing said against the goods or the service and
    # no feeling word ("别家600多，你们凭什么1299", "别人家送气球，你们送啥", "人家都卖全新的，你们凭啥
    # 让我放心"): a price objection, a pre-sales question — its challenge words and rhetorical
    # questions are not a dispute with the shop.
    if hits["other_seller"] and hits["shop_target"] and not _any(hits, *_COMPARISON_BLOCKS):
        hits["dispute"], hits["accusation"], hits["rhetorical"], elsewhere = [], [], [], True
    _drop_resolved(lex, text, hits, dropped)
    if hits["goods_age"] and not _any(hits, *_PENDING):  # the goods' age, not a wait
        hits["long_wait"] = _outside(lex.cues["goods_age"], text, hits["long_wait"])
    emoji = {kind: sum(text.count(ch) for ch in chars) for kind, chars in lex.emoji.items()}
    f: dict[str, float] = {name: float(bool(hits[name])) for name in STRONG_CUES}
    f["human_requested"] = float(bool(hits["human_requested"] or hits["bot_rejection"]))
    strong_negative = emoji["anger"] > 0 or _any(hits, *_STRONG_NEGATIVE)
    negative = strong_negative or emoji["sarcasm"] > 0 or _any(hits, *_NEGATIVE, "accusation")
    praise = "".join(hits["irony_praise"])
    irony = bool(praise) and (negative if "真" in praise else strong_negative)
    if hits["sarcasm"] or irony or (emoji["sarcasm"] and negative):
        f["sarcasm"] = 1.0
    else:
        f["sarcasm"] = 0.5 if emoji["sarcasm"] else 0.0
    angry = len(hits["exasperation"]) + len(hits["dissatisfied"])
    base = 1.0 if hits["exasperation"] else 0.6
    f["exasperation"] = min(1.0, base + 0.4 * (angry - 1)) if angry else 0.0
    f["anger_emoji"] = min(1.0, 0.6 + 0.2 * (emoji["anger"] - 1)) if emoji["anger"] else 0.0
    f["long_wait"] = _tier(hits["long_wait"], hits["not_yet"], 0.5)
    f["presence"] = float(bool(lex.presence.fullmatch(text) or hits["presence"]))
    # A mention next to an ultimatum or a demand ("必须赔", "再不给我退款我就…") is a demand.
    insists = _any(hits, "ultimatum", "demand")
    refund = hits["refund_strong"] or (hits["refund_mention"] if insists else [])
    compensation = hits["compensation_strong"] or (hits["compensation_mention"] if insists else [])
    # 退一赔三 / 三倍赔偿 claims damages under the law: a legal threat and a compensation demand.
    compensation = compensation or hits["statutory_claim"]
    f["legal_threat"] = float(bool(hits["legal_threat"] or hits["statutory_claim"]))
    f["refund_demand"] = _tier(refund, hits["refund_mention"], 0.3)
    f["compensation_demand"] = _tier(compensation, hits["compensation_mention"], 0.4)
    f["dispute"] = min(1.0, len(hits["dispute"]) / 2)
    f["negation"] = min(1.0, len(lex.negation.findall(lex.not_negation.sub("", text))) / 2)
    f.update({name: float(bool(hits[name])) for name in _BINARY})
    if f["blame"] and not negative and _asked_of_shop(lex, text, hits):
        f["blame"] = 0.0
    mild = min(0.9, 0.25 + 0.25 * len(hits["anxiety_mild"]))
    f["anxiety"] = _tier(hits["anxiety"], hits["anxiety_mild"], mild)
    f["confusion"] = float(bool(hits["confusion"] or emoji["confused"]))
    f["thanks"] = float(bool(hits["thanks"] or emoji["happy"]) and f["sarcasm"] < 1.0)
    f["ack"] = float(bool(lex.ack.fullmatch(text)))
    f["confirm"] = float(bool(lex.confirm.search(text)) and not negative)
    exclaim = _run(EXCLAIM_RUN_RE, text)
    f["exclaim"] = 1.0 if exclaim >= 3 else 0.3 * exclaim
    f["question_run"] = float(_run(QUESTION_RUN_RE, text) >= 2)
    heat = max(f[name] for name in (*STRONG_CUES, "sarcasm", "exasperation", "unresolved"))
    f["heat"] = max(f["exclaim"], f["question_run"]) * max(heat, f["anger_emoji"], f["no_reply"])
    f["bare_punct"] = float(bool(text) and bool(lex.punct_only.fullmatch(text)))
    f["has_question"] = float(bool(lex.question_end.search(text)))
    f["text_len"] = min(1.0, math.log1p(len(text)) / math.log1p(120))
    placeholder = bool(lex.placeholder_only.fullmatch(text))
    f["placeholder_only"] = float(bool(text) and not f["bare_punct"] and placeholder)
    # After an exposure (eaten, applied) a health worry or a mild symptom is an incident.
    after_exposure = exposed and _any(hits, "health_worry", "mild_symptom")
    # A person's condition named in a shopping need, nothing of the shop's used yet ("朋友坚果过敏，
    # 蛋糕选哪款", "宝宝发烧想买个测温的"), is what the product must suit, not an incident.
    condition = lex.cues["condition"]
    need = bool(hits["purchase_intent"]) and not exposed
    need = need and all(condition.fullmatch(h) for h in hits["safety"])
    f["safety"] = float((bool(hits["safety"]) and not need) or after_exposure)
    f["vulnerable"] = float(bool(hits["vulnerable"]))
    f["urgent_deadline"] = float(_deadline(lex, text, hits))
    f["accusation"] = float(bool(hits["accusation"]))
    f["other_target"] = float(elsewhere or bool(hits["exonerate"]))
    f["withdrawn"] = float(bool(dropped))
    f["recent_order"] = float(bool(hits["recent_order"]))
    f["property_damage"] = float(bool(hits["property_damage"]))
    f["purchase_intent"] = float(bool(hits["purchase_intent"]))
    f["aside_then_ask"] = float(_aside_then_ask(lex, text, hits))
    # The customer's own mishap ("自己手滑摔碎了", "是我没看清") — unless it is blame framed as a
    # rhetorical question ("所以漏液是我的错咯？", "什么叫是我自己弄的"): then an accusation.
    # 1.0 in question form (a "?" or 咯 anywhere: "所以是我的错咯，你们包装成这样"), else 0.5
    asked = "?" in text or any(h.endswith(("咯", "喽", "啰", "吗")) for h in hits["rhetorical"])
    f["rhetorical"] = (1.0 if asked else 0.5) if hits["rhetorical"] else 0.0
    f["self_fault"] = float(bool(hits["self_fault"]) and not hits["rhetorical"])
    if hits["self_fault"] and hits["rhetorical"]:
        f["accusation"] = 1.0
    return _Cues(hits=hits, emoji=emoji, features=f)


_NEGATIVE_CUES = (*STRONG_CUES, "bot_rejection", "sarcasm", "exasperation", "unresolved")
#: Negative words a vent is made of (`aside_then_ask`) ...
_VENT: tuple[str, ...] = (*_FEELINGS, "quality", "counterfeit")
#: ... and what makes a message about the shop's order or service whatever it asks after them.
_ABOUT_SHOP: tuple[str, ...] = (*STRONG_CUES, *_PENDING, "bot_rejection", "long_wait", "not_yet")
_ABOUT_SHOP += ("refund_strong", "refund_mention", "compensation_strong", "compensation_mention")
_ABOUT_SHOP += ("demand", "ultimatum", "accusation", "rhetorical", "sarcasm", "irony_praise")
_ABOUT_SHOP += ("safety", "property_damage")


def _aside_then_ask(lex: Lexicon, text: str, hits: Mapping[str, list[str]]) -> bool:
    """Negative words, all before the message's last clause, and a last clause that asks about
    goods without naming the shop ("河边蚊子气死我了 紫光灯能不能防蚊啊", "气死了，游一次头发全湿，
    有没有更防水的泳帽"): a vent about something else turned into a shopping question — unless
    the message says anything of the order or the service (a wait, a demand, a threat...)."""
    vent = [h for name in _VENT for h in hits[name]]
    if not vent or _any(hits, *_ABOUT_SHOP) or _deadline(lex, text, hits):
        return False
    clauses = [(m.start(), m.group()) for m in _CLAUSE_RE.finditer(text)]
    if len(clauses) < 2:
        return False
    start, last = clauses[-1]
    asks = bool(lex.question_end.search(text) or lex.cues["asks_goods"].search(last))
    asks = asks or bool(lex.cues["purchase_intent"].search(last))
    if not asks or lex.cues["shop_target"].search(last):
        return False
    return all(0 <= text.find(h) < start and h not in last for h in vent)


@lru_cache(maxsize=4096)
def _shape(lex: Lexicon, folded: str) -> Shape:
    """``lex.shape``, cached like :func:`_fold`."""
    return lex.shape(folded)


@lru_cache(maxsize=4096)
def _negativity(lex: Lexicon, text: str) -> float:
    """1.0 when an earlier customer turn was clearly unhappy on its own (threat, anger...)."""
    angry_emoji = any(ch in text for ch in lex.emoji["anger"])
    return float(
        angry_emoji or any(_hits(lex, name, text) for name in (*_NEGATIVE_CUES, "no_reply"))
    )


# ---------------------------------------------------------------------------- the conversation
@dataclass(frozen=True)
class _Turn:
    role: Literal["customer", "agent"]
    text: str
    ts: datetime | None


_ROLES: dict[str, Literal["customer", "agent"]] = {"customer": "customer", "user": "customer"}
_ROLES.update(dict.fromkeys(("agent", "bot", "assistant", "staff"), "agent"))


def _as_turn(lex: Lexicon, item: object) -> _Turn | None:
    """A context item (``Message`` or dict) as a turn; ``None`` for system or malformed items."""
    role: object
    text: object
    ts: object
    if isinstance(item, Message):
        role, text, ts = item.role, item.text, item.ts
    elif isinstance(item, Mapping):
        role, text, ts = item.get("role"), item.get("text"), item.get("ts")
    else:
        return None
    mapped = _ROLES.get(role) if isinstance(role, str) else None
    if mapped is None or not isinstance(text, str):
        return None
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts)
        except ValueError:
            ts = None
    return _Turn(mapped, _fold(lex, text), ts if isinstance(ts, datetime) else None)


@lru_cache(maxsize=4096)
def _fold(lex: Lexicon, text: str) -> str:
    """``lex.fold``, cached: a conversation's earlier turns are read again at every new turn."""
    return lex.fold(text)


def _turns(lex: Lexicon, context: Iterable[ContextItem] | None) -> list[_Turn]:
    if context is None:
        return []
    if isinstance(context, (str, bytes, Mapping)) or not isinstance(context, Iterable):
        raise ValueError("context must be a list of Message objects or {'role', 'text'} dicts")
    items = list(context)[-MAX_CONTEXT_TURNS:]
    return [turn for turn in (_as_turn(lex, item) for item in items) if turn is not None]


def _agent_turn(
    lex: Lexicon, text: str, own: Shape, question: Shape | None, earlier: Sequence[Shape]
) -> dict[str, float]:
    """How template-like / unhelpful one agent turn is (against the question it followed)."""
    agent = lex.agent
    answered = bool(agent["answer"].search(text))
    canned = min(1.0, len(agent["canned"].findall(text)) / 2) * (0.5 if answered else 1.0)
    repeat = max((similarity(own, prev) for prev in earlier), default=0.0)
    asks = "?" in text or bool(lex.question_end.search(text))
    unrelated = question is not None and similarity(own, question) < 0.2
    deflect = unrelated and not answered and not asks
    return {
        "canned": canned,
        "repeat": repeat if repeat >= 0.6 else 0.0,
        "deflect": float(deflect),
        "refusal": float(bool(agent["refusal"].search(text))),
        "apology": float(bool(agent["apology"].search(text))),
        "closing": float(bool(agent["closing"].search(text))),
        "question": float(asks),
        "short": float(len(own.chars) <= 3),
    }


def _wait_minutes(turns: Sequence[_Turn]) -> float:
    """Longest customer → agent gap, or the span of the unanswered tail, from timestamps."""
    longest, since, last = 0.0, None, None
    try:
        for role, ts in ((t.role, t.ts) for t in turns if t.ts is not None):
            last = ts
            if role == "customer" and since is None:
                since = ts
            elif role == "agent" and since is not None:
                longest, since = max(longest, (ts - since).total_seconds() / 60), None
        if since is not None and last is not None:
            longest = max(longest, (last - since).total_seconds() / 60)
    except TypeError:  # naive and aware datetimes mixed
        return 0.0
    return longest


def _is_nudge(lex: Lexicon, text: str) -> bool:
    """A turn that only chases a reply: "在吗", "人呢", "???"."""
    bare_question = bool(text) and bool(lex.punct_only.fullmatch(text)) and "?" in text
    return bool(lex.presence.fullmatch(text) or lex.cues["presence"].search(text) or bare_question)


def _history_repeats(shapes: Mapping[int, Shape], agents: Sequence[int]) -> int:
    """Earlier customer turns that re-ask an even earlier question after an agent reply."""

    def asked_before(i: int) -> bool:
        earlier = [j for j in shapes if j < i and any(j < a < i for a in agents)]
        return any(similarity(shapes[i], shapes[j]) >= REPEAT_MIN for j in earlier)

    return sum(map(asked_before, shapes))


def _context_features(
    lex: Lexicon, text: str, turns: Sequence[_Turn]
) -> tuple[dict[str, float], list[str]]:
    """Context features of the current message and the signals behind them."""
    f, own = dict.fromkeys(_CONTEXT_FEATURES, 0.0), lex.shape(text)
    agents = [i for i, t in enumerate(turns) if t.role == "agent"]
    every = [_shape(lex, t.text) for t in turns]
    shapes = {i: every[i] for i, t in enumerate(turns) if t.role == "customer"}
    cold: dict[int, float] = {}
    for pos, i in enumerate(agents):
        asked = next((shapes[j] for j in range(i - 1, -1, -1) if j in shapes), None)
        earlier = [every[j] for j in agents[:pos]]
        agent = _agent_turn(lex, turns[i].text, every[i], asked, earlier)
        cold[i] = max(agent["canned"], agent["repeat"], agent["deflect"])
        if pos == len(agents) - 1:
            f.update({f"agent_{key}": value for key, value in agent.items()})
    asking = bool(lex.cues["interrogative"].search(text))  # only a question can be "asked again"
    comparable = {i: shp for i, shp in shapes.items() if asking and len(shp.bigrams) >= 2}
    sims = {i: similarity(own, shp) for i, shp in comparable.items()}
    for i, sim in sims.items():
        later = [cold[j] for j in agents if j > i]
        if later:
            f["repeat_sim"] = max(f["repeat_sim"], sim)
            f["repeat_cold"] = max(f["repeat_cold"], sim * max(later))
    repeats = sum(sim >= REPEAT_MIN for sim in sims.values())
    f["repeat_count"] = min(1.0, repeats / 2)
    f["context_repeats"] = min(1.0, _history_repeats(shapes, agents) / 2)
    streak = next((n for n, t in enumerate(reversed(turns)) if t.role != "customer"), len(turns))
    f["customer_streak"] = min(1.0, streak / 4)
    tail = turns[len(turns) - streak :]
    f["streak_presence"] = float(any(_is_nudge(lex, t.text) for t in tail))
    recent = [turns[i].text for i in sorted(shapes)[-6:]]
    decayed = (_negativity(lex, t) * 0.85 ** (len(recent) - 1 - k) for k, t in enumerate(recent))
    f["prior_negative"] = max(decayed, default=0.0)
    thanked = (lex.cues["thanks"].search(t) or lex.ack.fullmatch(t) for t in recent[-2:])
    f["prior_thanks"] = float(any(thanked))
    f["turn_index"] = min(1.0, len(turns) / MAX_CONTEXT_TURNS)
    minutes = _wait_minutes(turns)
    f["wait_gap"] = min(1.0, minutes / 60)
    f["no_agent_yet"] = float(bool(shapes) and not agents)
    return f, _context_signals(f, max(sims.values(), default=0.0), repeats, streak, minutes)


def _context_signals(
    f: Mapping[str, float], best: float, repeats: int, streak: int, minutes: float
) -> list[str]:
    repeat = f"重复提问: 相似度 {best:.2f}，第 {repeats + 1} 次问"
    candidates = (
        (best >= REPEAT_MIN or f["repeat_cold"] >= 0.3, repeat),
        (streak >= 2, f"连续 {streak + 1} 条客户消息未获回复"),
        (f["agent_repeat"] > 0, "客服重复了相同的回复"),
        (not f["agent_repeat"] and f["agent_canned"] >= 0.5, "客服上一句是模板回复"),
        (f["agent_refusal"] > 0, "客服上一句为拒绝/无法处理"),
        (f["wait_gap"] >= 0.5, f"等待回复约 {round(minutes)} 分钟"),
    )
    return [message for fired, message in candidates if fired]


# ---------------------------------------------------------------------------- features and flag
def _analyze(
    lex: Lexicon, text: str, context: Iterable[ContextItem] | None
) -> tuple[_Cues, dict[str, float], list[str], str, list[_Turn]]:
    """Message cues, the feature vector and the context signals of one customer turn."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, not {type(text).__name__}")
    prepared = lex.fold(text)
    cues = _message_cues(lex, prepared)
    turns = _turns(lex, context)
    ctx, signals = _context_features(lex, prepared, turns)
    merged = {**cues.features, **ctx}
    # Praise right after the agent turned the customer down or brushed them off ("行 你们牛",
    # "真是好服务") is sarcasm even when the message itself says nothing negative.
    brushed_off = max(ctx["agent_refusal"], ctx["agent_deflect"], ctx["agent_repeat"]) > 0
    if cues.hits["irony_praise"] and brushed_off and not merged["thanks"]:
        merged["sarcasm"] = 1.0
    # Pushing back only says something about the agent when the agent has said something.
    pushback = max(merged[n] for n in ("negation", "negative_answer", "dispute", "sigh"))
    merged["pushback"] = pushback * any(t.role == "agent" for t in turns)
    return cues, {name: merged[name] for name in FEATURE_NAMES}, signals, prepared, turns


#: The text feature of a short quoted span in the customer's own words (“稳定”, "全国包邮"): scare
#: quotes that throw the shop's claim back at it (sarcasm), rare in plain questions.
QUOTE_GRAM = "#quote"
_GRAM_CLAUSE_RE = re.compile(r"[,.!?;~。，！？；…\s]+")
_DIGITS_RE = re.compile(r"\d+")


def escalation_grams(
    text: str, context: Iterable[ContextItem] | None = None, *, rules: Rules | None = None
) -> list[str]:
    """The sparse text features of a customer turn for a learned model: character bigrams of the
    folded message (digits → 0), each marked ``~`` inside a negation's scope (from a negation
    character to the end of its clause: 不会给差评 → ~差评) and ``o`` in a clause about someone
    other than the shop (烦死了，今天加班 → o烦死), the bigrams of the agent's last reply
    marked ``a:`` (what the customer is reacting to), and :data:`QUOTE_GRAM` when the message
    quotes a short span (scare quotes: 品控真“稳定”)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, not {type(text).__name__}")
    lex = lexicon(rules)
    return _grams(lex, lex.fold(text), _turns(lex, context))


def _grams(lex: Lexicon, prepared: str, turns: Sequence[_Turn]) -> list[str]:
    grams: set[str] = set()
    folded = _DIGITS_RE.sub("0", prepared)
    clauses = [c for c in _GRAM_CLAUSE_RE.split(lex.not_negation.sub("", folded)) if c]
    rhetorical = bool(lex.cues["rhetorical"].search(prepared))
    # the whole message when it exonerates the shop ("不怪你们", as _attributed_elsewhere reads
    # it), a clause of a person of the customer's own when they cause its feelings
    exonerated = bool(lex.cues["exonerate"].search(prepared))
    caused = _feelings_caused_elsewhere(lex, prepared)
    other = [
        exonerated
        or _elsewhere(lex, c, rhetorical)
        or (caused and bool(lex.cues["person_actor"].search(c)))
        for c in clauses
    ]
    for k, clause in enumerate(clauses):
        # about someone else (加班, 别家, 没抢到) and not addressed to the shop: marked "o"
        addressed = lex.cues["shop_target"].search(clause) and not exonerated
        elsewhere = any(other[max(0, k - 1) : k + 2]) and not addressed
        scope = next((m.start() for m in lex.negation.finditer(clause)), len(clause))
        for i in range(len(clause) - 1):
            mark = ("o" if elsewhere else "") + ("~" if i > scope else "")
            grams.add(mark + clause[i : i + 2])
    for turn in [t for t in turns if t.role == "agent"][-1:]:
        reply = _DIGITS_RE.sub("0", turn.text)
        grams.update("a:" + reply[i : i + 2] for i in range(min(len(reply), 60) - 1))
    if QUOTED_RE.search(prepared):
        grams.add(QUOTE_GRAM)
    return sorted(grams)


def label_inputs(
    text: str, context: Iterable[ContextItem] | None = None, *, rules: Rules | None = None
) -> tuple[dict[str, float], list[str]]:
    """What the emotion-label model reads of a customer turn: :func:`emotion_inputs` and the
    sparse text features (:func:`escalation_grams`); ``rules`` as in :func:`emotion_flag`."""
    lex = lexicon(rules)
    cues, features, _, prepared, turns = _analyze(lex, text, context)
    return emotion_inputs(lex, cues, features), _grams(lex, prepared, turns)


def escalation_features(
    text: str, context: Iterable[ContextItem] | None = None, *, rules: Rules | None = None
) -> dict[str, float]:
    """The named feature vector (``FEATURE_NAMES`` order) behind the escalation score;
    ``rules`` is a shop's merged ``emotion`` rule set (default: the packaged one)."""
    return _analyze(lexicon(rules), text, context)[1]


def packaged_model(weights: Mapping[str, float] | None = None) -> LinearScorer | None:
    """The escalation model shipped in the package (``data/escalation_model.json``, trained by
    ``scripts/train_emotion_model.py``), or None when there is none — or when a shop changed the
    rule weights (``weights`` differ from the packaged ones): then its rules decide."""
    if weights is not None and dict(weights) != dict(lexicon().weights):
        return None
    return packaged_scorer()


def _rule_score(weights: Mapping[str, float], features: Mapping[str, float]) -> float:
    logit = weights["bias"] + sum(weights[n] * v for n, v in features.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))


def _derived(cues: _Cues) -> dict[str, float]:
    """The message features with the few derived ones ``emotion_weights`` also name."""
    f, hits, emoji = cues.features, cues.hits, cues.emoji
    threat = max(f[name] for name in STRONG_CUES if name != "human_requested")
    negative = max(threat, f["sarcasm"], f["exasperation"], f["anger_emoji"], f["unresolved"])
    insisting = bool(hits["manager"]) or f["negation"] > 0 or f["exclaim"] > 0
    # "麻烦帮我改一下，谢谢" is politeness, not praise; thanks next to a complaint is not content.
    content = f["thanks"] * (0.4 if hits["request"] else 1.0) * (0.2 if negative else 1.0)
    return {
        **f,
        "threat": threat,
        "strong_refund": float(f["refund_demand"] >= 1),
        "strong_compensation": float(f["compensation_demand"] >= 1),
        "demanding_human": f["human_requested"] * insisting,
        "loud_negative": f["exclaim"] * (negative > 0),
        "bare_question": f["bare_punct"] * f["has_question"],
        "contented": content,
        "sad_emoji": min(1, emoji["sad"]),
        "happy_emoji": min(1, emoji["happy"]),
        "baseline": 1.0,
    }


def _rule_emotions(lex: Lexicon, derived: Mapping[str, float]) -> dict[str, float]:
    """Each emotion's ``emotion_weights`` score of one message."""
    return {
        emotion: sum(weight * derived[name] for name, weight in weights.items())
        for emotion, weights in lex.emotion_weights.items()
    }


def _intensity(cues: _Cues, emotion: Emotion, strength: float) -> float:
    if emotion == "neutral":
        return 0.0
    f = cues.features
    value = 0.2 + 0.45 * min(1.0, strength) + 0.2 * f["exclaim"] + 0.1 * f["question_run"]
    return round(min(1.0, value), 3)


def _label(
    lex: Lexicon,
    cues: _Cues,
    features: Mapping[str, float],
    prepared: str,
    turns: Sequence[_Turn],
    grams: list[str] | None,
    escalate: bool,
) -> tuple[Emotion, float]:
    """The emotion label: with ``learned_labels`` on, the packaged learned model
    (``data/emotion_labels.json``), its most probable label consistent with the escalation
    decision (``_labels.ALLOWED``), unless the rule set's ``emotion_weights`` are not the
    packaged ones (a shop that set its own weights gets them); else the rules (:func:`_classify`)."""
    labels = packaged_labels()
    if not lex.learned_labels or labels is None or lex.emotion_weights != lexicon().emotion_weights:
        return _classify(lex, cues)
    inputs = emotion_inputs(lex, cues, features)
    proba = labels.probabilities(
        inputs, grams if grams is not None else _grams(lex, prepared, turns)
    )
    emotion = cast(Emotion, decide(proba, escalate))
    # Callers read anxious as upset (a human checks the draft, the reply needs empathy); the
    # blind labels also call mild impatience anxious. Below the escalation line, only when the
    # rules see worry too.
    if emotion == "anxious" and not escalate and _classify(lex, cues)[0] != "anxious":
        calm = {k: v for k, v in proba.items() if k in ("confused", "neutral", "satisfied")}
        emotion = cast(Emotion, max(calm, key=calm.__getitem__))
    return emotion, _intensity(cues, emotion, proba[emotion])


def _classify(lex: Lexicon, cues: _Cues) -> tuple[Emotion, float]:
    """The dominant emotion of the message (``emotion_weights`` over the cues) and its intensity."""
    scores = _rule_emotions(lex, _derived(cues))
    emotion = max(_EMOTIONS, key=scores.__getitem__)
    return emotion, _intensity(cues, emotion, scores[emotion])


def emotion_inputs(lex: Lexicon, cues: _Cues, features: Mapping[str, float]) -> dict[str, float]:
    """What the learned emotion-label model reads (``LABEL_FEATURES``): the escalation features
    (message and context), the derived message features and the rule set's emotion scores."""
    derived = _derived(cues)
    rule = _rule_emotions(lex, derived)
    out = {name: float(features[name]) for name in FEATURE_NAMES}
    out.update({name: float(derived[name]) for name in _DERIVED})
    out.update({f"rule_{e}": float(rule.get(e, 0.0)) for e in _EMOTIONS})
    return out


_DERIVED: tuple[str, ...] = ("threat", "strong_refund", "strong_compensation", "demanding_human")
_DERIVED += ("loud_negative", "bare_question", "contented", "sad_emoji", "happy_emoji")
#: The inputs of the learned emotion-label model, in vector order.
LABEL_FEATURES: tuple[str, ...] = (*FEATURE_NAMES, *_DERIVED, *(f"rule_{e}" for e in _EMOTIONS))


def _risks(f: Mapping[str, float]) -> list[RiskFlag]:
    waited = f["no_reply"] or f["long_wait"] >= 1 or f["wait_gap"] >= 0.5
    waited = waited or f["customer_streak"] >= 0.75
    refund, compensation = f["refund_demand"] >= 1, f["compensation_demand"] >= 1
    threat = any(f[cue] for cue in STRONG_CUES[:4])
    raised: dict[RiskFlag, bool] = {
        **{cast(RiskFlag, RISK_OF_CUE[cue]): bool(f[cue]) for cue in STRONG_CUES},
        "safety_incident": f["safety"] > 0,
        "urgent_deadline": f["urgent_deadline"] > 0,
        "complaint_threat": threat,
        "refund_demand": refund,
        "compensation_demand": compensation,
        "refund_or_compensation_demand": refund or compensation,
        "repeated_question": f["repeat_cold"] >= 0.3
        or f["repeat_count"] >= 1
        or f["unresolved"] > 0,
        "long_wait": bool(waited) or (f["presence"] > 0 and f["customer_streak"] > 0),
        # a rhetorical question that mocks ("所以是我的错咯？", "还让我耐心？") is sarcasm too
        "sarcasm": f["sarcasm"] >= 1 or f["rhetorical"] >= 1,
        "property_damage": f["property_damage"] > 0,
    }
    return [risk for risk in get_args(RiskFlag) if raised.get(risk)]


def _keyword_hits(lex: Lexicon, text: str, keywords: Iterable[str]) -> list[str]:
    """The shop's escalation keywords in the folded message, with the cue guards: a negated,
    withdrawn, reported or hypothetical keyword ("不是要投诉", "会不会过敏") does not count."""
    found = []
    for keyword in dict.fromkeys(k for k in (normalize(str(k)).strip() for k in keywords) if k):
        senses = [p for n, p in lex.other_sense.items() if lex.cues[n].fullmatch(keyword)]
        senses_before = [
            p for n, p in lex.other_sense_before.items() if lex.cues[n].fullmatch(keyword)
        ]
        threat = any(lex.cues[n].fullmatch(keyword) for n in lex.withdrawable)
        for match in re.finditer(re.escape(keyword), text):
            before = text[max(0, match.start() - 12) : match.start()]
            after = text[match.end() : match.end() + AFTER_CHARS]
            guards = (lex.negated, lex.withdrawn, lex.reported, lex.supposed)
            if any(g.search(before) for g in guards) or lex.negated_after.search(after):
                continue
            if threat and lex.withdrawn_after.search(after):
                continue
            if any(p.search(before) for p in senses_before):
                continue
            if not any(p.search(after) for p in senses):
                found.append(keyword)
                break
    return found


def _cue_signals(lex: Lexicon, cues: _Cues) -> list[str]:
    out = []
    for name, label in lex.labels.items():
        found = list(dict.fromkeys(cues.hits.get(name, [])))[:2]
        if found and (name != "thanks" or cues.features["thanks"]):
            out.append(f"{label}: {' / '.join(found)}")
    if cues.features["safety"] and not cues.hits["safety"]:
        found = [*cues.hits["exposure"][:1], *cues.hits["health_worry"], *cues.hits["mild_symptom"]]
        out.append(f"安全事故: {' / '.join(dict.fromkeys(found))}")
    if cues.features["sarcasm"] and not cues.hits["sarcasm"]:
        out.append("反讽: 褒义词配负面内容" if cues.hits["irony_praise"] else "反讽: 表情")
    for kind, label in (("anger", "愤怒表情"), ("sarcasm", "白眼/讽刺表情"), ("sad", "难过表情")):
        if cues.emoji[kind]:
            out.append(f"{label} ×{cues.emoji[kind]}")
    if cues.features["exclaim"] >= 1.0:
        out.append("感叹号连用")
    if cues.features["question_run"]:
        out.append("问号连用")
    return out


_INCIDENT_CUES = ("safety", "property_damage", "health_worry", "mild_symptom")


def incident_risks(text: str, rules: Rules | None = None) -> list[RiskFlag]:
    """The risks of ``text`` that put a human on the conversation whatever it asks: a safety
    incident (an injury, burn, fire, swelling battery…) or damage to the customer's other things
    — the cues of :func:`emotion_flag` with their guards (negated, reported, hypothetical), read
    from the message alone (no context, no model: a fraction of its cost). ``rules``: the shop's
    merged ``emotion`` rule set."""
    lex = lexicon(rules)
    folded = _fold(lex, text)
    if not any(lex.cues[name].search(folded) for name in _INCIDENT_CUES):
        return []  # no cue of either risk at all (the guards only ever drop matches)
    features = _message_cues(lex, folded).features
    raised = {"safety_incident": features["safety"] > 0}
    raised["property_damage"] = features["property_damage"] > 0
    return [cast(RiskFlag, risk) for risk, on in raised.items() if on]


def emotion_flag(
    text: str,
    context: Iterable[ContextItem] | None = None,
    *,
    extra_keywords: Iterable[str] = (),
    model: EscalationModel | LinearScorer | None = None,
    rules: Rules | None = None,
) -> EmotionFlag:
    """Flag the emotion of a customer message and decide whether to escalate to a human.

    ``context`` is the conversation before ``text``, oldest first: ``Message`` objects or
    ``{"role", "text", "ts"?}`` dicts (``bot`` counts as agent; system turns and malformed items
    are skipped; the last 20 turns are read). ``extra_keywords`` are the shop's
    ``escalation_keywords``: any of them in the message forces escalation. ``model`` replaces the
    built-in rule weights by a trained ``EscalationModel`` (and its threshold); threats,
    profanity and requests for a human escalate either way. ``rules`` is the shop's merged
    ``emotion`` rule set (``ShopConfig.rule_set("emotion")``; default: the packaged rules).

    Raises ``ValueError`` when ``text`` is not a ``str`` or ``context`` is not a list, and
    ``ShopError`` when ``rules`` has a bad pattern or name (checked once per rule set).
    """
    lex = lexicon(rules)
    cues, features, context_signals, prepared, turns = _analyze(lex, text, context)
    if model is None:
        model = packaged_model(lex.weights)
    grams: list[str] | None = None
    if model is None:
        score, threshold = _rule_score(lex.weights, features), 0.5
    else:
        grams = _grams(lex, prepared, turns) if model.grams else None
        score, threshold = model.score_features(features, grams), model.threshold
    signals = _cue_signals(lex, cues) + context_signals
    matched = _keyword_hits(lex, prepared, extra_keywords)
    if matched:
        signals.append(f"店铺升级关键词: {' / '.join(matched[:3])}")
    forced = bool(matched) or any(features[name] for name in FORCING)
    if forced:
        score = max(score, FORCED_SCORE)
    escalate = forced or score >= threshold
    emotion, intensity = _label(lex, cues, features, prepared, turns, grams, escalate)
    risk = _risks(features)
    if emotion == "neutral" and "safety_incident" in risk:  # harm done is never a neutral turn
        emotion, intensity = "anxious", _intensity(cues, "anxious", 0.5)
    priority: Priority = "urgent" if "safety_incident" in risk else "high" if escalate else "normal"
    return EmotionFlag(
        emotion=emotion,
        intensity=intensity,
        escalate=escalate,
        signals=signals,
        risk=risk,
        score=round(min(1.0, max(0.0, score)), 4),
        priority=priority,
    )
