"""The demo server against the real `openai` SDK: wire shapes, faults, background runs, continuations."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from tui.demo.script import expected_answer, parse_directives
from tui.demo.server import DemoServerThread
from tui.engine.prompts import CONTINUE_PROMPT

pytestmark = pytest.mark.asyncio

FAST = "[[delay:0]] [[chunk:10]]"
MODEL = "demo-chat"


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def chat_text(client: openai.AsyncOpenAI, messages: list[Any]) -> tuple[str, str | None]:
    """Streamed text and the last finish_reason seen."""
    stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    text, finish = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return text, finish


async def response_events(stream: Any) -> list[Any]:
    return [event async for event in stream]


def deltas(events: list[Any]) -> str:
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


# ---------------------------------------------------------------- script


async def test_expected_answer_is_deterministic_markdown_of_exact_length() -> None:
    prompt = "Compare event loops and threads [[len:777]]"
    answer = expected_answer(prompt)
    assert len(answer) == 777 and answer == expected_answer(prompt)
    assert answer.startswith("## Analysis: Compare event loops and threads\n\n")
    assert "\n- " in answer or "```" in answer or "### " in answer
    assert expected_answer("another prompt", 777) != answer
    assert len(expected_answer("x")) == 1200 and expected_answer("x", 0) == ""


async def test_by_model_words_each_models_answer_its_own_way(client: openai.AsyncOpenAI) -> None:
    prompt = f"Fan out [[len:300]] [[by_model]] {FAST}"
    answers = {}
    for model in ("demo-chat", "demo-mini"):
        stream = await client.chat.completions.create(model=model, messages=user(prompt), stream=True)
        answers[model] = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert answers["demo-chat"] == expected_answer(prompt, model="demo-chat")
    assert answers["demo-mini"] == expected_answer(prompt, model="demo-mini")
    assert answers["demo-chat"] != answers["demo-mini"]
    assert expected_answer(prompt.replace("[[by_model]]", ""), model="demo-mini") == expected_answer(
        prompt.replace("[[by_model]]", ""), model="demo-chat"
    ), "without the directive the model does not change the answer"
    stream = await client.responses.create(model="demo-mini", input=prompt, stream=True)
    assert deltas(await response_events(stream)) == answers["demo-mini"]


async def test_header_directives_override_the_prompt() -> None:
    d = parse_directives("[[len:10]] [[fault:429]] [[delay:5]] [[bogus:1]] [[chunk:x]]", "len=20; drop=3")
    assert (d.length, d.fault, d.delay_ms, d.drop, d.chunk) == (20, 429, 5.0, 3, 12)
    paced = parse_directives("[[len:10]] [[fault:429]] [[cut:2]]", pacing_only=True)
    assert (paced.length, paced.fault, paced.cut) == (10, None, None)


# ---------------------------------------------------------------- chat completions


async def test_chat_stream_matches_expected_answer_with_usage(client: openai.AsyncOpenAI) -> None:
    prompt = f"Chat stream [[len:150]] {FAST}"
    stream = await client.chat.completions.create(
        model=MODEL, messages=user(prompt), stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_answer(prompt)
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 38
    assert all(c.usage is None for c in chunks[:-1])


async def test_chat_non_stream(client: openai.AsyncOpenAI) -> None:
    prompt = f"Chat whole [[len:90]] {FAST}"
    completion = await client.chat.completions.create(model="any-model", messages=user(prompt))
    assert completion.choices[0].message.content == expected_answer(prompt)
    assert completion.choices[0].finish_reason == "stop" and completion.model == "any-model"
    assert completion.usage is not None and completion.usage.total_tokens > 0


async def test_header_directives_apply(client: openai.AsyncOpenAI) -> None:
    prompt = "Header directives"
    completion = await client.chat.completions.create(
        model=MODEL, messages=user(prompt), extra_headers={"X-Demo-Directives": "len=40;delay=0"}
    )
    assert completion.choices[0].message.content == expected_answer(prompt, 40)


async def test_wire_shapes_validate_against_sdk_models(demo: DemoServerThread) -> None:
    """Raw SSE frames pass the SDK's pydantic models strictly (not just lenient `construct`)."""
    events = pydantic.TypeAdapter(ResponseStreamEvent)
    async with aiohttp.ClientSession() as http:
        body = {
            "model": MODEL,
            "messages": user(f"shape [[len:40]] {FAST}"),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with http.post(f"{demo.base_url}/chat/completions", json=body) as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            lines = [line.decode().rstrip("\n") async for line in resp.content if line.strip()]
        assert lines[-1] == "data: [DONE]"
        for line in lines[:-1]:
            ChatCompletionChunk.model_validate_json(line.removeprefix("data: "))
        for background in (False, True):
            body = {"model": MODEL, "input": f"shape [[len:40]] {FAST}", "stream": True, "background": background}
            async with http.post(f"{demo.base_url}/responses", json=body) as resp:
                lines = [line.decode().rstrip("\n") async for line in resp.content if line.strip()]
            for event_line, data_line in zip(lines[::2], lines[1::2], strict=True):
                data = json.loads(data_line.removeprefix("data: "))
                assert event_line == f"event: {data['type']}"
                events.validate_python(data)
                if "response" in data:
                    Response.model_validate(data["response"])


# ---------------------------------------------------------------- responses


async def test_responses_stream_events_in_order(client: openai.AsyncOpenAI) -> None:
    prompt = f"Responses stream [[len:120]] {FAST}"
    events = await response_events(
        await client.responses.create(model=MODEL, input=prompt, instructions="Be terse", stream=True)
    )
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert deltas(events) == expected_answer(prompt)
    final = events[-1].response
    assert final.status == "completed" and final.output_text == expected_answer(prompt)
    assert final.instructions == "Be terse" and final.usage is not None and final.usage.output_tokens == 30
    stored = await client.responses.retrieve(final.id)
    assert stored.output_text == expected_answer(prompt)


async def test_background_stream_resumes_after_disconnect(client: openai.AsyncOpenAI) -> None:
    prompt = "Background resume [[len:400]] [[chunk:10]] [[delay:3]]"
    stream = await client.responses.create(model=MODEL, input=prompt, stream=True, background=True)
    before, last_seq, response_id = "", -1, ""
    async for event in stream:
        last_seq = event.sequence_number
        if event.type == "response.created":
            response_id = event.response.id
            assert event.response.status == "queued"
        if event.type == "response.output_text.delta":
            before += event.delta
            if len(before) >= 50:
                break
    await stream.close()
    resumed = await response_events(await client.responses.retrieve(response_id, stream=True, starting_after=last_seq))
    assert [e.sequence_number for e in resumed] == list(range(last_seq + 1, last_seq + 1 + len(resumed)))
    assert before + deltas(resumed) == expected_answer(prompt)
    assert resumed[-1].type == "response.completed"
    assert (await client.responses.retrieve(response_id)).output_text == expected_answer(prompt)


async def test_background_cancel_ends_live_streams(client: openai.AsyncOpenAI) -> None:
    created = await client.responses.create(model=MODEL, input="Cancel me [[len:5000]] [[delay:10]]", background=True)
    assert created.status == "queued" and created.background
    stream = await client.responses.retrieve(created.id, stream=True)
    seen: list[str] = []
    async for event in stream:  # ends by itself once the response is cancelled
        seen.append(event.type)
        if event.type == "response.output_text.delta" and seen.count(event.type) == 2:
            assert (await client.responses.cancel(created.id)).status == "cancelled"
    assert "response.completed" not in seen
    assert (await client.responses.retrieve(created.id)).status == "cancelled"
    foreground = await client.responses.create(model=MODEL, input=f"sync [[len:10]] {FAST}")
    with pytest.raises(openai.BadRequestError):
        await client.responses.cancel(foreground.id)
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve("resp_missing")


# ---------------------------------------------------------------- errors and faults


async def test_wrong_key_gets_401_and_key_is_not_recorded() -> None:
    with DemoServerThread(api_key="sk-secret-demo") as server:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="wrong-key", max_retries=0) as bad:
            with pytest.raises(openai.AuthenticationError) as caught:
                await bad.models.list()
        assert caught.value.code == "invalid_api_key"
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-secret-demo", max_retries=0) as good:
            assert [m.id for m in (await good.models.list()).data] == ["demo-chat", "demo-responses"]
        headers = server.stats()["last_headers"]
        assert "Authorization" not in headers and "sk-secret-demo" not in json.dumps(headers)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
