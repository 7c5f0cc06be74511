"""Which passage of the knowledge states the policy for a conversation: the one about the
conversation's *topic* (what happened or is asked: 拉链坏了, 快递没动, 起疹子, 叠加) for its
*subject* (the product or product class: 羽绒服, QM-SN01, 袜子).

Retrieval ranks by the whole question, where the product's name weighs most, so a care
instruction of the same product outranks the warranty that answers "羽绒服拉链坏了 修要钱吗".
Here the question's words are split into subject words (the names, SKUs and catalogue class of
the conversation's products) and topic words (the rest); a passage is scored by the topic words
it states (a word found inside a longer one counts: 修 in 维修), then by whether it names the
subject — so the exception clause for the product class ("羽绒服、大衣为15天") wins over the
general rule, and the general rule over a passage about another product.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ._models import clause_spans, fold, quantities, supported

__all__ = [
    "Subject",
    "TopicScorer",
    "contradicted",
    "subject_clauses",
    "subject_of",
    "subject_parts",
]

_NUMERAL = re.compile(r"[一二两三四五六七八九十百千半几]*个?[天年月周日号次件张元块小时]*")
#: What a second sentence must add to be said too.
_LONGER = 0.05
#: How much naming the conversation's subject adds to a passage's topic score.
SUBJECT_WEIGHT = 0.5


@dataclass(frozen=True)
class Subject:
    """The words naming the conversation's products: their title's head noun, SKU code and the
    parts of their catalogue class ("童装/外套" → 童装, 外套). Empty when no product is known."""

    words: frozenset[str] = frozenset()

    def named_in(self, text: str) -> bool:
        folded = fold(text)
        return any(w in folded for w in self.words)


class TopicScorer:
    """Scores passages by the topic words of a query they state and the subject they name.

    ``words`` cuts text into content words (stopwords left out); ``idf`` weighs a word.
    """

    def __init__(self, words: Callable[[str], list[str]], idf: Callable[[str], float]) -> None:
        self._words = words
        self._idf = idf

    def topic_words(
        self, query: str, subject: Subject, cues: re.Pattern[str] | None = None
    ) -> list[str]:
        """The query's content words that do not name the subject (each once, in order):
        no numbers or units (facts, not topic: "10天" would find "180天") and no word that is
        all a refusal cue (``cues``: 不能, 无法 — the draft's stance, not what it is about)."""
        out: list[str] = []
        for word in self._words(query):
            w = fold(word)
            if not w or re.search(r"\d", w) or _NUMERAL.fullmatch(w):
                continue
            if cues is not None and cues.fullmatch(w):
                continue
            if w in subject.words:
                continue
            if w not in out:
                out.append(w)
        return out

    def coverage(self, topic: Sequence[str], text: str) -> float:
        """Share (idf-weighted) of the topic words found in ``text``: a word found whole (also
        inside a longer one: 修 in 维修) counts fully, else by the share of its character pairs
        found (起疹子 in 起疹等: half)."""
        if not topic:
            return 0.0
        folded = fold(text)
        weights = [max(self._idf(w), 0.1) for w in topic]
        found = sum(wt * _found(w, folded) for w, wt in zip(topic, weights, strict=True))
        return found / sum(weights)

    def score(
        self, topic: Sequence[str], subject: Subject, text: str, *, own: bool = False
    ) -> float:
        """Topic coverage, plus :data:`SUBJECT_WEIGHT` times the topic coverage of the part
        naming the subject (a clause and the one after it: the exception for the product
        class); ``own``: the subject's own product page, every part of which is about it."""
        if own:
            return (1 + SUBJECT_WEIGHT) * self.coverage(topic, text)
        parts = subject_parts(text, subject)
        named = max((self.coverage(topic, p) for p in parts), default=0.0)
        return self.coverage(topic, text) + SUBJECT_WEIGHT * named

    def best_window(
        self,
        topic: Sequence[str],
        subject: Subject,
        sentences: Sequence[str],
        *,
        own: bool = False,
    ) -> tuple[float, list[str]]:
        """The one or two consecutive sentences most about the topic and subject, and their
        score: a long passage is judged by what would be said of it, not by all its words."""
        best: tuple[float, list[str]] = (0.0, [])
        for n in range(len(sentences)):
            for size in (1, 2):
                window = list(sentences[n : n + size])
                if len(window) < size:
                    continue
                score = self.score(topic, subject, "".join(window), own=own)
                score -= _LONGER * (size - 1)
                if score > best[0]:
                    best = (score, window)
        return best


def _found(word: str, text: str) -> float:
    if word in text:
        return 1.0
    pairs = {word[i : i + 2] for i in range(len(word) - 1)}
    return sum(p in text for p in pairs) / len(pairs) if pairs else 0.0


def subject_parts(text: str, subject: Subject) -> list[str]:
    """The clauses of ``text`` that name the subject, each with the clause after it: where a
    rule states the exception for the product class ("袜子等贴身用品（如QM-AC02）拆封后不退")."""
    spans = _parts(text)
    return [
        text[start : spans[min(n + 1, len(spans) - 1)][1]]
        for n, (start, end) in enumerate(spans)
        if subject.named_in(text[start:end])
    ]


def subject_clauses(text: str, subject: Subject) -> list[str]:
    """The clauses of ``text`` that name the subject, alone (where its own values stand:
    "羽绒服、大衣为15天）")."""
    return [text[a:b] for a, b in _parts(text) if subject.named_in(text[a:b])]


def _parts(text: str) -> list[tuple[int, int]]:
    """Clauses, with a parenthesis opening a clause of its own."""
    spans: list[tuple[int, int]] = []
    for start, end in clause_spans(text):
        cut = start
        for m in re.finditer(r"[（(]", text[start:end]):
            if start + m.start() > cut:
                spans.append((cut, start + m.start()))
            cut = start + m.start()
        spans.append((cut, end))
    return spans


def contradicted(sentence: str, policy: str, subject: Subject) -> bool:
    """Whether the policy states, for the conversation's subject, another value of a quantity
    the sentence states (same unit, not containing it): "超过3个月" against "运动鞋…6个月内" for
    a running shoe. Only the clauses of the policy that name the subject count, so the general
    rule beside an exception ("7天…（羽绒服为15天）") contradicts nothing of its own."""
    said = quantities(sentence)
    if not said or not subject.words:
        return False
    stated = [q for clause in subject_clauses(policy, subject) for q in quantities(clause)]
    if not any(p.unit == q.unit for p in stated for q in said):
        # the value may follow the name in the next clause ("…QM-CO01 双面羊毛大衣）享受15天")
        stated = [q for part in subject_parts(policy, subject) for q in quantities(part)]
    if not any(p.unit == q.unit for p in stated for q in said) and _about_subject(policy, subject):
        stated = quantities(policy)  # a row about the subject: "品类：运动鞋…，保修期：6个月"
    return any(not supported(q, stated) and any(p.unit == q.unit for p in stated) for q in said)


def _about_subject(policy: str, subject: Subject) -> bool:
    """Whether ``policy`` is all about the subject: one sentence (a row) naming it in its first
    two clauses ("品类：运动鞋/板鞋（QM-SN01…），保修期…")."""
    if re.search(r"[。！？!?；;\n]\s*\S", policy):
        return False
    spans = _parts(policy)[:2]
    return any(subject.named_in(policy[a:b]) for a, b in spans)


def subject_of(
    sources: Iterable[str],
    heads: dict[str, str],
    skus: dict[str, str],
    classes: dict[str, str],
) -> Subject:
    """The subject of products ``sources``: the head noun of their title (运动鞋), their SKU and
    the parts of their catalogue class — what names the product class, not its features
    (魔术贴, 防滑 stay topic words: "魔术贴粘不住了")."""
    words: set[str] = set()
    for source in sources:
        if len(heads.get(source, "")) > 1:
            words.add(fold(heads[source]))
        if source in skus:
            words.add(fold(skus[source]))
        for part in classes.get(source, "").split("/"):  # 童装/外套: both name its class
            if len(part.strip()) > 1:
                words.add(fold(part.strip()))
    return Subject(frozenset(words))
