"""kefu-copilot: a customer-service (客服) copilot for Chinese e-commerce shops.

``import kefu_copilot`` is cheap: the public names below are imported from their private
modules on first use (PEP 562), and heavy libraries (jieba, chromadb, fastembed, openai) load
only when a feature needs them.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._errors import (
    ConfigError,
    EmbeddingError,
    EvalError,
    IndexLockedError,
    IngestError,
    InputError,
    KefuError,
    KnowledgeIndexError,
    LLMError,
    LLMRateLimitError,
    LLMResponseError,
    LLMStatusError,
    LLMTimeoutError,
    MissingExtraError,
    PromptError,
    ShopError,
    VectorStoreError,
)

if _TYPE_CHECKING:
    from ._copilot import Copilot
    from ._models import (
        Answer,
        Chunk,
        Citation,
        Decision,
        FileIssue,
        IngestReport,
        Message,
        Trace,
        Usage,
    )
    from ._pool import CopilotPool, PoolStats, ShopLocation
    from ._resources import SharedResources
    from .agent._approvals import AuditRecord
    from .agent._conversation import Conversation
    from .agent._handoff import HandoffPacket
    from .agent._intents import complete_with_tools
    from .agent._memory import CustomerMemory, MemoryBook
    from .agent._notices import (
        DelayEvent,
        Notice,
        NoticeBatch,
        PriceDropEvent,
        StockOutEvent,
        draft_notices,
    )
    from .agent._router import Router, Turn
    from .agent._tools import (
        Coupon,
        Order,
        OrderItem,
        PendingAction,
        Refund,
        Shipment,
        ShipmentEvent,
        StockLevel,
        Ticket,
        Tool,
        ToolError,
        ToolRegistry,
        ToolResult,
        VariantStock,
        approval_needed,
        tool,
    )
    from .answer._claims import Entailment, LLMEntailment, RuleEntailment
    from .answer._generate import AnswerStream
    from .config._settings import DEFAULT_EMBED_MODEL, Settings
    from .config._shop import Compensation, ShopConfig, load_shop_config
    from .embed._embedder import Embedder
    from .emotion._flag import EmotionFlag, emotion_flag
    from .emotion._model import EscalationModel, train_escalation
    from .evals._compare import EvalComparison, MetricDelta, compare_results
    from .evals._judge import LLMJudge
    from .evals._runner import CaseType, EvalResult, register_case_type, run_suite
    from .index._vectors import VectorStore
    from .insights._analyze import analyze
    from .insights._logfile import (
        ConversationLog,
        ConversationRecord,
        LogIssue,
        read_logs,
        validate_logs,
        write_logs,
    )
    from .insights._report import ComplaintTheme, InsightsReport, KnowledgeGap, QuestionCluster
    from .llm._chat import LLM, PRESETS, ChatMessage, Completion, OpenAIChatModel, OpenAIProvider
    from .presales._advisor import Advisor
    from .presales._models import Comparison, Pick, Recommendation, Suggestion
    from .presales._needs import Needs, read_needs
    from .presales._proactive import CartAbandonmentEvent, LapsedCustomerEvent
    from .reply._advisor import ReplyAdvisor
    from .reply._lint import lint_reply
    from .reply._models import Change, Draft, LintIssue, QuickReply, SimilarCase
    from .state._open import open_state_store
    from .state._store import StateError, StateStore
    from .text._pii import PIIMatch, Redaction, find_pii, redact
    from .text._tokenize import ChineseTokenizer, Tokenizer

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Coupon": "agent._tools",
    "Order": "agent._tools",
    "OrderItem": "agent._tools",
    "PendingAction": "agent._tools",
    "Refund": "agent._tools",
    "Shipment": "agent._tools",
    "ShipmentEvent": "agent._tools",
    "StockLevel": "agent._tools",
    "Ticket": "agent._tools",
    "Tool": "agent._tools",
    "ToolError": "agent._tools",
    "ToolRegistry": "agent._tools",
    "ToolResult": "agent._tools",
    "VariantStock": "agent._tools",
    "approval_needed": "agent._tools",
    "tool": "agent._tools",
    "DelayEvent": "agent._notices",
    "Notice": "agent._notices",
    "NoticeBatch": "agent._notices",
    "PriceDropEvent": "agent._notices",
    "StockOutEvent": "agent._notices",
    "draft_notices": "agent._notices",
    "Advisor": "presales._advisor",
    "CartAbandonmentEvent": "presales._proactive",
    "Comparison": "presales._models",
    "LapsedCustomerEvent": "presales._proactive",
    "Needs": "presales._needs",
    "Pick": "presales._models",
    "Recommendation": "presales._models",
    "Suggestion": "presales._models",
    "read_needs": "presales._needs",
    "complete_with_tools": "agent._intents",
    "AuditRecord": "agent._approvals",
    "CustomerMemory": "agent._memory",
    "MemoryBook": "agent._memory",
    "StateError": "state._store",
    "StateStore": "state._store",
    "open_state_store": "state._open",
    "analyze": "insights._analyze",
    "ComplaintTheme": "insights._report",
    "InsightsReport": "insights._report",
    "KnowledgeGap": "insights._report",
    "QuestionCluster": "insights._report",
    "ConversationLog": "insights._logfile",
    "ConversationRecord": "insights._logfile",
    "LogIssue": "insights._logfile",
    "read_logs": "insights._logfile",
    "validate_logs": "insights._logfile",
    "write_logs": "insights._logfile",
    "find_pii": "text._pii",
    "redact": "text._pii",
    "Redaction": "text._pii",
    "PIIMatch": "text._pii",
    "ReplyAdvisor": "reply._advisor",
    "Draft": "reply._models",
    "LintIssue": "reply._models",
    "Change": "reply._models",
    "SimilarCase": "reply._models",
    "QuickReply": "reply._models",
    "lint_reply": "reply._lint",
    "Conversation": "agent._conversation",
    "HandoffPacket": "agent._handoff",
    "Router": "agent._router",
    "Turn": "agent._router",
    "EmotionFlag": "emotion._flag",
    "EscalationModel": "emotion._model",
    "emotion_flag": "emotion._flag",
    "train_escalation": "emotion._model",
    "Answer": "_models",
    "AnswerStream": "answer._generate",
    "CaseType": "evals._runner",
    "ChatMessage": "llm._chat",
    "ChineseTokenizer": "text._tokenize",
    "Chunk": "_models",
    "Citation": "_models",
    "Compensation": "config._shop",
    "Completion": "llm._chat",
    "Copilot": "_copilot",
    "CopilotPool": "_pool",
    "PoolStats": "_pool",
    "SharedResources": "_resources",
    "ShopLocation": "_pool",
    "DEFAULT_EMBED_MODEL": "config._settings",
    "Decision": "_models",
    "Embedder": "embed._embedder",
    "Entailment": "answer._claims",
    "LLMEntailment": "answer._claims",
    "RuleEntailment": "answer._claims",
    "EvalComparison": "evals._compare",
    "EvalResult": "evals._runner",
    "FileIssue": "_models",
    "IngestReport": "_models",
    "LLM": "llm._chat",
    "Message": "_models",
    "MetricDelta": "evals._compare",
    "OpenAIChatModel": "llm._chat",
    "OpenAIProvider": "llm._chat",
    "PRESETS": "llm._chat",
    "Settings": "config._settings",
    "ShopConfig": "config._shop",
    "Tokenizer": "text._tokenize",
    "Trace": "_models",
    "Usage": "_models",
    "VectorStore": "index._vectors",
    "compare_results": "evals._compare",
    "load_shop_config": "config._shop",
    "register_case_type": "evals._runner",
    "run_suite": "evals._runner",
    "LLMJudge": "evals._judge",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_EMBED_MODEL",
    "LLM",
    "PRESETS",
    "Advisor",
    "Answer",
    "AnswerStream",
    "AuditRecord",
    "CartAbandonmentEvent",
    "CaseType",
    "Change",
    "ChatMessage",
    "ChineseTokenizer",
    "Chunk",
    "Citation",
    "Comparison",
    "Compensation",
    "ComplaintTheme",
    "Completion",
    "ConfigError",
    "Conversation",
    "ConversationLog",
    "ConversationRecord",
    "Copilot",
    "CopilotPool",
    "Coupon",
    "CustomerMemory",
    "Decision",
    "DelayEvent",
    "Draft",
    "Embedder",
    "EmbeddingError",
    "EmotionFlag",
    "Entailment",
    "EscalationModel",
    "EvalComparison",
    "EvalError",
    "EvalResult",
    "FileIssue",
    "HandoffPacket",
    "IndexLockedError",
    "IngestError",
    "IngestReport",
    "InputError",
    "InsightsReport",
    "KefuError",
    "KnowledgeGap",
    "KnowledgeIndexError",
    "LLMEntailment",
    "LLMError",
    "LLMJudge",
    "LLMRateLimitError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMTimeoutError",
    "LapsedCustomerEvent",
    "LintIssue",
    "LogIssue",
    "MemoryBook",
    "Message",
    "MetricDelta",
    "MissingExtraError",
    "Needs",
    "Notice",
    "NoticeBatch",
    "OpenAIChatModel",
    "OpenAIProvider",
    "Order",
    "OrderItem",
    "PIIMatch",
    "PendingAction",
    "Pick",
    "PoolStats",
    "PriceDropEvent",
    "PromptError",
    "QuestionCluster",
    "QuickReply",
    "Recommendation",
    "Redaction",
    "Refund",
    "ReplyAdvisor",
    "Router",
    "RuleEntailment",
    "Settings",
    "SharedResources",
    "Shipment",
    "ShipmentEvent",
    "ShopConfig",
    "ShopError",
    "ShopLocation",
    "SimilarCase",
    "StateError",
    "StateStore",
    "StockLevel",
    "StockOutEvent",
    "Suggestion",
    "Ticket",
    "Tokenizer",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "Trace",
    "Turn",
    "Usage",
    "VariantStock",
    "VectorStore",
    "VectorStoreError",
    "__version__",
    "analyze",
    "approval_needed",
    "compare_results",
    "complete_with_tools",
    "draft_notices",
    "emotion_flag",
    "find_pii",
    "lint_reply",
    "load_shop_config",
    "open_state_store",
    "read_logs",
    "read_needs",
    "redact",
    "register_case_type",
    "run_suite",
    "tool",
    "train_escalation",
    "validate_logs",
    "write_logs",
]