async def test_fault_codes_use_openai_error_bodies(
    client: openai.AsyncOpenAI, code: int, error: type[openai.APIStatusError]
) -> None:
    with pytest.raises(error) as caught:
        await client.chat.completions.create(model="gpt-x", messages=user(f"fault [[fault:{code}]] [[retry_after:3]]"))
    assert caught.value.status_code == code
    body = caught.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    if code == 404:
        assert caught.value.code == "model_not_found" and "`gpt-x`" in caught.value.message
    if code in (429, 503):
        assert caught.value.response.headers["retry-after"] == "3"


async def test_429_once_then_success_through_sdk_retry(demo: DemoServerThread) -> None:
    prompt = f"Rate limited once [[fault:429]] [[fail_times:1]] [[retry_after:0.01]] [[len:80]] {FAST}"
    demo.reset_stats()
    async with openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=2) as retrying:
        completion = await retrying.chat.completions.create(model=MODEL, messages=user(prompt))
    assert completion.choices[0].message.content == expected_answer(prompt)
    assert demo.stats()["requests"]["POST /v1/chat/completions"] == 2


async def test_drop_raises_connection_error(client: openai.AsyncOpenAI) -> None:
    prompt = f"Drop [[len:200]] [[drop:3]] {FAST}"
    with pytest.raises(openai.APIConnectionError):
        await chat_text(client, user(prompt))
    with pytest.raises(openai.APIConnectionError):
        await response_events(await client.responses.create(model=MODEL, input=prompt, stream=True))


