"""The one error hierarchy of kefu-copilot.

Every error the library raises on purpose derives from :class:`KefuError`, so a shop backend
can catch one type. Messages say what went wrong *and* what to do about it::

    KefuError
    ├── ConfigError              bad or contradictory settings, unknown preset, bad env value
    │   └── MissingExtraError    an optional feature's package is not installed
    ├── ShopError                a shop directory or shop.yaml cannot be used
    ├── IngestError              a knowledge file cannot be read or parsed
    │   └── IndexLockedError     another process is writing the same index
    ├── KnowledgeIndexError      the persisted index is missing, unreadable or from a newer version
    │   └── VectorStoreError     the vector store (Chroma) failed: server down, store unreadable
    ├── EmbeddingError           the embedding model cannot be loaded or run
    ├── PromptError              a prompt template is missing or lacks a variable
    ├── InputError               a caller's input is empty, too long or of the wrong type
    ├── EvalError                an evaluation suite line is malformed
    └── LLMError                 the language-model endpoint failed
        ├── LLMTimeoutError      the overall per-call deadline passed
        ├── LLMRateLimitError    429 after the allowed retries
        ├── LLMStatusError       any other HTTP error status (carries status and request id)
        └── LLMResponseError     the reply could not be parsed (e.g. invalid JSON after repair)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EmbeddingError",
    "EvalError",
    "IndexLockedError",
    "IngestError",
    "InputError",
    "KefuError",
    "KnowledgeIndexError",
    "LLMError",
    "LLMRateLimitError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMTimeoutError",
    "MissingExtraError",
    "PromptError",
    "ShopError",
    "VectorStoreError",
]


class KefuError(Exception):
    """Base class of every error raised by kefu-copilot."""


class ConfigError(KefuError):
    """Settings are invalid or contradictory."""


class MissingExtraError(ConfigError):
    """An optional feature needs a package that is not installed."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        self.feature, self.package, self.extra = feature, package, extra
        super().__init__(
            f"{feature} needs the '{package}' package; install it with "
            f'`pip install "kefu-copilot[{extra}]"`.'
        )


class ShopError(KefuError):
    """The shop directory or its shop.yaml cannot be used."""


class IngestError(KefuError):
    """A knowledge file cannot be read or parsed.

    ``path`` is the file relative to the shop directory, ``line`` the 1-based line where known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class IndexLockedError(IngestError):
    """Another process holds the single-writer lock of this index."""


class KnowledgeIndexError(KefuError):
    """The persisted knowledge index is missing, unreadable or incompatible."""


class VectorStoreError(KnowledgeIndexError):
    """The vector store failed: its server is unreachable or died mid-call, or its files cannot
    be read. Chunk text and the lexical index are local, so a caller can still answer from
    them; the original exception is chained as ``__cause__``."""


class EmbeddingError(KefuError):
    """The embedding model cannot be loaded or run."""


class PromptError(KefuError):
    """A prompt template is missing, or a variable it declares was not given."""


class InputError(KefuError, ValueError):
    """A caller's input is empty, too long or of the wrong type."""


class EvalError(KefuError):
    """An evaluation suite is malformed; ``path`` and ``line`` say where."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class LLMError(KefuError):
    """The language-model endpoint failed; ``status`` and ``request_id`` when the server said."""

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        self.status, self.request_id = status, request_id
        super().__init__(message)


class LLMTimeoutError(LLMError):
    """The call's overall deadline passed (connection, stalled stream or retries)."""


class LLMRateLimitError(LLMError):
    """The endpoint kept answering 429 after the allowed retries."""


class LLMStatusError(LLMError):
    """The endpoint answered an HTTP error status."""


class LLMResponseError(LLMError):
    """The endpoint's reply could not be used (malformed JSON after one repair attempt)."""
