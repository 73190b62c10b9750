"""Tool calls on the demo server's Responses API: `function_call` items, argument events, results
sent back as `function_call_output` (with `previous_response_id` or the whole conversation)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from tests.test_demo_tools import FAST, TIME_CALL
from tui.demo.server import DemoServerThread
from tui.demo.tools import expected_tool_answer

pytestmark = pytest.mark.asyncio

MODEL = "demo-responses"
EVENTS = pydantic.TypeAdapter(ResponseStreamEvent)


def function_tool(name: str) -> dict[str, Any]:
    """A function tool as the Responses API offers it (flat, not nested under `function`)."""
    parameters = {"type": "object", "properties": {"timezone": {"type": "string"}}}
    return {"type": "function", "name": name, "description": f"{name} tool", "parameters": parameters, "strict": False}


TOOLS = [function_tool("get_current_time"), function_tool("word_count")]


async def post(demo: DemoServerThread, body: dict[str, Any]) -> Any:
    """A response created over raw HTTP: the stream's events (validated strictly) or the whole object."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{demo.base_url}/responses", json={"model": MODEL, **body}) as resp,
    ):
        if not body.get("stream"):
            return Response.model_validate(await resp.json())
        lines = [line.decode().rstrip("\n") async for line in resp.content if line.strip()]
    events = []
    for event_line, data_line in zip(lines[::2], lines[1::2], strict=True):
        event = EVENTS.validate_json(data_line.removeprefix("data: "))
        assert event_line == f"event: {event.type}"
        events.append(event)
    return events


def outputs_for(response: Response, outputs: list[str]) -> list[dict[str, Any]]:
    calls = [item for item in response.output if item.type == "function_call"]
    return [
        {"type": "function_call_output", "call_id": c.call_id, "output": out}
        for c, out in zip(calls, outputs, strict=True)
    ]


async def test_responses_stream_calls_the_tool_then_quotes_its_result(demo: DemoServerThread) -> None:
    prompt = f"What time is it? {TIME_CALL} {FAST} [[chunk:5]]"
    events = await post(demo, {"input": prompt, "tools": TOOLS, "stream": True})
    types = [e.type for e in events]
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert types[-3:] == ["response.function_call_arguments.done", "response.output_item.done", "response.completed"]
    assert types.count("response.function_call_arguments.delta") > 2 and "response.output_text.delta" not in types
    added, done = events[2].item, events[-2].item
    assert added.type == "function_call" and added.status == "in_progress" and added.arguments == ""
    assert (done.call_id, done.name, done.status) == (added.call_id, "get_current_time", "completed")
    fragments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert json.loads(fragments) == {"timezone": "UTC"} == json.loads(events[-3].arguments)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    first = events[-1].response
    assert [item.type for item in first.output] == ["function_call"] and first.output[0].call_id == added.call_id
    assert [tool.name for tool in first.tools] == ["get_current_time", "word_count"]

    follow = await post(
        demo,
        {"input": outputs_for(first, ["10:42 UTC"]), "previous_response_id": first.id, "tools": TOOLS, "stream": True},
    )
    text = "".join(e.delta for e in follow if e.type == "response.output_text.delta")
    assert text == expected_tool_answer(prompt, [("get_current_time", "10:42 UTC")])
    assert follow[-1].type == "response.completed"


async def test_responses_non_stream_parallel_calls_and_a_replayed_conversation(demo: DemoServerThread) -> None:
    prompt = f'Both {TIME_CALL} [[tool:word_count {{"text":"a b"}}]] [[tool_parallel]] {FAST}'
    first = await post(demo, {"input": prompt, "tools": TOOLS, "store": False})
    assert first.status == "completed" and first.output_text == ""
    assert [(item.type, item.name) for item in first.output] == [
        ("function_call", "get_current_time"),
        ("function_call", "word_count"),
    ]
    # No previous_response_id: the client sends the whole conversation, calls included.
    calls = [item.model_dump(exclude_none=True) for item in first.output]
    replay = [{"role": "user", "content": prompt}, *calls, *outputs_for(first, ["noon", "2"])]
    final = await post(demo, {"input": replay, "tools": TOOLS, "store": False})
    assert final.output_text == expected_tool_answer(prompt, [("get_current_time", "noon"), ("word_count", "2")])


async def test_responses_tool_not_offered_is_said_in_text(demo: DemoServerThread) -> None:
    prompt = f"Time? {TIME_CALL} {FAST}"
    response = await post(demo, {"input": prompt, "tools": [function_tool("word_count")]})
    assert response.output_text == expected_tool_answer(prompt, missing=["get_current_time"])


async def test_responses_tool_rounds_through_previous_response_ids(demo: DemoServerThread) -> None:
    prompt = f"Loop [[tool_rounds:2]] {FAST}"
    response = await post(demo, {"input": prompt, "tools": TOOLS})
    for round_ in range(2):
        assert [item.type for item in response.output] == ["function_call"]
        body = {"input": outputs_for(response, [f"r{round_}"]), "previous_response_id": response.id, "tools": TOOLS}
        response = await post(demo, body)
    results = [("get_current_time", "r0"), ("get_current_time", "r1")]
    assert response.output_text == expected_tool_answer(prompt, results)


async def test_background_tool_call_is_retrievable(demo: DemoServerThread) -> None:
    events = await post(demo, {"input": f"bg {TIME_CALL} {FAST}", "tools": TOOLS, "stream": True, "background": True})
    response_id = events[0].response.id
    async with aiohttp.ClientSession() as http, http.get(f"{demo.base_url}/responses/{response_id}") as resp:
        stored = Response.model_validate(await resp.json())
    assert stored.status == "completed" and stored.output[0].type == "function_call"
    assert json.loads(stored.output[0].arguments) == {"timezone": "UTC"}
