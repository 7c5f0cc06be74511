"""Extractive answering: pick the knowledge that answers the question, quote it, and say how sure
we are. Nothing is generated, so nothing can be invented: the text is the shop's own words.

One question goes through named steps: the message rules (:meth:`Answerer._ruled`), reading it
once into a :class:`~kefu_copilot._models.Query` (:meth:`Answerer.read`), measuring it against
this snapshot's vocabulary (:meth:`Answerer._measure`), retrieval (:meth:`Answerer._retrieve`),
support per candidate (:meth:`Answerer._score`), quoting (:meth:`Answerer._quote`) and the
decision (:meth:`Answerer._decide`). The weights are :class:`~._scoring.Scoring` fields; with
``explain=True`` the steps also leave a :class:`~kefu_copilot._models.Trace` on the answer.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from .._models import Answer, Chunk, Citation, Decision, Message, Query, Trace, TraceCandidate
from ..config._settings import Settings
from ..config._shop import ShopConfig
from ..index._analysis import quote_units
from ..index._coverage import Idf
from ..index._generations import Snapshot
from ..ingest._catalog import CATALOG_VERSION, Products
from ..retrieval._hybrid import Hit, Retriever
from ..text._injection import scrub_injections
from ..text._normalize import normalize
from ..text._query import QueryRewriter, to_simplified
from ..text._ranker import LineRanker
from ..text._tokenize import ChineseTokenizer
from ._attributes import CatalogAnswers, said_of
from ._calibration import FEATURES, Calibrator, packaged_calibrator
from ._claims import claim_rules, focused, money_beyond_limits
from ._handoff_model import HANDOFF_MODEL, HandoffModel, handoff_model
from ._identify import ProductFinder
from ._quoting import QuoteLine, answer_quote_model, asked_dimensions, quote_line_features
from ._rules import (
    MessageRead,
    courtesy_reply,
    deferred,
    human_section,
    medical_question,
    payment_question,
    unquoted_term,
)
from ._scoring import SCORING, Scoring, Terms, numbers_in, numeric_fit
from ._tokens import LiveTokens, StoredTokens
from ._values import QuoteCheck, quantity_kinds, several_values

__all__ = ["Answerer", "Candidate", "Prepared", "cite", "decide"]

log = logging.getLogger(__name__)

ANSWER_KINDS = ("faq", "product", "table_row", "policy")
TRACED = 10  # candidates a trace lists (the best by support)
TYPED_SURE = 0.95  # confidence of a typed answer that checks everything the question asks
_REMEMBERED = 4096  # texts whose readings an Answerer keeps (bounded: started afresh past it)
_CJK_WORD = re.compile("[\u4e00-\u9fff]+")
_QUANTITY = re.compile("多少|几|多久|多长|多大|多重|多高")


#: A quote ending on the colon that introduces a list or a rule (以下条件：, 请区分：): what
#: follows is left out, so it answers nothing by itself.
_INTRODUCES = re.compile(r"[：:][\s。.…]*$")


@dataclass
class Candidate:
    hit: Hit
    support: float
    text: str
    snippet: str
    index: int = -1  # of the chunk in the snapshot (-1: not known)
    basis: str = ""  # how support was measured (faq phrasing, product aspect, ...)
    steps: dict[str, float] | None = None  # the measures behind support, in order (explain only)
    covers: float = 0.0  # how much of the question the chunk covers (its best phrasing for an FAQ)
    exception: str = ""  # the qualifier of an exception clause the question does not name
    #: the chunk of the same source the quoted line is from, where it is not this one's (the
    #: line ranker's choice, :mod:`._quoting`): what the answer cites
    quoted: Chunk | None = None
    backward: float = 0.0  # how much of the FAQ's best phrasing the question covers (FAQ only)


@dataclass
class Prepared:
    """Everything known about a question before any generation."""

    question: str
    history: list[Message]
    extractive: Answer
    candidates: list[Candidate]
    ruled: bool  # a handoff rule fired: no LLM may answer this one
    query: Query | None = None  # the question as read (None: a rule answered before reading)
    #: the decision support earns against ``settings.support_thresholds`` (the same holds after
    #: it) where it differs from the answer's: what the pre-sales advisor reads, whatever the
    #: answer mode (None: the answer's own decision)
    by_support: Decision | None = None
    #: the best candidate's support where the answer's confidence is something else (the
    #: calibrated probability); None: the answer's confidence is its support
    support: float | None = None
    #: after a typed answer, the rest of its product's page: the page's source and its other
    #: parts' snapshot indices — read (:meth:`knowledge`) only when something needs their text
    page: tuple[str, Sequence[int]] | None = None
    #: what reads those parts as candidates (the answerer's)
    read_page: Callable[[Sequence[int]], list[Candidate]] | None = field(default=None, repr=False)
    _knowledge: list[Candidate] | None = field(default=None, init=False, repr=False)

    def knowledge(self) -> list[Candidate]:
        """The scored candidates, then the rest of a typed answer's product page: what a
        generated reply may also draw on and be checked against (never cited nor quoted). The
        page is read once, when first asked for."""
        if self.page is None or self.read_page is None:
            return self.candidates
        if self._knowledge is None:
            self._knowledge = [*self.candidates, *self.read_page(self.page[1])]
        return self._knowledge

    @property
    def support_decision(self) -> Decision:
        """The decision of :attr:`extractive` judged by support, not by the calibrated
        probability (the same unless calibration is on)."""
        return self.by_support or self.extractive.decision

    @property
    def support_confidence(self) -> float:
        """How well retrieval supports the answer (the uncalibrated confidence), whatever the
        answer mode: what the LLM path judges retrieval by."""
        return self.extractive.confidence if self.support is None else self.support


def decide(confidence: float, settings: Settings) -> Decision:
    return decide_at(confidence, settings.auto_threshold, settings.draft_threshold)


def decide_at(confidence: float, auto: float, draft: float) -> Decision:
    if confidence >= auto:
        return "auto"
    if confidence >= draft:
        return "draft"
    return "handoff"


_FROM_SETTINGS: Any = object()


@dataclass
class _Coverage:
    """Terms of a question ready to be looked for in token ids."""

    words: Terms
    bigrams: Terms  # only the bigrams the knowledge uses


@dataclass
class _Measures:
    """A query measured against this snapshot's vocabulary."""

    ids: frozenset[int]  # what the question says, for backward coverage
    whole: _Coverage
    aspect: _Coverage  # what is asked *about* the product: the question without its name
    asks_aspect: bool  # the question says more than the product's name


