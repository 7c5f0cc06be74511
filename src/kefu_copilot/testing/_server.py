"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Stdlib only: :class:`http.server.ThreadingHTTPServer` (HTTP/1.1 keep-alive; SSE with chunked
encoding) in a daemon thread. Point the real ``openai`` SDK at :attr:`LoopbackLLMServer.base_url`
and script each answer: canned replies, a function of the request, errors with ``retry-after``,
slow answers, cut, stalled or trickled streams, invalid JSON. Every wait is on an :class:`~threading.Event`,
so :meth:`LoopbackLLMServer.close` returns promptly even while a handler sleeps.
"""

from __future__ import annotations

import json
import math
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Literal, cast

__all__ = ["LoopbackLLMServer", "RecordedRequest", "Responder", "Response", "loopback_llm"]

StreamMode = Literal["complete", "cut", "stall", "trickle"]
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}
_CODES = {401: "invalid_api_key", 404: "not_found", 429: "rate_limit_exceeded"}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error document ``{"error": {"message", "type", "param", "code"}}``."""
    kind = "server_error" if status >= 500 else _TYPES.get(status, "invalid_request_error")
    kind = "rate_limit_error" if status == 429 else kind
    message = message or f"Loopback server scripted error (HTTP {status})."
    return {"error": {"message": message, "type": kind, "param": None, "code": _CODES.get(status)}}


