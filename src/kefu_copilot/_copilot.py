"""The :class:`Copilot`: one shop's knowledge, answering questions. Safe to share across threads."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import EmbeddingError, InputError, KnowledgeIndexError
from ._models import Answer, IngestReport, Message
from ._resources import SharedResources, shop_tokenizer
from .agent._conversation import Conversation
from .agent._memory import MemoryBook
from .agent._router import Router, Turn
from .agent._tools import PendingAction, ToolRegistry
from .answer._claims import Entailment
from .answer._extractive import Answerer, Prepared
from .answer._generate import AnswerStream, GroundedGenerator
from .config._settings import Settings, resolve_settings
from .config._shop import ShopConfig, load_shop_config
from .embed._embedder import Embedder, load_embedder
from .emotion._training import MODEL_FILE, load_shop_escalation, train_shop_escalation
from .index._generations import Snapshot, gc_paused, index_id, load_snapshot, read_current
from .index._vectors import VectorStore, open_vector_store, release_persistent_client
from .ingest._loaders import parse_rules
from .ingest._pipeline import Progress, ingest_shop
from .llm._chat import LLM, build_llm
from .reply._advisor import ReplyAdvisor
from .reply._lint import Knowledge, lint_reply
from .reply._models import Draft, LintIssue, QuickReply
from .retrieval._hybrid import Retriever
from .state._open import open_state_store
from .state._store import StateStore
from .text._normalize import bounded
from .text._tokenize import ChineseTokenizer

if TYPE_CHECKING:
    from .presales._advisor import Advisor
    from .presales._models import Comparison, Recommendation

__all__ = ["Copilot"]

log = logging.getLogger("kefu_copilot")
_UNSET: Any = object()
#: What warm_up() asks: a greeting, a policy question with a traditional character and a pinyin
#: typo (OpenCC, pinyin repair), a pre-sales need with a budget and a household (the advisor).
_WARM_UP_QUESTIONS = ("你好", "這個包游吗", "三口之家，预算300以内买哪款好")


class StaticStream:
    """The stream of an answer that is already complete (no LLM): one delta."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def __iter__(self) -> Iterator[str]:
        yield self.answer.text

    async def __aiter__(self) -> AsyncIterator[str]:
        yield self.answer.text


def _as_messages(history: Sequence[Message | dict[str, Any]] | None, limit: int) -> list[Message]:
    """``history`` as messages (role names as :meth:`Conversation.of` reads them: "user",
    "assistant", 客服…), each text bounded as the copilot reads a message (:func:`bounded`)."""
    if history is not None and (
        isinstance(history, (str, bytes)) or not hasattr(history, "__iter__")
    ):
        raise InputError("history must be a list of Message objects or {'role', 'text'} dicts")
    return _bounded_messages(Conversation.of(list(history or [])).messages, limit)


def _bounded_messages(messages: list[Message], limit: int) -> list[Message]:
    """``messages`` with every text cut to ``limit`` characters (``Settings.max_input_chars``)
    and made encodable: a conversation's pasted log or a hostile message costs what ``limit``
    characters cost in every stage — drafting, routing, linting — as a question does."""
    out = [
        m if (m.text == (text := bounded(m.text, limit))) else m.model_copy(update={"text": text})
        for m in messages
    ]
    return messages if all(a is b for a, b in zip(out, messages, strict=True)) else out


def _with_customer(conversation: Conversation, customer_id: str | None) -> Conversation:
    if customer_id and conversation.customer_id != customer_id:
        return conversation.model_copy(update={"customer_id": customer_id})
    return conversation


def _bounded_conversation(conversation: Conversation, limit: int) -> Conversation:
    messages = _bounded_messages(conversation.messages, limit)
    if messages is conversation.messages:
        return conversation
    return conversation.model_copy(update={"messages": messages})