class Answerer:
    """Answers questions over one snapshot. Thread-safe; build one per snapshot."""

    def __init__(
        self,
        snapshot: Snapshot,
        retriever: Retriever,
        tokenizer: ChineseTokenizer,
        shop: ShopConfig,
        settings: Settings,
        *,
        scoring: Scoring = SCORING,
        calibrator: Calibrator | None = _FROM_SETTINGS,
        handoffs: HandoffModel | None = _FROM_SETTINGS,
        quote_ranker: LineRanker | None = _FROM_SETTINGS,
    ) -> None:
        """``calibrator`` turns the decision's measures into the answer's confidence, the
        probability that it is right; by default :func:`._calibration.packaged_calibrator` (the
        one fitted across shops, whose thresholds are the settings' defaults) when
        ``settings.calibrated``. None: confidence is the best candidate's support.
        ``handoffs``: the fitted model of messages that need a person, asked after the message
        rules (default :func:`._handoff_model.handoff_model`, the packaged one; None: not
        asked). ``quote_ranker``: the fitted ranker of the line a retrieved answer quotes
        (default :func:`._quoting.answer_quote_model`, the packaged one; None: the best chunk's
        best sentences by coverage, as before it)."""
        self.snapshot = snapshot
        if calibrator is _FROM_SETTINGS:
            calibrator = packaged_calibrator() if settings.calibrated else None
        self.calibrator = calibrator
        self.handoffs = handoff_model() if handoffs is _FROM_SETTINGS else handoffs
        #: the fitted ranker of the line an answer quotes (:mod:`._quoting`; None: the best
        #: chunk's best sentences by coverage, as before it)
        self.quote_ranker: LineRanker | None = (
            answer_quote_model() if quote_ranker is _FROM_SETTINGS else quote_ranker
        )
        self._support_view: Answerer | None = None
        self.retriever = retriever
        self.tokenizer = tokenizer
        self.shop = shop
        self.settings = settings
        self.scoring = scoring
        self.idf = Idf(snapshot.lexical)
        same_tokenizer = snapshot.tokenizer == tokenizer.fingerprint
        self.products = Products.of(
            snapshot.catalog if same_tokenizer else None,
            snapshot.chunks,
            tokenizer.words,
            self.idf,
        )
        self._live = live = LiveTokens(tokenizer, self.idf)
        self._tokens: LiveTokens | StoredTokens = (
            StoredTokens(snapshot.analysis, live)
            if snapshot.analysis is not None and same_tokenizer
            else live
        )
        self._title_tokens: dict[str, frozenset[str]] = {}
        # Title tokens segmented at ingest (same tokenizer, same catalogue version), else at
        # first use below.
        self._stored_title_tokens: dict[str, list[str]] = {}
        catalog = snapshot.catalog
        if same_tokenizer and catalog and catalog.get("version") == CATALOG_VERSION:
            self._stored_title_tokens = {
                source: product["title_tokens"]
                for source, product in catalog["products"].items()
                if "title_tokens" in product
            }
        vocabulary = shop.rule_set("vocabulary")
        self.rewriter = QueryRewriter(
            vocabulary,
            known=self.idf.known,
            in_dictionary=tokenizer.in_dictionary,
            vocabulary=self.idf.tokens,
        )
        self._exception_res = tuple(re.compile(str(r)) for r in vocabulary["exception_markers"])
        self._qualifiers: tuple[str, ...] | None = None
        self._qualifiers_in: dict[str, tuple[str, ...]] = {}  # a text → the qualifiers it names
        self._attribute_words: list[tuple[list[str], list[str]]] | None = None
        self._topics: list[tuple[list[re.Pattern[str]], list[re.Pattern[str]], list[str]]] | None
        self._topics = None
        self._catalog: CatalogAnswers | None = None
        self._checks: QuoteCheck | None = None
        self._said_on: dict[str, set[str]] = {}  # a variant name → the pages that say it
        self._pages: dict[str, str] | None = None
        self.finder = ProductFinder(
            self.products.titles, self._variant_names(), kept=self._variant_kept
        )
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        self._gate: AbstractContextManager[Any] = threading.RLock() if gil else nullcontext()

    def by_support(self) -> Answerer:
        """This answerer judging on support: no calibrator, ``settings.support_thresholds`` as
        its thresholds (itself when it already does). The reply advisor drafts from it, so its
        choice of passages does not change with the answer mode. Shares everything else."""
        auto, draft = self.settings.support_thresholds
        settings = self.settings
        if self.calibrator is None and (settings.auto_threshold, settings.draft_threshold) == (
            auto,
            draft,
        ):
            return self
        if self._support_view is None:
            view = copy.copy(self)
            view.calibrator = None
            view.settings = settings.model_copy(
                update={"calibrated": False, "auto_threshold": auto, "draft_threshold": draft}
            )
            view._support_view = view
            self._support_view = view
        return self._support_view

    # -- the main entry ---------------------------------------------------------------------------
    def answer(
        self, question: str, history: list[Message] | None = None, *, explain: bool = False
    ) -> Answer:
        """The extractive answer (no LLM); with ``explain``, its :class:`Trace` attached."""
        return self.prepare(question, history, explain=explain).extractive

    def prepare(
        self, question: str, history: list[Message] | None = None, *, explain: bool = False
    ) -> Prepared:
        """Rules, retrieval, ranked candidates and the extractive answer for one question.

        ``explain=True`` attaches a :class:`Trace` to the extractive answer (without it, no
        trace is built and scoring records nothing).

        One question at a time per Answerer (while the interpreter has a GIL): this work is
        pure Python, so threads cannot run it in parallel anyway, and eight threads contending
        for the GIL answered ~40% fewer questions per second than the same threads taking
        turns (LLM calls happen after this, outside the gate)."""
        with self._gate:
            return self._prepare(question, history or [], explain)

    def _prepare(self, question: str, history: list[Message], explain: bool) -> Prepared:
        ruled = self._ruled(question, history)
        if ruled is not None:
            prepared, rule = ruled
            return self._explain(prepared, rule) if explain else prepared
        query = self.read(question, history)
        if not query.terms and not query.products:
            handoff = self._handoff(
                question, ["the message asks nothing the knowledge covers"], [], 0.0
            )
            prepared = Prepared(question, history, handoff, [], False, query)
            log.debug("nothing to look up in %r", question)
            return self._explain(prepared, "nothing_asked") if explain else prepared
        typed, size_question = self._typed(query, history)
        if typed is not None:
            typed = self._unquoted(typed)
            return self._explain(typed, "typed") if explain else typed
        measures = self._measure(query)
        hits = self._retrieve(query)
        candidates, focus = self._score(query, measures, hits, explain)
        if not candidates:
            handoff = self._handoff(question, ["no knowledge matches the question"], [], 0.0)
            prepared = Prepared(question, history, handoff, [], False, query)
            log.debug("no knowledge matches %r (%d retrieved)", question, len(hits))
            return self._explain(prepared, "no_match", hits) if explain else prepared
        self._quote(candidates, query, measures, focus)
        best = candidates[0].hit.chunk
        if human_section(best.locator, self.shop.rule_set("message_rules")):
            # the knowledge's own list of questions its staff leave to a human (健康咨询边界:
            # 客服不回答、需转人工的问题): the question is one of them, its quote no answer
            reason = f"the knowledge leaves questions of this kind to a human ({best.locator})"
            handoff = self._handoff(question, [reason], [cite(candidates[0])], 0.0)
            prepared = Prepared(question, history, handoff, candidates, False, query)
            return self._explain(prepared, "human_section", hits) if explain else prepared
        decided, support, by_support = self._decide(question, candidates, query)
        if "auto" in (decided.decision, by_support):
            held = None
            if size_question:  # never auto from one matched number
                held = "a size question no size chart answered"
            elif medical_question(to_simplified(question), self.shop.rule_set("message_rules")):
                held = "health advice (a pregnancy, a medical condition): an agent checks it"
            elif payment_question(to_simplified(question), self.shop.rule_set("message_rules")):
                held = "a payment arrangement outside the checkout: an agent checks it"
            elif self._continues(query, history, candidates[0].hit.chunk):
                # a follow-up on the same product (or on none): retrieval reads earlier turns
                # only for their product, not for what they asked (the 51mm of "51mm的能用多久" → "那手表模式呢", the 新疆 of
                # "寄新疆包邮吗" → "那要几天能到"), so its support measures half the question
                held = "a follow-up the retrieval path reads without the earlier question"
            elif len(query.products) > 1 and candidates[0].hit.chunk.source in query.products:
                # the question fits several products equally (女款/男款 羽绒服): the page quoted
                # may be the wrong one's, so a human checks which product is meant
                held = f"the question fits {len(query.products)} products equally"
            else:
                held = self._quote_check(query, history) or None
            if held is not None and decided.decision == "auto":
                decided = self._held_back(decided, held)
            if held is not None and by_support == "auto":
                by_support = "draft"
            if held is None and decided.decision == "auto" and self.calibrator is not None:
                # what the quote says against what is asked: a hold of the calibrated answer
                # sent, not of support (the reply advisor, the pre-sales router and insights —
                # Answerer.by_support() — judge by support, and keep its decisions)
                quoted = self._quote_held(query, candidates, decided.text)
                if quoted:
                    decided = self._held_back(decided, quoted)
        prepared = Prepared(question, history, decided, candidates, False, query)
        if by_support != decided.decision:
            prepared.by_support = by_support
        if self.calibrator is not None:
            prepared.support = support
        prepared = self._unquoted(prepared)
        return self._explain(prepared, "thresholds", hits) if explain else prepared

    def _unquoted(self, prepared: Prepared) -> Prepared:
        """``prepared`` handed off when its quote leaves out the term the question turns on
        (``quoted_terms``: 分期, 定做…) — the quote answers something else it named."""
        answer = prepared.extractive
        if answer.decision == "handoff":
            return prepared
        query = prepared.query  # the question as read: 简体, already (no conversion again)
        asked = (query.matched or query.text) if query else to_simplified(prepared.question)
        term = unquoted_term(asked, answer.text, self.shop.rule_set("message_rules"))
        if term is None:
            return prepared
        reason = f"the question turns on {term}, which the knowledge found does not say"
        prepared.extractive = self._handoff(
            answer.question, [*answer.reasons, reason], answer.citations, answer.confidence
        )
        prepared.by_support = None
        return prepared

    def _continues(self, query: Query, history: Sequence[Message], quoted: Chunk) -> bool:
        """Whether the question leans on the latest customer turn: it names no product, or it is
        about that turn's product (named again or taken from it) and asks no attribute of its
        own or leaves out a variant that turn named. A question naming another product starts
        a new topic and is read on its own."""
        turns = [m for m in history[-self.scoring.history_turns :] if m.role == "customer"]
        if not turns:
            return False
        assert self._catalog is not None  # built by _typed, before any retrieval
        attributes = self._catalog.attributes
        text = normalize(query.matched or query.text)
        row = (quoted.meta or {}).get("row") if quoted.kind == "table_row" else None
        if row:
            # another row of a table named and nothing else ("那黑金呢" after "金卡几折"): the
            # row is quoted whole, every column the earlier turn may have asked about with it
            said = [(at, at + len(piece)) for p in _name_parts(str(row[0]))
                    if (hit := said_of(text, normalize(p))) for piece, at in [hit]]  # fmt: skip
            if said and not attributes._residual(text, "", said):
                return False
        if not query.products:
            return True
        earlier = turns[-1].text
        if not query.context and not set(self.identify(earlier)) & set(query.products):
            return False  # another product: a new topic
        # the same product: the question stands on its own when it asks an attribute of its
        # own and leaves out no variant the earlier turn named (the 51mm of "51mm的续航")
        if attributes.asked(text, query.products[0]) is None:
            return True
        named = self._catalog.variants_named
        return bool(named(normalize(earlier), query.products[0]) - named(text, query.products[0]))

    def _quote_check(self, query: Query, history: Sequence[Message]) -> str:
        """Why the quote cannot be sent as the answer to ``query`` (:mod:`._values`), or ""."""
        if self._checks is None:
            self._checks = QuoteCheck(self._catalog_answers().attributes)
        turns = history[-self.scoring.history_turns :]
        context = bool(query.context) or any(m.role == "customer" for m in turns)
        return self._checks.held(query.matched or query.text, query.products, context=context)

    def _quote_held(
        self, query: Query, candidates: Sequence[Candidate], sent: str | None = None
    ) -> str:
        """Why the best candidate's quote cannot be sent as is though it fits best (see
        :mod:`._values`), or "": another part of the same source fits (almost) as well, the
        answer (``sent``, the best candidate's framed quote when None) says nothing of the
        attribute asked, or the quote states several values of the kind of quantity asked."""
        best = candidates[0]
        chunk = best.hit.chunk
        if len(candidates) > 1:
            other = candidates[1].hit.chunk
            if (
                other.source == chunk.source
                and other.text != chunk.text
                and best.support - candidates[1].support < self.scoring.tie
            ):
                return (
                    f"another part of {chunk.source} ({other.locator}) fits the question as "
                    "well as the one quoted: which one is meant is a guess"
                )
        question = query.matched or query.text
        if self._checks is None:
            self._checks = QuoteCheck(self._catalog_answers().attributes)
        if sent is None:
            sent = focused(self._frame(best), query.text, self.shop)
        unanswered = self._checks.unanswered(question, sent) or self._checks.unstated(
            question, sent
        )
        if unanswered:
            return unanswered
        if deferred(sent, self.shop.rule_set("message_rules")):
            return "the quote sends the shopper to ask a person: an agent answers that"
        if _INTRODUCES.search(sent):
            # "满足以下全部条件可申请无理由退货：" — the conditions are what was asked (round 17:
            # food, printink, phones; each wrong if sent)
            return "the quote ends introducing what it leaves out (after its colon)"
        kinds = quantity_kinds(question, self.shop)
        if not kinds:
            return ""
        quote = focused(best.text, query.text, self.shop)  # without the product's title
        return several_values(question, quote, self.shop, kinds)

    def _held_back(self, answer: Answer, reason: str) -> Answer:
        """An auto answer an agent checks first: a draft, confidence at most mid-way between
        the draft and auto thresholds."""
        middle = (self.settings.auto_threshold + self.settings.draft_threshold) / 2
        return answer.model_copy(
            update={
                "decision": "draft",
                "confidence": round(min(answer.confidence, middle), 4),
                "reasons": [*answer.reasons, reason],
            }
        )

    def _catalog_answers(self) -> CatalogAnswers:
        """The typed catalogue's answers over this snapshot (built on first use)."""
        if self._catalog is None:
            titles = {
                s: next((c.title for _, c in self.products.chunks(s)), "")
                for s in self.products.titles
            }
            self._catalog = CatalogAnswers(
                titles, self.products.facts, self.products.tables, self.shop.rule_set("attributes")
            )
        return self._catalog

    # -- the steps --------------------------------------------------------------------------------
    def _typed(self, query: Query, history: list[Message]) -> tuple[Prepared | None, bool]:
        """The answer from the typed catalogue (a size, an attribute's value), or None: see
        :mod:`._attributes`; and whether the question asks for a size (then no other answer
        may be sent as is). Sure answers score ``TYPED_SURE``, the others a draft's middle."""
        catalog = self._catalog_answers()
        previous = [m.text for m in history[-self.scoring.history_turns :] if m.role == "customer"]
        # read as retrieval reads it: 简体, English product words and typos repaired, personal
        # data masked ("廣式月餅禮盒保質期多久" asks the 保质期 the catalogue holds)
        text = query.matched or query.text
        typed = catalog.answer(
            text,
            query.products,
            previous,
            page=lambda: self._page(query),
            context=bool(query.context),
        )
        if typed is None or not typed.chunks:
            # a product's size asked: the chart row retrieval finds is one matched number
            return None, bool(query.products) and catalog.asks_size(text)
        settings = self.settings
        sure = max(TYPED_SURE, settings.auto_threshold)
        confidence = (
            sure if typed.sure else (settings.auto_threshold + settings.draft_threshold) / 2
        )
        chunks = self.snapshot.chunks
        candidates = [
            Candidate(Hit(chunk=chunks[i], score=0.0, index=i), confidence, chunks[i].text,
                      chunks[i].text, i, "typed")
            for i in typed.chunks
        ]  # fmt: skip
        # the rest of the product's page after them: what a generated reply may also draw on
        # and be checked against (the scarf's weight beside its size); never cited nor quoted,
        # and read only when asked for (Prepared.knowledge) — most answers never are
        page: tuple[str, Sequence[int]] | None = None
        if query.products:
            seen = set(typed.chunks)
            source = query.products[0]
            page = (source, [i for i in self.products.chunk_indices(source) if i not in seen])
        answer = Answer(
            question=query.text,
            text=typed.text,
            decision=decide(round(confidence, 4), settings),
            confidence=round(confidence, 4),
            citations=[
                cite(c) for c in candidates[: min(len(typed.chunks), self.scoring.citations)]
            ],
            reasons=typed.reasons,
        )
        prepared = Prepared(
            query.text, history, answer, candidates, False, query,
            page=page, read_page=self._page_candidates,
        )  # fmt: skip
        return prepared, False

    def _page_candidates(self, indices: Sequence[int]) -> list[Candidate]:
        chunks = self.snapshot.chunks
        return [
            Candidate(Hit(chunk=c, score=0.0, index=i), 0.0, c.text, c.text, i, "same page")
            for i in indices
            for c in (chunks[i],)
        ]

    def _page(self, query: Query) -> str:
        """The page of the question's first product, a line per part (a note never runs into
        the next part's text)."""
        return "\n".join(c.text for _, c in self.products.read_chunks(query.products[0]))

    def _ruled(self, question: str, history: list[Message]) -> tuple[Prepared, str] | None:
        """A message rule's answer (a handoff, or a courtesy reply) and the rule's name."""
        simplified = to_simplified(question)  # the rules' words are written in 简体
        read = MessageRead(simplified, self.shop)
        reasons = read.reasons
        if reasons:
            log.debug("handoff rule for %r: %s", question, reasons)
            answer = self._handoff(question, reasons, [], 0.0)
            return Prepared(question, history, answer, [], True), "handoff_rule"
        courtesy = courtesy_reply(simplified, self.shop.rule_set("message_rules"))
        if courtesy is not None:
            log.debug("courtesy reply to %r", question)
            answer = Answer(
                question=question,
                text=courtesy,
                decision="auto",
                confidence=1.0,
                reasons=["a greeting, thanks or acknowledgement: nothing to look up"],
            )
            return Prepared(question, history, answer, [], True), "courtesy"
        if self.handoffs is not None:
            # the fitted model of messages that need a person (many shops, leave-one-shop-out):
            # only where it is sure; below its threshold, the retrieval path decides as before
            # (over the rules' own reading of the message: their searches are not made again)
            sure = self.handoffs.sure(simplified, read.rules, read)
            if sure is not None:
                reason = f"{HANDOFF_MODEL}: p={sure:.2f} ≥ {self.handoffs.threshold:.2f}"
                log.debug("handoff model for %r: %.3f", question, sure)
                answer = self._handoff(question, [reason], [], 0.0)
                return Prepared(question, history, answer, [], True), "handoff_model"
        return None

    def read(self, question: str, history: Sequence[Message] = ()) -> Query:
        """The question read once: made matchable (:class:`~kefu_copilot.text._query.QueryRewriter`:
        personal data masked, 繁→简, English words and typos repaired), normalised, segmented,
        tokenised, its products identified (in it, else in the last turns of ``history``) and
        its numbers found."""
        tokenizer = self.tokenizer
        rewrite = self.rewriter(question)
        matched = rewrite.text
        normalized = normalize(matched)
        words = tuple(tokenizer.words(matched))
        products = self.identify(question, matched, normalized, words)
        context = ""
        if not products:
            # a follow-up: the product of the latest turn that names one, the customer's own
            # turns first (an agent's reply mentions sizes, heights and other products)
            recent = list(reversed(history[-self.scoring.history_turns :]))
            for message in sorted(recent, key=lambda m: m.role != "customer"):
                found = self.identify(message.text)
                if found:
                    products = found
                    context = " ".join(self.products.titles[p] for p in found)
                    break
        terms = self._terms(words)
        tokens = tuple(tokenizer.tokenize(matched))
        term_set = set(terms)
        # The tokens also hold single characters; only two-character ones are kept here.
        bigrams = tuple(dict.fromkeys(t for t in tokens if len(t) == 2 and t not in term_set))
        search_tokens = None
        if self.retriever.tokenizer is tokenizer:  # else the retriever tokenises in its own way
            search = Query.search_of(matched, context)
            search_tokens = tokens if search == matched else tuple(tokenizer.tokenize(search))
        query = Query(
            text=question,
            normalized=normalized,
            words=words,
            terms=terms,
            bigrams=bigrams,
            tokens=tokens,
            numbers=numbers_in(normalized),
            products=tuple(products),
            context=context,
            matched=matched if matched != question else "",
            repairs=rewrite.repairs,
            search_tokens=search_tokens,
        )
        log.debug(
            "read %r: normalized %r, terms %s, products %s, context %r",
            question,
            normalized,
            terms,
            query.products,
            context,
        )
        return query

    def _variant_names(self) -> dict[str, list[str]]:
        """Per product, the cells of its tables' variant columns (colour, style, mode…: the
        ``qualifier_names`` of the ``attributes`` rule set)."""
        qualifier = [str(q) for q in self.shop.rule_set("attributes")["qualifier_names"]]
        out: dict[str, list[str]] = {}
        parts: dict[str, list[str]] = {}  # cells and headers repeat across products
        named: dict[str, bool] = {}
        for source, header, cells in self.products.columns():  # distinct cells, stored
            if header not in named:
                named[header] = any(q in header for q in qualifier)
            if named[header]:
                names = out.setdefault(source, [])
                for cell in cells:
                    if cell not in parts:
                        parts[cell] = _name_parts(cell)
                    names.extend(parts[cell])
        return out

    def _variant_kept(self, source: str, name: str) -> bool:
        """Only names no other product's page says count: 白色 is one product's variant and
        another's description; 强劲 (a mode) is the robot vacuum's alone. Asked lazily by the
        finder for names a question says (every name against every page at open grows with
        the square of the catalogue: 157 s at 11k products)."""
        said = normalize(name)
        if said not in self._said_on:
            pages = self._normalized_pages()
            self._said_on[said] = {s for s, text in pages.items() if said in text}
        return self._said_on[said] <= {source}

    def _normalized_pages(self) -> dict[str, str]:
        if self._pages is None:
            self._pages = {s: normalize(self.products.page_text(s)) for s in self.products.titles}
        return self._pages

    def identify(
        self,
        text: str,
        matched: str | None = None,
        normalized: str | None = None,
        words: Sequence[str] | None = None,
    ) -> list[str]:
        """Products ``text`` names: by the words of their titles, narrowed or filled in by the
        characters and model codes of the question (:class:`._identify.ProductFinder`; the
        text as written and as repaired, so a synonym rewrite does not hide 跑 of 跑鞋)."""
        if matched is None:
            matched = self.rewriter(text).text
        found = self.products.identify(matched, normalized=normalized, words=words)
        return self.finder.refine(f"{to_simplified(text)} {matched}", found)

    def _terms(self, words: Sequence[str]) -> tuple[str, ...]:
        """Content words; a word the knowledge never uses is split into the parts it does use
        ("金卡要" → "金卡"), leaving only genuinely unknown words (a city, another product)."""
        out: list[str] = []
        stopwords = self.tokenizer.stopwords
        for word in words:
            if (
                self.idf.known(word)
                or len(word) < 2
                or not _CJK_WORD.fullmatch(word)
                or self.tokenizer.in_dictionary(word)
            ):
                out.append(word)
                continue
            i, parts, leftover = 0, [], []
            while i < len(word):
                for j in range(len(word), i, -1):
                    if (
                        j - i >= 1
                        and self.idf.known(word[i:j])
                        and (j - i > 1 or word[i:j] not in stopwords)
                    ):
                        parts.append(word[i:j])
                        i = j
                        break
                else:
                    if word[i] not in stopwords:
                        leftover.append(word[i])
                    i += 1
            out.extend(parts if parts else [word])
            if parts and len(leftover) >= 2:
                out.append("".join(leftover))
        return tuple(dict.fromkeys(out))

    def _measure(self, query: Query) -> _Measures:
        word_set = set(query.terms)
        ids = frozenset(i for i in map(self.idf.id, word_set | set(query.bigrams)) if i is not None)
        title_words: set[str] = set()
        for source in query.products:
            title_words |= self._title_words(source)
        aspect_words = [w for w in query.terms if w not in title_words]
        aspect_bigrams = [b for b in query.bigrams if b not in title_words]
        return _Measures(
            ids=ids,
            whole=self._coverage(query.terms, query.bigrams),
            aspect=self._coverage(aspect_words, aspect_bigrams),
            asks_aspect=bool(aspect_words),
        )

    def _coverage(self, words: Sequence[str], bigrams: Sequence[str]) -> _Coverage:
        known = [b for b in bigrams if self.idf.known(b)]
        credit = self.scoring.soft_suffix
        return _Coverage(
            Terms(words, self.idf, credit=credit), Terms(known, self.idf, soft=False, credit=credit)
        )

    def _retrieve(self, query: Query) -> list[Hit]:
        """Retrieved chunks, then every part of the product page(s) asked about."""
        scoring = self.scoring
        k = max(self.settings.top_k * scoring.retrieve_per_top_k, scoring.retrieve_min)
        hits = self.retriever.retrieve(query, k=k, kinds=ANSWER_KINDS)
        if len(query.products) <= scoring.product_pages:
            seen = {h.chunk.id for h in hits}
            hits += [
                Hit(chunk=c, score=0.0, index=i)
                for p in query.products
                for i, c in self.products.chunks(p)
                if c.id not in seen
            ]
        return hits

    def _score(
        self, query: Query, measures: _Measures, hits: list[Hit], explain: bool
    ) -> tuple[list[Candidate], dict[str, _Coverage]]:
        """Support of each hit that can answer this question, and what to quote it for."""
        scoring = self.scoring
        products, numbers = query.products, query.numbers
        candidates: list[Candidate] = []
        focus: dict[str, _Coverage] = {}  # what to quote each chunk for
        for hit in hits:
            chunk = hit.chunk
            if products and chunk.kind in ("product", "table_row") and chunk.source not in products:
                continue  # about another product: cannot answer this one
            index = hit.index if hit.index >= 0 else self.snapshot.by_id.get(chunk.id, -1)
            steps: dict[str, float] | None = {} if explain else None
            backward = 0.0
            if chunk.kind == "faq":
                basis = "faq phrasing"
                support, covers, backward = self._faq_support(measures, index, chunk, steps)
            elif products and chunk.source in products and measures.asks_aspect:
                basis = "product aspect"
                body = self._tokens.coverage(index, chunk, lead=False)
                covers = self._support(measures.aspect, body)
                support = scoring.aspect_floor + scoring.aspect_scale * covers
                focus[chunk.id] = measures.aspect
            elif products and measures.asks_aspect:
                # A policy that merely names the product must also cover what is asked about it.
                basis = "names the product"
                tokens = self._tokens.coverage(index, chunk)
                whole = self._support(measures.whole, tokens)
                aspect = scoring.aspect_floor + scoring.aspect_scale * self._support(
                    measures.aspect, tokens
                )
                support = covers = min(whole, aspect)
                if steps is not None:
                    steps["question"], steps["aspect"] = whole, aspect
            else:
                basis = "coverage"
                support = covers = self._support(
                    measures.whole, self._tokens.coverage(index, chunk)
                )
            if steps is not None:
                steps[basis] = support
            if chunk.kind == "table_row" and numbers:
                fit = numeric_fit(numbers, chunk.text, scoring)
                support = min(1.0, support + scoring.table_numbers * fit)
                if steps is not None:
                    steps["numbers"] = support
            if chunk.kind in ("product", "table_row") and not products:
                support *= scoring.no_product  # a product detail without knowing which product
                if steps is not None:
                    steps["product unknown"] = support
            if hit.dense:
                support = scoring.dense_keep * support + scoring.dense * hit.dense
                if steps is not None:
                    steps["dense"] = support
            candidate = Candidate(hit, support, chunk.text, chunk.text, index, basis, steps, covers)
            candidate.backward = backward
            candidates.append(candidate)
        self._general_first(query, candidates)
        candidates.sort(key=lambda c: (-c.support, -c.hit.score))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%d candidates for %r: %s",
                len(candidates),
                query.text,
                ", ".join(f"{c.hit.chunk.id}={c.support:.3f}" for c in candidates[:5]),
            )
        return candidates, focus

    def _support(self, coverage: _Coverage, tokens: frozenset[int]) -> float:
        word_cov = coverage.words.cover(tokens)
        bigram_cov = coverage.bigrams.cover(tokens) if coverage.bigrams.items else word_cov
        return self.scoring.word * word_cov + self.scoring.bigram * bigram_cov

    def _faq_support(
        self, measures: _Measures, index: int, chunk: Chunk, steps: dict[str, float] | None
    ) -> tuple[float, float, float]:
        """How well the question matches the FAQ's best phrasing, in both directions; how
        much of the question that phrasing covers, and how much of it the question covers."""
        forward_share, backward_share = self.scoring.faq_forward, self.scoring.faq_backward
        best = covers = behind = 0.0
        for tokens, words in self._tokens.phrasings(index, chunk):
            forward = self._support(measures.whole, tokens)
            backward = self.idf.coverage_ids(words, measures.ids) if words else 0.0
            score = forward_share * forward + backward_share * backward
            if steps is not None and (score > best or not steps):
                steps["forward"], steps["backward"] = forward, backward
            if score > best:
                best, covers, behind = score, forward, backward
        return best, covers, behind

    # -- general rule first, exceptions after -----------------------------------------------------
    def qualifiers(self) -> tuple[str, ...]:
        """What the shop's general rules set aside ("偏远地区" of "满99元包邮（偏远地区除外）"):
        the ``exception_markers`` of the ``vocabulary`` rule set, read off its policies and FAQ
        once, on first need."""
        if self._qualifiers is None:
            found: dict[str, None] = {}
            for chunk in self.snapshot.chunks:
                if chunk.kind in ("policy", "faq"):
                    text = normalize(chunk.text)
                    for pattern in self._exception_res:
                        for match in pattern.finditer(text):
                            found.setdefault(match.group(1), None)
            self._qualifiers = tuple(sorted(found, key=len, reverse=True))
        return self._qualifiers

    def exception_in(self, text: str, question: str) -> str:
        """The qualifier that makes ``text`` an exception clause for this question ("" when it
        is general): it names a qualifier the question does not, other than to set it aside."""
        qualifiers = self.qualifiers()
        if not qualifiers:
            return ""
        named = self._qualifiers_in.get(text)
        if named is None:  # a text's qualifiers read once: the same chunks come back
            norm = normalize(text)
            for pattern in self._exception_res:
                norm = pattern.sub(" ", norm)  # "偏远地区除外" is the general rule speaking
            named = tuple(q for q in qualifiers if q in norm)
            if len(self._qualifiers_in) >= _REMEMBERED:
                self._qualifiers_in.clear()
            self._qualifiers_in[text] = named
        return next((q for q in named if q not in question), "")

    def _general_first(self, query: Query, candidates: list[Candidate]) -> None:
        """An exception (an FAQ asking about 偏远地区, a policy section on them) answers a
        question only when the question names its qualifier, or when no general clause covers
        the question as well: otherwise its support takes :attr:`Scoring.exception`."""
        if not self.qualifiers():
            return
        question = normalize(query.matched or query.text)
        general = 0.0
        for cand in candidates:
            chunk = cand.hit.chunk
            if chunk.kind not in ("faq", "policy"):
                continue
            lead = chunk.question if chunk.kind == "faq" and chunk.question else chunk.title
            cand.exception = self.exception_in(lead or "", question)
            if not cand.exception:
                general = max(general, cand.covers)
        for cand in candidates:
            if cand.exception and general >= cand.covers:
                cand.support *= self.scoring.exception
                if cand.steps is not None:
                    cand.steps[f"exception ({cand.exception})"] = cand.support

    def _quote(
        self,
        candidates: list[Candidate],
        query: Query,
        measures: _Measures,
        focus: dict[str, _Coverage],
    ) -> None:
        """Pick the sentences to quote, only for the candidates that can be shown or cited;
        then the line the answer quotes, by the fitted line ranker (:mod:`._quoting`)."""
        for cand in candidates[: self.scoring.quoted]:
            chunk = cand.hit.chunk
            if chunk.kind != "faq":
                cand.text = cand.snippet = self._best_sentences(
                    cand.index,
                    chunk,
                    focus.get(chunk.id, measures.whole),
                    query.numbers,
                    query.normalized,
                )
        model = self.quote_ranker
        if model is None or not candidates or candidates[0].hit.chunk.kind == "faq":
            return  # an FAQ matched by its phrasing answers as written, never by another's
        lines = self.quote_lines(candidates, query, measures, focus)
        if len(lines) < 2:
            return
        top = lines[model.order(self.quote_features(query, candidates, lines))[0]]
        if top.candidate == 0 and top.today:
            return  # the coverage choice holds it: quoted as before
        best = candidates[0]
        best.text = best.snippet = top.text
        if top.candidate:
            best.quoted = candidates[top.candidate].hit.chunk

    def quote_lines(
        self,
        candidates: Sequence[Candidate],
        query: Query,
        measures: _Measures,
        focus: dict[str, _Coverage],
    ) -> list[QuoteLine]:
        """The lines the answer may quote (:mod:`._quoting`): the quotable units of the
        candidates of the best one's source among those quoted, in candidate order (not an
        FAQ's: its answer is another question's)."""
        source = candidates[0].hit.chunk.source
        lines: list[QuoteLine] = []
        seen: set[str] = set()
        rank = 0
        for n, cand in enumerate(candidates[: self.scoring.quoted]):
            chunk = cand.hit.chunk
            if chunk.source != source or chunk.kind == "faq":
                continue  # another FAQ's answer answers another question
            coverage = focus.get(chunk.id, measures.whole)
            scored = self._sentence_scores(cand.index, chunk, coverage, query.numbers)
            quoted = cand.text if n == 0 else ""
            for unit, (text, score) in enumerate(scored):
                if not text.strip() or text in seen:
                    continue
                seen.add(text)
                lines.append(
                    QuoteLine(
                        n, text, chunk.kind, unit, len(scored),
                        bool(quoted) and text in quoted, score, cand.support, rank,
                    )
                )  # fmt: skip
            rank += 1
        return lines

    def quote_features(
        self, query: Query, candidates: Sequence[Candidate], lines: Sequence[QuoteLine]
    ) -> list[dict[str, float]]:
        """The ranker's features of ``lines`` (:func:`._quoting.quote_line_features`)."""
        question = normalize(query.matched or query.text)
        best = candidates[0].hit.chunk
        title = best.title if best.kind in ("product", "table_row") else ""
        rules = claim_rules(self.shop)
        asked: set[str] = set()
        for dim in asked_dimensions(question, rules.asks):
            asked |= rules.answer_dims.get(dim, frozenset([dim]))
        return quote_line_features(
            question, title or "", lines, lambda text: self.exception_in(text, question), asked
        )

    def _sentence_scores(
        self, index: int, chunk: Chunk, coverage: _Coverage, numbers: Sequence[float]
    ) -> list[tuple[str, float]]:
        """Each quotable unit of ``chunk`` and how well it covers the question (its terms,
        its numbers)."""
        sentences = quote_units(chunk)
        scoring = self.scoring
        units = self._tokens.units(index, chunk)
        if len(units) != len(sentences):  # stored by a version that split differently
            units = [self._live.ids(s) for s in sentences]
        return [
            (
                sentence,
                self._support(coverage, tokens)
                + scoring.sentence_numbers * numeric_fit(numbers, sentence, scoring),
            )
            for sentence, tokens in zip(sentences, units, strict=True)
        ]

    def _best_sentences(
        self,
        index: int,
        chunk: Chunk,
        coverage: _Coverage,
        numbers: Sequence[float],
        question: str = "",
    ) -> str:
        if chunk.kind == "table_row":
            return chunk.text
        sentences = quote_units(chunk)
        if len(sentences) <= 1:
            return sentences[0]
        scoring = self.scoring
        scored = [
            (score, n)
            for n, (_, score) in enumerate(self._sentence_scores(index, chunk, coverage, numbers))
        ]
        scored.sort(reverse=True)
        top_score = scored[0][0]
        keep = sorted(
            n
            for s, n in scored[: scoring.sentences]
            if s >= top_score * scoring.sentence_keep and s > 0
        ) or [scored[0][1]]
        if len(keep) > 1 and question:  # the general rule first, its exceptions after
            keep.sort(key=lambda n: bool(self.exception_in(sentences[n], question)))
        return "".join(sentences[n] for n in keep)

    def _title_words(self, source: str) -> frozenset[str]:
        words = self._title_tokens.get(source)
        if words is None:
            stored = self._stored_title_tokens.get(source)
            if stored is None:
                stored = self.tokenizer.tokenize(self.products.titles[source])
            words = self._title_tokens[source] = frozenset(stored)
        return words

    def features(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """The measures of a decision the calibrator reads (:data:`._calibration.FEATURES`)."""
        measures = self._measures(query, candidates)
        return {name: measures[name] for name in FEATURES}

    def tried_measures(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """The measures of a decision tried for the calibrator and left out of it, kept so that
        ``benchmarks/fit_calibration.py`` reports, leave-one-shop-out, what each would change.

        Since round 12 (13 shops) the calibrator reads the measures whose meaning does not
        depend on the shop's wording and that, leave-one-shop-out, lower the log-loss on most
        shops: how high the lexical retriever ranks the best candidate and whether the lexical
        and the dense retrievers both put it first, how closely the question and the FAQ
        phrasing it matched say the same, whether its heading is of the question's topic class;
        left out are the ones whose removal lowers it on most shops — the best candidate's own
        coverage (``covers``: ``quote_covers`` and ``title_covers`` say it of what is sent),
        whether any product is named, a repaired query, ranked first by some retriever, the
        share of the question the knowledge knows — and the dense rank and the margin over
        another source, which help on no majority (docs/calibration.md)."""
        measures = self._measures(query, candidates)
        return {name: value for name, value in measures.items() if name not in FEATURES}

    def _measures(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """Every measure of a decision: the calibrator's (:data:`._calibration.FEATURES`) and
        the ones tried and left out (:meth:`tried_measures`)."""
        best = candidates[0]
        chunk = best.hit.chunk
        runner_up = candidates[1].support if len(candidates) > 1 else 0.0
        weights = [(self.idf(t), self.idf.known(t)) for t in query.terms]
        total = sum(w for w, _ in weights)
        return {
            "support": min(1.0, best.support),
            "margin": best.support - runner_up,
            "covers": best.covers,
            "dense": best.hit.dense,
            "retrieved_first": float(min(best.hit.ranks.values(), default=0) == 1),
            "known": sum(w for w, k in weights if k) / total if total else 0.0,
            "terms": math.log1p(len(query.terms)),
            "product_known": float(bool(query.products)),
            "kind_faq": float(chunk.kind == "faq"),
            "kind_product": float(chunk.kind == "product"),
            "kind_table_row": float(chunk.kind == "table_row"),
            "kind_policy": float(chunk.kind == "policy"),
            "exception": float(bool(best.exception)),
            "repaired": float(bool(query.repairs)),
            # A number of the question matched in a table (a size row): one matched number is
            # weak evidence when the question gives several (height and weight).
            "numbers": math.log1p(len(query.numbers)),
            "numeric": numeric_fit(query.numbers, chunk.text, self.scoring)
            if query.numbers and chunk.kind == "table_row"
            else 0.0,
            # Another part of the same source as good: rows of one table, sections of one page.
            "tie": float(
                len(candidates) > 1
                and candidates[1].hit.chunk.source == chunk.source
                and best.support - runner_up < self.scoring.tie
            ),
            # The attribute asked (a cue of the attributes rule set) said in the chunk quoted:
            # 1 yes, -1 no, 0 none asked.
            "attribute_in_chunk": self._attribute_in(query.text, best.text),
            # The product asked about is the chunk's (1), another's (-1), or none named (0).
            "product_match": (1.0 if chunk.source in query.products else -1.0)
            if query.products
            else 0.0,
            "quote_length": math.log1p(len(best.text)),
            "question_length": math.log1p(len(query.text)),
            # A quantity asked (多少, 几, 多久) and a number in the quote: 1; none there: -1.
            "quantity_answered": (
                1.0 if re.search(r"\d|[一二两三四五六七八九十]", best.text) else -1.0
            )
            if _QUANTITY.search(query.text)
            else 0.0,
            **self._structure(query, candidates),
            **self._ranks(query, candidates),
        }

    def _structure(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """Measures of whether the quote says what was asked, read from the question's
        structure rather than from retrieval scores: the asked terms in the quoted sentence and
        in the chunk's heading, the product's variant named, and how many sources fit as well.
        (Kept because leave-one-shop-out they help on most shops; see fit_calibration.py.)"""
        best = candidates[0]
        chunk = best.hit.chunk
        quote, norm = normalize(best.text), normalize(query.matched or query.text)
        weights = [(self.idf(t), normalize(t)) for t in query.terms]
        total = sum(w for w, _ in weights) or 1.0
        heading = normalize(f"{chunk.title} {chunk.locator} {chunk.question or ''}")
        variants = (
            self._catalog_answers().variants_named(norm, query.products[0])
            if len(query.products) == 1
            else set()
        )
        close = {c.hit.chunk.source for c in candidates if c.support >= best.support - 0.05}
        return {
            # the share of the question (by IDF) said in the quoted sentence / in the heading
            # (a section title, a table row's label, an FAQ's question)
            "quote_covers": sum(w for w, t in weights if t and t in quote) / total,
            "title_covers": sum(w for w, t in weights if t and t in heading) / total,
            # a variant of the product named (a colour, a capacity): said in the quote 1, not -1
            "variant_in_quote": (1.0 if all(v in quote for v in variants) else -1.0)
            if variants
            else 0.0,
            # other sources that fit (almost) as well: which one is meant is a guess
            "sources_close": math.log1p(len(close) - 1),
            **self._detail(query, candidates),
        }

    def _ranks(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """Measures that mean the same on any shop: how high the lexical and the dense
        retriever rank the best candidate (the reciprocal of its rank; 0: not among their hits)
        and whether both put it first, how closely the question and the FAQ phrasing it matched
        say the same (both directions), how far it is ahead of the best candidate of another
        source, and whether its heading is of the topic class the question is about (the
        ``reply_topics`` rule set)."""
        best = candidates[0]
        ranks = best.hit.ranks
        lexical = min((r for k, r in ranks.items() if k in ("bm25", "faq")), default=0)
        dense = ranks.get("dense", 0)
        other = next(
            (c.support for c in candidates[1:] if c.hit.chunk.source != best.hit.chunk.source),
            0.0,
        )
        return {
            "lexical_rr": 1.0 / lexical if lexical else 0.0,
            "dense_rr": 1.0 / dense if dense else 0.0,
            "agree": float(lexical == 1 and dense == 1),
            "faq_both": min(best.covers, best.backward) if best.hit.chunk.kind == "faq" else 0.0,
            "margin_other": best.support - other,
            "topic_match": self._topic_match(query, best.hit.chunk),
        }

    def _topic_match(self, query: Query, chunk: Chunk) -> float:
        """1 when the chunk's heading names a topic class the question is about, 0.5 when
        only its text does, -1 when neither does; 0 when the question is of no topic class."""
        if self._topics is None:
            spec = self.shop.rule_set("reply_topics")["topics"]
            self._topics = [
                (
                    [re.compile(str(x)) for x in _listed(t.get("complaint"))],
                    [re.compile(str(x)) for x in _listed(t.get("unless"))],
                    [normalize(str(w)) for w in _listed(t.get("policy"))],
                )
                for t in spec.values()
            ]
        text = normalize(query.matched or query.text)
        words = [
            w
            for said, unless, policy in self._topics
            if any(r.search(text) for r in said) and not any(r.search(text) for r in unless)
            for w in policy
        ]
        if not words:
            return 0.0
        heading = normalize(f"{chunk.title} {chunk.locator} {chunk.question or ''}")
        if any(w and w in heading for w in words):
            return 1.0
        body = normalize(chunk.text)
        return 0.5 if any(w and w in body for w in words) else -1.0

    def _detail(self, query: Query, candidates: Sequence[Candidate]) -> dict[str, float]:
        """Whether the sentence that would be sent holds the circumstance the question gives
        as a number ("买了10天", "5斤装", "163 52kg"): the question's numbers it neither states
        nor holds inside a range. A number the answer does not speak of is a detail of the
        question the quoted rule or row may not cover (the 30-day exception for a 10-day
        purchase, a 3斤 box for a 5斤 question). (Kept because leave-one-shop-out it improves
        the log-loss on 6 of the 7 shops fitted; see docs/calibration.md.)"""
        numbers = numbers_in(normalize(query.matched or query.text))
        if not numbers:
            return {"numbers_unmet": 0.0}
        sent = focused(candidates[0].text, query.text, self.shop)
        unmet = [n for n in numbers if not numeric_fit((n,), sent, self.scoring)]
        return {"numbers_unmet": float(len(unmet))}

    def _attribute_in(self, question: str, text: str) -> float:
        """1 when an attribute the question asks (its cue) is named in ``text`` (a cue or a
        name of it), -1 when it is not, 0 when the question asks no attribute."""
        if self._attribute_words is None:
            spec = self.shop.rule_set("attributes")["attributes"]
            self._attribute_words = [  # an empty cue or name says nothing: left out
                (
                    [c for c in (normalize(c) for c in [a, *s["cues"]]) if c],
                    [n for n in (normalize(n) for n in [a, *s["names"], *s["cues"]]) if n],
                )
                for a, s in spec.items()
            ]
        norm, quoted = normalize(question), normalize(text)
        said, in_quote = norm.__contains__, quoted.__contains__
        asked = [names for cues, names in self._attribute_words if any(map(said, cues))]
        if not asked:
            return 0.0
        return 1.0 if any(any(map(in_quote, names)) for names in asked) else -1.0

    def _decide(
        self, question: str, candidates: list[Candidate], query: Query
    ) -> tuple[Answer, float, Decision]:
        """The best candidate's answer, cited with close matches from other sources, and the
        decision its calibrated confidence (the probability that it is right) earns against
        the thresholds; its support, and the decision that earns against the support
        thresholds."""
        best = candidates[0]
        support = round(min(1.0, best.support), 4)
        if self.calibrator is None:
            confidence = support
        else:
            confidence = round(self.calibrator.probability(self.features(query, candidates)), 4)
        proposal = self.propose(question, candidates)
        decision = decide(confidence, self.settings)
        by_support = decide_at(support, *self.settings.support_thresholds)
        log.debug(
            "decision %s for %r: confidence %.4f (auto >= %s, draft >= %s), best %s",
            decision,
            question,
            confidence,
            self.settings.auto_threshold,
            self.settings.draft_threshold,
            best.hit.chunk.id,
        )
        sure = "auto" in (decision, by_support)
        over = money_beyond_limits(proposal.text, self.shop) if sure else []
        if over:  # knowledge promising more than shop.yaml allows is for an agent to check
            by_support = "draft" if by_support == "auto" else by_support
        if decision == "handoff":
            reasons = ["the knowledge does not clearly answer the question", *proposal.reasons]
            answer = self._handoff(question, reasons, proposal.citations, confidence)
            return answer, support, by_support
        reasons = list(proposal.reasons)
        if over and decision == "auto":
            decision = "draft"
            reasons += [f"the quoted knowledge {p}" for p in over]
        answer = proposal.model_copy(
            update={"decision": decision, "confidence": confidence, "reasons": reasons}
        )
        return answer, support, by_support

    def propose(self, question: str, candidates: Sequence[Candidate]) -> Answer:
        """The answer the best candidate gives, whatever the confidence (``auto``, confidence
        its support): what :meth:`_decide` sends or drafts, what calibration is fitted on, and
        what insights proposes for a knowledge gap."""
        best = candidates[0]
        citations = [cite(best)]
        for other in candidates[1 : self.scoring.citations]:
            if (
                other.support >= best.support * self.scoring.cite_share
                and other.hit.chunk.source != best.hit.chunk.source
            ):
                citations.append(cite(other))
        return Answer(
            question=question,
            # a list of every tier's / region's value quoted for the one the question names
            text=focused(self._frame(best), question, self.shop),
            decision="auto",
            confidence=round(min(1.0, max(0.0, best.support)), 4),
            citations=citations,
            reasons=[
                f"best match: {best.hit.chunk.source} ({best.hit.chunk.locator}), "
                f"support {best.support:.2f}"
            ],
        )

    def _explain(self, prepared: Prepared, rule: str, hits: Sequence[Hit] = ()) -> Prepared:
        """Attach the :class:`Trace` of ``prepared`` to its extractive answer."""
        answer, query = prepared.extractive, prepared.query
        # Retrieved hits carry their retrievers' ranks; parts of a product page added after do not.
        position = {h.chunk.id: n for n, h in enumerate(hits, start=1) if h.ranks}
        cited = {c.chunk_id for c in answer.citations}
        knowledge = prepared.knowledge()
        candidates = [
            TraceCandidate(
                rank=rank,
                chunk_id=c.hit.chunk.id,
                source=c.hit.chunk.source,
                locator=c.hit.chunk.locator,
                kind=c.hit.chunk.kind,
                retrieved=position.get(c.hit.chunk.id),
                score=c.hit.score,
                bm25=c.hit.bm25,
                faq=c.hit.faq,
                dense=c.hit.dense,
                ranks=dict(c.hit.ranks),
                basis=c.basis,
                steps=dict(c.steps or {}),
                support=c.support,
                cited=c.hit.chunk.id in cited,
            )
            for rank, c in enumerate(knowledge[:TRACED], start=1)
        ]
        answer.trace = Trace(
            question=prepared.question,
            normalized=query.normalized if query else normalize(prepared.question),
            terms=list(query.terms) if query else [],
            products=list(query.products) if query else [],
            context=query.context if query else "",
            candidates=candidates,
            scored=len(knowledge),
            rule=rule,
            reasons=list(answer.reasons),
            auto_threshold=self.settings.auto_threshold,
            draft_threshold=self.settings.draft_threshold,
            confidence=answer.confidence,
            decision=answer.decision,
        )
        return prepared

    def _frame(self, candidate: Candidate) -> str:
        chunk = candidate.quoted or candidate.hit.chunk
        # Knowledge was scrubbed at ingestion; scrub again in case an extract recombined text.
        injection = self.shop.rule_set("injection")
        body = (
            scrub_injections(candidate.text, injection)[0].strip().rstrip("；;，, ") or chunk.text
        )
        if body[-1] not in "。！？!?…）)”":
            body += "。"
        if chunk.kind in ("product", "table_row") and chunk.title and chunk.title not in body:
            body = f"这款{chunk.title}：{body}"
        if body.startswith(("亲", "您好")):
            return body
        return f"亲，{body}"

    def _handoff(
        self, question: str, reasons: list[str], citations: list[Citation], confidence: float
    ) -> Answer:
        return Answer(
            question=question,
            text=self.shop.handoff_message,
            decision="handoff",
            confidence=round(confidence, 4),
            citations=citations,
            reasons=reasons,
        )


_NOTE = re.compile(r"[（(].*?[)）]")


def _listed(value: Any) -> list[Any]:
    """A rule's value as a list (one pattern may be written bare)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _name_parts(cell: str) -> list[str]:
    """A variant cell and the pieces a shopper names it by: without its bracketed note
    ("极光紫" of "极光紫（限定配色）") and its words ("白色" of "白色 / 浅蓝")."""
    bare = _NOTE.sub("", cell).strip()
    words = [w for w in re.split(r"[\s/、,，]+", bare) if w]
    return list(dict.fromkeys([cell, bare, *words]))


def cite(candidate: Candidate) -> Citation:
    """The citation of a candidate: its chunk's source and locator (the quoted line's chunk's),
    the quoted snippet, and its support as the score (one form for extractive and generated
    answers)."""
    chunk = candidate.quoted or candidate.hit.chunk
    return Citation(
        source=chunk.source,
        locator=chunk.locator,
        snippet=candidate.snippet[:300],
        score=round(min(1.0, max(0.0, candidate.support)), 4),
        chunk_id=chunk.id,
    )