def _text_of(content: Any) -> str:
    """Flatten message content (a string or a list of ``{"type": "text"}`` parts) to text."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as received (``headers`` keys lower-cased; ``json`` None if not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    request_id: str
    received_at: float

    def get(self, key: str, default: Any = None) -> Any:
        """A top-level field of the JSON body."""
        return self.json.get(key, default) if isinstance(self.json, dict) else default

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.get("messages")
        return messages if isinstance(messages, list) else []

    @property
    def model(self) -> str | None:
        return cast("str | None", self.get("model"))

    @property
    def stream(self) -> bool:
        return bool(self.get("stream"))

    @property
    def include_usage(self) -> bool:
        options = self.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))

    @property
    def max_tokens(self) -> int | None:
        """``max_tokens``, else ``max_completion_tokens``."""
        return cast("int | None", self.get("max_tokens", self.get("max_completion_tokens")))

    @property
    def last_user_text(self) -> str:
        """Text of the last ``user`` message ("" if none)."""
        users = [m for m in self.messages if isinstance(m, dict) and m.get("role") == "user"]
        return _text_of(users[-1].get("content")) if users else ""


@dataclass
class Response:
    """A scripted answer; the defaults give a normal 200 completion.

    ``content=None`` without ``tool_calls`` asks the default responder for the content, so
    ``Response(delay=2)`` is "the usual answer, slowly". ``body`` (dict → JSON, str, bytes) is
    sent verbatim instead of a completion, as is every ``status >= 400`` answer (OpenAI error
    JSON when ``body`` is None). ``stream_mode="cut"`` sends ``after_chunks`` SSE events, then
    drops the connection; ``"stall"`` sends them, then hangs until the server closes (for a
    non-streaming request both apply to half the body). ``"trickle"`` sends the whole answer
    one byte every ``chunk_delay`` seconds after the headers (a proxy keeping a dying upstream
    alive): every read gets data, so only an overall deadline ends it. ``tool_calls`` items are ``{"name",
    "arguments"}`` (dict or str) or full OpenAI objects; ``usage`` overrides the approximate
    (characters / 2) token counts. ``chunk_size`` characters go in each content delta.
    """

    content: str | None = None
    status: int = 200
    tool_calls: list[dict[str, Any]] | None = None
    usage: dict[str, int] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    finish_reason: str | None = None
    body: bytes | str | dict[str, Any] | None = None
    content_type: str = "application/json"
    stream_mode: StreamMode = "complete"
    after_chunks: int = 1
    chunk_size: int = 4
    chunk_delay: float = 0.0


Responder = Callable[[RecordedRequest], "str | Response"]


def _tool_calls(resp: Response) -> list[dict[str, Any]]:
    out = []
    for call in resp.tool_calls or []:
        fn = call.get("function") or {"name": call.get("name"), "arguments": call.get("arguments")}
        args = fn.get("arguments")
        args = args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
        call_id = call.get("id") or f"call_{uuid.uuid4().hex[:24]}"
        out.append({"id": call_id, "type": "function", "function": {**fn, "arguments": args}})
    return out


def _completion_parts(
    req: RecordedRequest, resp: Response, model: str
) -> tuple[dict[str, Any], str, list[dict[str, Any]], dict[str, int]]:
    """Envelope fields, finish reason, tool calls and usage shared by both response shapes."""
    calls = _tool_calls(resp)
    prompt = sum(math.ceil(len(_text_of(m.get("content"))) / 2) for m in req.messages)
    output = resp.content or "".join(c["function"]["arguments"] for c in calls)
    usage = {"prompt_tokens": prompt, "completion_tokens": math.ceil(len(output) / 2)}
    usage |= resp.usage or {}
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    envelope = {"id": f"chatcmpl-{req.request_id[4:]}", "created": int(req.received_at)}
    finish = resp.finish_reason or ("tool_calls" if calls else "stop")
    return envelope | {"model": model}, finish, calls, usage


def _completion(req: RecordedRequest, resp: Response, model: str) -> dict[str, Any]:
    envelope, finish, calls, usage = _completion_parts(req, resp, model)
    message: dict[str, Any] = {"role": "assistant", "content": resp.content, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    head = {"object": "chat.completion"} | envelope
    return head | {"choices": [choice], "usage": usage}


def _chunks(req: RecordedRequest, resp: Response, model: str) -> Iterator[dict[str, Any]]:
    envelope, finish, calls, usage = _completion_parts(req, resp, model)
    base = {"object": "chat.completion.chunk"} | envelope
    extra: dict[str, Any] = {"usage": None} if req.include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return base | {"choices": [choice]} | extra

    yield chunk({"role": "assistant", "content": ""})
    text, size = resp.content or "", max(1, resp.chunk_size)
    for start in range(0, len(text), size):
        yield chunk({"content": text[start : start + size]})
    for index, call in enumerate(calls):
        yield chunk({"tool_calls": [call | {"index": index}]})
    yield chunk({}, finish)
    if req.include_usage:
        yield base | {"choices": [], "usage": usage}


def _sse(event: object) -> bytes:
    data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    owner: LoopbackLLMServer

    def server_bind(self) -> None:  # skip HTTPServer.server_bind's getfqdn() (may hit DNS)
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up are routine here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60.0  # idle keep-alive connections eventually give up their thread

    @property
    def owner(self) -> LoopbackLLMServer:
        return cast(_HTTPServer, self.server).owner

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, add=True)

    def finish(self) -> None:
        self.owner._track(self.connection, add=False)
        with suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def _record(self) -> RecordedRequest:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        rid = f"req_{uuid.uuid4().hex}"
        req = RecordedRequest(self.command, self.path, headers, raw, parsed, rid, time.time())
        self.owner._record(req)
        return req

    def _head(self, req: RecordedRequest, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in (headers | {"x-request-id": req.request_id}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, req: RecordedRequest, status: int, body: Any, resp: Response | None) -> None:
        resp = resp or Response()
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        data = body.encode() if isinstance(body, str) else bytes(body)
        length = {"Content-Type": resp.content_type, "Content-Length": str(len(data))}
        self._head(req, status, length | resp.headers)
        if resp.stream_mode == "trickle":
            return self._trickle(data, resp.chunk_delay)
        self.wfile.write(data if resp.stream_mode == "complete" else data[: len(data) // 2])
        self._interrupt(resp.stream_mode)

    def _trickle(self, data: bytes, interval: float) -> None:
        """Send ``data`` one byte every ``interval`` seconds (until the server closes)."""
        for i in range(len(data)):
            if i and self.owner._stop.wait(interval):
                return self._interrupt("cut")
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
        return None

    def _interrupt(self, mode: StreamMode) -> None:
        """After a partial body: drop the connection ("cut") or hang until close ("stall")."""
        if mode != "complete":
            self.wfile.flush()
            if mode == "stall":
                self.owner._stop.wait()
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        req = self._record()
        if req.path.split("?")[0].rstrip("/").endswith("/models"):
            model = {"id": self.owner.model, "object": "model", "created": 0, "owned_by": "test"}
            return self._send(req, 200, {"object": "list", "data": [model]}, None)
        return self._send(req, 404, error_body(404, f"Unknown path {req.path}"), None)

    def do_POST(self) -> None:
        req, key = self._record(), self.owner.api_key
        if not req.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            return self._send(req, 404, error_body(404, f"Unknown path {req.path}"), None)
        if key is not None and req.headers.get("authorization") != f"Bearer {key}":
            return self._send(req, 401, error_body(401, "Incorrect API key provided."), None)
        messages = req.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return self._send(req, 400, error_body(400, "Expected a JSON body with messages"), None)
        resp = self.owner._next_response(req)
        if resp.delay > 0 and self.owner._stop.wait(resp.delay):
            self.close_connection = True  # the server is closing: abandon this request
            return None
        if resp.body is not None or resp.status >= 400:
            body = resp.body if resp.body is not None else error_body(resp.status)
            return self._send(req, resp.status, body, resp)
        if not req.stream:
            model = req.model or self.owner.model
            return self._send(req, resp.status, _completion(req, resp, model), resp)
        return self._stream(req, resp)

    def _stream(self, req: RecordedRequest, resp: Response) -> None:
        sse = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        self._head(req, resp.status, sse | {"Transfer-Encoding": "chunked"} | resp.headers)
        events = [*_chunks(req, resp, req.model or self.owner.model), "[DONE]"]
        if resp.stream_mode == "trickle":
            payload = b"".join(_sse(event) for event in events)
            self.wfile.write(f"{len(payload):X}\r\n".encode())
            self._trickle(payload + b"\r\n0\r\n\r\n", resp.chunk_delay)
            return None
        for i, event in enumerate(events):
            if resp.stream_mode != "complete" and i >= resp.after_chunks:
                break
            if i and resp.chunk_delay > 0 and self.owner._stop.wait(resp.chunk_delay):
                return self._interrupt("cut")
            payload = _sse(event)
            self.wfile.write(f"{len(payload):X}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()
        if resp.stream_mode != "complete":
            return self._interrupt(resp.stream_mode)  # never sends the terminating 0-chunk
        self.wfile.write(b"0\r\n\r\n")
        return self.wfile.flush()


class LoopbackLLMServer:
    """An OpenAI chat-completions endpoint on ``127.0.0.1:<ephemeral port>`` for tests.

    Each ``POST /v1/chat/completions`` gets the next queued :class:`Response`, else the default
    responder's answer (:meth:`respond_with`; initially ``"ok"``). ``GET /v1/models`` lists
    :attr:`model`. With ``api_key`` set, other bearer tokens get a 401. Typical use::

        with LoopbackLLMServer() as server:
            server.reply("您好，已为您查询。")
            client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    """

    def __init__(
        self,
        *,
        model: str = "loopback-llm",
        responder: Responder | None = None,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        self.model, self.api_key, self._port = model, api_key, port
        self._responder: Responder = responder or (lambda _req: "ok")
        self._queue: deque[Response] = deque()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackLLMServer:
        """Bind and serve in a daemon thread (idempotent); returns ``self``."""
        if self._httpd is None:
            self._stop.clear()
            self._httpd = httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
            httpd.owner = self
            serve = lambda: httpd.serve_forever(poll_interval=0.05)  # noqa: E731
            self._thread = threading.Thread(target=serve, name="loopback-llm", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake sleeping handlers and drop open connections (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            self._stop.set()
            httpd.shutdown()
            with self._lock:
                connections = list(self._connections)
            for conn in connections:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=2.0)

    def __enter__(self) -> LoopbackLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LoopbackLLMServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for ``openai.OpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------------------------
    def enqueue(self, *responses: Response) -> None:
        """Queue responses; each chat-completions request consumes one, in order."""
        with self._lock:
            self._queue.extend(responses)

    def respond_with(self, fn: Responder) -> None:
        """Set the default responder, called for requests the queue does not answer."""
        with self._lock:
            self._responder = fn

    def reply(self, content: str, *, times: int = 1, usage: dict[str, int] | None = None) -> None:
        """Queue ``times`` assistant replies with ``content``."""
        self.enqueue(*(Response(content=content, usage=usage) for _ in range(times)))

    def reply_json(self, obj: Any, *, times: int = 1) -> None:
        """Queue replies whose content is ``obj`` serialised as JSON."""
        self.reply(json.dumps(obj, ensure_ascii=False), times=times)

    def tool_call(self, name: str, arguments: dict[str, Any] | str, *, times: int = 1) -> None:
        """Queue replies calling the function tool ``name``."""
        calls = [{"name": name, "arguments": arguments}]
        self.enqueue(*(Response(tool_calls=calls) for _ in range(times)))

    def fail(
        self,
        status: int = 500,
        *,
        retry_after: float | None = None,
        times: int = 1,
        body: bytes | str | dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        """Queue ``times`` error answers (OpenAI error JSON unless ``body`` is given)."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        body = error_body(status, message) if body is None else body
        self.enqueue(*(Response(status=status, body=body, headers=headers) for _ in range(times)))

    def delay(self, seconds: float, *, content: str | None = None, times: int = 1) -> None:
        """Queue answers that wait ``seconds`` before sending headers."""
        self.enqueue(*(Response(content=content, delay=seconds) for _ in range(times)))

    def cut_stream(self, after_chunks: int = 1, *, content: str | None = None) -> None:
        """Queue an answer that sends ``after_chunks`` SSE events, then drops the connection."""
        self.enqueue(Response(content=content, stream_mode="cut", after_chunks=after_chunks))

    def stall_stream(self, after_chunks: int = 1, *, content: str | None = None) -> None:
        """Queue an answer that sends ``after_chunks`` SSE events, then hangs until close."""
        self.enqueue(Response(content=content, stream_mode="stall", after_chunks=after_chunks))

    def trickle(self, interval: float = 0.5, *, content: str | None = None) -> None:
        """Queue an answer sent one byte every ``interval`` seconds (streamed or not)."""
        self.enqueue(Response(content=content, stream_mode="trickle", chunk_delay=interval))

    def malformed(self, content: str = "{not json", *, times: int = 1) -> None:
        """Queue 200 completions whose assistant content is invalid JSON (JSON-mode tests)."""
        self.reply(content, times=times)

    def garbage_body(self, body: str = "<html>502 Bad Gateway</html>", status: int = 200) -> None:
        """Queue an answer whose HTTP body is not JSON (though labelled ``application/json``)."""
        self.enqueue(Response(status=status, body=body))

    def reset(self) -> None:
        """Forget queued responses and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    # -- inspection --------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of all requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def pending(self) -> int:
        """Number of queued responses not yet consumed."""
        with self._lock:
            return len(self._queue)

    # -- called by handler threads -----------------------------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _next_response(self, req: RecordedRequest) -> Response:
        with self._lock:
            queued, responder = (self._queue.popleft() if self._queue else None), self._responder
        resp = queued or Response()
        if (
            resp.content is not None
            or resp.tool_calls
            or resp.body is not None
            or resp.status >= 400
        ):
            return resp
        try:
            answer = responder(req)
        except Exception as exc:  # a responder bug reaches the test as a 500 with its repr
            return Response(status=500, body=error_body(500, f"responder raised {exc!r}"))
        if isinstance(answer, str):
            return replace(resp, content=answer)
        if queued is None:
            return answer
        return replace(resp, content=answer.content or "", tool_calls=answer.tool_calls)


@contextmanager
def loopback_llm(**kwargs: Any) -> Iterator[LoopbackLLMServer]:
    """Context-manager function yielding a started :class:`LoopbackLLMServer`."""
    with LoopbackLLMServer(**kwargs) as server:
        yield server
