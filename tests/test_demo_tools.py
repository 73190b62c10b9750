"""The demo model calls tools on request, over the real wire protocols, and quotes their results.

Checked with the `openai` SDK (shapes validated strictly against its pydantic
models) and with Agent Framework's own clients running a whole tool round.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest
from agent_framework import Agent
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tui.demo.script import expected_answer
from tui.demo.server import DemoServerThread
from tui.demo.tools import NO_TOOLS, TOOLS_OFF, expected_tool_answer
from tui.engine.prompts import CONTINUE_PROMPT

pytestmark = pytest.mark.asyncio

FAST = "[[delay:0]] [[len:60]]"
TIME_CALL = '[[tool:get_current_time {"timezone":"UTC"}]]'
MODEL = "demo-chat"


def chat_tool(name: str) -> dict[str, Any]:
    """A function tool as Chat Completions offers it."""
    parameters = {"type": "object", "properties": {"timezone": {"type": "string"}}}
    return {"type": "function", "function": {"name": name, "description": f"{name} tool", "parameters": parameters}}


TOOLS = [chat_tool("get_current_time"), chat_tool("word_count")]


def get_current_time(timezone: str = "UTC") -> str:
    """A plain Python function tool: Agent Framework runs it for real."""
    return f"10:42 in {timezone}"


async def raw_chat_chunks(demo: DemoServerThread, body: dict[str, Any]) -> list[ChatCompletionChunk]:
    """A streamed completion's chunks, each validated strictly against the SDK model."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{demo.base_url}/chat/completions", json={**body, "stream": True}) as resp,
    ):
        lines = [line.decode().rstrip("\n") async for line in resp.content if line.strip()]
    assert lines[-1] == "data: [DONE]"
    return [ChatCompletionChunk.model_validate_json(line.removeprefix("data: ")) for line in lines[:-1]]


def streamed_calls(chunks: list[ChatCompletionChunk]) -> list[dict[str, str]]:
    """Tool calls rebuilt from deltas the way clients do: by index, arguments concatenated."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function is not None:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    return [calls[i] for i in sorted(calls)]


def answered_with(messages: list[Any], calls: list[dict[str, str]], outputs: list[str]) -> list[Any]:
    """The follow-up conversation: the assistant's tool calls, then one `tool` message per result."""
    tool_calls = [
        {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls
    ]
    results = [{"role": "tool", "tool_call_id": c["id"], "content": out} for c, out in zip(calls, outputs, strict=True)]
    return [*messages, {"role": "assistant", "content": None, "tool_calls": tool_calls}, *results]


async def chat_text(client: openai.AsyncOpenAI, messages: list[Any], tools: list[Any]) -> tuple[str, str | None]:
    stream = await client.chat.completions.create(model=MODEL, messages=messages, tools=tools, stream=True)
    text, finish = "", None
    async for chunk in stream:
        if chunk.choices:
            assert not chunk.choices[0].delta.tool_calls
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return text, finish


# ---------------------------------------------------------------- chat completions, raw wire


async def test_chat_stream_calls_the_tool_then_quotes_its_result(
    demo: DemoServerThread, client: openai.AsyncOpenAI
) -> None:
    prompt = f"What time is it? {TIME_CALL} {FAST} [[chunk:5]]"
    messages = [{"role": "user", "content": prompt}]
    chunks = await raw_chat_chunks(demo, {"model": MODEL, "messages": messages, "tools": TOOLS})
    first = chunks[0].choices[0].delta
    assert first.role == "assistant" and first.content is None
    assert first.tool_calls and first.tool_calls[0].id and first.tool_calls[0].type == "function"
    calls = streamed_calls(chunks)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [("get_current_time", {"timezone": "UTC"})]
    assert calls[0]["id"].startswith("call_")
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.tool_calls) > 2  # arguments come in fragments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert all(not c.choices[0].delta.content for c in chunks)

    text, finish = await chat_text(client, answered_with(messages, calls, ["10:42 UTC"]), TOOLS)
    assert text == expected_tool_answer(prompt, [("get_current_time", "10:42 UTC")])
    assert text.startswith("Tool get_current_time returned: 10:42 UTC\n\n## Analysis: What time is it?")
    assert finish == "stop"


async def test_chat_non_stream_tool_call(demo: DemoServerThread) -> None:
    prompt = f"Time please {TIME_CALL} {FAST}"
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "tools": TOOLS}
    async with aiohttp.ClientSession() as http, http.post(f"{demo.base_url}/chat/completions", json=body) as resp:
        completion = ChatCompletion.model_validate(await resp.json())
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_current_time"
    assert json.loads(call.function.arguments) == {"timezone": "UTC"}


async def test_chat_tool_not_offered_is_said_in_text(client: openai.AsyncOpenAI) -> None:
    prompt = f"Time? [[tool:no_such_tool]] {FAST}"
    text, finish = await chat_text(client, [{"role": "user", "content": prompt}], TOOLS)
    assert text == expected_tool_answer(prompt, missing=["no_such_tool"])
    assert text.startswith("Tool no_such_tool is not available") and finish == "stop"
    plain = f"No tools at all {TIME_CALL} {FAST}"
    completion = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": plain}])
    assert completion.choices[0].message.content == expected_tool_answer(plain, missing=["get_current_time"])


