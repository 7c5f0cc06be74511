"""Reply suggestions for the human agent: empathetic drafts, rewrites of the agent's draft,
similar past cases and quick replies (快捷短语). Without an LLM a reply is built by structure:
an opener for the customer's feeling, the draft with cold or blaming phrases fixed (every number
and policy term kept), the policy reason quoted from the knowledge, an alternative the shop
allows (换货/补发, a coupon ≤ ``compensation.max_coupon_yuan``) and a closing question. Facts
come from the draft, the conversation and the knowledge only; past cases are never facts.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ConfigError, InputError
from .._models import Answer, Citation, Message
from ..answer._claims import ClaimChecker
from ..answer._extractive import ANSWER_KINDS, Answerer
from ..config._shop import ShopConfig
from ..emotion._flag import question_similarity
from ..text._normalize import split_sentences
from ..text._numbers import measures
from ..text._tokenize import STOPWORDS
from ._approved import load_approved
from ._clauses import DROPPED_WHY, Clause, has_facts, has_numbers, split_draft
from ._complaint import ComplaintTopic, complaint_topics, heading_of
from ._lint import Mood, customer_mood, lint_reply, rewrite_draft
from ._models import (
    Change,
    ChangeKind,
    Draft,
    LintIssue,
    Quantity,
    QuickReply,
    SimilarCase,
    as_messages,
    case_reply,
    clause_spans,
    compensation_offers,
    fill_slots,
    fold,
    merge_citations,
    multiple_promises,
    quantities,
    reply_sentence,
    reply_sentences,
    short_title,
    supported,
)
from ._phrases import shop_phrases
from ._policy_rank import (
    PolicyLine,
    policy_line_features,
    reply_policy_margin,
    reply_policy_model,
)
from ._safety import forbidding, prohibitions
from ._tiers import spans_in, tier_of
from ._topic import Subject, TopicScorer, contradicted, subject_of

__all__ = ["ReplyAdvisor", "ReplyLLM"]

#: The LLM hook: OpenAI-style chat messages in, reply text out (not used yet, see ReplyAdvisor).
ReplyLLM = Callable[[Sequence[Mapping[str, str]]], str]
Conversation = Sequence[Message | Mapping[str, Any]]
Facts = tuple[list[Quantity], list[tuple[str, ...]]]

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: A variant's code: letters and digits, with a letter and a digit ("s-40ga", "bp-w200")
_VARIANT_CODE = re.compile(
    r"(?<![a-z0-9])(?=[a-z0-9-]*[a-z])(?=[a-z0-9-]*\d)[a-z0-9]+(?:-[a-z0-9]+)*"
)
#: A product's model name in its title: a name with its number ("云驰3", "极光-5")
_MODEL_NAME = re.compile(r"[\u4e00-\u9fff]{2,}-?\d+")
#: A series name: the short first part of a title after the brand ("速开", "峰影", "西湖龙井")
_SERIES = re.compile(r"([\u4e00-\u9fff]{2,5})[0-9a-z-]*")
#: How many last characters of a longer series name name it too ("靖江猪肉脯" → "猪肉脯")
_SERIES_TAIL = 3
_MIN_QUICK_SCORE = 0.2  # quick replies below this relevance are not offered
_MIN_FIT = 0.55  # knowledge below this fit to the draft is not quoted as its reason
_MIN_ALTERNATIVE = 0.3  # an alternative's answer must be about what it was asked
_MIN_BACKING = 0.6  # a draft sentence's words the knowledge must state to back it
_DROP_WHY = {
    "remove_unsafe": "店铺规则在这种情况下不允许这样做（安全第一），改说规则",
    "correct_fact": "店铺对这件商品的规则说的不是这个数，以规则为准",
    "reason": "草稿只说了结论，没有说规则：改说店铺的规则",
}
_BACKING_WHY = "草稿只说了做法，补上知识库里的具体事实"
_REPLACED_WHY = {  # why a clause of the draft was said by the policy instead
    "refusal": "没有说明原因的拒绝，换成店铺对这件商品的规则",
    "answer": "只有“能/要”没有内容，换成店铺对这件商品的规则",
    "asks_quantity": "顾客问的是多少，草稿没有给出数字，换成店铺对这件商品的规则",
}
#: How many distinct clauses of a customer's turn are answered one by one (see _answers)
_MAX_CLAUSES = 8
_MIN_SAFETY = 0.5  # a prohibition counts when its passage has this share of the turn's words
_MIN_RETRIEVED = 0.5  # policy_choice retrieval: a passage below this is not said as the policy
_MIN_POLICY = 0.4  # a passage below this fit (or retrieval strength) to the customer's turn is not said as the policy
_SURE_POLICY = 1.0  # the answer the answerer is sure of, against a passage's retrieval strength
# A passage's score: retrieval strength plus this weight times its topic fit (topic words stated
# by the one or two sentences said, more where the part naming the product class states them).
# Retrieval stays first (its dense half knows synonyms the topic words miss: 便宜 ~ 满减); a
# topic-only ranking won more dev cases on one shop but lost more elsewhere.
_TOPIC_WEIGHT = 0.5
#: a sentence sharing this share of its character pairs with what is said adds nothing
_SAID_PAIRS = 0.6
#: how many passages of a policy file on either side of a cited one are read (see _document)
_DOCUMENT_SPAN = 200
#: the kinds of chunk whose document's other clauses may carry the turn's deciding term
_DECIDING_KINDS = frozenset({"policy", "table_row"})  # a policy's table rows are the policy's
_CURT = 5  # a draft whose facts have fewer character pairs than this is curt: the policy is said
_SURE = 0.3  # ranking bonus of the knowledge that states the draft's facts or a sure answer
#: a rule's parts: its sentences and the clauses it joins by semicolons
_RULE_PARTS = re.compile(r"[^；;。！？!?]+[；;。！？!?]*")
#: the longest a ranked line's steps are said whole (else the line alone)
_SAID_LINE = 160
#: the characters of a draft's distinct clauses read against the policy's files for a
#: contradicted fact, in order (the agents' drafts of the suites are at most 40 characters; the
#: rest of a pathological draft is kept as written: each clause costs a read of the files)
_MAX_CHECKED_CHARS = 60
#: the claim checker's reason for a clause the knowledge says no to (answer._claims)
_SAYS_NO = "the knowledge says no"
#: the share of a clause's character pairs (numbers left out) the policy must state for a value
#: it does not state to be the rule's other value, not another matter
_NEAR = 0.3
_STYLE_CODES = {"banned_phrase", "cold_phrase", "blame_shifting", "over_limit"}
_FACT_CODES = {"over_limit", "fact_mismatch", "unsupported_fact", "unsupported_term"}


@dataclass
class _Plan:
    """What every variant of a reply is made of."""

    mood: Mood
    tone: str = "neutral"  # which openers fit: the emotion, or "fault" for a calm complaint
    draft: list[str] = field(default_factory=list)  # the rewritten draft's sentences
    ask: str = ""  # the closing question (the draft's own, or the shop's handoff message)
    reason: str = ""
    alternatives: list[str] = field(default_factory=list)
    coupon: float = 0.0
    closer: str = "info"
    own_opener: bool = False
    handed_off: bool = False
    refused: bool = False  # the draft refused without a reason: the policy must be stated
    dismissed: bool = False  # the draft blamed or dismissed: what it said must be made good
    policy: str = ""  # the policy for the conversation's product, when the draft needs one
    reason_from: str = "knowledge"  # where plan.reason comes from: knowledge | handoff
    citations: list[Citation] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


class ReplyAdvisor:
    """Suggests replies to a human agent from one shop's knowledge. Thread-safe.

    >>> advisor = ReplyAdvisor(answerer, shop)          # doctest: +SKIP
    >>> advisor.suggest([{"role": "customer", "text": "超过7天还能退吗"}], draft="不可以的哦")

    ``llm`` is the hook of the LLM layer (a callable taking OpenAI-style chat messages and
    returning text); that path is not implemented yet, so passing one raises ``ConfigError``.
    """

    def __init__(
        self,
        answerer: Answerer,
        shop: ShopConfig | None = None,
        *,
        llm: ReplyLLM | None = None,
        shop_dir: str | Path | None = None,
    ) -> None:
        if llm is not None:
            raise ConfigError(
                "an LLM reply path is not available yet; pass llm=None (structured drafting "
                "works without one)"
            )
        # the knowledge's answers judged by support: drafting does not change with the answer mode
        self.answerer = answerer.by_support()
        self.shop = shop or answerer.shop
        #: the shop's approved replies and greetings (``replies/`` of ``shop_dir``, optional)
        self.approved = load_approved(shop_dir)
        #: the shop's reply phrases (data/reply.yaml with its shop.yaml `rules.reply`)
        self.phrases = shop_phrases(self.shop)
        words = {
            s: answerer.tokenizer.words(short_title(t)) for s, t in answerer.products.titles.items()
        }
        #: the head noun of each product's title ("加绒连帽卫衣" → "卫衣"), to spot mentions
        self._heads = {source: w[-1] for source, w in words.items() if w}
        pages = {c.source for c in answerer.snapshot.chunks if c.kind == "product"}
        #: the product pages: what a conversation's products may be (a policy with a table of
        #: products is identified by the catalogue too, but it is no product)
        self._pages = frozenset(pages)
        titles = answerer.products.titles
        full = {s: answerer.tokenizer.words(titles[s]) for s in pages if s in titles}
        shared = Counter(w for ws in full.values() for w in set(ws))
        #: the words naming each product page (title words no other product shares: no brand)
        self._names = {
            s: {w for w in ws if len(w) > 1 and shared[w] == 1} | {self._heads[s]}
            for s, ws in full.items()
            if s in self._heads
        }
        segments = {s: set(fold(titles[s]).split()) for s in pages if s in titles}
        shared_segments = Counter(g for gs in segments.values() for g in gs)
        #: the parts of each product page's title (split at its spaces) no other title has: its
        #: model name ("云驰3", "云栖2"), which the word tokenizer cuts into single characters
        self._models = {
            s: {g for g in gs if shared_segments[g] == 1 and _MODEL_NAME.fullmatch(g)}
            for s, gs in segments.items()
        }
        for s in self._models:  # and its series name: the short first part after the brand
            self._models[s] |= _series(fold(titles[s]).split(), shared_segments)
        classes = {
            s: str(value)
            for s, facts in answerer.products.facts.items()
            for name, value, *_ in facts
            if name in self.phrases.class_facts
        }
        #: the catalogue class of each product ("配饰/袜子"), naming its product class
        self._classes = classes
        #: the parts of two or three characters only one product page's title has, and the
        #: characters of each page's class nouns: a short form of a title ("椰棕垫")
        self._distinct = _distinct_parts({s: fold(titles[s]) for s in self._names})
        self._noun_chars = {
            s: {
                c
                for noun in (self._heads.get(s, ""), self._classes.get(s, "").split("/")[-1])
                if len(noun.strip()) > 1
                for c in fold(noun.strip())
            }
            for s in self._names
        }
        self._skus = answerer.products.sku_by_source()
        #: scores knowledge by the conversation's topic and subject (see _topic)
        stop = getattr(answerer.tokenizer, "stopwords", STOPWORDS)  # the shop's stop words
        self.topics = TopicScorer(
            lambda t: [w for w in answerer.tokenizer.words(t) if w not in stop],
            answerer.idf,
        )
        #: what a complaint is about (data/reply_topics.yaml): the policy is chosen by it first
        self.complaints = complaint_topics(self.shop)
        #: the complaint topics of the customer's turns, read once (see _read)
        self._topics_read: dict[tuple[str, ...], tuple[list[ComplaintTopic], list[str]]] = {}
        #: the variant codes of the typed catalogue's tables, each of one product page (see
        #: _variant_named; read once, when a turn first names a code the SKUs do not)
        self._variant_codes: dict[str, str] | None = None
        #: how the persona addresses a customer (shop.yaml persona: 称呼顾客为「宝子」), said once
        self.address = self.shop.address
        #: the figures the policy passages state, by dimension: (low, high, chunk position) —
        #: read once, when an FAQ answer's backing is first looked for (see _numbered_policy)
        self._policy_figures: dict[str, list[tuple[float, float, int]]] | None = None
        #: the claim checker every generated text is judged by (answer._claims): a draft clause
        #: the policy contradicts is not kept
        self._checker = ClaimChecker(self.shop)
        #: the fitted ranker of the policy's line (None: the rules' choice, see _policy_rank)
        self.policy_ranker = reply_policy_model()
        #: how much more than the best line of the rules' choice the ranker's top line must
        #: score to be said after it (data/reply_policy_model.json)
        self.policy_margin = reply_policy_margin()
        #: when a list: each policy choice's candidate lines and features are appended (the
        #: ranker's training data, scripts/train_reply_policy_model.py)
        self.policy_log: list[dict[str, Any]] | None = None

    # -- public ------------------------------------------------------------------------------
    def suggest(
        self, conversation: Conversation, draft: str | None = None, n: int = 1
    ) -> list[Draft]:
        """``n`` distinct reply drafts, deterministic: a rewrite of ``draft`` when given, else a
        draft from the knowledge. Fewer than ``n`` only when nothing is left to vary (the
        agent's draft brings its own opener and closing question)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InputError("n must be a positive integer")
        if draft is not None and not isinstance(draft, str):
            raise InputError(f"draft must be a str, not {type(draft).__name__}")
        messages = as_messages(conversation)
        draft = (draft or "").strip() or None
        if not draft and not _last_customer(messages):
            raise InputError("nothing to reply to: give a customer turn or a draft")
        plan = self._plan(messages, draft)
        similar = self.similar_cases(messages, draft)
        texts: dict[str, list[Change]] = {}
        for variant in range(n * 4):
            text, layout = self._compose(plan, variant)
            text = self._without_banned(text)
            texts.setdefault(text, plan.changes + layout if draft else [])
            if len(texts) == n:
                break
        return [
            Draft(
                text=text,
                citations=plan.citations,
                similar_cases=similar,
                lint=self.lint(text, messages, plan.citations),
                changes=changes,
                emotion=plan.mood.emotion,
            )
            for text, changes in texts.items()
        ]

    def lint(
        self, text: str, conversation: Conversation | None = None, knowledge: Any = None
    ) -> list[LintIssue]:
        """:func:`~kefu_copilot.reply._lint.lint_reply` with this shop's phrases and limits."""
        return lint_reply(text, conversation, self.shop, knowledge)

    def similar_cases(
        self, conversation: Conversation, draft: str | None = None, k: int = 3
    ) -> list[SimilarCase]:
        """Past conversations of the case library like this one (chunks of kind ``case`` only);
        ``snippet`` is the agent reply that followed the most similar customer turn."""
        question = _last_customer(as_messages(conversation))
        query = f"{question} {draft or ''}".strip()
        hits = self.answerer.retriever.retrieve(query, k=k, kinds=("case",)) if query else []
        return [
            SimilarCase(
                id=str(hit.chunk.meta.get("id") or hit.chunk.id),
                snippet=case_reply(
                    hit.chunk.text, question or query, self.shop.rule_set("emotion")
                )[0][:160],
                score=round(min(1.0, hit.score), 4),
                source=hit.chunk.source,
                locator=hit.chunk.locator,
                chunk_id=hit.chunk.id,
            )
            for hit in hits
            if hit.chunk.kind == "case" and hit.score > 0
        ]

    def quick_replies(self, conversation: Conversation, k: int = 3) -> list[QuickReply]:
        """Up to ``k`` relevant approved replies (the shop's ``replies/``, FAQ answers, agent
        turns of similar cases) with the conversation's product, order id and date filled in.
        Fewer than ``k``, or none, when the rest are not relevant enough (``quick_min_score``,
        and ``quick_relative`` of the best); a bare greeting gets the shop's greetings."""
        messages = as_messages(conversation)
        question = _last_customer(messages)
        if k < 1:
            return []
        if not question or self.phrases.greeting.search(fold(question)):
            return self._greetings(k)
        slots = self._slots(messages)
        # an order number says nothing of the topic
        query = self.phrases.order_id.sub(" ", question)
        found: dict[str, QuickReply] = {}
        ranked = sorted(self._quick_candidates(query, slots), key=lambda r: -r.score)
        floor = (
            max(self.phrases.quick_min_score, self.phrases.quick_relative * ranked[0].score)
            if ranked
            else 1.0
        )
        for reply in ranked:
            if reply.score >= floor and len(found) < k and self._fits(reply.text, slots):
                found.setdefault(reply.text, reply)
        return list(found.values())

    def _greetings(self, k: int) -> list[QuickReply]:
        """The shop's approved greetings, in file order."""
        return [
            QuickReply(text=a.text, source=a.source, kind="greeting", score=1.0)
            for a in self.approved
            if a.greeting
        ][:k]

    def _without_banned(self, text: str) -> str:
        """The shop's banned phrases cut out wherever they still are (knowledge quoted in a
        reply may hold one): none ever reaches the customer."""
        for phrase in (p.strip() for p in self.shop.banned_phrases):
            while phrase and fold(phrase) in fold(text):
                at = fold(text).index(fold(phrase))
                text = text[:at] + text[at + len(phrase) :]
        return re.sub(r"[，,、]+(?=[。！？!?\n])|^[，,、\s]+", "", text)

    # -- quick replies -----------------------------------------------------------------------
    def _quick_candidates(self, question: str, slots: dict[str, str]) -> list[QuickReply]:
        """FAQ answers and past agent replies (only those the knowledge backs), scored by
        retrieval and by how alike their question is to the customer's."""
        emotion = self.shop.rule_set("emotion")  # how questions are folded for likeness
        found: list[tuple[str, str, Any, float, float]] = []
        approved: list[QuickReply] = []
        for hit in self.answerer.retriever.retrieve(question, k=6, kinds=("faq",)):
            phrasings = [hit.chunk.question or "", *hit.chunk.meta.get("similar", [])]
            sim = max(question_similarity(question, p, rules=emotion) for p in phrasings)
            found.append(
                (hit.chunk.text, "faq", hit.chunk, 0.5 * min(1.0, hit.score) + 0.5 * sim, sim)
            )
        for hit in self.answerer.retriever.retrieve(question, k=6, kinds=("case",)):
            reply, sim = case_reply(hit.chunk.text, question, emotion)
            if reply and self._grounded(reply):
                found.append((reply, "case", hit.chunk, 0.5 * min(1.0, hit.score) + 0.5 * sim, sim))
        for entry in self.approved:
            if entry.greeting:
                continue
            asked = entry.questions or (entry.text,)
            sim = max(question_similarity(question, q, rules=emotion) for q in asked)
            if sim >= self.phrases.quick_min_score:
                text, filled = fill_slots(entry.text, slots, self.phrases)
                out_kind = "approved"
                approved.append(
                    QuickReply(
                        text=text,
                        source=entry.source,
                        slots_filled=filled,
                        kind=out_kind,
                        score=round(min(1.0, sim), 4),
                    )
                )
        out = approved
        floor = self.phrases.quick_min_score  # retrieval always ranks something first: the
        found = [f for f in found if f[4] >= floor]  # customer's question must be alike too
        for text, kind, chunk, score, _ in found:
            if "order_id" in slots and re.search(r"(?:提供|发|告诉|给)[^，。？]{0,6}订单号", text):
                score -= 0.2  # asks for the order number the customer already gave
            if score >= _MIN_QUICK_SCORE:
                text, filled = fill_slots(text, slots, self.phrases)
                source, score = f"{chunk.source} {chunk.locator}", round(min(1.0, score), 4)
                out.append(
                    QuickReply(
                        text=text, source=source, slots_filled=filled, kind=kind, score=score
                    )
                )
        return out

    def _fits(self, text: str, slots: dict[str, str]) -> bool:
        """Not about another product than the conversation's, and no cold or blaming phrase."""
        ours = slots.get("product_source")
        if ours:
            mentioned = {s for s, head in self._heads.items() if len(head) > 1 and head in text}
            if mentioned and ours not in mentioned and self._heads.get(ours, ours) not in text:
                return False
        return not any(i.code in _STYLE_CODES for i in self.lint(text))

    def _grounded(self, reply: str) -> bool:
        """A past agent reply is usable only if the knowledge states its numbers and promises."""
        citations = [c for c, _ in self._fact_support(reply_sentences(reply))]
        issues = lint_reply(reply, None, self.shop, citations)
        return not any(i.code in _FACT_CODES for i in issues)

    def _slots(self, messages: list[Message]) -> dict[str, str]:
        """Product, order id and date mentioned in the conversation (latest first)."""
        slots: dict[str, str] = {}
        for message in reversed(messages):
            found = self.answerer.products.identify(message.text)
            if "product" not in slots and message.role == "customer" and len(found) == 1:
                slots["product_source"] = found[0]
                slots["product"] = short_title(self.answerer.products.titles[found[0]])
            order = self.phrases.order_id.search(message.text)
            date = self.phrases.date.search(message.text)
            if "order_id" not in slots and order:
                slots["order_id"] = next(g for g in order.groups() if g)
            if "date" not in slots and date:
                slots["date"] = date.group()
        return slots

    # -- planning ----------------------------------------------------------------------------
    def _plan(self, messages: list[Message], draft: str | None) -> _Plan:
        """Everything the variants share: the rewritten draft, the reason, the alternatives."""
        last = max((i for i, m in enumerate(messages) if m.role == "customer"), default=-1)
        question = messages[last].text.strip() if last >= 0 else ""
        plan = _Plan(mood=customer_mood(messages, self.shop))
        calm = plan.mood.emotion in ("neutral", "confused")
        fault = self.phrases.fault.search(fold(question))
        plan.tone = "fault" if calm and fault else plan.mood.emotion
        support: list[tuple[Citation, str]] = []
        if draft:
            text, plan.changes = self._rewrite(draft, question, messages[:last], plan)
            plan.draft = reply_sentences(text)
            support = self._fact_support(plan.draft, self._products(messages))
            plan.citations = merge_citations(plan.citations, [c for c, _ in support])
        if plan.draft:
            plan.own_opener = bool(self.phrases.empathy.search(fold(plan.draft[0])))
            if self.phrases.question_end.search(fold(plan.draft[-1])):
                plan.ask = plan.draft.pop()  # the agent's own question closes the reply
        history = messages[:last] if last >= 0 else messages
        first, clause = self._answers(question, history) if question else (None, None)
        answers: list[tuple[Answer | None, str]] = [
            (a, reply_sentence(a.text)) for a in (first, clause) if a and a.decision != "handoff"
        ]  # the answer to the turn, then the rules behind the draft's facts, then a clause's
        reasons = [*answers[:1], *((None, r) for _, r in support), *answers[1:]]
        self._pick_reason(
            plan,
            reasons,
            f"{question} {''.join(plan.draft) if plan.refused else draft or ''}",
            self._products(messages),
        )
        if plan.policy and plan.reason == plan.policy:
            self._add_backing(plan, self._products(messages))
        if not plan.draft and not plan.ask and not plan.reason:
            self._add_handoff(plan, first, messages)
        self._add_alternatives(plan, question, draft or "", messages)
        self._add_tier(plan, question, messages)
        self._ask_order(plan, messages)
        return plan

    def _add_tier(self, plan: _Plan, question: str, messages: list[Message]) -> None:
        """A lower price asked for an amount the shopper states ("天丝1.8的399", "买了300元"):
        the highest discount tier of the cited knowledge that amount reaches ("满299减20"), said
        with the amount — unless the reply says that tier already. An amount is money the turn
        states or a bare whole number of two digits or more (a decimal is a size: 1.8)."""
        if not self.phrases.tier_reached:
            return
        classes, _ = self._read([question])
        if not any(c.tiers for c in classes):
            return
        stated = quantities(question)
        amounts = [q.low for q in stated if q.unit == "元"]
        if not amounts:
            taken = [q.span for q in stated]
            amounts = [
                float(m.group())
                for m in re.finditer(r"(?<![\d.])\d{2,}(?![\d.])", fold(question))
                if not any(a <= m.start() < b for a, b in taken)
            ]
        # the tiers of the cited passages, else of the cited documents' passages on the topic
        # (that passage is cited too)
        passages: list[tuple[str, Citation | None]] = [
            (self._chunk_text(c.chunk_id), None) for c in plan.citations
        ]
        cited = {c.source for c in plan.citations}
        query = " ".join(c.names for c in classes if c.tiers)
        for _ in range(2):
            tiers = {
                m.group().replace(" ", ""): (float(m.group("min")), citation)
                for text, citation in passages
                for m in self.phrases.tier.finditer(fold(text))
            }
            if tiers or not cited:
                break
            hits = self.answerer.retriever.retrieve(query, k=8, kinds=("policy", "faq"))
            passages = [
                (h.chunk.text, _citation(h.chunk, reply_sentence(h.chunk.text), h.score))
                for h in hits
                if h.chunk.source in cited
            ]
        said = fold(" ".join([*plan.draft, plan.reason, *plan.alternatives]))
        for amount in amounts:
            reached = [(v[0], tier) for tier, v in tiers.items() if v[0] <= amount]
            if reached:
                tier = max(reached)[1]
                if tier not in said or f"{amount:g}" not in said:
                    text = self.phrases.tier_reached.format(amount=f"{amount:g}", tier=tier)
                    plan.alternatives.append(text)  # listed as an alternative by the layout
                    backing = tiers[tier][1]
                    if backing is not None:
                        plan.citations = merge_citations(plan.citations, [backing])
                return

    def _read(self, turns: list[str]) -> tuple[list[ComplaintTopic], list[str]]:
        """:meth:`ComplaintTopics.read` of the customer's ``turns`` (latest first), read once
        per reply: the policy, the order question and the tier each ask it."""
        key = tuple(turns)
        if key not in self._topics_read:
            self._topics_read[key] = self.complaints.read(turns)
        return self._topics_read[key]

    def _kind(self, chunk_id: str | None) -> str:
        """The kind of a cited chunk ("" when it is not in the snapshot)."""
        at = self.answerer.snapshot.by_id.get(chunk_id) if chunk_id else None
        return self.answerer.snapshot.chunks[at].kind if at is not None else ""

    def _chunk_text(self, chunk_id: str | None) -> str:
        """The text of a cited chunk ("" when it is not in the snapshot)."""
        at = self.answerer.snapshot.by_id.get(chunk_id) if chunk_id else None
        return self.answerer.snapshot.chunks[at].text if at is not None else ""

    def _ask_order(self, plan: _Plan, messages: list[Message]) -> None:
        """A complaint followed up on the shopper's own order (``order`` topics of
        data/reply_topics.yaml: a parcel not moving, an order not sent) closes by asking for the
        order number when the conversation has none and the reply asks nothing else."""
        if plan.ask or plan.handed_off:
            return
        turns = [m.text for m in reversed(messages) if m.role == "customer"]
        classes, _ = self._read(turns)
        said = " ".join(m.text for m in messages)
        if any(c.order for c in classes) and not self.phrases.order_id.search(said):
            plan.closer = "order"

    def _rewrite(
        self, draft: str, question: str, history: list[Message], plan: _Plan
    ) -> tuple[str, list[Change]]:
        """The draft clause by clause: facts, actions and questions kept; a refusal replaced by
        the policy of the conversation's product (kept, softened, when the knowledge has none);
        blame, dismissal, banned and filler clauses dropped. Then cold wording inside the kept
        clauses is softened and money capped (:func:`rewrite_draft`)."""
        split = split_draft(draft, self.shop)
        kept, refusals = split.kept, split.refusals
        refutations: dict[tuple[Any, ...], list[str]] = {}  # each policy's reading, once
        if self.phrases.asks_quantity.search(fold(question)) and not any(
            has_numbers(f) for f in split.facts
        ):  # a quantity asked, none stated: the facts answer it no more than a bare yes
            for fact in split.facts:
                at = kept.index(fact)
                kept.pop(at)
                refusals = [(n - (n > at), c) for n, c in refusals]
                refusals.append((at, Clause(fact, "answer", (0, 0), "asks_quantity", fact)))
            refusals.sort(key=lambda r: r[0])
            split.facts = []
        plan.refused, plan.dismissed = split.refused, split.dismissed
        changes = [
            Change(
                kind="remove_blame" if c.kind == "blame" else "remove_cold",
                before=c.text.strip(" ，,。"),
                reason=DROPPED_WHY[c.kind],
            )
            for c in split.dropped
        ]
        safety = self._forbidden(kept, question, history) if question else None
        if safety is not None:  # an action the rules forbid here: the rule is said instead
            unsafe, plan.policy, citation = safety
            plan.citations = merge_citations(plan.citations, [citation])
            for action in unsafe:
                refusals = _drop(kept, refusals, changes, action, "remove_unsafe", plan.policy)
        # an offer (held to shop.yaml) states no rule: "送您一张20元券" alone answers nothing,
        # nor does a promise no agent may make (removed below: "下单免单都行")
        facts = [
            f
            for f in split.facts
            if f in kept
            and not compensation_offers(f, self.phrases)
            and not multiple_promises(f, self.phrases)
        ]
        said = sum(len(_pairs(t)) for t in facts)  # "能。" "20" "M" answer nothing by themselves
        if (plan.refused or plan.dismissed or said < _CURT) and question and not plan.policy:
            refused = "".join(c.text for _, c in refusals)  # what was refused is the topic
            offered = bool(compensation_offers(draft, self.phrases))
            policy = self._policy(question, history, refused, "".join(facts), offered)
            if policy:
                plan.policy, citations = policy
                plan.citations = merge_citations(plan.citations, citations)
                if said < _CURT:  # a bare number answered: the policy's tier stating it
                    numbers = {float(n) for n in _NUMBER.findall("".join(facts))}
                    plan.policy = tier_of(plan.policy, numbers)
                    # the tier the customer's own time falls in is said whatever the draft's
                    # number ("过7天了" against "签收第10天…")
                    plan.policy, plan.citations = self._with_span(
                        (plan.policy, plan.citations), question
                    )
        if not plan.policy and question and safety is None and facts:
            # the draft states facts: the policy for the turn is read, and said instead of a
            # clause it contradicts ("只保一年" where the rule says 2年) — else not said here
            offered = bool(compensation_offers(draft, self.phrases))
            policy = self._policy(question, history, "", "".join(facts), offered)
            if policy and self._refuted(kept, policy[0], policy[1], question, refutations):
                plan.policy, citations = policy
                plan.citations = merge_citations(plan.citations, citations)
        if plan.policy:  # a fact the policy states otherwise for this product is not kept
            turns = [*history, Message(role="customer", text=question)]
            subject = self._subject(self._products(turns))
            refuted = self._refuted(kept, plan.policy, plan.citations, question, refutations)
            for wrong in [k for k in kept if k in refuted or contradicted(k, plan.policy, subject)]:
                refusals = _drop(kept, refusals, changes, wrong, "correct_fact", plan.policy)
        if plan.policy and safety is None and (plan.refused or plan.dismissed):
            # a bare reason of a refusal or a dismissal: the policy states it in full
            for bare in [f for f in split.facts if f in kept and self._bare_reason(f)]:
                refusals = _drop(kept, refusals, changes, bare, "reason", plan.policy)
        if plan.policy and safety is None:
            # a refusal naming a policy term ("没发票不保修", "不可以包邮的哦") is the agent's
            # summary of a rule: the rule stating that term says it, with its reason
            stated = fold(plan.policy)
            for summary in [r for r in split.reasoned if r in kept and self._states(stated, r)]:
                refusals = _drop(kept, refusals, changes, summary, "reason", plan.policy)
        if plan.policy and not refusals and not any(c.after == plan.policy for c in changes):
            changes.append(  # said for a dismissal or a curt draft: listed, as it happened
                Change(kind="reason", after=plan.policy, reason="草稿没有说明规则，补上店铺的规则")
            )
        for at, clause in reversed(refusals):
            if plan.policy:
                changes.append(
                    Change(
                        kind="reason",
                        before=clause.text.strip(" ，,。"),
                        after=plan.policy,
                        reason=_REPLACED_WHY.get(clause.cue, _REPLACED_WHY[clause.kind]),
                    )
                )
            elif not has_numbers(clause.text):  # else kept for its numbers (split_draft)
                # no policy to say instead: the refusal stays when it says what is refused
                # ("新疆不发") or a fact of the draft ("七天无理由不行"); a bare one ("No.",
                # "不可能", "我们不管") is said in the shop's soft words
                named = self._names_object(clause.rest) or has_facts(clause.text, self.phrases)
                stays = clause.text if named else self.phrases.bare_refusal
                kept.insert(at, stays)
                if stays != clause.text:
                    changes.append(
                        Change(
                            kind="soften",
                            before=clause.text.strip(" ，,。"),
                            after=stays,
                            reason="没有说明原因的拒绝，换成店铺的婉拒说法",
                        )
                    )
        text, more = rewrite_draft("".join(kept), self.shop)
        return text, sorted(changes, key=lambda c: draft.find(c.before)) + more

    def _refuted(
        self,
        kept: list[str],
        policy: str,
        cited: list[Citation],
        question: str,
        memo: dict[tuple[Any, ...], list[str]],
    ) -> list[str]:
        """The clauses of ``kept`` the ``policy`` said for the turn contradicts, as the shared
        claim checker judges them against the policy and the whole files it is cited from: a
        claim they contradict, one they say no to where they touch it, or a value no passage of
        those files states where the policy states another value of that kind in words the
        clause uses ("整机只保1年" against "整机保修2年": the rule chosen for the turn is about what
        the clause is about; "大促期间72小时" stands when the file states 72小时 anywhere).
        ``memo``: the readings made for this draft already (the policy a draft's facts call up
        is read again when it is said: the same clauses against the same files)."""
        read = {c.source: c.chunk_id for c in cited}
        key = (tuple(kept), policy, tuple(read.items()), question)
        if key not in memo:
            memo[key] = self._refuted_now(kept, policy, read, question)
        return memo[key]

    def _refuted_now(
        self, kept: list[str], policy: str, read: dict[str, str | None], question: str
    ) -> list[str]:
        dims = {m.dim for m in measures(policy)}
        policy_pairs = _pairs(fold(policy))
        files = [policy] + [
            chunk.text for chunk_id in read.values() for chunk in self._document(chunk_id)
        ]
        ours = set(read)
        out: set[str] = set()
        # each distinct clause once, and a chat draft's worth of them: every claim is read
        # against every clause of the files, so a pathological run costs what the bound costs
        budget = _MAX_CHECKED_CHARS
        for clause in dict.fromkeys(kept):
            if not _CJK.search(clause):
                continue  # no Chinese word to tie it to the policy
            budget -= len(clause)
            if budget < 0:
                break
            # a value the shop's knowledge states in another file (the membership rule's 500元
            # in a reply on returns) is a true fact about another matter: kept
            if any(c.source not in ours for c, _ in self._fact_support([clause])):
                continue
            check = self._checker.check(clause, files, question=question)
            if check.contradicted or any(v.reason.startswith(_SAYS_NO) for v in check.unsupported):
                out.add(clause)
                continue
            bare = _NUMBER.sub(" ", fold(clause))
            pairs = _pairs(bare)
            near = bool(pairs) and len(pairs & policy_pairs) >= _NEAR * len(pairs)
            wrong = [
                m
                for _, m, verdict in self._checker.facts(clause, files, context=question)
                if verdict == "unsupported" and m.dim in dims
            ]
            if near and wrong:
                out.add(clause)
        return [k for k in kept if k in out]

    def _states(self, policy: str, clause: str) -> bool:
        """Whether the folded ``policy`` states every policy term ``clause`` names (so none is
        lost when the policy says the clause)."""
        terms = [t for t in self.phrases.policy_terms if t in fold(clause)]
        return bool(terms) and all(t in policy for t in terms)

    def _names_object(self, rest: str) -> bool:
        """Whether a refusal's remainder (the clause without its cue) names what is refused
        ("新疆" of "新疆不发", "刻了字" of "刻了字退不了"): two or more characters of content
        once the agent's own subject ("我们", "这边") and stop words are left out — not "我们"
        of "我们不管" nor "能" of "当然不能", which refuse without saying what."""
        subject = self.phrases.clause_features.get("we_subject")
        text = subject.sub("", fold(rest)) if subject is not None else fold(rest)
        stop = getattr(self.answerer.tokenizer, "stopwords", STOPWORDS)
        words = [w for w in self.answerer.tokenizer.words(text) if w not in stop]
        return len(_CJK.findall("".join(words))) >= 2

    def _bare_reason(self, clause: str) -> bool:
        """A fact clause that is a bare reason: a few content words (``bare_reason_words``), no
        number, no policy term and no Latin letters ("过保了", "系统设置的"; not "M", "开MAX")."""
        if has_facts(clause, self.phrases) or re.search(r"[A-Za-z]", clause):
            return False
        stop = getattr(self.answerer.tokenizer, "stopwords", STOPWORDS)
        words = [w for w in self.answerer.tokenizer.words(clause) if w not in stop]
        return 0 < len(words) <= self.phrases.bare_reason_words

    def _forbidden(
        self, kept: list[str], question: str, history: list[Message]
    ) -> tuple[list[str], str, Citation] | None:
        """The draft clauses doing what the knowledge about this turn forbids ("鼓包…不要寄快递"
        against "寄回来我们检测一下"), with the rule's sentence and its citation. Only knowledge
        about the turn counts (most of the turn's words in it, not about another product)."""
        products = self._products([*history, Message(role="customer", text=question)])
        nouns = set(self._heads.values()) | {short_title(t) for t in self._titles()}
        hits = self.answerer.retriever.retrieve(question, k=4, kinds=ANSWER_KINDS)
        for hit in sorted(hits, key=lambda h: h.chunk.kind == "product"):  # rules first
            chunk = hit.chunk
            if chunk.kind == "case" or not self._about(chunk.source, chunk.text, products):
                continue
            asked = " ".join([chunk.question or "", *chunk.meta.get("similar", [])])
            if self._coverage(question, f"{asked} {chunk.text}") < _MIN_SAFETY:
                continue
            body = reply_sentences(reply_sentence(chunk.text))
            for n, sentence in enumerate(body):
                rules = prohibitions(sentence, self.phrases)
                unsafe = [k for k in kept if rules and forbidding(k, rules, self.phrases, nouns)]
                if unsafe:
                    sentence = "".join(body[n : n + 2])  # the rule and what to do instead
                    return unsafe, sentence, _citation(chunk, sentence, hit.score)
        return None

    def _titles(self) -> list[str]:
        """The titles of the product pages."""
        titles = self.answerer.products.titles
        return [titles[s] for s in self._names if s in titles]

    def _policy(
        self,
        question: str,
        history: list[Message],
        said: str,
        facts: str = "",
        offered: bool = False,
    ) -> tuple[str, list[Citation]] | None:
        """What the knowledge says about the customer's turn for the conversation's product,
        chosen as the shop's rules say (``policy_choice``: ``retrieval`` or ``topic``);
        ``offered``: the draft offers compensation."""
        if self.phrases.policy_choice == "topic":
            found = self._policy_by_topic(question, history, said)
        else:
            found = self._policy_by_retrieval(question, history, said, facts, offered)
        if not found:
            return None
        found = self._with_deciding(
            self._with_referred(found, question, history), question, history
        )
        return self._with_span(found, question)

    def _with_span(
        self, found: tuple[str, list[Citation]], question: str
    ) -> tuple[str, list[Citation]]:
        """The policy said with the clause of its own document whose span of time holds the one
        the customer's turn states (``spans`` of data/reply.yaml): "签收第10天…黑屏，我要退货"
        decides between "7天内…可选择退货" and "第8天至第15天…可选择换货或维修" — when what was said
        states values of that unit but no span holding the turn's, the narrowest span of the
        cited policy files holding it is said after it (one clause; product pages are not read)."""
        text, cited = found
        asked = {
            (q.low, q.unit)
            for q in quantities(self.phrases.order_id.sub(" ", question))
            if q.unit and q.low == q.high
        }
        if not asked or not self.phrases.spans:
            return found
        said_units = {q.unit for q in quantities(text)}
        said = spans_in(text, self.phrases.spans)
        asked = {
            (v, u)
            for v, u in asked
            if u in said_units and not any(lo <= v <= hi and su == u for lo, hi, su in said)
        }
        sources = self._cited_policies(cited)
        if not asked or not sources:
            return found
        best: tuple[float, str, Any] | None = None
        for body, n, sentence, chunk in self._policy_sentences(sources):
            if sentence in text:
                continue
            for lo, hi, unit in spans_in(sentence, self.phrases.spans):
                if any(u == unit and lo <= v <= hi for v, u in asked):
                    width = hi - lo
                    if best is None or width < best[0]:
                        best = (width, f"{_lead_in(body, n)}{sentence}", chunk)
        if best is None:
            return found
        return _said_after(text, cited, best[1], best[2])

    def _with_deciding(
        self, found: tuple[str, list[Citation]], question: str, history: list[Message]
    ) -> tuple[str, list[Citation]]:
        """The policy said with the clause of its own document carrying what the customer's
        turn turns on (the deciding term: 秒杀 of "金卡还不能和秒杀一起打折", 整箱 of "整箱…只想退两支",
        新疆 of "我在新疆，能上门装水晶灯吗") when the sentences said do not state it: of the turn's topic
        words (two characters or more, not the product's names, no number, no refusal cue) those
        the policy said leaves out, the sentence of the cited policy files whose leading part (its
        condition or label) states the most of them (idf-weighted) is said after it, with the line
        leading in to it when it is a list's row — the rule is the file's, its clause is the one
        asked about. A sentence leading with another product class, one said already, or one
        naming the words only in passing adds nothing. (Measured 2026-12-07: design shops +8,
        check shops +8 of the reply suites, none lost.)"""
        text, cited = found
        # one cited passage of each policy file: the file's passages are found beside it
        sources = self._cited_policies(cited)
        if not sources:
            return found
        products = self._products([*history, Message(role="customer", text=question)])
        subject = self._subject(products)
        words = self.topics.topic_words(
            self.phrases.order_id.sub(" ", question), subject, self.phrases.refusal
        )
        said = fold(text)
        missing = [w for w in words if len(w) > 1 and w not in said]
        if not missing:
            return found
        others = self._other_names(products, question)
        said_pairs = _pairs(said)
        best: tuple[float, str, Any] | None = None
        for body, n, sentence, chunk in self._policy_sentences(sources):
            pairs = _pairs(fold(sentence))
            if not pairs or len(pairs & said_pairs) >= _SAID_PAIRS * len(pairs):
                continue  # said already, in these or nearly these words
            if _leads_with(sentence, others, subject):
                continue
            # the term must lead the clause: the rule's condition or label ("整箱商品退货
            # 需…", "发票抬头…填错的，…"), not a word it says in passing
            lead = fold(_LEAD_END.split(sentence, maxsplit=1)[0])
            weight = sum(max(self.answerer.idf(w), 0.1) for w in missing if w in lead)
            if weight and (best is None or weight > best[0]):
                best = (weight, f"{_lead_in(body, n)}{sentence}", chunk)
        if best is None:
            return found
        return _said_after(text, cited, best[1], best[2])

    def _cited_policies(self, cited: list[Citation]) -> dict[str, str | None]:
        """One cited passage of each policy file ``cited`` holds (its first): the file's
        other passages are found beside it (:meth:`_document`); product pages are not read."""
        return {
            c.source: c.chunk_id
            for c in reversed(cited)
            if self._kind(c.chunk_id) in _DECIDING_KINDS and c.source not in self._pages
        }

    def _policy_sentences(
        self, sources: Mapping[str, str | None]
    ) -> Iterator[tuple[list[str], int, str, Any]]:
        """Each reply sentence of the passages of each file of ``sources`` (by file name): its
        passage's sentences, its position among them, the sentence and the passage."""
        for source in sorted(sources):
            for chunk in self._document(sources[source]):
                body = reply_sentences(reply_sentence(chunk.text))
                for n, sentence in enumerate(body):
                    yield body, n, sentence, chunk

    def _document(self, chunk_id: str | None) -> list[Any]:
        """The passages of the knowledge file of the passage ``chunk_id``: those beside it of the
        same source (a file's passages are consecutive in the snapshot), at most
        :data:`_DOCUMENT_SPAN` on either side — read there, not by a scan of every chunk."""
        snapshot = self.answerer.snapshot
        at = snapshot.by_id.get(chunk_id) if chunk_id else None
        if at is None:
            return []
        source = snapshot.chunks[at].source
        first = at
        while first > 0 and at - first < _DOCUMENT_SPAN:
            if snapshot.chunks[first - 1].source != source:
                break
            first -= 1
        last = at
        while last + 1 < len(snapshot.chunks) and last - at < _DOCUMENT_SPAN:
            if snapshot.chunks[last + 1].source != source:
                break
            last += 1
        return [snapshot.chunks[n] for n in range(first, last + 1)]

    def _with_referred(
        self, found: tuple[str, list[Citation]], question: str, history: list[Message]
    ) -> tuple[str, list[Citation]]:
        """The policy said with the rule of the document it refers to by title ("15天后的质量
        问题，按保修政策维修处理，见《保修政策》"; "处理方式见《售后服务说明》"; by name without 《》,
        ``reference`` of data/reply.yaml: "免费维修（见保修政策）"): of that document's
        passages retrieval finds for the turn, the row labelled with the conversation's product
        class ("商品：血压计…保修期：主机5年"), else the first on the turn's topic class — its
        sentence stating most of the turn's words. A reference to a document already cited,
        or one the knowledge has no passage of, adds nothing."""
        text, cited = found
        named = [m.group("title") for m in self.phrases.reference.finditer(text)]
        titles = list(dict.fromkeys([*_REFERENCE.findall(text), *named]))
        if not titles:
            return found
        turns = [question, *(m.text for m in reversed(history) if m.role == "customer")]
        products = self._products([*history, Message(role="customer", text=question)])
        subject = self._subject(products)
        classes, _ = self._read(turns)
        sources = {c.source for c in cited}
        for title in titles:
            # searched by the title with the product's names (its row) and with the turn
            queries = [" ".join([title, *(c.names for c in classes), question])]
            if subject.words:
                queries.insert(0, " ".join([title, *sorted(subject.words)]))
            hits = {
                h.chunk.id: h.chunk
                for query in queries
                for h in self.answerer.retriever.retrieve(query, k=8, kinds=ANSWER_KINDS)
                if h.chunk.source not in sources
            }
            # the document: a passage titled so (its locator, or a plain text's title line)
            documents = {c.source for c in hits.values() if _titled(c, title)}
            ours = [c for c in hits.values() if c.source in documents]
            # a table's row for the class first (of the rows whose first cell names it, the one
            # naming most of the conversation's product words), then a sentence leading with it
            counted = [(_row_of(c.text, subject), c) for c in ours if c.kind == "table_row"]
            rows: list[tuple[Any, str]] = [
                (c, c.text) for n, c in sorted(counted, key=lambda r: -r[0]) if n
            ]
            rows += [
                (c, t)
                for c in ours
                for t in reply_sentences(reply_sentence(c.text))
                if _labelled(t, subject)
            ]
            row = rows[0] if rows else None
            if row is None:
                chunk: Any = next(
                    (c for c in ours if self.complaints.fit(classes, heading_of(c), c.text)),
                    None,
                )
                if chunk is None and ours:  # no topic class read: of the document's passages
                    # retrieval found, the one stating most of the turn's words, the first of
                    # equals ("签收后…划痕": its 外观 rule), when it states any
                    fit, chunk = max(((self._coverage(question, c.text), c) for c in ours),
                                     key=lambda p: p[0])  # fmt: skip
                    chunk = chunk if fit > 0 else None
                if chunk is None:
                    continue
                body = reply_sentences(reply_sentence(chunk.text))
                row = (chunk, self._ranked_sentences(body, question, "", classes)[0])
            chunk, sentence = row
            said = _joined(sentence)
            said = said if re.search(r"[。.！!？?]$", said) else f"{said}。"
            if said.rstrip("。") in text:
                continue
            text = f"{text}{said}"
            cited = merge_citations(cited, [_citation(chunk, said, 1.0)])
            sources.add(chunk.source)
        return text, cited

    def _policy_by_retrieval(
        self,
        question: str,
        history: list[Message],
        said: str,
        facts: str = "",
        offered: bool = False,
    ) -> tuple[str, list[Citation]] | None:
        """``policy_choice: retrieval``: the rules' choice (:meth:`_rules_policy`), unless the
        fitted line ranker (:mod:`._policy_rank`) puts another line of the passages they scored
        first — that line is said then, with the steps it announces and the rest of its rule."""
        seen: dict[str, Any] = {"passages": []}
        today = self._rules_policy(question, history, said, facts, offered, seen)
        if today is None or not seen["passages"]:
            return today
        lines = self._policy_lines(today, facts, seen)
        ranker = self.policy_ranker
        features = policy_line_features(seen["question"], lines) if lines else []
        if self.policy_log is not None:
            self.policy_log.append(
                {
                    "today": today[0],
                    "today_sources": [c.source for c in today[1]],
                    "lines": [line.text for line in lines],
                    "sources": [line.chunk.source for line in lines],
                    "features": features,
                }
            )
        if ranker is None or not lines:
            return today
        scores = ranker.scores(features)
        at = min(range(len(scores)), key=lambda i: (-scores[i], i))  # ranker.order's first
        top = lines[at]
        ruled = [score for score, line in zip(scores, lines, strict=True) if line.today]
        if top.today or (ruled and scores[at] - max(ruled) <= self.policy_margin):
            return today
        # the model's line said after the rules' choice (its steps and the rest of its rule)
        body = reply_sentences(reply_sentence(top.chunk.text))
        others, subject = seen["others"], seen["subject"]
        steps = "".join(_with_steps(body, [top.text]))
        text = steps if len(steps) <= _SAID_LINE else top.text
        text = _continued(body, text, lambda t: _leads_with(t, others, subject))
        known = _pairs(fold(today[0]))  # its sentences the rules' choice says already: once
        text = "".join(
            t
            for t in _RULE_PARTS.findall(text)
            if len(_pairs(fold(t)) & known) < _SAID_PAIRS * max(len(_pairs(fold(t))), 1)
        )
        if not text:
            return today
        return _said_after(today[0], today[1], text, top.chunk)

    def _policy_lines(
        self, today: tuple[str, list[Citation]], facts: str, seen: Mapping[str, Any]
    ) -> list[PolicyLine]:
        """The sentences of the passages :meth:`_rules_policy` scored, as the line ranker reads
        them (each passage once)."""
        said, cited = fold(today[0]), {c.chunk_id for c in today[1]}
        said_pairs = _pairs(said)
        numbers = quantities(facts)
        classes, own = seen["classes"], seen["own"]
        others, subject = seen["others"], seen["subject"]
        out: list[PolicyLine] = []
        done: set[str] = set()
        for n, chunk, strength, fit, on_topic, named in seen["passages"]:
            if chunk.id in done:
                continue
            done.add(chunk.id)
            body = reply_sentences(reply_sentence(chunk.text))
            for at, line in enumerate(body):
                pairs = _pairs(fold(line))
                stated = quantities(line)
                hit = any(supported(q, stated) for q in numbers)
                out.append(
                    PolicyLine(
                        chunk=chunk,
                        text=line,
                        unit=at,
                        units=len(body),
                        rank=n,
                        strength=strength,
                        fit=fit,
                        on_topic=on_topic,
                        named=named,
                        own=chunk.source in seen["products"],
                        today=fold(line) in said
                        or (bool(pairs) and len(pairs & said_pairs) >= 0.8 * len(pairs)),
                        today_chunk=chunk.id in cited,
                        covers=self.topics.coverage(own, line) if own else 0.0,
                        line_topic=bool(classes) and self.complaints.fit(classes, "", line) > 0,
                        stated=hit,
                        other_value=not hit
                        and any(q.unit == p.unit for q in numbers for p in stated),
                        leads_other=_leads_with(line, others, subject),
                    )
                )
        return out

    def _rules_policy(
        self,
        question: str,
        history: list[Message],
        said: str,
        facts: str,
        offered: bool,
        seen: dict[str, Any],
    ) -> tuple[str, list[Citation]] | None:
        """The policy as the rules choose it (``seen`` gets the passages scored and what they
        were scored for): the topic first — when the customer's turn names a
        complaint's topic class (:mod:`._complaint`, ``data/reply_topics.yaml``), a passage on
        that topic (by its heading, its text or the customer's own words for it) is chosen
        before any off it, and of those one naming the product or its class gains
        ``subject_weight``, one on a secondary topic of the conversation (the compensation the
        customer asks for or the draft ``offered``) ``narrow_weight`` times both fits
        (measured 2026-12-06 on the six dev shops: +2 passes on 2 shops, none lost; ranking
        it before the score instead lost more than it gained). Then, as before: the answer when the answerer is sure of one about
        the conversation's product (and on the topic, when a passage is), else the passage
        retrieval ranks best plus half its coverage of the turn's *topic* words (the product's names left out: they pull the product's care
        or packaging text over the rule asked about), its most relevant sentences and the
        topic's window; the policy behind an FAQ answer cited too. (Measured 2026-12-05 on the
        four dev shops: topic coverage instead of word coverage +2 passes, no loss; a weight of
        1.0 instead of 0.5 gained 2 and lost 2.)"""
        products = self._products([*history, Message(role="customer", text=question)])
        answer = self.answerer.answer(question, history)
        turns = [question, *(m.text for m in reversed(history) if m.role == "customer")]
        classes, symptoms = self._read(turns)
        # what narrows the topic: the compensation asked for or offered (its rule, not the
        # dispatch times, answers "说好48小时发货…赔我" with an offer in the draft)
        narrow = self.complaints.narrowing(turns, offered) if classes else []
        # the turn that named the complaint, when the last one only follows it up ("云栖2 我要求
        # 赔100" after "帐篷收到少了两个地钉", "就一句抱歉？"): what the policy is searched by
        told = next((t for t in turns if any(c.said_in(fold(t)) for c in classes)), question)
        question = question if told == question else f"{told} {question}"
        topic = f"{question} {said}".strip()
        best: tuple[float, Any, float, float, float] | None = None
        subject = self._subject(products)
        topic = f"{topic} {self._topic_names(question)}".strip()
        words = self.topics.topic_words(
            self.phrases.order_id.sub(" ", topic), subject, self.phrases.refusal
        )
        # the customer's and the draft's own words (not the policy's names for the topic):
        # what a sure answer and the best passage are compared on
        own = self.topics.topic_words(
            self.phrases.order_id.sub(" ", f"{question} {said}"), subject, self.phrases.refusal
        )
        seen.update(
            question=question,
            own=own,
            classes=classes,
            subject=subject,
            products=products,
            others=self._other_names(products, f"{question} {said}"),
        )
        sure: tuple[str, list[Citation], float, float, float] | None = None
        if answer.decision == "auto" and answer.citations:  # the answerer is sure of it
            first = answer.citations[0]
            if self._about(first.source, first.snippet, products):
                text = reply_sentence(answer.text)
                # a rule it quotes up to a semicolon, whole (cited as said)
                cut = reply_sentences(reply_sentence(self._chunk_text(first.chunk_id)))
                others = self._other_names(products, f"{question} {said}")
                whole = _continued(cut, text, lambda t: _leads_with(t, others, subject))
                sure_cited = answer.citations[:1]
                at = self.answerer.snapshot.by_id.get(first.chunk_id or "")
                if whole != text and at is not None:
                    text = whole
                    chunk = self.answerer.snapshot.chunks[at]
                    sure_cited = [_citation(chunk, text, first.score)]
                backed = merge_citations(sure_cited, self._backing(text, products))
                fit = self.topics.coverage(own, first.snippet)
                on_topic = self._on_topic(classes, first.chunk_id, first.snippet, symptoms)
                narrowed = self._on_topic(narrow, first.chunk_id, first.snippet, [])
                sure = (text, backed, fit, on_topic, narrowed)  # its fit: of what it quotes
        for n, chunk, strength in self._candidates(topic, question, classes + narrow, subject):
            if chunk.kind == "case" or not self._about(chunk.source, chunk.text, products):
                continue
            fit = self.topics.score(words, subject, chunk.text) if words else 0.0
            on_topic = self.complaints.fit(classes, heading_of(chunk), chunk.text, symptoms)
            # the topic first, then the product: of the passages on the topic, those naming
            # the conversation's product or its class (its own page, a warranty row for it)
            named = on_topic > 0 and (chunk.source in products or subject.named_in(chunk.text))
            score = strength + 0.5 * fit + self.complaints.weight * on_topic - 0.01 * n
            score += self.complaints.subject_weight * named
            narrowed = self.complaints.fit(narrow, heading_of(chunk), chunk.text)
            # what narrows the topic counts as much as the passage is on the topic itself
            score += self.complaints.narrow_weight * narrowed * on_topic
            # a passage on the topic before any off it (the topic is chosen first)
            seen["passages"].append((n, chunk, strength, fit, on_topic, named))
            if best is None or (on_topic > 0, score) > (best[3] > 0, best[0]):
                best = (score, chunk, self.topics.coverage(own, chunk.text), on_topic, narrowed)
        if best is None or best[0] < _MIN_RETRIEVED:
            return sure[:2] if sure else None
        # sure, unless a passage states more of the turn's words or only it is on the topic
        # (or on what narrows it)
        if (
            sure
            and sure[2] >= best[2]
            and (sure[3] > 0 or best[3] == 0)
            and (sure[4] > 0 or best[4] == 0)
        ):
            return sure[:2]
        score, chunk, *_ = best
        body = reply_sentences(reply_sentence(chunk.text))
        # the sentences using the topic's words, of a passage whose heading is another topic's
        aside = [] if self.complaints.fit(classes, heading_of(chunk), "") else classes
        ranked = self._ranked_sentences(body, topic, facts, aside)
        _, window = self.topics.best_window(words, subject, body, own=chunk.source in products)
        quoted = [t for t in body if t in ranked or t in window]
        # a sentence about another product class is not said ("登山包…" for a walking pole)
        others = self._other_names(products, f"{question} {said}")
        quoted = [t for t in quoted if not _leads_with(t, others, subject)] or quoted
        steps = _with_steps(body, quoted)
        text = "".join(quoted)
        if steps != quoted:  # a lead-in said with the steps it announces — of a list of rows
            # by product class, those of the conversation's class, not another's
            rows = [t for t in steps if t in quoted or not _leads_with(t, others, subject)]
            if len(rows) < len(steps):  # another class's row left out: our class's row instead
                lead = max(n for n, t in enumerate(body) if t in steps and _LEAD_IN.search(t))
                rows += [t for t in body[lead + 1 :] if _labelled(t, subject) and t not in rows][:1]
            text = "".join(rows)
        elif len(text) > 160:
            text = "".join(window) or ranked[0]
        # a rule cut at its semicolon is said with its rest (the condition or the exception:
        # "运费由顾客承担；" + "下单时购买了运费险的，按运费险理赔。")
        text = _continued(body, text, lambda t: _leads_with(t, others, subject))
        text, cited = _joined(text), self._stated(_joined(text), chunk, score, products)[1]
        exception = self._exception(chunk, text, classes, subject) if classes else None
        if exception is not None:  # the rule for the product's class, after the general rule
            text = f"{text}{exception[0]}"
            cited = merge_citations(cited, [exception[1]])
        return text, cited

    def _exception(
        self, chosen: Any, said: str, classes: list[ComplaintTopic], subject: Subject
    ) -> tuple[str, Citation] | None:
        """Where the general rule said does not name the conversation's product class, the row
        the class labels in another policy passage on the topic — of the same document first
        (an exception row: "睡袋、瑜伽垫：已使用…的" under "以下情况…不支持7天无理由："), with the
        lead-in it is listed under."""
        named = sorted(w for w in subject.words if _CJK.search(w))
        if not named or chosen.kind != "policy" or subject.named_in(said):
            return None
        query = " ".join([*(c.names for c in classes), *named])
        hits = self.answerer.retriever.retrieve(query, k=8, kinds=("policy",))
        for hit in sorted(hits, key=lambda h: h.chunk.source != chosen.source):
            chunk = hit.chunk
            if chunk.id == chosen.id:
                continue
            if not self.complaints.fit(classes, heading_of(chunk), chunk.text):
                continue
            body = reply_sentences(reply_sentence(chunk.text))
            # a row the class labels ("睡袋、瑜伽垫：…"; in the warranty a quality rule refers to,
            # "冲锋衣 JK-301：…"), not a sentence naming it in passing ("如耳机 IP54")
            at = next((n for n, t in enumerate(body) if _labelled(t, subject)), -1)
            if at < 0:
                continue
            lead = next((t for t in reversed(body[:at]) if _LEAD_IN.search(t)), "")
            text = _joined(f"{lead}{body[at]}")
            return text, _citation(chunk, text, hit.score)
        return None

    def _ranked_sentences(
        self, body: list[str], topic: str, facts: str, classes: Sequence[ComplaintTopic] = ()
    ) -> list[str]:
        """The two sentences of the chosen passage to say: those stating a number of the
        agent's own facts first (the rule behind what the draft says: "过了15天" is answered by
        the sentence on 15天, not by the first line on the topic), then those using the policy's
        words for one of ``classes`` (the refund's "…48小时内原路退回" in a list of return
        rules, for "寄回去好几天了 钱呢"), then by coverage of the turn's words. (Measured
        2026-12-06 on the six dev shops: no pass gained or lost; the general rule said with its
        exception instead of a heading line.)"""
        numbers = quantities(facts)

        def key(sentence: str) -> tuple[bool, bool, float]:
            stated = quantities(sentence)
            on_topic = bool(classes) and self.complaints.fit(classes, "", sentence) > 0
            return (
                any(supported(q, stated) for q in numbers),
                on_topic,
                self._coverage(topic, sentence),
            )

        return sorted(body, key=key, reverse=True)[:2]

    def _other_names(self, products: set[str], said: str) -> set[str]:
        """The words naming the product classes the conversation is not about: head noun, SKU
        and catalogue class parts of the other products, leaving out those the conversation
        (``said``) uses and those overlapping a word of its own products' (衬衫 in 真丝衬衫)."""
        ours, said = self._subject(products).words, fold(said)
        out: set[str] = set()
        for source, head in self._heads.items():
            if source in products or source not in self._names:
                continue
            parts = [head, self._skus.get(source, ""), *self._classes.get(source, "").split("/")]
            for word in (fold(p.strip()) for p in parts):
                if (
                    len(word) > 1
                    and word not in said
                    and not any(word in o or o in word for o in ours)
                ):
                    out.add(word)
        return out

    def _on_topic(
        self, classes: list[ComplaintTopic], chunk_id: str | None, text: str, symptoms: list[str]
    ) -> float:
        """How much the cited passage ``chunk_id`` is about the complaint's topic classes."""
        at = self.answerer.snapshot.by_id.get(chunk_id) if chunk_id else None
        chunk = self.answerer.snapshot.chunks[at] if at is not None else None
        heading = heading_of(chunk) if chunk is not None else ""
        body = chunk.text if chunk is not None else text
        return self.complaints.fit(classes, heading, body, symptoms)

    def _candidates(
        self, topic: str, question: str, classes: list[ComplaintTopic], subject: Subject
    ) -> list[tuple[int, Any, float]]:
        """Passages that may state the policy, each with its rank and retrieval strength: those
        retrieval finds for the whole topic and, for a complaint of a known topic class, those
        it finds for the policy's names of the topic with the turn's own words (the product's
        names left out: they pull its own page over the rule)."""
        queries = [topic]
        if classes:
            words = self.topics.topic_words(self.phrases.order_id.sub(" ", question), subject)
            queries.append(" ".join([*(c.names for c in classes), *words]))
        out: dict[str, tuple[int, Any, float]] = {}
        for query in queries:
            for n, hit in enumerate(
                self.answerer.retriever.retrieve(query, k=8, kinds=ANSWER_KINDS)
            ):
                if hit.chunk.id not in out:  # as the whole turn ranks it, if it does
                    out[hit.chunk.id] = (n, hit.chunk, min(1.0, hit.score / 2))
        return list(out.values())

    def _policy_by_topic(
        self, question: str, history: list[Message], said: str
    ) -> tuple[str, list[Citation]] | None:
        """``policy_choice: topic``: the passage whose one or two sentences state most of the
        turn's topic words (more where the part naming the product class states them — the
        exception over the general rule), plus retrieval strength; the answerer's sure answer
        when it scores as well (see :mod:`._topic`)."""
        products = self._products([*history, Message(role="customer", text=question)])
        answer = self.answerer.answer(question, history)
        topic = self.phrases.order_id.sub(" ", f"{question} {said}").strip()
        subject = self._subject(products)
        words = self.topics.topic_words(topic, subject, self.phrases.refusal)
        sure: tuple[float, str, list[Citation]] | None = None
        if answer.decision == "auto" and answer.citations:  # the answerer is sure of it
            first = answer.citations[0]
            if self._about(first.source, first.snippet, products):
                text = reply_sentence(answer.text)
                score = _TOPIC_WEIGHT * self.topics.score(words, subject, text) + _SURE_POLICY
                backing = self._backing(text, products)
                sure = (score, text, merge_citations(answer.citations[:1], backing))
        best: tuple[float, Any, list[str], float] | None = None
        seen: set[str] = set()
        for query in dict.fromkeys((topic, " ".join(words))):
            hits = self.answerer.retriever.retrieve(query, k=8, kinds=ANSWER_KINDS) if query else []
            for n, hit in enumerate(hits):
                chunk = hit.chunk
                if chunk.id in seen or chunk.kind == "case":
                    continue
                seen.add(chunk.id)
                if not self._about(chunk.source, chunk.text, products):
                    continue
                own = chunk.source in products  # the page of the conversation's product
                body = reply_sentences(reply_sentence(chunk.text))
                fit, window = self.topics.best_window(words, subject, body, own=own)
                strength = min(1.0, hit.score / 2)
                score = _TOPIC_WEIGHT * fit + strength - 0.01 * n
                if not window:  # no sentence states a topic word: what retrieval found first
                    fit, window = 0.0, body[:2]
                if window and (best is None or score > best[0]):
                    best = (score, chunk, window, max(fit, strength))
        if best is not None and best[3] < _MIN_POLICY:  # neither about the topic nor retrieved
            best = None
        if sure is not None and (best is None or sure[0] >= best[0]):
            return sure[1], sure[2]
        if best is None:
            return None
        score, chunk, window, _ = best
        return self._stated(_joined("".join(window)), chunk, score, products)

    def _topic_names(self, question: str) -> str:
        """The names the shop's policies give the topic the customer describes (``topic_names``:
        "拉链坏了" is a 质量问题 and a 保修 matter), to find the policy by its own words."""
        folded = fold(question)
        return " ".join(n for n, cue in self.phrases.topic_names.items() if cue.search(folded))

    def _stated(
        self, text: str, chunk: Any, score: float, products: set[str]
    ) -> tuple[str, list[Citation]]:
        """A policy said from ``chunk``, cited (with the policy behind an FAQ answer)."""
        cited = _citation(chunk, text, score)
        backing = self._backing(text, products) if chunk.kind == "faq" else []
        return text, merge_citations([cited], backing)

    def _subject(self, products: set[str]) -> Subject:
        """The words naming the conversation's products and their class."""
        return subject_of(products, self._heads, self._skus, self._classes)

    def _about(self, source: str, text: str, products: set[str]) -> bool:
        """Whether knowledge may be said about the conversation's products: a product page only
        of one of them (none when the conversation names no product of the catalogue: a page's
        care or battery text is no rule for "快递三天没动了"); a passage naming other products
        only if it names one of ours too."""
        if source in self._names:
            return source in products
        if not products:
            return True
        ours = {w for p in products for w in self._names.get(p, ())}
        named = {
            h
            for s, h in self._heads.items()
            if s in self._names and s not in products and h in text
        }
        return not (named - ours) or any(w in text for w in ours)

    def _backing(self, text: str, products: set[str] | None = None) -> list[Citation]:
        """The knowledge behind an FAQ answer (the rule or page it was written from): of the
        policies retrieval finds for it, the passage stating most of its numbers or, for a
        sentence without numbers the passage states, most of the words of one of its sentences
        (:data:`_MIN_BACKING`); of the parts of the conversation's ``products``' own pages (an
        FAQ about a product is written from its page — read whole: retrieval ranks another
        product's page first when both state the topic), the part stating most of its numbers,
        else most of the words of one of its clauses ("小飞侠…不具备GPS定位和自动返航功能，
        有定高悬停…": the page states the first clause, another part the rest). When no policy
        passage backs it, a policy document whose retrieved passages do together backs it (an
        FAQ summing up a warranty's rows by product class), cited by its passage backing most."""
        numbers = quantities(text)
        parts = [p for p in re.split(r"[。；;！!？?\n]", text) if len(p) >= 8]
        clauses = [p for p in re.split(r"[。；;！!？?\n，,]", text) if len(p) >= 8]

        def backs(chunk_text: str, pieces: list[str]) -> float:
            """Most of the numbers stated (1 + their share), else a piece's word coverage."""
            stated = quantities(chunk_text)
            share = sum(supported(q, stated) for q in numbers) / len(numbers) if numbers else 0
            if share >= 0.5:
                return 1.0 + share
            fit = max((self._coverage(p, chunk_text) for p in pieces), default=0.0)
            return fit if fit >= _MIN_BACKING else 0.0

        found: list[Citation] = []
        hits = self.answerer.retriever.retrieve(text, k=6, kinds=("policy",))
        chosen = next(((h, fit) for h in hits if (fit := backs(h.chunk.text, parts))), None)
        # the policy passage stating two or more of its numbers, retrieved or not: retrieval
        # ranks the passages sharing its words (定制商品…电动轨道) over the rule stating its
        # figures (a warranty's rows, a surcharge table)
        numbered = self._numbered_policy(text, [h.chunk.source for h in hits])
        if numbered is not None and (chosen is None or chosen[1] < 1.0 + numbered[0]):
            chunk = self.answerer.snapshot.chunks[numbered[1]]
            found.append(_citation(chunk, reply_sentence(chunk.text), min(1.0, numbered[0])))
        elif chosen is not None:
            hit = chosen[0]
            found.append(_citation(hit.chunk, reply_sentence(hit.chunk.text), hit.score))
        else:  # an answer summing up a document's passages (a warranty's rows by class): the
            # document whose retrieved passages back it together
            documents: dict[str, list[Any]] = {}
            for hit in hits:
                documents.setdefault(hit.chunk.source, []).append(hit)
            for group in documents.values():
                together = " ".join(h.chunk.text for h in group)
                if len(group) > 1 and backs(together, parts):
                    top = max(group, key=lambda h: backs(h.chunk.text, parts))
                    found.append(_citation(top.chunk, reply_sentence(top.chunk.text), top.score))
                    break
        best: tuple[float, Any] | None = None
        for source in sorted(products or ()):
            for _, chunk in self.answerer.products.chunks(source):
                fit = backs(chunk.text, clauses)
                if fit and (best is None or fit > best[0]):
                    best = (fit, chunk)
        if best is not None:
            found.append(_citation(best[1], reply_sentence(best[1].text), min(1.0, best[0])))
        return found

    def _numbered_policy(self, text: str, retrieved: Sequence[str]) -> tuple[float, int] | None:
        """The policy document stating most of the figures of ``text`` (each in its unit:
        :func:`measures`; not counts), when it states two or more of them and at least half — two figures
        said together name a rule, one ("7天") is stated by many; its share and the position of
        its passage stating most of them (a warranty's rows are passages of one figure each).
        Of documents stating as many, the first ``retrieved``; none retrieved: none."""
        # a count ("两个包裹", "另一个") says how many of something, not a rule's figure
        figures = [m for m in measures(text) if not m.dim.startswith("count:")]
        if len(figures) < 2:
            return None
        if self._policy_figures is None:
            index: dict[str, list[tuple[float, float, int]]] = {}
            for at, chunk in enumerate(self.answerer.snapshot.chunks):
                # a policy's passages and its table's rows (not a product page's rows)
                if chunk.kind == "policy" or (
                    chunk.kind == "table_row" and chunk.source not in self._pages
                ):
                    for m in measures(chunk.text):
                        if not m.dim.startswith("count:"):
                            index.setdefault(m.dim, []).append((m.low, m.high, at))
            self._policy_figures = index
        chunks = self.answerer.snapshot.chunks
        by_document: dict[str, Counter[int]] = {}  # document → its passages: figures each states
        stated: dict[str, set[int]] = {}
        for n, m in enumerate(figures):
            for low, high, at in self._policy_figures.get(m.dim, ()):
                if low <= m.low and m.high <= high:
                    source = chunks[at].source
                    stated.setdefault(source, set()).add(n)
                    by_document.setdefault(source, Counter())[at] += 1
        if not stated:
            return None
        most = max(len(v) for v in stated.values())
        if most < 2 or most / len(figures) < 0.5:
            return None
        best = [s for s, v in stated.items() if len(v) == most]
        chosen = next((s for s in retrieved if s in best), best[0] if len(best) == 1 else None)
        if chosen is None:
            return None
        _, at = max((c, -a) for a, c in by_document[chosen].items())
        return most / len(figures), -at

    def _pick_reason(
        self,
        plan: _Plan,
        reasons: list[tuple[Answer | None, str]],
        topic: str,
        products: set[str] | None = None,
    ) -> None:
        """The knowledge most about what was said (contradicting none of the draft's numbers),
        quoted once: a draft sentence it fully states is replaced by it. An FAQ answer is cited
        with the policy or the page of the conversation's ``products`` it was written from
        (:meth:`_backing`), as when it states the policy."""
        said = topic if plan.refused else " ".join([*plan.draft, plan.ask])
        if said and not plan.policy:
            fit = [
                (self._fit(r, said, topic), _SURE * (a is None or a.decision == "auto"), -n)
                for n, (a, r) in enumerate(reasons)
            ]  # knowledge stating the draft's facts, or an answer the answerer is sure of, first
            ranked = sorted(
                zip(fit, reasons, strict=True), key=lambda x: sum(x[0][:2]), reverse=True
            )
            reasons = [reason for (score, _, _), reason in ranked if score >= _MIN_FIT]
        if plan.policy:  # the policy replacing a refusal is said whatever the draft's words
            reasons = [(None, plan.policy)]
        if not reasons:
            return
        answer, plan.reason = reasons[0]
        plan.citations = merge_citations(plan.citations, answer.citations if answer else [])
        first = answer.citations[0] if answer and answer.citations else None
        if first is not None and self._kind(first.chunk_id) == "faq":
            plan.citations = merge_citations(plan.citations, self._backing(plan.reason, products))
        numbers = Counter(_NUMBER.findall(plan.reason))  # each stated once: used up by one
        for sentence in list(plan.draft):
            if (
                self._covered(sentence, plan.reason)
                and not Counter(_NUMBER.findall(sentence)) - numbers
            ):
                numbers -= Counter(_NUMBER.findall(sentence))
                plan.draft.remove(sentence)
                why = "知识库原文已包含这句话的全部事实，只说一次"
                plan.changes.append(
                    Change(kind="reason", before=sentence, after=plan.reason, reason=why)
                )

    def _add_backing(self, plan: _Plan, products: set[str]) -> None:
        """A kept draft sentence that says what to do without its facts ("您可以开MAX模式") gets
        the fact of the conversation's product page stating it ("清扫模式：MAX，吸力：8000Pa")
        when the policy said for the turn does not: the agent's point, made good by the shop's
        facts."""
        best: tuple[float, str, Any] | None = None
        for sentence in (d for d in plan.draft if not has_numbers(d)):
            for source in sorted(products):
                for _, chunk in self.answerer.products.chunks(source):
                    for fact in reply_sentences(reply_sentence(chunk.text)):
                        fit = self._coverage(sentence, fact)
                        if (
                            fit >= _MIN_BACKING
                            and has_numbers(fact)
                            and (best is None or fit > best[0])
                        ):
                            best = (fit, fact, chunk)
            if best is not None and not self._covered(best[1], plan.reason):
                fit, fact, chunk = best
                plan.alternatives.append(fact)
                plan.citations = merge_citations(plan.citations, [_citation(chunk, fact, fit)])
                plan.changes.append(
                    Change(kind="reason", before=sentence, after=fact, reason=_BACKING_WHY)
                )
                return

    def _answers(self, question: str, history: list[Message]) -> tuple[Answer, Answer | None]:
        """The answer to the customer's turn and, when the knowledge does not clearly answer it
        as a whole, the best answer to one of its clauses ("衣服有个破洞，太让人失望了")."""
        first = self.answerer.answer(question, history)
        unclear = ("the knowledge does not", "no knowledge")
        if first.decision != "handoff" or not any(r.startswith(unclear) for r in first.reasons):
            return first, None
        best: Answer | None = None
        clauses = [
            question[start:end].strip(" ，,。！？!?") for start, end in clause_spans(question)
        ]
        clauses = [c for c in clauses if len(_CJK.findall(c)) >= 4 and c != question]
        # each clause once, and only the first few: a pasted wall of text is no question of
        # hundreds of clauses (each an answer of its own: 7 s for a 4,000-character turn)
        for clause in list(dict.fromkeys(clauses))[:_MAX_CLAUSES]:
            answer = self.answerer.answer(clause, history)
            if answer.decision != "handoff" and (
                best is None or answer.confidence > best.confidence
            ):
                best = answer
        return first, best

    def _fit(self, reason: str, said: str, topic: str) -> float:
        """How much the knowledge is about what was said: the share of the words of the draft
        (or of the customer's turn with the original draft) found in it, +1 when it states one
        of the draft's numbers; 0 when it contradicts them ("超过7天" vs a rule on 180天)."""
        ours, theirs = quantities(said), quantities(reason)
        stated = any(supported(q, theirs) for q in ours)
        if not stated and any(q.unit == p.unit for q in ours for p in theirs):
            return 0.0
        return float(stated) + max(self._coverage(said, reason), self._coverage(topic, reason))

    def _coverage(self, said: str, knowledge: str) -> float:
        """Share (idf-weighted) of the content words of ``said`` found in ``knowledge``."""
        stop = getattr(self.answerer.tokenizer, "stopwords", STOPWORDS)
        words = [w for w in self.answerer.tokenizer.words(said) if w not in stop]
        tokens = set(self.answerer.tokenizer.tokenize(knowledge))
        return self.answerer.idf.coverage(words, tokens) if words else 0.0

    def _covered(self, sentence: str, reason: str) -> bool:
        """The knowledge says what the draft sentence says, nearly word for word: its numbers
        and policy terms, and 80% of its character pairs; a refusal or a statement about what
        was done ("已经…") is the agent's own and stays."""
        if Counter(_NUMBER.findall(sentence)) - Counter(_NUMBER.findall(reason)):
            return False
        if any(t in sentence and t not in reason for t in self.phrases.policy_terms):
            return False
        if self.phrases.refusal.search(sentence) or re.search(r"已经|已|您的|这单", sentence):
            return False
        pairs = _pairs(sentence)
        return bool(pairs) and len(pairs & _pairs(reason)) / len(pairs) >= 0.8

    def _add_handoff(self, plan: _Plan, answer: Answer | None, messages: list[Message]) -> None:
        """No draft and no knowledge: say what happens next, honestly."""
        reasons = " ".join(answer.reasons) if answer else ""
        plan.reason_from = "handoff"
        if "order system" in reasons:
            plan.reason = "我来帮您查一下订单的具体情况。"
            known = self.phrases.order_id.search(" ".join(m.text for m in messages))
            plan.closer = "resolve" if known else "order"  # else: ask for the order number
        elif "money demand" in reasons or "compensation demand" in reasons:
            plan.reason = "您提到的补偿超出了我能直接处理的范围，我已经请负责的同事来跟进。"
        elif "knowledge" in reasons or not reasons:
            plan.reason = "这个问题我需要先跟同事核实一下，确认后第一时间回复您。"
        else:  # a human is needed now: the shop's own handoff message closes the reply
            plan.ask = re.sub(r"^亲[，,]\s*", "", self.shop.handoff_message.strip())
            plan.own_opener = bool(self.phrases.empathy.search(fold(plan.ask)))
            plan.handed_off = True

    def _add_alternatives(
        self, plan: _Plan, question: str, draft: str, messages: list[Message]
    ) -> None:
        """One alternative from the knowledge the situation calls for (换货, 补发, 质量问题退换)
        and, for an upset customer, a coupon within ``max_coupon_yuan``."""
        said = fold(" ".join([*plan.draft, plan.reason, plan.ask]))
        cited = {c.chunk_id for c in plan.citations}
        products = self._products(messages)
        for alt in self.phrases.alternatives:
            wanted = re.search(alt.trigger, fold(question)) or (
                alt.draft_trigger and re.search(alt.draft_trigger, fold(draft))
            )
            if not wanted or re.search(alt.covered, said):
                continue
            answer = self.answerer.answer(alt.query)
            if (
                answer.decision != "handoff"
                and answer.citations[0].chunk_id not in cited
                and self._about(answer.citations[0].source, answer.text, products)
                and (
                    answer.decision == "auto"  # sure of it, or at least about what was asked
                    or self._coverage(alt.query, answer.text) >= _MIN_ALTERNATIVE
                )
            ):
                said = reply_sentence(answer.text)
                if _LEAD_IN.search(said):  # a lead-in to a list it does not say ("以下商品…
                    continue  # 不支持7天无理由退货：") is no alternative: said alone it says nothing
                plan.alternatives.append(alt.lead + said)
                plan.citations = merge_citations(plan.citations, answer.citations[:1])
                break
        limit = self.shop.compensation.max_coupon_yuan
        offered = compensation_offers(draft, self.phrases) or any(
            m.role != "customer" and "券" in m.text for m in messages
        )
        fault = self.phrases.fault.search(fold(f"{question} {draft}"))
        upset = plan.mood.emotion == "angry" or (plan.mood.upset and fault)
        goodwill = self.phrases.goodwill_coupon  # off unless the shop's rules switch it on
        if goodwill and limit > 0 and upset and not offered and not plan.handed_off:
            plan.coupon = limit
        refused = self.phrases.refusal.search(" ".join(plan.draft))
        if plan.closer == "info" and (
            plan.coupon or plan.mood.upset or refused or plan.alternatives
        ):
            plan.closer = "resolve"

    def _products(self, messages: Sequence[Message]) -> set[str]:
        """The products the customer talks about (sources of their product pages): those the
        catalogue identifies, those named by their model or series name ("云栖2", "速开帐篷")
        or a short form of their title ("椰棕垫") — which then stand for their class — and those
        whose title's head noun the customer names ("衬衫"; a one-character head only with its
        neighbour from the title, :meth:`_head_in`). (Measured 2026-12-06 on the dev shops'
        reply cases naming a product: precision food 0.44→0.63, home 0.60→0.67, apparel
        0.65→0.69; recall home 0.75→0.88, elsewhere unchanged.)"""
        said = [m.text for m in messages if m.role == "customer"]
        found = {
            s for text in said for s in self.answerer.products.identify(text) if s in self._pages
        }
        folded = [fold(t) for t in said]
        named = {
            s
            for s, h in self._heads.items()
            if s in self._names and any(self._head_in(s, h, t) for t in folded)
        }
        modelled = {s for s, gs in self._models.items() if any(g in t for g in gs for t in folded)}
        modelled |= {s for t in folded for s in self._short_named(t)}
        # a product named by its model or series name ("速开帐篷") is the one of its class meant:
        # the others of the class the catalogue matched by the class word alone are not
        classed = {self._heads.get(s) for s in modelled}
        found = {s for s in found if self._heads.get(s) not in classed} | modelled
        # a class word names the identified product of that class ("帐篷…云栖2": the 云栖2 tent),
        # not every product of the class
        heads = {self._heads.get(s) for s in found}
        named = {s for s in named if s in found or self._heads[s] not in heads}
        if not found and not named:  # a variant's code in a product's table ("S-40GA-SB")
            found = {s for t in folded for s in self._variant_named(t)}
        if not found and not named:  # the product class the customer names ("袜子")
            leaves = {s: c.split("/")[-1].strip() for s, c in self._classes.items()}
            named = {s for s, c in leaves.items() if len(c) > 1 and any(c in t for t in said)}
        return found | named

    def _variant_named(self, text: str) -> set[str]:
        """Products ``text`` names by a variant's code: a cell of the typed catalogue's tables
        with letters and digits ("S-40GA" in the 型号 column of the S-41 guitar's page) that
        only one product page's tables hold."""
        codes = [m.group() for m in _VARIANT_CODE.finditer(text)]
        if not codes:
            return set()
        if self._variant_codes is None:
            owners: dict[str, set[str]] = {}
            for source, _, cells in self.answerer.products.columns():
                for cell in cells:
                    code = fold(str(cell).strip())
                    if source in self._pages and _VARIANT_CODE.fullmatch(code):
                        owners.setdefault(code, set()).add(source)
            self._variant_codes = {c: next(iter(o)) for c, o in owners.items() if len(o) == 1}
        return {self._variant_codes[c] for c in codes if c in self._variant_codes}

    def _short_named(self, text: str) -> set[str]:
        """Products ``text`` names by a short form of their title: a distinctive part of it (two
        or three characters no other product title has) followed by a character of its class
        noun ("椰棕垫" for 3E椰棕硬床垫, class 床垫; "蚕丝被" for 100%桑蚕丝被, class 被子) — not a
        feature word of one title said on its own ("机洗吗", "定做1.6米")."""
        out: set[str] = set()
        for at in range(2, len(text)):
            for size in _SHORT_SIZES:
                source = self._distinct.get(text[max(at - size, 0) : at])
                if source is not None and text[at] in self._noun_chars[source]:
                    out.add(source)
        return out

    def _head_in(self, source: str, head: str, text: str) -> bool:
        """Whether ``text`` names the product by its head noun: a word of two characters or
        more, or a one-character head with a character beside it as in the title ("乳胶枕",
        "大果", "果冻橙" name 枕, 果; "坚果", "发货", "这个味" do not name a 果, 发 or 味 product)."""
        if len(head) > 1:
            return head in text
        title = fold(self.answerer.products.titles.get(source, ""))
        for at in (n for n, c in enumerate(text) if c == head):
            pairs = (text[max(at - 1, 0) : at + 1], text[at : at + 2])  # the pairs it is in
            if any(len(p) == 2 and p in title for p in pairs):
                return True
        return False

    def _fact_support(
        self, sentences: list[str], products: set[str] | None = None
    ) -> list[tuple[Citation, str]]:
        """Knowledge behind each sentence of the agent's draft: the chunk stating its numbers and
        policy promises (or, without any, most of its words), cited, with the stating sentences.
        Product pages count only for the products of the conversation."""
        out: list[tuple[Citation, str]] = []
        said = [s for s in sentences if not compensation_offers(s, self.phrases)]
        for sentence in said:  # offers: shop.yaml
            terms = [g for g in self.phrases.promise_terms if any(t in fold(sentence) for t in g)]
            facts: Facts = (quantities(sentence), terms)
            hits = self.answerer.retriever.retrieve(sentence, k=8, kinds=ANSWER_KINDS)
            scored = [
                (self._cover(hit.chunk.text, sentence, facts), -n, hit.chunk)
                for n, hit in enumerate(hits)
                if hit.chunk.kind in ("faq", "policy") or hit.chunk.source in (products or ())
            ]
            score, _, best = max(scored, key=lambda x: x[:2], default=(0.0, 0, None))
            enough = 0.01 if facts[0] or facts[1] else 0.6
            if best is None or score < enough or any(c.chunk_id == best.id for c, _ in out):
                continue
            body = reply_sentences(reply_sentence(best.text))
            stating = sorted(body, key=lambda t: -self._cover(t, sentence, facts))[:2]
            snippet = "".join(t for t in body if t in stating)[:300]
            citation = Citation(
                source=best.source,
                locator=best.locator,
                snippet=snippet,
                score=round(min(1.0, score), 4),
                chunk_id=best.id,
            )
            out.append((citation, snippet))
        return out

    def _cover(self, text: str, sentence: str, facts: Facts) -> float:
        """The share of the sentence's facts ``text`` states (without facts: of its words)."""
        needed, terms = facts
        if not needed and not terms:
            return self._coverage(sentence, text)
        stated = quantities(text)  # read once, not once per quantity needed
        found = sum(supported(q, stated) for q in needed)
        found += sum(any(t in text for t in g) for g in terms)
        return found / (len(needed) + len(terms))

    # -- composing ---------------------------------------------------------------------------
    def _compose(self, plan: _Plan, variant: int) -> tuple[str, list[Change]]:
        """One variant: opener, body items (numbered when long) and a closing question.
        Variants differ in opener, closer, coupon wording and the order of reason/alternative."""
        address, turn = self.address, variant // 3
        openers = self.phrases.openers.get(plan.tone, self.phrases.openers["neutral"])
        opener = "" if plan.own_opener else openers[variant % len(openers)]
        draft = list(plan.draft)
        refusal = next((i for i, d in enumerate(draft) if self.phrases.refusal.search(d)), -1)
        apology = re.search(r"抱歉|对不起|不好意思", opener or "".join(draft[:1]))
        if refusal >= 0 and not apology and not self.phrases.empathy.search(draft[refusal]):
            draft[refusal] = "很抱歉，" + draft[refusal]  # a refusal is said with regret
        extra = [plan.reason, *plan.alternatives] if plan.reason else list(plan.alternatives)
        if turn % 2 and len(extra) > 1:
            extra = extra[1:] + extra[:1]  # another order: the alternative first
        items = draft + extra
        if plan.coupon:
            offer = self.phrases.coupon_offer[turn % len(self.phrases.coupon_offer)]
            items.append(offer.format(amount=f"{plan.coupon:g}"))
        closers = self.phrases.closers[plan.closer]
        closer = plan.ask or closers[(variant + turn) % len(closers)]
        changes = _layout_changes(plan, opener, closer)
        items = [self.phrases.address_words.sub("", item) or item for item in items]
        head = f"{address}，{opener}" if opener else ""
        if not head and items and not items[0].startswith((address, "您好")):
            items[0] = f"{address}，{items[0]}"
        elif not head and not items and not closer.startswith(address):
            closer = f"{address}，{closer}"
        inline = head + "".join(items) + closer
        if len(items) < 2 and len(re.sub(r"\s", "", inline)) > 110:
            items = [s for item in items for s in reply_sentences(item)]  # steps, one a line
        if len(items) < 2 and len(re.sub(r"\s", "", inline)) > 110:
            # one long sentence of parts (a rule per product: "A…3年；B…2年；C…1年"): its
            # semicolon parts are the points (a dropped clause left it alone in the body)
            items = [_joined(s) for item in items for s in split_sentences(item)]
        if len(items) >= 2 and len(re.sub(r"\s", "", inline)) > 110:
            points = "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))
            changes.append(Change(kind="format", reason="内容较多，分成编号要点更好读"))
            return "\n".join(part for part in (head, points, closer) if part), changes
        return inline, changes


#: The lengths of a title's distinctive parts (see ReplyAdvisor._short_named)
_SHORT_SIZES = (3, 2)


def _distinct_parts(titles: Mapping[str, str]) -> dict[str, str]:
    """The parts of :data:`_SHORT_SIZES` characters (starting with a Chinese one) that only one
    of ``titles`` has, each with its source."""
    owners: dict[str, set[str]] = {}
    for source, title in titles.items():
        for size in _SHORT_SIZES:
            for at in range(len(title) - size + 1):
                part = title[at : at + size]
                if _CJK.match(part):
                    owners.setdefault(part, set()).add(source)
    return {part: next(iter(s)) for part, s in owners.items() if len(s) == 1}


def _series(segments: list[str], shared: Counter[str]) -> set[str]:
    """A title's series name: its first part (at spaces) after the brand (the leading parts
    other titles share too), when that part is a short name (:data:`_SERIES`) no other title
    has — with its last :data:`_SERIES_TAIL` characters when it has five ("安溪铁观音": 铁观音).
    Customers name a product by it ("速开帐篷", "峰影冲锋衣")."""
    rest = list(itertools.dropwhile(lambda g: shared[g] > 1, segments))
    found = _SERIES.fullmatch(rest[0]) if rest and shared[rest[0]] == 1 else None
    if found is None:
        return set()
    name = found.group(1)
    return {rest[0], name} | ({name[-_SERIES_TAIL:]} if len(name) > _SERIES_TAIL + 1 else set())


def _layout_changes(plan: _Plan, opener: str, closer: str) -> list[Change]:
    """What the composition added to the agent's draft, and why (only what happened)."""
    coupon = f"{plan.coupon:g}元优惠券" if plan.coupon else ""
    why = (
        "用知识库里的规则说明原因"
        if plan.reason_from == "knowledge"
        else "知识库里没有答案：说明下一步"
    )
    added = [
        ("opener", opener, f"顾客情绪：{plan.mood.emotion}"),
        ("reason", "" if plan.reason == plan.policy else plan.reason, why),
        *(("alternative", a, "店铺允许的其他办法") for a in plan.alternatives),
        ("alternative", coupon, f"补偿不超过店铺上限 {plan.coupon:g} 元"),
        ("closing", "" if closer == plan.ask else closer, "用一个问题推进下一步"),
    ]
    return [Change(kind=kind, after=after, reason=why) for kind, after, why in added if after]


def _citation(chunk: Any, text: str, score: float) -> Citation:
    """A citation of ``chunk`` for what was said of it."""
    return Citation(
        source=chunk.source,
        locator=chunk.locator,
        snippet=text[:300],
        score=round(min(1.0, score), 4),
        chunk_id=chunk.id,
    )


def _drop(
    kept: list[str],
    refusals: list[Any],
    changes: list[Change],
    clause: str,
    kind: ChangeKind,
    policy: str,
) -> list[Any]:
    """``clause`` taken out of ``kept`` for the policy said instead (the change recorded, why
    from :data:`_DROP_WHY`); the refusals' places in ``kept`` moved to match."""
    gone = kept.index(clause)
    kept.pop(gone)
    changes.append(
        Change(kind=kind, before=clause.strip(" ，,。"), after=policy, reason=_DROP_WHY[kind])
    )
    return [(at - (at > gone), c) for at, c in refusals]


#: How long the steps a lead-in announces may be ("如…：停止食用…；保留…；联系…。")
_STEPS = 200


def _with_steps(body: list[str], window: list[str]) -> list[str]:
    """The sentences of ``window`` up to its lead-in ("…干燥剂：") with the steps it announces —
    the items after it up to the one closing the list — when they fit in :data:`_STEPS`
    characters: a rule that announces what to do is said with what to do. ``window`` itself
    when it has no lead-in."""
    lead = next((n for n, t in enumerate(window) if re.search(r"[：:]。?$", t)), -1)
    if lead < 0:
        return window
    steps: list[str] = []
    for sentence in body[body.index(window[lead]) + 1 :]:
        if steps and steps[-1].count("（") > steps[-1].count("）"):  # a split parenthesis
            steps[-1] += sentence
        else:
            steps.append(sentence)
        if not re.search(r"[；;，,、]$", steps[-1]):
            break
    said = window[: lead + 1]
    if len("".join(said + steps)) > _STEPS:
        return window
    # each step a sentence of its own: a long reply says them as numbered points
    return said + [re.sub(r"[；;，,、]$", "。", step) for step in steps]


#: Where a sentence's leading part ends: a row's label ("登山包 BP-1101：…"), a first clause
_LEAD_END = re.compile(r"[：:，,。；;（(]")


#: A sentence leading in to a list ("以下情况不支持7天无理由：")
_LEAD_IN = re.compile(r"[：:]。?$")


def _lead_in(body: list[str], at: int) -> str:
    """The line leading in to the list sentence ``at`` of ``body`` is an item of ("以下情况不支持
    7天无理由：" before "整箱…；"), or "" when it is none: the lines between them all continue the
    list (end at "；" "，" "、")."""
    for sentence in reversed(body[:at]):
        if _LEAD_IN.search(sentence):
            return sentence
        if not re.search(r"[；;，,、]$", sentence):
            return ""
    return ""


#: How long the rest of a rule said after its semicolon may be
_REST = 120


def _continued(body: list[str], text: str, elsewhere: Callable[[str], bool]) -> str:
    """``text`` with the rest of each rule of ``body`` it says that ends at a semicolon: the
    sentences after it up to the one ending the rule (a passage's lines are cut at "；", the
    rule's condition or exception after it), ``_REST`` characters at most, unless said or
    ``elsewhere`` (a row about another product class: "轮椅发往偏远地区…")."""
    out = text
    for n, sentence in enumerate(body):
        stem = sentence[:-1]
        if not sentence.endswith(("；", ";")) or len(stem) < 4 or stem not in out:
            continue
        rest: list[str] = []
        for following in body[n + 1 :]:
            if (
                following.rstrip("。；;") in out
                or elsewhere(following)
                or len("".join(rest)) + len(following) > _REST
            ):
                rest = []
                break
            rest.append(following)
            if not following.endswith(("；", ";")):
                break
        if rest:  # said after the stem, in place of the stop it was said with ("承担。")
            at = out.index(stem) + len(stem)
            stop = 1 if out[at : at + 1] in ("；", ";", "。", ".") else 0
            out = out[:at] + "；" + "".join(rest) + out[at + stop :]
    return out


def _labelled(sentence: str, subject: Subject) -> bool:
    """Whether ``sentence``'s leading part (a row's label) names the subject."""
    return subject.named_in(_LEAD_END.split(sentence, maxsplit=1)[0])


def _leads_with(sentence: str, others: set[str], subject: Subject) -> bool:
    """Whether ``sentence`` is about another product class than the conversation's: its
    leading part (a row's label, its first clause) names one of ``others`` and not the
    subject."""
    lead = fold(_LEAD_END.split(sentence, maxsplit=1)[0])
    return any(w in lead for w in others) and not subject.named_in(lead)


def _row_of(row: str, subject: Subject) -> int:
    """How many of the subject's words a table row's first cell ("商品：血压计（BP-A600、
    BP-W200）") names as what the row is about — not as the modifier of another thing
    ("血压计袖带")."""
    cell = fold(re.split(r"[，,；;]", row, maxsplit=1)[0])
    return sum(
        any(not _CJK.match(cell[m.end() : m.end() + 1]) for m in re.finditer(re.escape(w), cell))
        for w in subject.words
    )


#: A document named by its title in another's text ("见《保修政策》", "按《坏果包赔规则》")
_REFERENCE = re.compile(r"《([^《》\n]{2,24})》")


#: What a title may carry besides its name: a parenthesis, brackets, spaces
_TITLE_EXTRA = re.compile(r"[（(][^）)]*[）)]|[【】\[\]\s#]")


#: A title line: short, no sentence punctuation
_TITLE_LINE = re.compile(r"^[^,.!?;:，。！？；：]{2,40}$")


def _titled(chunk: Any, title: str) -> bool:
    """Whether ``chunk``'s document is the one ``title`` names: its locator's first part
    ("保修政策 / 保修期限 · 第1行") or, for a plain text, its title line, is the title or ends
    or starts with it, parentheses left out ("售后保修（断竿补节与保修）" for 《售后保修》,
    "售后保修政策" for 《保修政策》)."""
    name = fold(_TITLE_EXTRA.sub("", title))
    if len(name) < 2:
        return False
    locator = _TITLE_EXTRA.sub("", str(getattr(chunk, "locator", "") or ""))
    heads = [re.split(r"[/·]", locator, maxsplit=1)[0]]
    first = str(getattr(chunk, "text", "") or "").strip().splitlines()[:1]
    heads += [_TITLE_EXTRA.sub("", h) for h in first if _TITLE_LINE.match(h.strip())]
    for head in (fold(h) for h in heads):
        if head and (head == name or head.startswith(name) or head.endswith(name)):
            return True
    return False


def _joined(text: str) -> str:
    """Sentences joined back: a lead-in stays joined to what it leads to; a list item's
    semicolon at the end becomes a full stop."""
    text = re.sub(r"[：:]。", "：", text)
    return re.sub(r"[；;，,、]$", "。", text)


def _pairs(text: str) -> set[str]:
    """Character pairs of a text's content (particles and punctuation left out)."""
    content = re.sub(r"[^0-9a-z\u4e00-\u9fff]|[的了哦呢啊呀吧哈嘛]", "", fold(text))
    return {content[i : i + 2] for i in range(len(content) - 1)}


def _last_customer(messages: Sequence[Message]) -> str:
    return next((m.text.strip() for m in reversed(messages) if m.role == "customer"), "")


def _said_after(
    text: str, cited: list[Citation], sentence: str, chunk: Any
) -> tuple[str, list[Citation]]:
    """``text`` with a clause of the cited policy said after it, as a sentence of its own; a
    clause of a passage cited already makes that citation quote it too (the lint checks a
    reply's numbers against what its citations quote)."""
    sentence = _joined(re.sub(r"[；;，,、]$", "", sentence))
    sentence = sentence if re.search(r"[。.！!？?]$", sentence) else f"{sentence}。"
    text = text if re.search(r"[。.！!？?]$", text) else f"{text}。"
    new = _citation(chunk, sentence, 1.0)
    cited = [
        c.model_copy(update={"snippet": f"{c.snippet}{sentence}"})
        if (c.source, c.locator) == (new.source, new.locator)
        else c
        for c in cited
    ]
    return f"{text}{sentence}", merge_citations(cited, [new])
