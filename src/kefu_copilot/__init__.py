"""kefu-copilot: a customer-service (客服) copilot for Chinese e-commerce shops.

Heavy libraries (jieba, chromadb, fastembed, numpy-backed indexes) load lazily, on first use.
"""

from __future__ import annotations

from ._config import DEFAULT_EMBED_MODEL, Settings
from ._copilot import Copilot
from ._embed import Embedder
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
from ._generate import AnswerStream
from ._llm import LLM, PRESETS, ChatMessage, Completion, OpenAIChatModel, OpenAIProvider
from ._models import Answer, Chunk, Citation, Decision, FileIssue, IngestReport, Message, Usage
from ._shop import Compensation, ShopConfig, load_shop_config
from ._store import VectorStore
from ._tokenize import ChineseTokenizer, Tokenizer

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_EMBED_MODEL",
    "LLM",
    "PRESETS",
    "Answer",
    "AnswerStream",
    "ChatMessage",
    "ChineseTokenizer",
    "Chunk",
    "Citation",
    "Compensation",
    "Completion",
    "ConfigError",
    "Copilot",
    "Decision",
    "Embedder",
    "EmbeddingError",
    "EvalError",
    "FileIssue",
    "IndexLockedError",
    "IngestError",
    "IngestReport",
    "InputError",
    "KefuError",
    "KnowledgeIndexError",
    "LLMError",
    "LLMRateLimitError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMTimeoutError",
    "Message",
    "MissingExtraError",
    "OpenAIChatModel",
    "OpenAIProvider",
    "PromptError",
    "Settings",
    "ShopConfig",
    "ShopError",
    "Tokenizer",
    "Usage",
    "VectorStore",
    "__version__",
    "load_shop_config",
]