class Copilot:
    """A customer-service copilot over one shop directory.

    >>> copilot = Copilot("knowledge")        # doctest: +SKIP
    >>> copilot.ingest()                       # doctest: +SKIP
    >>> copilot.answer("几天能发货？").text      # doctest: +SKIP

    Arguments override ``settings``, which override ``KEFU_*`` environment variables.
    ``embedder`` and ``store`` accept any object implementing the :class:`Embedder` /
    :class:`VectorStore` protocols (pass ``embedder=None`` for lexical retrieval only);
    ``entailment`` any :class:`Entailment` judging an LLM answer's claims (default: the
    rule-based checker; :class:`LLMEntailment` adds an LLM's second opinion);
    ``resources`` a :class:`SharedResources` whose tokenizers and embedding models this copilot
    shares with others (many shops in one process: see :class:`CopilotPool`).
    """

    def __init__(
        self,
        shop_dir: str | Path,
        *,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = _UNSET,
        store: VectorStore | None = _UNSET,
        llm: LLM | None = _UNSET,
        tools: ToolRegistry | None = None,
        entailment: Entailment | None = None,
        resources: SharedResources | None = None,
        **overrides: Any,
    ) -> None:
        self.shop_dir = Path(shop_dir)
        #: tokenizers and embedding models shared with other copilots of this process (None:
        #: this copilot loads its own)
        self.resources = resources
        #: how generated answers' claims are judged against the cited knowledge (None: the
        #: rule-based checker; e.g. ``LLMEntailment(llm)`` for an LLM second opinion)
        self.entailment = entailment
        self.settings = resolve_settings(settings, index_dir=index_dir, **overrides)
        self.index_dir = Path(self.settings.index_dir or self.shop_dir / ".kefu-index")
        self._embedder_arg, self._store_arg = embedder, store
        self._embedder: Embedder | None = None
        self._embedder_loaded = False
        self._store: VectorStore | None = None
        self.embedding_problem: str | None = None
        self._lock = threading.RLock()
        self._advisor_cache: Advisor | None = None
        self._dense_lock = threading.RLock()
        self._state: tuple[Snapshot, Answerer, ShopConfig] | None = None
        self._shop: ShopConfig | None = None
        self._llm_arg = llm
        self._llm: LLM | None = None
        self._llm_loaded = False
        self._generator: GroundedGenerator | None = None
        self._state_store: StateStore | None = None
        max_age = self.settings.approval_max_age_hours * 3600
        self.tools = tools if tools is not None else ToolRegistry()
        self.tools.adopt_store(self._open_state, max_age=max_age)  # unless it has its own

    # -- parts, built lazily -------------------------------------------------------------------
    @property
    def shop(self) -> ShopConfig:
        if self._shop is None:
            self._shop = load_shop_config(self.shop_dir)
        return self._shop

    def _tokenizer(self, shop: ShopConfig) -> ChineseTokenizer:
        if self.resources is not None:
            return self.resources.tokenizer(shop)
        return shop_tokenizer(shop)

    def _dense(self) -> tuple[Embedder | None, VectorStore | None]:
        """The embedder and vector store, or (None, None) for lexical-only retrieval."""
        with self._dense_lock:
            if not self._embedder_loaded:
                self._embedder_loaded = True
                if self._embedder_arg is not _UNSET:
                    self._embedder = self._embedder_arg
                elif self.settings.embeddings_enabled:
                    try:
                        load = load_embedder if self.resources is None else self.resources.embedder
                        self._embedder = load(
                            self.settings.embed_model,
                            cache_dir=self.settings.embed_cache_dir,
                            offline=self.settings.offline,
                        )
                    except EmbeddingError as exc:
                        self.embedding_problem = str(exc)
                        log.warning("kefu-copilot: %s. Using lexical retrieval only.", exc)
            if self._embedder is not None and self._store is None:
                if self._store_arg is not _UNSET:
                    self._store = self._store_arg
                else:
                    self._store = open_vector_store(
                        self.index_dir,
                        self._embedder.name,
                        search=self.settings.vector_search,
                        url=self.settings.chroma_url,
                        index_key=index_id(self.index_dir),
                        lazy=True,
                    )
            if self._embedder is None or self._store is None:
                return None, None
            return self._embedder, self._store

    def _open_state(self) -> StateStore:
        with self._lock:
            if self._state_store is None:
                self._state_store = open_state_store(
                    self.settings.state_url_value,
                    index_dir=self.index_dir,
                    namespace=f"kefu:{self.shop.name or self.shop_dir.resolve().name}",
                )
            return self._state_store

    @property
    def state(self) -> StateStore:
        """Where approvals and customer memory live (``KEFU_STATE_URL``; default: SQLite in the
        index directory). See docs/scale-out.md."""
        return self._open_state()

    @property
    def memory(self) -> MemoryBook | None:
        """Customer memory (``Settings.customer_memory``), or None when it is off."""
        if not self.settings.customer_memory:
            return None
        return self._memory_book()

    def _memory_book(self) -> MemoryBook:
        with self._lock:
            if not hasattr(self, "_memory"):
                self._memory = MemoryBook(
                    self._open_state,
                    retention_days=self.settings.memory_retention_days,
                    rules=self.shop.rule_set("memory"),
                )
            return self._memory

    def forget(self, customer_id: str) -> bool:
        """Delete everything remembered of a customer (a deletion request; works with memory
        off too). True if there was a record."""
        return self._memory_book().forget(customer_id)

    # -- ingestion -----------------------------------------------------------------------------
    def ingest(self, *, progress: Progress | bool = False) -> IngestReport:
        """Bring the index in line with the shop directory (incremental, idempotent, atomic)."""
        shop = load_shop_config(self.shop_dir)
        embedder, store = self._dense()
        tokenizer = self._tokenizer(shop)
        config_hash = hashlib.sha256(shop.model_dump_json().encode()).hexdigest()
        # the advisor's profiles, built once per generation rather than at every open
        from .presales._profiles import profile_deriver

        with contextlib.ExitStack() as stack:
            callback: Progress | None = None
            if progress is True:
                from .present._console import rich_progress

                callback = stack.enter_context(rich_progress())
            elif progress:
                callback = progress
            report = ingest_shop(
                self.shop_dir,
                self.index_dir,
                tokenizer=tokenizer,
                config_hash=config_hash,
                embedder=embedder,
                store=store,
                progress=callback,
                max_file_mb=self.settings.max_file_mb,
                workers=self.settings.ingest_workers,
                rules=parse_rules(shop),
                derive=profile_deriver(self.shop_dir, shop.rule_set("presales"), tokenizer.words),
            )
        with self._lock:
            self._shop = shop
            if (
                report.changed
                or self._state is None
                or self._state[0].generation != report.generation
            ):
                self._state = None
        return report

    def reload(self) -> bool:
        """Pick up a generation published by another process. Returns True if it changed."""
        with self._lock:
            before = self._state[0].generation if self._state else None
            self._state = None
            self._shop = None
            current = read_current(self.index_dir)
            changed = current is not None and current.get("generation") != before
            if changed and self._store_arg is _UNSET and not self.settings.chroma_url:
                # The embedded store caches its vector index in memory: reopen it from disk.
                release_persistent_client(self.index_dir)
                self._store = None
            return self._current()[0].generation != before

    def _current(self) -> tuple[Snapshot, Answerer, ShopConfig]:
        state = self._state
        if state is not None:
            return state
        with self._lock, gc_paused():  # an open makes millions of objects, none garbage
            if self._state is None:
                snapshot = load_snapshot(self.index_dir)
                if snapshot is None:
                    raise KnowledgeIndexError(
                        f"no index at {self.index_dir}; run `kefu ingest {self.shop_dir}` "
                        "or call Copilot.ingest() first"
                    )
                shop = self.shop
                tokenizer = self._tokenizer(shop)
                embedder, store = self._dense() if snapshot.embedder else (None, None)
                retriever = Retriever(snapshot, tokenizer, embedder=embedder, store=store)
                # calibrated or not as the settings say
                answerer = Answerer(snapshot, retriever, tokenizer, shop, self.settings)
                self._state = (snapshot, answerer, shop)
            return self._state

    @property
    def llm(self) -> LLM | None:
        """The configured LLM (``None``: extractive answers only)."""
        with self._lock:
            if not self._llm_loaded:
                self._llm = build_llm(self.settings) if self._llm_arg is _UNSET else self._llm_arg
                self._llm_loaded = True
            return self._llm

    def _generation(self) -> tuple[Answerer, GroundedGenerator | None]:
        _, answerer, shop = self._current()
        llm = self.llm
        if llm is None:
            return answerer, None
        with self._lock:
            if self._generator is None or self._generator.shop is not shop:
                self._generator = GroundedGenerator(
                    llm, shop, prompts_dir=self.settings.prompts_dir, entailment=self.entailment
                )
            return answerer, self._generator

    @property
    def retriever(self) -> Retriever:
        return self._current()[1].retriever

    # -- answering -----------------------------------------------------------------------------
    def _read(self, value: Any, what: str) -> str:
        """``value`` as every entry point reads a text: a str (else an :class:`InputError`
        naming ``what``), bounded to ``max_input_chars`` (:func:`bounded`)."""
        if not isinstance(value, str):
            raise InputError(f"{what} must be a str, not {type(value).__name__}")
        return bounded(value, self.settings.max_input_chars)

    def _clean_question(self, question: Any) -> str:
        if isinstance(question, str):
            question = question.strip()  # before the bound: leading spaces use none of it
        text = self._read(question, "question")
        if not text:
            raise InputError("question is empty")
        return text

    def _note(self, answerer: Answerer, result: Answer) -> Answer:
        if answerer.retriever.dense_problem:  # e.g. the Chroma server is down
            result.reasons.append(answerer.retriever.dense_problem)
        elif self.embedding_problem and not answerer.retriever.dense:
            result.reasons.append("lexical retrieval only: embedding model unavailable")
        return result

    def answer(
        self,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        *,
        strict: bool = False,
        explain: bool = False,
    ) -> Answer:
        """Answer a shopper's question from the knowledge, or hand it over to a human.

        With an LLM configured the answer is generated from the retrieved knowledge and then
        grounding-checked; any LLM failure falls back to the extractive answer (its reason is in
        ``reasons``) unless ``strict=True``, which raises the :class:`LLMError` instead.
        ``explain=True`` attaches a :class:`Trace` of how the answer was reached (``.trace``).
        """
        text = self._clean_question(question)
        answerer, generator = self._generation()
        prepared = answerer.prepare(
            text, _as_messages(history, self.settings.max_input_chars), explain=explain
        )
        settled = self._without_llm(answerer, generator, prepared, explain)
        if settled is not None:
            return settled
        assert generator is not None  # else _without_llm gave the knowledge's answer
        return self._note(answerer, generator.answer(prepared, strict=strict))

    def warm_up(self) -> None:
        """Load now what the first questions would load on the way: the index generation, the
        segmentation dictionary, the query-repair tables (OpenCC, pinyin), the compiled rule sets,
        the pre-sales advisor and the emotion model — 0.3-0.7 s a backend pays at start-up rather
        than on a shopper's first message. Nothing is sent to the language model."""
        answerer, _ = self._generation()
        answerer.tokenizer.warm_up()
        for question in _WARM_UP_QUESTIONS:
            self._presales(answerer, answerer.prepare(question, [], explain=False), False)
            self.emotion_flag(question)

    def _without_llm(
        self,
        answerer: Answerer,
        generator: GroundedGenerator | None,
        prepared: Prepared,
        explain: bool,
    ) -> Answer | None:
        """The answer no language model writes, noted: the advisor's to a pre-sales question,
        else the knowledge's when no LLM is configured; None when the generator writes it. One
        decision for answer, aanswer and stream_answer (two of them once skipped the advisor)."""
        presales = self._presales(answerer, prepared, explain)
        if presales is not None:
            return self._note(answerer, presales)
        return self._note(answerer, prepared.extractive) if generator is None else None

    def _presales(self, answerer: Answerer, prepared: Prepared, explain: bool) -> Answer | None:
        """The pre-sales advisor's answer when the question is a pre-sales one (and no message
        rule took it first)."""
        if prepared.ruled:
            return None
        from .presales._routing import presales_answer

        return presales_answer(self.advisor(), prepared, explain=explain)

    def advisor(self) -> Advisor:
        """The pre-sales :class:`~kefu_copilot.presales.Advisor` over the current snapshot."""
        _, answerer, shop = self._current()
        with self._lock:
            cached = self._advisor_cache
            if cached is None or cached.answerer is not answerer:
                from .presales._advisor import Advisor

                cached = self._advisor_cache = Advisor(answerer, shop, self.shop_dir)
            return cached

    def recommend(self, need: str) -> Recommendation:
        """Products ranked against a shopper's need (budget, who for, use, features), each with
        its deciding facts cited; a clarifying question when the need is too vague."""
        return self.advisor().recommend(self._clean_question(need))

    def compare(self, a: str, b: str) -> Comparison:
        """Two products (SKU or title words) side by side: the attributes that differ."""
        return self.advisor().compare(self._read(a, "a product"), self._read(b, "a product"))

    async def aanswer(
        self,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        *,
        strict: bool = False,
        explain: bool = False,
    ) -> Answer:
        """Async :meth:`answer`: retrieval in a worker thread, the LLM call on the event loop."""
        text = self._clean_question(question)
        answerer, generator = await asyncio.to_thread(self._generation)
        prepared = await asyncio.to_thread(
            answerer.prepare,
            text,
            _as_messages(history, self.settings.max_input_chars),
            explain=explain,
        )
        settled = await asyncio.to_thread(self._without_llm, answerer, generator, prepared, explain)
        if settled is not None:
            return settled
        assert generator is not None  # else _without_llm gave the knowledge's answer
        return self._note(answerer, await generator.aanswer(prepared, strict=strict))

    def stream_answer(
        self,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        *,
        strict: bool = False,
    ) -> AnswerStream | StaticStream:
        """A draft for an agent UI as text deltas (``for``/``async for``); ``.answer`` at the end.

        Without an LLM the stream yields the extractive answer in one piece.
        """
        text = self._clean_question(question)
        answerer, generator = self._generation()
        prepared = answerer.prepare(text, _as_messages(history, self.settings.max_input_chars))
        settled = self._without_llm(answerer, generator, prepared, False)
        if settled is not None:
            return StaticStream(settled)
        assert generator is not None  # else _without_llm gave the knowledge's answer
        return generator.stream(prepared, strict=strict)

    # -- emotion and routing ----------------------------------------------------------------
    ESCALATION_MODEL_FILE = MODEL_FILE

    @property
    def escalation_model(self) -> Any:
        """The shop's trained escalation model (``<index_dir>/escalation-model.json``) or None."""
        with self._lock:
            if not hasattr(self, "_escalation"):
                self._escalation = load_shop_escalation(self.index_dir)
            return self._escalation

    def train_escalation(self, *paths: str | Path, **options: Any) -> Any:
        """Fit the escalation decision to the shop's labelled conversations and save it next to
        the index (used from then on by :meth:`emotion_flag` and :meth:`handle`)."""
        options.setdefault("rules", self.shop.rule_set("emotion"))
        model = train_shop_escalation(self.index_dir, paths, **options)
        with self._lock:
            self._escalation = model
        return model

    def emotion_flag(
        self, text: str, context: Sequence[Message | dict[str, Any]] | None = None
    ) -> Any:
        """Emotion, risk flags and whether to escalate, by the shop's keywords, rules, model."""
        from .emotion._flag import emotion_flag

        return emotion_flag(
            self._read(text, "text"),
            _as_messages(context, self.settings.max_input_chars),
            extra_keywords=self.shop.escalation_keywords,
            model=self.escalation_model,
            rules=self.shop.rule_set("emotion"),
        )

    def router(self, *, clock: Callable[[], datetime] | None = None) -> Router:
        """The :class:`Router` behind :meth:`handle`: this copilot answers from the knowledge,
        the index's catalogue names products, the registered :attr:`tools` serve orders."""
        _, answerer, shop = self._current()
        return Router(
            self,
            shop,
            escalation_model=self.escalation_model,
            products=answerer.products,
            clock=clock or datetime.now,
            tools=self.tools,
            llm=self.llm,
        )

    def handle(
        self,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str,
        *,
        customer_id: str | None = None,
        channel: str | None = None,
    ) -> Turn:
        """Route the conversation's last customer message: ``auto`` (send the answer), ``draft``
        (an agent checks it) or ``handoff`` (with a :class:`HandoffPacket` for the human).
        Order, logistics, stock and coupon questions use the registered :attr:`tools`; writes
        wait in ``Turn.pending_actions`` for :meth:`approve` / :meth:`reject`. With customer
        memory on, a ``customer_id`` (here or on the conversation) gets the customer's earlier
        contacts in the handoff packet, and this turn is remembered (``channel``: where from)."""
        conv = self._conversation(conversation, customer_id)
        return self._remembered(conv, self.router().handle(conv), channel)

    async def ahandle(
        self,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str,
        *,
        customer_id: str | None = None,
        channel: str | None = None,
    ) -> Turn:
        router = await asyncio.to_thread(self.router)
        conv = self._conversation(conversation, customer_id)
        turn = await router.ahandle(conv)
        return await asyncio.to_thread(self._remembered, conv, turn, channel)

    def _remembered(self, conversation: Conversation, turn: Turn, channel: str | None) -> Turn:
        memory = self.memory
        if memory is None or not conversation.customer_id:
            return turn
        if turn.handoff is not None:
            turn.handoff.customer_history = memory.lines(
                conversation.customer_id, exclude_conversation=conversation.id
            )
        memory.observe(conversation, turn, channel=channel)
        return turn

    # -- shop-system tools and approvals -----------------------------------------------------
    def register_tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        writes: bool | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Register a shop-system tool (a typed sync or async function); also a decorator:
        ``@copilot.register_tool(writes=True)``. See :class:`ToolRegistry`."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            self.tools.register(
                f, name=name, description=description, writes=writes, timeout=timeout
            )
            return f

        return add(fn) if fn is not None else add

    def approve(self, action_id: str, *, by: str | None = None) -> PendingAction:
        """Execute a write action waiting for approval; ``result``/``status`` say how it went and
        ``reply_on_success`` is the message for the customer."""
        return self._settled(self.tools.approve(action_id, by=by))

    async def aapprove(self, action_id: str, *, by: str | None = None) -> PendingAction:
        return await asyncio.to_thread(self.approve, action_id, by=by)

    def reject(self, action_id: str, reason: str = "", *, by: str | None = None) -> PendingAction:
        """Discard a write action waiting for approval (it never runs)."""
        return self._settled(self.tools.reject(action_id, reason, by=by))

    def _settled(self, action: PendingAction) -> PendingAction:
        memory = self.memory
        if memory is not None and action.status != "running":
            memory.resolve(action.id)  # no longer an open issue of the customer
        return action

    def pending_actions(self, conversation_id: str | None = None) -> list[PendingAction]:
        """Write actions waiting for a human, oldest first."""
        return self.tools.pending(conversation_id)

    # -- drafting for agents -----------------------------------------------------------------
    def _reply_advisor(self) -> ReplyAdvisor:
        _, answerer, shop = self._current()
        return ReplyAdvisor(
            answerer, shop, shop_dir=self.shop_dir
        )  # cheap to build (tokenises the product titles)

    def suggest_reply(
        self,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str,
        draft: str | None = None,
        n: int = 1,
        *,
        customer_id: str | None = None,
    ) -> list[Draft]:
        """Reply drafts for the human agent: empathetic, grounded in the knowledge and within the
        shop.yaml compensation limits; a rewrite of ``draft`` when given (its facts kept,
        ``Draft.changes`` says what changed). ``n`` distinct, deterministic variants. With
        customer memory on, the customer's earlier contacts (redacted) come first as context."""
        conv = self._conversation(conversation, customer_id)
        if draft is not None:
            draft = self._read(draft, "draft")
        return self._reply_advisor().suggest(self._with_memory(conv), draft, n)

    def _conversation(
        self,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str,
        customer_id: str | None = None,
    ) -> Conversation:
        """``conversation`` as every entry point reads it: validated (:meth:`Conversation.of`),
        with the customer id given, each message's text bounded (:func:`_bounded_messages`)."""
        return _with_customer(
            _bounded_conversation(Conversation.of(conversation), self.settings.max_input_chars),
            customer_id,
        )

    def _with_memory(self, conversation: Conversation) -> list[Message]:
        memory = self.memory
        lines = (
            memory.lines(conversation.customer_id, exclude_conversation=conversation.id)
            if (memory is not None and conversation.customer_id)
            else []
        )
        if not lines:
            return conversation.messages
        return [Message(role="system", text="；".join(lines)), *conversation.messages]

    async def asuggest_reply(
        self,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str,
        draft: str | None = None,
        n: int = 1,
        *,
        customer_id: str | None = None,
    ) -> list[Draft]:
        return await asyncio.to_thread(
            self.suggest_reply, conversation, draft, n, customer_id=customer_id
        )

    def lint_reply(
        self,
        text: str,
        conversation: Conversation | Sequence[Message | dict[str, Any]] | str | None = None,
        knowledge: Knowledge | None = None,
    ) -> list[LintIssue]:
        """Reply-style issues with this shop's banned phrases and limits (no index needed)."""
        text = self._read(text, "text")
        messages = None if conversation is None else self._conversation(conversation).messages
        return lint_reply(text, messages, self.shop, knowledge)

    def quick_replies(
        self, conversation: Conversation | Sequence[Message | dict[str, Any]] | str, k: int = 3
    ) -> list[QuickReply]:
        """The ``k`` most relevant approved replies (快捷短语), slots filled."""
        return self._reply_advisor().quick_replies(self._conversation(conversation).messages, k)

    def close(self) -> None:
        """Let go of what this copilot opened: its loaded index, its embedded vector store's
        client and its state store's connections (shared resources stay). It may be used again
        afterwards: it reopens them on demand. :class:`CopilotPool` calls this on eviction."""
        with self._lock, self._dense_lock:
            if self._store is not None and self._store_arg is _UNSET:
                if not self.settings.chroma_url:
                    release_persistent_client(self.index_dir)
                self._store = None
            self._state = None
            self._generator = None
            if self._state_store is not None:
                self._state_store.close()

    def __repr__(self) -> str:
        return f"Copilot(shop_dir={str(self.shop_dir)!r}, index_dir={str(self.index_dir)!r})"
