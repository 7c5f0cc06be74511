"""Tests for ``kefu_copilot.testing``: the loopback server (driven by the real ``openai`` SDK)
and the deterministic :class:`FakeEmbedder`."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import openai
import pytest

from kefu_copilot.testing import (
    FakeEmbedder,
    LoopbackLLMServer,
    RecordedRequest,
    Response,
    loopback_llm,
)


@pytest.fixture
def server() -> Iterator[LoopbackLLMServer]:
    with loopback_llm() as srv:
        yield srv


def make_client(server: LoopbackLLMServer, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=server.base_url, api_key="test", **kwargs)


def ask(client: openai.OpenAI, text: str = "你好", **kwargs: Any) -> Any:
    messages: Any = [{"role": "system", "content": "你是客服"}, {"role": "user", "content": text}]
    return client.chat.completions.create(model="test-model", messages=messages, **kwargs)


def echo(req: RecordedRequest) -> str:
    return f"echo:{req.last_user_text}"


# -- plain completions ---------------------------------------------------------------------


def test_canned_reply_usage_and_recorded_request(server: LoopbackLLMServer) -> None:
    answer = "您好，请问有什么可以帮您？"
    server.reply(answer)
    raw = make_client(server).chat.completions.with_raw_response.create(
        model="test-model", messages=[{"role": "user", "content": "在吗"}], max_tokens=50
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "test-model"
    assert completion.choices[0].message.content == answer
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1  # "在吗": 2 chars / 2
    assert completion.usage.completion_tokens == math.ceil(len(answer) / 2)
    assert completion.usage.total_tokens == 1 + math.ceil(len(answer) / 2)

    (req,) = server.requests
    assert raw.headers["x-request-id"] == req.request_id
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.model == "test-model" and req.max_tokens == 50 and not req.stream
    assert req.last_user_text == "在吗" and req.messages[0]["role"] == "user"
    assert req.headers["authorization"] == "Bearer test"
    assert server.request_count == 1 and server.pending == 0


def test_queue_order_then_default_responder(server: LoopbackLLMServer) -> None:
    client = make_client(server)
    server.enqueue(Response(content="a"), Response(content="b"))
    assert [ask(client).choices[0].message.content for _ in range(3)] == ["a", "b", "ok"]
    server.respond_with(echo)
    server.enqueue(Response(delay=0.01))  # content=None: the responder still answers
    assert ask(client, "查订单").choices[0].message.content == "echo:查订单"
    assert ask(client, "改地址").choices[0].message.content == "echo:改地址"
    server.respond_with(lambda req: Response(content=req.model or "", usage={"prompt_tokens": 7}))
    completion = ask(client)
    assert completion.choices[0].message.content == "test-model"
    assert completion.usage is not None and completion.usage.prompt_tokens == 7
    assert completion.usage.total_tokens == 7 + completion.usage.completion_tokens


def test_reply_json_malformed_and_tool_calls(server: LoopbackLLMServer) -> None:
    client = make_client(server)
    server.reply_json({"intent": "退货", "confidence": 0.9})
    assert json.loads(ask(client).choices[0].message.content) == {
        "intent": "退货",
        "confidence": 0.9,
    }
    server.malformed()
    with pytest.raises(json.JSONDecodeError):
        json.loads(ask(client).choices[0].message.content)
    server.enqueue(Response(tool_calls=[{"name": "lookup_order", "arguments": {"id": "A1"}}]))
    choice = ask(client).choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"id": "A1"}


def test_models_endpoint_bad_json_unknown_path_and_api_key() -> None:
    with loopback_llm(api_key="sk-right", model="qwen-test") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0)
        assert [m.id for m in client.models.list()] == ["qwen-test"]
        with pytest.raises(openai.AuthenticationError):
            ask(openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0))
        headers = {"Authorization": "Bearer sk-right", "Content-Type": "application/json"}
        url = f"{server.base_url}/chat/completions"
        for target, data, status in [
            (url, b"{not json", 400),
            (url, b'{"messages": "hi"}', 400),
            (f"{server.base_url}/nope", b"{}", 404),
        ]:
            request = urllib.request.Request(target, data=data, headers=headers, method="POST")
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(request, timeout=5)
            assert info.value.code == status
            assert "message" in json.loads(info.value.read())["error"]
        assert server.requests[-3].json is None  # the bad body is still recorded


# -- streaming -----------------------------------------------------------------------------


def test_streaming_deltas_assembled_with_usage(server: LoopbackLLMServer) -> None:
    answer = "亲，七天无理由退货需要商品完好，运费由买家承担哦。"
    server.enqueue(Response(content=answer, chunk_size=3))
    stream = ask(make_client(server), stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == math.ceil(len(answer) / 2)
    assert server.requests[0].stream and server.requests[0].include_usage


def test_cut_stream_raises_quickly(server: LoopbackLLMServer) -> None:
    server.cut_stream(after_chunks=2, content="一二三四五六七八")
    received: list[str] = []
    start = time.monotonic()
    with pytest.raises(openai.APIConnectionError):
        for chunk in ask(make_client(server, timeout=5), stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["", "一二三四"]
    assert time.monotonic() - start < 2
    server.enqueue(Response(content="x" * 200, stream_mode="cut"))  # non-streaming: half a body
    with pytest.raises(openai.APIConnectionError):
        ask(make_client(server, timeout=5))


def test_stalled_stream_hits_client_timeout(server: LoopbackLLMServer) -> None:
    server.stall_stream(after_chunks=2)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        for _ in ask(make_client(server, timeout=0.5), stream=True):
            pass
    assert time.monotonic() - start < 3


# -- errors, retries and timeouts ----------------------------------------------------------


def test_rate_limit_with_retry_after_then_success(server: LoopbackLLMServer) -> None:
    server.fail(429, retry_after=0.05, times=2)
    server.reply("终于成功")
    start = time.monotonic()
    completion = ask(make_client(server, max_retries=2))
    assert completion.choices[0].message.content == "终于成功"
    assert time.monotonic() - start < 1.0  # honoured retry-after, not the 0.5 s+ backoff
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0", "1", "2"]

    server.fail(429, retry_after=1.0)
    with pytest.raises(openai.RateLimitError) as info:
        ask(make_client(server))
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.code == "rate_limit_exceeded"


def test_server_error_raises_internal_server_error(server: LoopbackLLMServer) -> None:
    server.fail(500, message="upstream exploded")
    with pytest.raises(openai.InternalServerError) as info:
        ask(make_client(server))
    assert info.value.status_code == 500 and "upstream exploded" in str(info.value)
    assert server.request_count == 1  # max_retries=0: no retry


def test_responder_exception_becomes_500(server: LoopbackLLMServer) -> None:
    server.respond_with(lambda req: str(1 / 0))
    with pytest.raises(openai.InternalServerError, match="ZeroDivisionError"):
        ask(make_client(server))


def test_garbage_body_is_a_client_error(server: LoopbackLLMServer) -> None:
    server.garbage_body()
    with pytest.raises((openai.APIError, ValueError)):
        ask(make_client(server))


def test_slow_response_triggers_client_timeout(server: LoopbackLLMServer) -> None:
    server.delay(5)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(make_client(server, timeout=0.3))
    assert time.monotonic() - start < 2


def test_close_is_prompt_while_handlers_sleep_or_stall() -> None:
    server = LoopbackLLMServer().start()
    server.delay(30)
    server.stall_stream(after_chunks=1)
    errors: list[BaseException] = []

    def call(stream: bool) -> None:
        try:
            result = ask(make_client(server, timeout=30), stream=stream)
            for _ in result if stream else ():
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(s,), daemon=True) for s in (False, True)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)  # keep queue order: the sleeper first, then the staller
    deadline = time.monotonic() + 5
    while server.request_count < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 1.0
    for thread in threads:
        thread.join(timeout=2)
        assert not thread.is_alive()
    assert len(errors) == 2 and all(isinstance(e, openai.APIConnectionError) for e in errors)
    server.close()  # idempotent


# -- concurrency ---------------------------------------------------------------------------


def test_twenty_threads_get_their_own_answers(server: LoopbackLLMServer) -> None:
    server.respond_with(lambda req: Response(content=echo(req), delay=0.05))
    client = make_client(server, timeout=10)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda i: ask(client, f"问题{i}").choices[0].message.content, range(20))
        )
    assert answers == [f"echo:问题{i}" for i in range(20)]
    assert server.request_count == 20


def test_fifty_asyncio_tasks_get_their_own_answers(server: LoopbackLLMServer) -> None:
    server.respond_with(lambda req: Response(content=echo(req), delay=0.05, chunk_size=2))

    async def one(client: openai.AsyncOpenAI, i: int) -> str:
        messages: Any = [{"role": "user", "content": f"订单{i}"}]
        if i % 2:
            stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])
        completion = await client.chat.completions.create(model="m", messages=messages)
        return completion.choices[0].message.content or ""

    async def main() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="test", max_retries=0, timeout=10
        ) as client:
            return list(await asyncio.gather(*(one(client, i) for i in range(50))))

    assert asyncio.run(main()) == [f"echo:订单{i}" for i in range(50)]
    assert server.request_count == 50


# -- FakeEmbedder --------------------------------------------------------------------------


def cosine_ranking(embedder: FakeEmbedder, query: str, docs: list[str]) -> list[int]:
    scores = embedder.embed_documents(docs) @ embedder.embed_query(query)
    return [int(i) for i in np.argsort(-scores)]


def test_fake_embedder_shapes_normalisation_and_empty_text() -> None:
    embedder = FakeEmbedder()
    assert (embedder.name, embedder.dim) == ("fake-hash-64", 64)
    docs = embedder.embed_documents(["退货流程", "发货时间", ""])
    assert docs.dtype == np.float32 and docs.shape == (3, 64)
    assert np.allclose(np.linalg.norm(docs[:2], axis=1), 1.0, atol=1e-6)
    assert not docs[2].any()
    assert embedder.embed_documents([]).shape == (0, 64)
    query = embedder.embed_query("退货流程")
    assert query.dtype == np.float32 and query.shape == (64,)
    assert np.allclose(query, docs[0])
    assert np.allclose(embedder.embed_query("ＡＢＣ 退货"), embedder.embed_query("abc退货"))  # NFKC
    assert FakeEmbedder(dim=128).embed_query("x").shape == (128,)


def test_fake_embedder_is_deterministic_across_processes() -> None:
    here = FakeEmbedder().embed_query("七天无理由退货")
    code = (
        "from kefu_copilot.testing import FakeEmbedder;"
        "print(FakeEmbedder().embed_query('七天无理由退货').tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert np.allclose(np.array(json.loads(out.stdout), dtype=np.float32), here)


def test_fake_embedder_similarity_ordering() -> None:
    embedder = FakeEmbedder(dim=256)
    docs = ["退货申请流程：七天无理由退货", "发货时间：付款后48小时内发货", "会员积分兑换规则"]
    assert cosine_ranking(embedder, "怎么申请退货", docs)[0] == 0
    assert cosine_ranking(embedder, "什么时候发货", docs)[0] == 1
    assert cosine_ranking(embedder, "积分怎么兑换", docs)[0] == 2
