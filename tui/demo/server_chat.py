"""Chat Completions and the model list, the endpoints every OpenAI-compatible server has."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from aiohttp import web

from tui.demo.conversation import Plan, chat_history
from tui.demo.script import DIRECTIVE_HEADER
from tui.demo.state import DemoServer
from tui.demo.streaming import Frame, Pacing, SseStream, split_text
from tui.demo.tools import ToolCall, chat_items, step_for, with_preamble
from tui.demo.wire import (
    CHARS_PER_TOKEN,
    SSE_DONE,
    ApiError,
    ChatChunks,
    chat_completion,
    chat_usage,
    fault_response,
    missing_param,
    output_limit,
    read_json,
)

MODELS = ("demo-chat", "demo-responses")
_MODELS_CREATED = 1_735_689_600  # a fixed date keeps the listing deterministic
THINK_STEP_S = 0.2
"""A `think:S` stream sends one reasoning delta this often."""


class ChatApi:
    """Handlers for `/v1/chat/completions` and `/v1/models`, bound to one `DemoServer`."""

    def __init__(self, server: DemoServer) -> None:
        self._server = server

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self.completions),
            web.get("/v1/models", self.models),
        ]

    async def models(self, request: web.Request) -> web.Response:
        """The advertised ids; requests may name any model anyway."""
        data = [{"id": m, "object": "model", "created": _MODELS_CREATED, "owned_by": "agentdeck"} for m in MODELS]
        return web.json_response({"object": "list", "data": data})

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        if not body.get("model"):
            raise ApiError(missing_param("model"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(missing_param("messages"))
        model = str(body["model"])
        limit = output_limit(body, "max_completion_tokens", "max_tokens")
        self._server.stats.last_output_limit = limit
        plan = self._server.plan(chat_history(messages), request.headers.get(DIRECTIVE_HEADER), model)
        directives = plan.directives
        if directives.fault is not None:
            dated = bool(directives.retry_date)
            return fault_response(directives.fault, model, directives.retry_after, http_date=dated)
        step = step_for(plan, body, chat_items(messages))
        if step.calls:
            return await self._call_tools(request, body, plan, step.calls)
        plan = with_preamble(plan, step.preamble)
        finish = "stop"
        if limit is not None and len(plan.answer) > limit * CHARS_PER_TOKEN:
            plan, finish = replace(plan, answer=plan.answer[: limit * CHARS_PER_TOKEN]), "length"
        usage = chat_usage(plan.prompt_chars, len(plan.answer), directives.cached_tokens, directives.reasoning_tokens)
        pieces = split_text(plan.answer, directives.chunk)
        if not body.get("stream"):
            await asyncio.sleep(Pacing.of(directives).total(len(pieces)))
            return web.json_response(chat_completion(model, plan.answer, usage, finish_reason=finish))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = ChatChunks(model, include_usage)
        async with SseStream(request, self._server.stats, directives, "chat") as stream:
            await stream.play(_frames(chunks, pieces, usage if include_usage else None, directives.think, finish))
        return stream.response

    async def _call_tools(
        self, request: web.Request, body: dict[str, Any], plan: Plan, calls: tuple[ToolCall, ...]
    ) -> web.StreamResponse:
        """Answer with tool calls instead of text (unpaced; stream faults apply to text only)."""
        model, directives = str(body["model"]), plan.directives
        call_chars = sum(len(c.name) + len(c.arguments) for c in calls)
        usage = chat_usage(plan.prompt_chars, call_chars, directives.cached_tokens, directives.reasoning_tokens)
        if not body.get("stream"):
            return web.json_response(chat_completion(model, "", usage, calls))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = ChatChunks(model, include_usage)
        async with SseStream(request, self._server.stats, directives, "chat") as stream:
            await stream.play(_call_frames(chunks, calls, directives.chunk, usage if include_usage else None))
        return stream.response


async def _call_frames(
    chunks: ChatChunks, calls: tuple[ToolCall, ...], size: int, usage: dict[str, Any] | None
) -> AsyncIterator[Frame]:
    """The chunks OpenAI sends for tool calls: per call its id and name, argument fragments; then "tool_calls"."""
    for index, call in enumerate(calls):
        yield chunks.tool_call_start(index, call.call_id, call.name, first=index == 0), None
        for fragment in split_text(call.arguments, size):
            yield chunks.tool_call_arguments(index, fragment), None
    yield chunks.finish("tool_calls"), None
    if usage is not None:
        yield chunks.usage(usage), None
    yield SSE_DONE, None


async def _frames(
    chunks: ChatChunks, pieces: list[str], usage: dict[str, Any] | None, think: float = 0.0, finish: str = "stop"
) -> AsyncIterator[Frame]:
    """The chunk sequence OpenAI sends: role, (reasoning deltas,) content deltas, finish, optional usage, [DONE]."""
    yield chunks.first(), None
    for _ in range(round(think / THINK_STEP_S)):
        await asyncio.sleep(THINK_STEP_S)
        yield chunks.reasoning("thinking… "), None
    for piece in pieces:
        yield chunks.content(piece), piece
    yield chunks.finish(finish), None
    if usage is not None:
        yield chunks.usage(usage), None
    yield SSE_DONE, None