async def test_chat_several_tools_one_per_round_in_order(demo: DemoServerThread, client: openai.AsyncOpenAI) -> None:
    prompt = f'Two tools {TIME_CALL} [[tool:word_count {{"text":"a b"}}]] {FAST}'
    messages: list[Any] = [{"role": "user", "content": prompt}]
    seen = []
    for output in ("10:42", "2 words"):
        calls = streamed_calls(await raw_chat_chunks(demo, {"model": MODEL, "messages": messages, "tools": TOOLS}))
        assert len(calls) == 1
        seen.append(calls[0]["name"])
        messages = answered_with(messages, calls, [output])
    assert seen == ["get_current_time", "word_count"]
    text, _ = await chat_text(client, messages, TOOLS)
    assert text == expected_tool_answer(prompt, [("get_current_time", "10:42"), ("word_count", "2 words")])


async def test_chat_parallel_tool_calls_in_one_response(demo: DemoServerThread, client: openai.AsyncOpenAI) -> None:
    prompt = f"Both {TIME_CALL} [[tool:word_count]] [[tool_parallel]] {FAST}"
    messages: list[Any] = [{"role": "user", "content": prompt}]
    chunks = await raw_chat_chunks(demo, {"model": MODEL, "messages": messages, "tools": TOOLS})
    calls = streamed_calls(chunks)
    assert [c["name"] for c in calls] == ["get_current_time", "word_count"]
    assert calls[1]["arguments"] == "{}" and calls[0]["id"] != calls[1]["id"]
    text, _ = await chat_text(client, answered_with(messages, calls, ["t", "w"]), TOOLS)
    assert text == expected_tool_answer(prompt, [("get_current_time", "t"), ("word_count", "w")])


async def test_chat_tool_rounds_keeps_calling(demo: DemoServerThread, client: openai.AsyncOpenAI) -> None:
    prompt = f"Loop [[tool_rounds:3]] {FAST}"
    messages: list[Any] = [{"role": "user", "content": prompt}]
    for round_ in range(3):
        calls = streamed_calls(await raw_chat_chunks(demo, {"model": MODEL, "messages": messages, "tools": TOOLS}))
        assert [c["name"] for c in calls] == ["get_current_time"]  # the first tool offered
        messages = answered_with(messages, calls, [f"r{round_}"])
    text, _ = await chat_text(client, messages, TOOLS)
    assert text == expected_tool_answer(prompt, [("get_current_time", f"r{i}") for i in range(3)])
    bare, _ = await chat_text(client, [{"role": "user", "content": prompt}], [])
    assert bare == NO_TOOLS + expected_answer(prompt)


async def test_chat_continuation_after_a_tool_round_gives_the_missing_tail(client: openai.AsyncOpenAI) -> None:
    prompt = f"Resume me {TIME_CALL} {FAST}"
    calls = [{"id": "call_1", "name": "get_current_time", "arguments": "{}"}]
    messages = answered_with([{"role": "user", "content": prompt}], calls, ["noon"])
    full = expected_tool_answer(prompt, [("get_current_time", "noon")])
    head = full[:30]
    messages += [{"role": "assistant", "content": head}, {"role": "user", "content": CONTINUE_PROMPT}]
    text, _ = await chat_text(client, messages, TOOLS)
    assert head + text == full


# ---------------------------------------------------------------- Agent Framework end to end


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_agent_framework_runs_a_tool_round(demo: DemoServerThread, api: str, stream: bool) -> None:
    from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient

    sdk = openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=0)
    kind = OpenAIChatCompletionClient if api == "chat" else OpenAIChatClient
    agent = Agent(client=kind(model=MODEL, async_client=sdk), tools=[get_current_time])
    prompt = f"What time is it in UTC? {TIME_CALL} {FAST}"
    if stream:
        updates = agent.run(prompt, stream=True)
        kinds = [content.type async for update in updates for content in update.contents]
        response = await updates.get_final_response()
        assert kinds.index("function_call") < kinds.index("function_result") < kinds.index("text")
    else:
        response = await agent.run(prompt)
    assert response.text == expected_tool_answer(prompt, [("get_current_time", "10:42 in UTC")])
    await sdk.close()


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_agent_framework_round_limit_gets_a_text_answer(demo: DemoServerThread, api: str) -> None:
    """`[[tool_rounds:N]]` outlasts the framework's limit; its last request (tool_choice "none") gets text."""
    from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient

    sdk = openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=0)
    kind = OpenAIChatCompletionClient if api == "chat" else OpenAIChatClient
    client = kind(model=MODEL, async_client=sdk)
    client.function_invocation_configuration["max_iterations"] = 2
    prompt = f"Loop [[tool_rounds:5]] {FAST}"
    response = await Agent(client=client, tools=[get_current_time]).run(prompt)
    results = [("get_current_time", "10:42 in UTC")] * 2
    assert response.text == TOOLS_OFF + expected_tool_answer(prompt, results)
    await sdk.close()