async def test_cut_ends_stream_quietly_without_finish(client: openai.AsyncOpenAI) -> None:
    prompt = f"Cut [[len:200]] [[cut:3]] {FAST}"
    text, finish = await chat_text(client, user(prompt))
    assert (text, finish) == (expected_answer(prompt)[:30], None)
    events = await response_events(await client.responses.create(model=MODEL, input=prompt, stream=True))
    assert deltas(events) == expected_answer(prompt)[:30]
    assert events[-1].type == "response.output_text.delta"


async def test_malformed_line_breaks_the_sdk_parse(client: openai.AsyncOpenAI) -> None:
    """The SDK does not wrap a bad `data:` line: json.JSONDecodeError escapes the stream."""
    with pytest.raises(json.JSONDecodeError):
        await chat_text(client, user(f"Malformed [[len:100]] [[malformed:2]] {FAST}"))


async def test_disconnect_during_silence_is_detected_promptly() -> None:
    with DemoServerThread() as server:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as sdk:
            prompt = "Silent [[len:100]] [[delay:0]] [[silent:5]] [[silent_after:2]]"
            stream = await sdk.chat.completions.create(model=MODEL, messages=user(prompt), stream=True)
            received = 0
            async for chunk in stream:
                received += bool(chunk.choices and chunk.choices[0].delta.content)
                if received == 2:
                    break
            await stream.close()
            closed_at = time.monotonic()
        for _ in range(100):
            if server.stats()["disconnects"]:
                break
            await asyncio.sleep(0.02)
        [disconnect] = server.stats()["disconnects"]
        assert disconnect["endpoint"] == "chat" and disconnect["at"] - closed_at < 0.5
        assert server.stats()["open_streams"] == 0


async def test_concurrent_streams_are_counted(demo: DemoServerThread, client: openai.AsyncOpenAI) -> None:
    demo.reset_stats()
    prompts = [f"Concurrent {i} [[len:60]] [[chunk:10]] [[delay:20]]" for i in range(20)]
    texts = await asyncio.gather(*(chat_text(client, user(p)) for p in prompts))
    assert [t for t, _ in texts] == [expected_answer(p) for p in prompts]
    stats = demo.stats()
    assert stats["max_streams"] == 20 and stats["open_streams"] == 0


# ---------------------------------------------------------------- continuation


async def test_chat_continuation_returns_exactly_the_rest(client: openai.AsyncOpenAI) -> None:
    prompt = f"Continue chat [[len:300]] [[cut:5]] {FAST}"
    first, finish = await chat_text(client, user(prompt))
    assert finish is None and len(first) == 50
    messages = [*user(prompt), {"role": "assistant", "content": first}, *user(CONTINUE_PROMPT)]
    rest, finish = await chat_text(client, messages)
    assert finish == "stop" and first + rest == expected_answer(prompt)


async def test_responses_continuation_by_previous_id_and_by_input(client: openai.AsyncOpenAI) -> None:
    prompt = f"Continue responses [[len:300]] [[cut:4]] {FAST}"
    events = await response_events(await client.responses.create(model=MODEL, input=prompt, stream=True))
    first = deltas(events)
    assert len(first) == 40
    chained = await client.responses.create(
        model=MODEL, input=CONTINUE_PROMPT, previous_response_id=events[0].response.id
    )
    assert first + chained.output_text == expected_answer(prompt)
    explicit = await client.responses.create(
        model=MODEL,
        input=[*user(prompt), {"role": "assistant", "content": first}, *user(CONTINUE_PROMPT)],
    )
    assert first + explicit.output_text == expected_answer(prompt)
