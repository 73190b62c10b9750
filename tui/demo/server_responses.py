"""The Responses API: create (foreground or background), retrieve (optionally streamed), cancel.

Every response keeps its event log, so a background stream can be resumed with
`GET /v1/responses/{id}?stream=true&starting_after=N` after the client dropped.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

from aiohttp import web

from tui.demo.conversation import Message, Plan, responses_history
from tui.demo.script import DIRECTIVE_HEADER, Directives, parse_directives
from tui.demo.state import DemoServer
from tui.demo.streaming import Frame, Pacer, Pacing, SseStream, split_text
from tui.demo.tools import Item, ToolCall, response_items, step_for, with_preamble
from tui.demo.wire import (
    ApiError,
    error_response,
    fault_response,
    missing_param,
    output_limit,
    read_json,
    sse_event,
    token_counts,
)

_ECHOED = ("temperature", "top_p", "metadata", "max_output_tokens", "user", "parallel_tool_calls", "truncation")
_DEFAULTS: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "metadata": {},
    "max_output_tokens": None,
    "user": None,
    "parallel_tool_calls": True,
    "truncation": "disabled",
}
_DELTA = "response.output_text.delta"
MAX_STORED_RESPONSES = 2000


class ResponseRun:
    """One response: its object as it evolves, its event log, and live listeners."""

    def __init__(
        self,
        body: dict[str, Any],
        history: list[Message],
        plan: Plan,
        background: bool,
        items: list[Item] | None = None,
        calls: tuple[ToolCall, ...] = (),
    ) -> None:
        self.id = "resp_" + secrets.token_hex(24)
        self.item_id = "msg_" + secrets.token_hex(24)
        self.history = history
        self.items = items or []
        """Input items of the whole chain (tool calls and results included), for tool rounds."""
        self.calls = calls
        """Tool calls this response makes instead of a message."""
        self.plan = plan
        self.background = background
        self.events: list[Frame] = []
        self.finished = False
        self.status = "queued" if background else "in_progress"
        self.task: asyncio.Task[None] | None = None
        self._body = body
        self._created_at = int(time.time())
        self._completed_at: int | None = None
        self._pieces: list[str] = []
        self._item = "none"  # none -> open -> part -> done
        self._call_ids = ["fc_" + secrets.token_hex(24) for _ in calls]
        self._call_arguments: list[str] = []
        """Arguments sent so far of each call begun (the last one may be partial)."""
        self._calls_done = 0
        self._seq = 0
        self._tick = asyncio.Event()
        self._delta_head = (f"event: {_DELTA}\ndata: " + '{"type": "' + _DELTA + '", "sequence_number": ').encode()
        self._delta_mid = (
            ', "item_id": "' + self.item_id + '", "output_index": 0, "content_index": 0, "delta": '
        ).encode()

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def snapshot(self) -> dict[str, Any]:
        """The `response` object as `GET /v1/responses/{id}` shows it right now."""
        body = self._body
        echoed = {k: body.get(k, _DEFAULTS[k]) for k in _ECHOED}
        ended = self.status in ("completed", "incomplete", "cancelled")
        return {
            "id": self.id,
            "object": "response",
            "created_at": self._created_at,
            "status": self.status,
            "background": self.background,
            "completed_at": self._completed_at,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "model": body.get("model"),
            "output": self._output(),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "service_tier": "default",
            "store": body.get("store", True) is not False,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "usage": self._usage() if ended else None,
            **echoed,
        }

    async def frames(self) -> AsyncIterator[Frame]:
        """The whole event sequence; the consumer `commit`s each frame it actually emits."""
        yield self._event("response.created", response=self.snapshot()), None
        if self.background:
            yield self._event("response.queued", response=self.snapshot()), None
            self.status = "in_progress"
        yield self._event("response.in_progress", response=self.snapshot()), None
        for frame in self._call_frames() if self.calls else self._message_frames():
            yield frame
        self.status, self._completed_at = "completed", int(time.time())
        yield self._event("response.completed", response=self.snapshot()), None
        self._finish()

    def _message_frames(self) -> Iterator[Frame]:
        self._item = "open"
        yield self._event("response.output_item.added", output_index=0, item=self._message()), None
        self._item = "part"
        yield self._event("response.content_part.added", **self._where(), part=self._part("")), None
        for piece in split_text(self.plan.answer, self.plan.directives.chunk):
            yield self._delta(piece), piece
        text = self.text
        yield self._event("response.output_text.done", **self._where(), text=text, logprobs=[]), None
        yield self._event("response.content_part.done", **self._where(), part=self._part(text)), None
        self._item = "done"
        yield self._event("response.output_item.done", output_index=0, item=self._message()), None

    def _call_frames(self) -> Iterator[Frame]:
        """Per call, as OpenAI streams it: item added, argument deltas, arguments done, item done."""
        for index, call in enumerate(self.calls):
            self._call_arguments.append("")
            yield self._event("response.output_item.added", output_index=index, item=self._call_item(index)), None
            where = {"item_id": self._call_ids[index], "output_index": index}
            for fragment in split_text(call.arguments, self.plan.directives.chunk):
                self._call_arguments[index] += fragment
                yield self._event("response.function_call_arguments.delta", **where, delta=fragment), None
            yield self._event("response.function_call_arguments.done", **where, arguments=call.arguments), None
            self._calls_done += 1
            yield self._event("response.output_item.done", output_index=index, item=self._call_item(index)), None

    def call_items(self) -> list[Item]:
        """This response's tool calls as input items, for a request that continues it."""
        return [
            {"type": "function_call", "call_id": c.call_id, "name": c.name, "arguments": c.arguments}
            for c in self.calls
        ]

    def commit(self, frame: bytes, piece: str | None) -> None:
        """Record an emitted event and wake the listeners."""
        self.events.append((frame, piece))
        if piece is not None:
            self._pieces.append(piece)
        self._tick.set()
        self._tick.clear()

    async def follow(self, after: int) -> AsyncIterator[Frame]:
        """Recorded events with sequence_number > `after`, then live ones until the response ends."""
        index = max(after + 1, 0)
        while True:
            while index < len(self.events):
                yield self.events[index]
                index += 1
            if self.finished:
                return
            await self._tick.wait()

    def cancel(self) -> None:
        """Stop generating (idempotent once finished) and end every live stream."""
        if not self.finished:
            self.status = "cancelled"
            self._finish()
        if self.task is not None:
            self.task.cancel()

    def interrupt(self) -> None:
        """A foreground stream ended early: keep what was delivered, marked incomplete."""
        if not self.finished:
            self.status, self._completed_at = "incomplete", int(time.time())
            self._finish()

    def _finish(self) -> None:
        self.finished = True
        self._tick.set()
        self._tick.clear()

    def _event(self, type_: str, **fields: Any) -> bytes:
        payload = {"type": type_, "sequence_number": self._seq, **fields}
        self._seq += 1
        return sse_event(type_, payload)

    def _delta(self, piece: str) -> bytes:
        """The hot path: a pre-serialised `response.output_text.delta` frame."""
        seq = self._seq
        self._seq += 1
        text = json.dumps(piece).encode()
        return b"".join((self._delta_head, str(seq).encode(), self._delta_mid, text, b', "logprobs": []}\n\n'))

    def _where(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "output_index": 0, "content_index": 0}

    def _part(self, text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def _message(self) -> dict[str, Any]:
        status = {"done": "completed", "open": "in_progress", "part": "in_progress"}[self._item]
        if self.finished and self._item != "done":
            status = "incomplete"
        content = [self._part(self.text)] if self._item in ("part", "done") else []
        return {"id": self.item_id, "type": "message", "status": status, "content": content, "role": "assistant"}

    def _call_item(self, index: int) -> dict[str, Any]:
        call = self.calls[index]
        status = "completed" if index < self._calls_done else "incomplete" if self.finished else "in_progress"
        return {
            "id": self._call_ids[index],
            "type": "function_call",
            "status": status,
            "arguments": self._call_arguments[index],
            "call_id": call.call_id,
            "name": call.name,
        }

    def _output(self) -> list[dict[str, Any]]:
        if self.calls:
            return [self._call_item(index) for index in range(len(self._call_arguments))]
        return [] if self._item == "none" else [self._message()]

    def _usage(self) -> dict[str, Any]:
        instructions = self._body.get("instructions")
        prompt_chars = self.plan.prompt_chars + (len(instructions) if isinstance(instructions, str) else 0)
        output_chars = sum(map(len, self._pieces)) + sum(map(len, self._call_arguments))
        directives = self.plan.directives
        inp, cached, out, reasoning = token_counts(
            prompt_chars, output_chars, directives.cached_tokens, directives.reasoning_tokens
        )
        return {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out,
        }


async def _generate(run: ResponseRun) -> None:
    """Background generation: paced by the directives, independent of any client."""
    pacer = Pacer(Pacing.of(run.plan.directives))
    index = 0
    async for frame, piece in run.frames():
        if piece is not None:
            await pacer.sleep_before(index)
            index += 1
        run.commit(frame, piece)


class ResponsesApi:
    """Handlers for `/v1/responses*`, bound to one `DemoServer`; they keep the stored responses."""

    def __init__(self, server: DemoServer) -> None:
        self._server = server
        self._responses: dict[str, ResponseRun] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/responses", self.create),
            web.get("/v1/responses/{response_id}", self.retrieve),
            web.post("/v1/responses/{response_id}/cancel", self.cancel),
        ]

    async def create(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        if not body.get("model"):
            raise ApiError(missing_param("model"))
        self._server.stats.last_output_limit = output_limit(body, "max_output_tokens")
        previous = self._previous(body.get("previous_response_id"))
        history = self._previous_history(previous) + responses_history(body.get("input", ""))
        plan = self._server.plan(history, request.headers.get(DIRECTIVE_HEADER), str(body["model"]))
        directives = plan.directives
        if directives.fault is not None:
            return fault_response(
                directives.fault, str(body["model"]), directives.retry_after, http_date=bool(directives.retry_date)
            )
        items = ([*previous.items, *previous.call_items()] if previous else []) + response_items(body.get("input", ""))
        step = step_for(plan, body, items)
        plan = replace(plan, answer="") if step.calls else with_preamble(plan, step.preamble)
        background, store = bool(body.get("background")), body.get("store", True) is not False
        if background and not store:
            raise ApiError(error_response(400, "Background mode requires `store` to be true.", param="store"))
        run = ResponseRun(body, history, plan, background, items, step.calls)
        if store:
            self._store(run)
        if background:
            run.task = self._server.spawn(_generate(run))
            if not body.get("stream"):
                return web.json_response(run.snapshot())
            return await self._stream(request, run.follow(-1), directives, paced=False)
        if not body.get("stream"):
            await asyncio.sleep(Pacing.of(directives).total(len(split_text(plan.answer, directives.chunk))))
            async for frame, piece in run.frames():
                run.commit(frame, piece)
            return web.json_response(run.snapshot())
        try:
            return await self._stream(request, run.frames(), directives, paced=True, on_sent=run.commit)
        finally:
            run.interrupt()

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        run = self._lookup(request)
        if request.query.get("stream", "").lower() != "true":
            return web.json_response(run.snapshot())
        if not run.background:
            raise ApiError(error_response(400, "Only responses created with background=true can be streamed."))
        try:
            after = int(request.query.get("starting_after", "-1"))
        except ValueError:
            message = "Invalid 'starting_after': expected an integer."
            raise ApiError(error_response(400, message, param="starting_after")) from None
        directives = parse_directives("", request.headers.get(DIRECTIVE_HEADER))
        return await self._stream(request, run.follow(after), directives, paced=False)

    async def cancel(self, request: web.Request) -> web.Response:
        run = self._lookup(request)
        if not run.background:
            raise ApiError(error_response(400, "Cannot cancel a synchronous response."))
        run.cancel()
        return web.json_response(run.snapshot())

    async def shutdown(self) -> None:
        """Stop every stored response and release the streams that follow them."""
        for run in list(self._responses.values()):
            run.cancel()

    def _store(self, run: ResponseRun) -> None:
        """Keep a response retrievable by id; the oldest ones go first when the store is full."""
        self._responses[run.id] = run
        while len(self._responses) > MAX_STORED_RESPONSES:
            del self._responses[next(iter(self._responses))]

    async def _stream(
        self,
        request: web.Request,
        frames: AsyncIterator[Frame],
        directives: Directives,
        *,
        paced: bool,
        on_sent: Callable[[bytes, str | None], None] | None = None,
    ) -> web.StreamResponse:
        async with SseStream(request, self._server.stats, directives, "responses") as stream:
            await stream.play(frames, paced=paced, on_sent=on_sent)
        return stream.response

    def _lookup(self, request: web.Request) -> ResponseRun:
        response_id = request.match_info["response_id"]
        run = self._responses.get(response_id)
        if run is None:
            raise ApiError(error_response(404, f"Response with id '{response_id}' not found."))
        return run

    def _previous(self, previous_id: Any) -> ResponseRun | None:
        """The stored response a `previous_response_id` continues (400 like OpenAI if unknown)."""
        if not previous_id:
            return None
        run = self._responses.get(str(previous_id))
        if run is None:
            message = f"Previous response with id '{previous_id}' not found."
            raise ApiError(error_response(400, message, param="previous_response_id"))
        return run

    def _previous_history(self, run: ResponseRun | None) -> list[Message]:
        """The stored conversation a previous response continues, ending with its output."""
        return [*run.history, ("assistant", run.text)] if run is not None else []
