"""The LLM layer: a small protocol and one implementation over the ``openai`` SDK (v3).

The provider (endpoint, key, HTTP clients) is split from the model (name, token limits), so one
provider serves several models. There is exactly one retry layer — ours, with tenacity: the SDK's
own retries are switched off. Every call has one overall deadline, retries and reading included:
the HTTP client's timeouts bound each read, so a server that trickles a byte every half second
would never trip them; the sync client therefore checks the deadline as the body arrives (the
async path bounds each attempt and each stream chunk with ``asyncio.wait_for``). 408/429/5xx and
connection errors are retried (honouring ``retry-after``), other 4xx are not. Errors surface as typed
:class:`~kefu_copilot.LLMError` subclasses carrying the HTTP status and request id.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, runtime_checkable

from .._errors import (
    ConfigError,
    LLMError,
    LLMRateLimitError,
    LLMStatusError,
    LLMTimeoutError,
)
from .._models import Usage

__all__ = [
    "LLM",
    "PRESETS",
    "ChatMessage",
    "Completion",
    "OpenAIChatModel",
    "OpenAIProvider",
    "Preset",
]

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class ChatMessage(TypedDict):
    role: str
    content: str


@dataclass(frozen=True)
class Completion:
    """One finished chat completion."""

    text: str
    usage: Usage
    model: str = ""
    request_id: str | None = None
    finish_reason: str | None = None


@runtime_checkable
class LLM(Protocol):
    """What kefu-copilot needs from a chat model."""

    @property
    def name(self) -> str: ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion: ...

    async def acomplete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]: ...

    def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]: ...


@dataclass(frozen=True)
class Preset:
    base_url: str
    model: str | None
    api_key_env: str | None = None
    default_api_key: str | None = None


PRESETS: dict[str, Preset] = {
    "openai": Preset("https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY"),
    "deepseek": Preset("https://api.deepseek.com/v1", "deepseek-chat", "DEEPSEEK_API_KEY"),
    "qwen": Preset(
        "https://dashscope.aliyuncs.com/compatible-mode/v1", "qwen-plus", "DASHSCOPE_API_KEY"
    ),
    "moonshot": Preset("https://api.moonshot.cn/v1", "moonshot-v1-8k", "MOONSHOT_API_KEY"),
    "vllm": Preset("http://127.0.0.1:8000/v1", None, None, "EMPTY"),
    "ollama": Preset("http://127.0.0.1:11434/v1", "qwen2.5:7b-instruct", None, "ollama"),
}


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value:
            try:
                seconds = float(value) / (1000 if name.endswith("ms") else 1)
            except ValueError:
                continue
            return max(0.0, min(seconds, 60.0))
    return None


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS
    return False


def _translate(exc: BaseException, deadline_passed: bool = False) -> LLMError:
    import openai

    if isinstance(exc, LLMError):
        return exc
    if (
        deadline_passed
        or isinstance(exc, openai.APITimeoutError)
        or type(exc).__name__ in _HTTP_TIMEOUTS
    ):
        return LLMTimeoutError(f"the LLM call did not finish before its deadline ({exc})")
    if isinstance(exc, openai.RateLimitError):
        return LLMRateLimitError(
            f"rate limited by the LLM endpoint after retries: {exc.message}",
            status=exc.status_code,
            request_id=exc.request_id,
        )
    if isinstance(exc, openai.APIStatusError):
        hint = " (check KEFU_LLM_API_KEY)" if exc.status_code in (401, 403) else ""
        return LLMStatusError(
            f"LLM endpoint answered {exc.status_code}: {exc.message}{hint}",
            status=exc.status_code,
            request_id=exc.request_id,
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot reach the LLM endpoint: {exc} (check KEFU_LLM_BASE_URL)")
    return LLMError(f"LLM call failed: {exc!r}")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()


# The end (time.monotonic()) of the sync call in progress in this thread; the HTTP client reads
# it when a request is sent and holds the response body to it.
_CALL_END: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "kefu_llm_call_end", default=None
)
# httpx's timeout exceptions (a body read past the deadline raises ReadTimeout), by name: the SDK
# may use httpx or its fork httpx2, and a stream surfaces them unwrapped.
_HTTP_TIMEOUTS = frozenset({"ReadTimeout", "WriteTimeout", "ConnectTimeout", "PoolTimeout"})


def _deadline_http_client(timeout: float) -> Any:
    """An HTTP client for the sync SDK client that ends a response body at the call's deadline.

    The client sends as usual (proxies from the environment included) and wraps each response
    body sent within a call: once the deadline has passed, the next piece of body that arrives
    raises ``ReadTimeout`` instead of being read (the SDK turns it into a timeout error)."""
    try:
        import httpx2 as http  # what openai>=3 uses
    except ImportError:  # pragma: no cover - an SDK on plain httpx
        import httpx as http  # type: ignore[no-redef]

    class DeadlineStream(http.SyncByteStream):
        def __init__(self, inner: Any, end: float, request: Any) -> None:
            self._inner, self._end, self._request = inner, end, request

        def __iter__(self) -> Iterator[bytes]:
            for piece in self._inner:
                if time.monotonic() > self._end:
                    raise http.ReadTimeout(
                        "the response did not arrive before the call's deadline",
                        request=self._request,
                    )
                yield piece

        def close(self) -> None:
            self._inner.close()

    class DeadlineClient(http.Client):
        def send(self, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
            end = _CALL_END.get()
            if end is None:
                return super().send(request, stream=stream, **kwargs)
            response = super().send(request, stream=True, **kwargs)
            response.stream = DeadlineStream(response.stream, end, request)
            if not stream:
                try:
                    response.read()
                except BaseException:
                    response.close()
                    raise
            return response

    return DeadlineClient(
        timeout=timeout,
        follow_redirects=True,
        limits=http.Limits(max_connections=1000, max_keepalive_connections=100),
    )


class OpenAIProvider:
    """An OpenAI-compatible endpoint: base URL, key, and the SDK clients (created lazily).

    The sync client is shared by all threads; async clients are created per event loop.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        if not base_url:
            raise ConfigError("an LLM needs a base URL: set KEFU_LLM_BASE_URL or llm_preset")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or "EMPTY"
        self.timeout = timeout
        self.max_retries = max_retries
        self._headers = default_headers or {}
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @classmethod
    def from_preset(
        cls,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> OpenAIProvider:
        import os

        preset = PRESETS.get(name.lower())
        if preset is None:
            raise ConfigError(
                f"unknown LLM preset {name!r}; choose one of {', '.join(sorted(PRESETS))}"
            )
        key = (
            api_key
            or (os.environ.get(preset.api_key_env) if preset.api_key_env else None)
            or preset.default_api_key
        )
        if not key:
            raise ConfigError(
                f"the {name} preset needs an API key: set KEFU_LLM_API_KEY or {preset.api_key_env}"
            )
        return cls(base_url or preset.base_url, key, timeout=timeout, max_retries=max_retries)

    def client(self) -> Any:
        with self._lock:
            if self._sync is None:
                import openai

                self._sync = openai.OpenAI(
                    base_url=self.base_url,
                    api_key=self.api_key,
                    max_retries=0,
                    timeout=self.timeout,
                    default_headers=self._headers,
                    http_client=_deadline_http_client(self.timeout),
                )
            return self._sync

    def async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async.get(loop)
            if client is None:
                import openai

                client = openai.AsyncOpenAI(
                    base_url=self.base_url,
                    api_key=self.api_key,
                    max_retries=0,
                    timeout=self.timeout,
                    default_headers=self._headers,
                )
                self._async[loop] = client
            return client

    # -- the one retry layer -----------------------------------------------------------------
    def _retry_policy(self, deadline: _Deadline) -> dict[str, Any]:
        """tenacity's policy for one call: which errors, how long to wait, when to give up."""
        from tenacity import retry_if_exception, stop_after_attempt, wait_random_exponential

        return {
            "retry": retry_if_exception(_retryable),
            "wait": _WaitRetryAfter(wait_random_exponential(multiplier=0.25, max=8)),
            # Every attempt counts, also when the server said when to come back.
            "stop": _Stop(stop_after_attempt(self.max_retries + 1), deadline),
            "reraise": True,  # the last error itself, translated by the caller
        }

    def call(self, fn: Any, deadline: _Deadline) -> Any:
        from tenacity import Retrying

        def attempt() -> Any:
            return fn(_time_left(deadline))

        token = _CALL_END.set(deadline.end)  # the HTTP client holds each body to the deadline
        try:
            return Retrying(**self._retry_policy(deadline))(attempt)
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc, deadline.remaining() <= 0) from exc
        finally:
            _CALL_END.reset(token)

    async def acall(self, fn: Any, deadline: _Deadline) -> Any:
        from tenacity import AsyncRetrying

        async def attempt() -> Any:
            remaining = _time_left(deadline)
            try:
                return await asyncio.wait_for(fn(remaining), timeout=remaining + 0.5)
            except TimeoutError as exc:  # the SDK's own timeout failed to fire: do not retry
                raise LLMTimeoutError("the LLM call did not finish before its deadline") from exc

        try:
            return await AsyncRetrying(**self._retry_policy(deadline))(attempt)
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc


def _time_left(deadline: _Deadline) -> float:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise LLMTimeoutError("the LLM call did not finish before its deadline")
    return remaining


@dataclass(frozen=True)
class _WaitRetryAfter:
    """tenacity wait: the server's ``retry-after`` when it sent one, else ``backoff``."""

    backoff: Any  # a tenacity wait strategy (jittered exponential)

    def __call__(self, retry_state: Any) -> float:
        outcome = retry_state.outcome
        told = _retry_after(outcome.exception()) if outcome is not None else None
        return float(self.backoff(retry_state)) if told is None else told


@dataclass(frozen=True)
class _Stop:
    """tenacity stop: after ``attempts``, or rather than sleep into the call's deadline
    (tenacity has picked the pause, ``upcoming_sleep``, before it asks whether to stop)."""

    attempts: Any  # stop_after_attempt(n)
    deadline: _Deadline

    def __call__(self, retry_state: Any) -> bool:
        return bool(
            self.attempts(retry_state) or retry_state.upcoming_sleep >= self.deadline.remaining()
        )


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return Usage(
        prompt_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
    )


class OpenAIChatModel:
    """A chat model at an :class:`OpenAIProvider`. Thread-safe; no state between calls."""

    def __init__(
        self,
        provider: OpenAIProvider,
        model: str,
        *,
        max_tokens: int = 600,
        temperature: float = 0.2,
        timeout: float | None = None,
    ) -> None:
        if not model:
            raise ConfigError("an LLM needs a model name: set KEFU_LLM_MODEL")
        self.provider = provider
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout = timeout or provider.timeout

    @property
    def name(self) -> str:
        return f"{self.model}@{self.provider.base_url}"

    def _kwargs(
        self, messages: Sequence[ChatMessage], json_mode: bool, max_tokens: int | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature,
        }
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    @staticmethod
    def _completion(response: Any) -> Completion:
        choice = response.choices[0] if getattr(response, "choices", None) else None
        if choice is None:
            raise LLMError("the LLM endpoint returned no choices")
        return Completion(
            text=choice.message.content or "",
            usage=_usage(getattr(response, "usage", None)),
            model=getattr(response, "model", "") or "",
            request_id=getattr(response, "_request_id", None),
            finish_reason=choice.finish_reason,
        )

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion:
        client = self.provider.client()
        kwargs = self._kwargs(messages, json_mode, max_tokens)

        def attempt(remaining: float) -> Any:
            return client.chat.completions.create(**kwargs, timeout=min(remaining, self.timeout))

        try:
            response = self.provider.call(attempt, _Deadline(self.timeout))
        except LLMError:
            raise
        except Exception as exc:  # the SDK failed to parse a garbage body, etc.
            raise _translate(exc) from exc
        return self._completion(response)

    async def acomplete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> Completion:
        client = self.provider.async_client()
        kwargs = self._kwargs(messages, json_mode, max_tokens)

        async def attempt(remaining: float) -> Any:
            return await client.chat.completions.create(
                **kwargs, timeout=min(remaining, self.timeout)
            )

        try:
            response = await self.provider.acall(attempt, _Deadline(self.timeout))
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        return self._completion(response)

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        """Text deltas. A stream that stalls or runs past the deadline raises LLMTimeoutError."""
        client = self.provider.client()
        deadline = _Deadline(self.timeout)
        kwargs = self._kwargs(messages, False, max_tokens)

        def attempt(remaining: float) -> Any:
            return client.chat.completions.create(
                **kwargs, stream=True, timeout=min(remaining, self.timeout)
            )

        stream = self.provider.call(attempt, deadline)
        try:
            for chunk in stream:
                if deadline.remaining() <= 0:
                    raise LLMTimeoutError("the LLM stream ran past its deadline")
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        finally:
            stream.close()

    async def astream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        client = self.provider.async_client()
        deadline = _Deadline(self.timeout)
        kwargs = self._kwargs(messages, False, max_tokens)

        async def attempt(remaining: float) -> Any:
            return await client.chat.completions.create(
                **kwargs, stream=True, timeout=min(remaining, self.timeout)
            )

        stream = await self.provider.acall(attempt, deadline)
        try:
            iterator = stream.__aiter__()
            while True:
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise LLMTimeoutError("the LLM stream ran past its deadline")
                try:
                    chunk = await asyncio.wait_for(iterator.__anext__(), timeout=remaining)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise LLMTimeoutError("the LLM stream stalled past its deadline") from exc
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        finally:
            await stream.close()


def build_llm(settings: Any) -> OpenAIChatModel | None:
    """The LLM the settings describe, or None when none is configured."""
    if not (settings.llm_preset or settings.llm_base_url or settings.llm_model):
        return None
    if settings.llm_preset:
        preset = PRESETS.get(settings.llm_preset.lower())
        provider = OpenAIProvider.from_preset(
            settings.llm_preset,
            api_key=settings.llm_api_key_value,
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
        model = settings.llm_model or (preset.model if preset else None)
    else:
        provider = OpenAIProvider(
            settings.llm_base_url or "",
            settings.llm_api_key_value,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
        model = settings.llm_model
    return OpenAIChatModel(
        provider,
        model or "",
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout,
    )
