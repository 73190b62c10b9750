"""One streaming run of a task through Agent Framework: fresh, continued, or re-attached.

The stream is read in the stream worker process (`tui.engine.worker`), or on
the client factory's stream loop (its own thread, `streams = "thread"`); the
text reaches the task on the engine's loop through a `StreamFeed`, so the
task is only ever touched by the engine's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tui.engine.errors import caused_by
from tui.engine.feed import RunState, StreamFeed, StreamSide, ToolEvent
from tui.engine.prompts import CONTINUE_PROMPT
from tui.engine.retention import Compactor
from tui.engine.run_request import Outcome, RunMode, RunRequest
from tui.engine.stalls import is_output
from tui.engine.task import Task, scalar_text
from tui.engine.tool_calls import ApprovalPolicy, ToolCall
from tui.engine.updates import RoundCounter, reader_for

if TYPE_CHECKING:
    from tui.config import ProviderConfig
    from tui.engine.clients import ClientFactory

STREAM_CLOSE_TIMEOUT_S = 2.0
YIELD_AFTER_S = 0.005


@dataclass(frozen=True)
class RunPlan:
    mode: RunMode


def plan_run(task: Task, *, native_resume: bool = True) -> RunPlan:
    if native_resume and task.api == "responses" and task.continuation_token:
        return RunPlan(RunMode.REATTACH)
    if task.chars > 0 or any(call.status.is_final for call in task.tool_calls):
        return RunPlan(RunMode.CONTINUE)  # calls made before any text: replayed, never made again
    return RunPlan(RunMode.FRESH)


def _run_request(task: Task, plan: RunPlan, spec: ProviderConfig, policy: ApprovalPolicy) -> RunRequest:
    if task.api == "responses" and plan.mode is not RunMode.REATTACH:
        task.continuation_token = None
        task.last_sequence = None
    return RunRequest(
        mode=plan.mode,
        api=task.api,
        model=task.model,
        system=task.system,
        request_text=task.request_text,
        text_so_far=task.text if plan.mode is RunMode.CONTINUE else "",
        base_session=task.base_session,
        state=RunState(task.continuation_token, task.last_sequence),
        tools=task.tools,
        max_tool_rounds=spec.max_tool_rounds,
        max_output_tokens=spec.max_output_tokens,
        policy=policy,
        calls_so_far=_finished_calls(task) if plan.mode is RunMode.CONTINUE else (),
    )


def _finished_calls(task: Task) -> tuple[ToolCall, ...]:
    """Copies: the stream loop reads them while the engine's loop may change the task."""
    return tuple(replace(call) for call in task.tool_calls if call.status.is_final)


def _messages_and_options(request: RunRequest) -> tuple[Any, dict[str, Any]]:
    from agent_framework import Message

    options: dict[str, Any] = {}
    if request.mode is RunMode.REATTACH:
        options["continuation_token"] = dict(request.state.continuation_token or {})
        return None, options
    if request.max_output_tokens is not None:
        # Agent Framework sends it as `max_completion_tokens` (Chat) or `max_output_tokens` (Responses).
        options["max_tokens"] = request.max_output_tokens
    if request.api == "responses" and not request.tools:
        # A re-attached background response would replay its tool calls into the framework's tool loop.
        options["background"] = True
    if request.mode is RunMode.CONTINUE:
        return [*_history(request), Message("user", [CONTINUE_PROMPT])], options
    return request.request_text, options


def _history(request: RunRequest) -> list[Any]:
    """The conversation so far: the request, then the text with each finished tool call where it happened."""
    from agent_framework import Content, Message

    messages = [Message("user", [request.request_text])]
    text, position = request.text_so_far, 0
    for call in request.calls_so_far:
        before = text[position : call.offset]
        position = max(position, call.offset)
        asked = Content.from_function_call(call.call_id, call.name, arguments=call.arguments)
        messages.append(Message("assistant", [before, asked] if before else [asked]))
        answer = call.result if call.result is not None else f"Error: {call.error}"
        messages.append(Message("tool", [Content.from_function_result(call.call_id, result=answer)]))
    if text[position:]:
        messages.append(Message("assistant", [text[position:]]))
    return messages


async def _close(stream: Any) -> None:
    """Close the HTTP stream now; a ResponseStream left open keeps the connection until exit."""
    try:
        await asyncio.wait_for(asyncio.shield(stream.close()), STREAM_CLOSE_TIMEOUT_S)
    except (Exception, asyncio.CancelledError):
        pass


