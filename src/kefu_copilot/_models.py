"""Result and data models owned by kefu-copilot (pydantic v2).

No llama-index or chroma object ever leaves the library: adapters convert to these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "Answer",
    "Chunk",
    "ChunkKind",
    "Citation",
    "Decision",
    "FileIssue",
    "IngestReport",
    "Message",
    "Query",
    "Role",
    "Trace",
    "TraceCandidate",
    "Usage",
]

Decision = Literal["auto", "draft", "handoff"]
Role = Literal["customer", "agent", "bot", "system"]
ChunkKind = Literal["faq", "product", "table_row", "policy", "case"]


class Message(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    text: str
    ts: datetime | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable unit of knowledge with what is needed to cite it.

    ``text`` is what a customer may be shown; ``match_text`` is what lexical retrieval indexes
    (e.g. an FAQ's question plus its similar phrasings). A slotted dataclass rather than a
    pydantic model: an index of 100k chunks loads in a fraction of a second.
    """

    id: str
    kind: ChunkKind
    source: str  # path relative to the shop directory
    locator: str  # where in the source: heading, table row, FAQ row, line
    title: str = ""
    text: str = ""
    match_text: str = ""
    question: str | None = None
    answer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The non-default fields, for storage."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "locator": self.locator,
        }
        for name in ("title", "text", "match_text", "question", "answer", "meta"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


class Citation(BaseModel):
    """A piece of knowledge an answer relies on."""

    model_config = ConfigDict(frozen=True)

    source: str
    locator: str
    snippet: str
    score: float = Field(ge=0, le=1)
    chunk_id: str | None = None

    def __str__(self) -> str:
        return f"{self.source} ({self.locator})"


class Usage(BaseModel):
    """Token usage of the LLM calls that produced a result (zero without an LLM)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Query:
    """One question as the pipeline reads it: normalised, segmented and tokenised once, at the
    entry, then handed to retrieval and answering (which never re-read the raw text).

    ``words`` are the tokenizer's content words; ``terms`` the same words split into the
    words the knowledge uses ("金卡要" → "金卡"), what coverage is measured on; ``bigrams``
    the question's character bigrams that are not terms. ``products`` are the product pages
    the question is about (named in it or, failing that, in the last turns: then their titles
    are the ``context`` added to the retrieval text).
    """

    text: str
    normalized: str
    words: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    bigrams: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()  # retrieval tokens of ``text``
    numbers: tuple[float, ...] = ()
    products: tuple[str, ...] = ()
    context: str = ""
    search_tokens: tuple[str, ...] | None = None  # of :attr:`search_text` (None: not read yet)
    matched: str = ""  # the question as matched (see below; "": ``text`` itself)
    repairs: tuple[str, ...] = ()  # what was repaired to get ``matched``, for the trace

    @property
    def search_text(self) -> str:
        """What retrieval looks for: the question as matched (personal data masked, 繁→简,
        English words and typos repaired: :mod:`kefu_copilot.text._query`), plus the products
        the conversation is about."""
        return self.search_of(self.matched or self.text, self.context)

    @staticmethod
    def search_of(matched: str, context: str) -> str:
        """:attr:`search_text` of a question as matched and its conversation's products."""
        return f"{matched} {context}".strip()


class TraceCandidate(BaseModel):
    """One scored candidate of a :class:`Trace`: the retrievers' evidence and its support."""

    rank: int  # by support (1 = the best match)
    chunk_id: str
    source: str
    locator: str
    kind: str
    retrieved: int | None = None  # position in the retrieval list (None: added as product page)
    score: float = 0.0  # fused retrieval score
    bm25: float = 0.0
    faq: float = 0.0
    dense: float = 0.0
    ranks: dict[str, int] = Field(default_factory=dict)  # per retriever (1 = its best)
    basis: str = ""  # how support was measured
    steps: dict[str, float] = Field(default_factory=dict)  # support after each step, in order
    support: float = 0.0
    cited: bool = False


class Trace(BaseModel):
    """Why an answer came out as it did: what was read from the question, what was retrieved and
    how well each candidate supports it, the rule that decided and the thresholds applied.

    Produced only on request (``explain=True``); rendered by ``rich`` as a table.
    """

    question: str
    normalized: str = ""
    terms: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    context: str = ""
    candidates: list[TraceCandidate] = Field(default_factory=list)
    scored: int = 0  # candidates scored (``candidates`` holds the best of them)
    rule: str  # what decided: handoff_rule, courtesy, handoff_model, nothing_asked, no_match,
    # human_section, typed or thresholds
    reasons: list[str] = Field(default_factory=list)
    auto_threshold: float
    draft_threshold: float
    confidence: float = 0.0
    decision: Decision
    #: an LLM reply's grounding measures (the decision model's inputs, ``answer._decision``)
    grounding: dict[str, float] = Field(default_factory=dict)
    #: the hard rule that decided instead of the model ("" when the model decided or none ran)
    grounding_rule: str = ""
    grounding_probability: float | None = None  # the model's P(faithful), when it decided

    def __rich__(self) -> Any:
        from .present._trace import trace_table

        return trace_table(self)


class Answer(BaseModel):
    """What the copilot would say to a shopper, and whether it may say it unattended.

    ``decision``: ``auto`` (send), ``draft`` (an agent checks it first) or ``handoff`` (a human
    takes over; ``text`` is then the shop's handoff message).
    """

    question: str
    text: str
    decision: Decision
    confidence: float = Field(ge=0, le=1)
    citations: list[Citation] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    mode: Literal["extractive", "llm"] = "extractive"
    usage: Usage = Field(default_factory=Usage)
    trace: Trace | None = None  # with ``explain=True``: how the answer was reached

    @model_serializer(mode="wrap")
    def _without_empty_trace(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Dumps leave ``trace`` out when there is none: answers read as before explain existed."""
        data = handler(self)
        if self.trace is None and isinstance(data, dict):
            data.pop("trace", None)
        return data

    def __rich__(self) -> Any:
        from .present._console import answer_panel

        return answer_panel(self)

    def _repr_html_(self) -> str:
        from .present._html import answer_html

        return answer_html(self)


class FileIssue(BaseModel):
    """A file (or part of one) that ingestion skipped or flagged."""

    source: str
    problem: str
    kind: Literal["skipped", "suspicious", "warning"] = "skipped"


class IngestReport(BaseModel):
    """What one ingestion run did."""

    shop_dir: str
    index_dir: str
    generation: int
    files_added: list[str] = Field(default_factory=list)
    files_updated: list[str] = Field(default_factory=list)
    files_removed: list[str] = Field(default_factory=list)
    files_unchanged: list[str] = Field(default_factory=list)
    chunks_total: int = 0
    chunks_embedded: int = 0
    issues: list[FileIssue] = Field(default_factory=list)
    dense: bool = False
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.files_added or self.files_updated or self.files_removed)

    def __rich__(self) -> Any:
        from .present._console import ingest_table

        return ingest_table(self)

    def _repr_html_(self) -> str:
        from .present._html import ingest_html

        return ingest_html(self)
