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
)

if _TYPE_CHECKING:
    from ._cli_eval import EvalComparison, MetricDelta, compare_results
    from ._config import DEFAULT_EMBED_MODEL, Settings
    from ._conversation import Conversation
    from ._copilot import Copilot
    from ._embed import Embedder
    from ._emotion import EmotionFlag, emotion_flag
    from ._emotion_model import EscalationModel, train_escalation
    from ._evaluate import CaseType, EvalResult, register_case_type, run_suite
    from ._generate import AnswerStream
    from ._handoff import HandoffPacket
    from ._insights import analyze
    from ._insights_report import ComplaintTheme, InsightsReport, KnowledgeGap, QuestionCluster
    from ._intents import complete_with_tools
    from ._judge import LLMJudge
    from ._lint import lint_reply
    from ._llm import LLM, PRESETS, ChatMessage, Completion, OpenAIChatModel, OpenAIProvider
    from ._logs import (
        ConversationLog,
        ConversationRecord,
        LogIssue,
        read_logs,
        validate_logs,
        write_logs,
    )
    from ._models import Answer, Chunk, Citation, Decision, FileIssue, IngestReport, Message, Usage
    from ._notices import (
        DelayEvent,
        Notice,
        NoticeBatch,
        PriceDropEvent,
        StockOutEvent,
        draft_notices,
    )
    from ._pii import PIIMatch, Redaction, find_pii, redact
    from ._reply import ReplyAdvisor
    from ._reply_models import Change, Draft, LintIssue, QuickReply, SimilarCase
    from ._router import Router, Turn
    from ._shop import Compensation, ShopConfig, load_shop_config
    from ._store import VectorStore
    from ._tokenize import ChineseTokenizer, Tokenizer
    from ._tools import (
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

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Coupon": "_tools",
    "Order": "_tools",
    "OrderItem": "_tools",
    "PendingAction": "_tools",
    "Refund": "_tools",
    "Shipment": "_tools",
    "ShipmentEvent": "_tools",
    "StockLevel": "_tools",
    "Ticket": "_tools",
    "Tool": "_tools",
    "ToolError": "_tools",
    "ToolRegistry": "_tools",
    "ToolResult": "_tools",
    "VariantStock": "_tools",
    "approval_needed": "_tools",
    "tool": "_tools",
    "DelayEvent": "_notices",
    "Notice": "_notices",
    "NoticeBatch": "_notices",
    "PriceDropEvent": "_notices",
    "StockOutEvent": "_notices",
    "draft_notices": "_notices",
    "complete_with_tools": "_intents",
    "analyze": "_insights",
    "ComplaintTheme": "_insights_report",
    "InsightsReport": "_insights_report",
    "KnowledgeGap": "_insights_report",
    "QuestionCluster": "_insights_report",
    "ConversationLog": "_logs",
    "ConversationRecord": "_logs",
    "LogIssue": "_logs",
    "read_logs": "_logs",
    "validate_logs": "_logs",
    "write_logs": "_logs",
    "find_pii": "_pii",
    "redact": "_pii",
    "Redaction": "_pii",
    "PIIMatch": "_pii",
    "ReplyAdvisor": "_reply",
    "Draft": "_reply_models",
    "LintIssue": "_reply_models",
    "Change": "_reply_models",
    "SimilarCase": "_reply_models",
    "QuickReply": "_reply_models",
    "lint_reply": "_lint",
    "Conversation": "_conversation",
    "HandoffPacket": "_handoff",
    "Router": "_router",
    "Turn": "_router",
    "EmotionFlag": "_emotion",
    "EscalationModel": "_emotion_model",
    "emotion_flag": "_emotion",
    "train_escalation": "_emotion_model",
    "Answer": "_models",
    "AnswerStream": "_generate",
    "CaseType": "_evaluate",
    "ChatMessage": "_llm",
    "ChineseTokenizer": "_tokenize",
    "Chunk": "_models",
    "Citation": "_models",
    "Compensation": "_shop",
    "Completion": "_llm",
    "Copilot": "_copilot",
    "DEFAULT_EMBED_MODEL": "_config",
    "Decision": "_models",
    "Embedder": "_embed",
    "EvalComparison": "_cli_eval",
    "EvalResult": "_evaluate",
    "FileIssue": "_models",
    "IngestReport": "_models",
    "LLM": "_llm",
    "Message": "_models",
    "MetricDelta": "_cli_eval",
    "OpenAIChatModel": "_llm",
    "OpenAIProvider": "_llm",
    "PRESETS": "_llm",
    "Settings": "_config",
    "ShopConfig": "_shop",
    "Tokenizer": "_tokenize",
    "Usage": "_models",
    "VectorStore": "_store",
    "compare_results": "_cli_eval",
    "load_shop_config": "_shop",
    "register_case_type": "_evaluate",
    "run_suite": "_evaluate",
    "LLMJudge": "_judge",
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
    "Answer",
    "AnswerStream",
    "CaseType",
    "Change",
    "ChatMessage",
    "ChineseTokenizer",
    "Chunk",
    "Citation",
    "Compensation",
    "ComplaintTheme",
    "Completion",
    "ConfigError",
    "Conversation",
    "ConversationLog",
    "ConversationRecord",
    "Copilot",
    "Coupon",
    "Decision",
    "DelayEvent",
    "Draft",
    "Embedder",
    "EmbeddingError",
    "EmotionFlag",
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
    "LLMError",
    "LLMJudge",
    "LLMRateLimitError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMTimeoutError",
    "LintIssue",
    "LogIssue",
    "Message",
    "MetricDelta",
    "MissingExtraError",
    "Notice",
    "NoticeBatch",
    "OpenAIChatModel",
    "OpenAIProvider",
    "Order",
    "OrderItem",
    "PIIMatch",
    "PendingAction",
    "PriceDropEvent",
    "PromptError",
    "QuestionCluster",
    "QuickReply",
    "Redaction",
    "Refund",
    "ReplyAdvisor",
    "Router",
    "Settings",
    "Shipment",
    "ShipmentEvent",
    "ShopConfig",
    "ShopError",
    "SimilarCase",
    "StockLevel",
    "StockOutEvent",
    "Ticket",
    "Tokenizer",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "Turn",
    "Usage",
    "VariantStock",
    "VectorStore",
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
    "read_logs",
    "redact",
    "register_case_type",
    "run_suite",
    "tool",
    "train_escalation",
    "validate_logs",
    "write_logs",
]