async def read_stream(
    clients: ClientFactory, spec: ProviderConfig, request: RunRequest, feed: StreamSide
) -> Outcome:
    """Runs where streams are read (the worker process or the stream loop): stream one run into `feed`,
    which always ends, whatever happens."""
    try:
        feed.bind()
        from agent_framework import AgentSession

        tools = await _tools_for(clients, request, feed)
        agent = await clients.agent(spec, request.model, request.system)
        session = AgentSession.from_dict(request.base_session) if request.base_session else agent.create_session()
        messages, options = _messages_and_options(request)
        state = request.state.copy()
        background = bool(options.get("background") or options.get("continuation_token"))
        reader = reader_for(request.api, state, background=background)
        rounds = RoundCounter(request.max_tool_rounds)
        stream = agent.run(messages, stream=True, session=session, options=options, **tools)
        compact = Compactor(stream)
        clock = asyncio.get_running_loop().time
        yielded = clock()
        try:
            async for update in stream:
                if rounds.over_limit(update):
                    reader.failure = rounds.failure
                    break
                output = is_output(update)
                text = reader.text_of(update)
                feed.put(scalar_text(text) if text else "", state, output=output)
                if reader.failure:
                    break
                compact()
                # Buffered SSE events are parsed without awaiting anything; yield now and then so
                # one busy stream cannot hold this loop (and every other stream) for seconds.
                if clock() - yielded > YIELD_AFTER_S:
                    await asyncio.sleep(0)
                    yielded = clock()
        finally:
            await _close(stream)
    finally:
        feed.end()
    if (
        reader.finished
        and request.api == "responses"
        and session.service_session_id is None
        and state.continuation_token
    ):
        session.service_session_id = state.continuation_token.get("response_id")
    return Outcome(
        finished=reader.finished and not reader.failure,
        failure=reader.failure,
        usage=reader.usage,
        session_state=session.to_dict() if reader.finished else None,
        notice=_limit_notice(request) if reader.hit_token_limit else None,
    )


def _limit_notice(request: RunRequest) -> str:
    return f"the answer stopped at max_output_tokens ({request.max_output_tokens})"


async def _tools_for(clients: ClientFactory, request: RunRequest, feed: StreamSide) -> dict[str, Any]:
    """The run's tools and the gate around their calls; starting the servers first (a clash refuses the run)."""
    if not request.tools:
        return {}
    from tui.engine.tool_gate import ToolRun

    offered = await clients.mcp.offered(request.tools)
    run = ToolRun(offered, clients.mcp, feed, request.policy)
    return {"tools": [tool.function for tool in offered.values()], "middleware": [run.middleware()]}


async def _start(
    clients: ClientFactory, spec: ProviderConfig, request: RunRequest, feed: StreamFeed
) -> concurrent.futures.Future[Outcome]:
    """Read the run in the stream worker process, or on the stream loop of this one (`streams = "thread"`)."""
    if clients.worker is None:
        return clients.streams.submit(read_stream(clients, spec, request, feed))
    # The local demo server is this process's: the worker is told where it listens.
    resolved = replace(spec, base_url=await clients.base_url(spec))
    return clients.worker.start_run(resolved, request, feed, clients.mcp.configs if request.tools else None)


async def stream_once(
    clients: ClientFactory, spec: ProviderConfig, task: Task, plan: RunPlan, on_text: Callable[[Task], None],
    on_tool: Callable[[Task, ToolEvent], None], policy: ApprovalPolicy = ApprovalPolicy.OPERATOR,
    on_output: Callable[[Task], None] | None = None,
) -> Outcome:
    """Stream one run, appending text and tool calls to the task as they arrive. Cancelling this cancels the stream."""
    request = _run_request(task, plan, spec, policy)
    feed = StreamFeed(request.state, clients.streams.handoff())
    future = await _start(clients, spec, request, feed)
    ended = False
    try:
        while not ended:
            delivery = await feed.next()
            task.continuation_token = delivery.state.continuation_token
            task.last_sequence = delivery.state.last_sequence
            if delivery.output and on_output is not None:
                on_output(task)
            for item in delivery.items:
                if isinstance(item, ToolEvent):
                    on_tool(task, item)
                elif item:
                    task.output.append(item)
                    on_text(task)
            ended = delivery.ended
    finally:
        if not ended:
            feed.cancel()
            await feed.drain(STREAM_CLOSE_TIMEOUT_S)
    try:
        return await asyncio.wrap_future(future)
    except Exception as exc:
        import openai

        if plan.mode is RunMode.REATTACH and caused_by(exc, openai.NotFoundError):
            task.continuation_token = None
            task.last_sequence = None
            return Outcome(fallback_notice="the server no longer had the background response; continued in the session")
        raise
