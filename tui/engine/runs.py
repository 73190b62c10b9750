"""One streaming run of a task through Agent Framework: fresh, continued, or re-attached.

The stream is read on the client factory's stream loop (its own thread); the
text reaches the task on the engine's loop through a `StreamFeed`, so the
task is only ever touched by the engine's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.engine.errors import caused_by
from tui.engine.feed import RunState, StreamFeed
from tui.engine.prompts import CONTINUE_PROMPT
from tui.engine.retention import Compactor
from tui.engine.task import Task, Usage, scalar_text
from tui.engine.updates import reader_for

if TYPE_CHECKING:
    from tui.config import ProviderConfig
    from tui.engine.clients import ClientFactory

STREAM_CLOSE_TIMEOUT_S = 2.0
YIELD_AFTER_S = 0.005


class RunMode(StrEnum):
    FRESH = "fresh"
    CONTINUE = "continue"
    """Ask the model, in the task's session, to go on from where the text stops."""
    REATTACH = "reattach"
    """Re-attach to a native background response by its continuation token."""


@dataclass(frozen=True)
class RunPlan:
    mode: RunMode


@dataclass
class Outcome:
    finished: bool = False
    failure: str | None = None
    usage: Usage = field(default_factory=Usage)
    session_state: dict[str, Any] | None = None
    fallback_notice: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """A copy of what the stream loop needs from a task, so that thread never touches the task."""

    mode: RunMode
    api: str
    model: str
    system: str | None
    request_text: str
    text_so_far: str
    base_session: dict[str, Any] | None
    state: RunState


def plan_run(task: Task, *, native_resume: bool = True) -> RunPlan:
    if native_resume and task.api == "responses" and task.continuation_token:
        return RunPlan(RunMode.REATTACH)
    if task.chars > 0:
        return RunPlan(RunMode.CONTINUE)
    return RunPlan(RunMode.FRESH)


def _run_request(task: Task, plan: RunPlan) -> RunRequest:
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
    )


def _messages_and_options(request: RunRequest) -> tuple[Any, dict[str, Any]]:
    from agent_framework import Message

    options: dict[str, Any] = {}
    if request.mode is RunMode.REATTACH:
        options["continuation_token"] = dict(request.state.continuation_token or {})
        return None, options
    if request.api == "responses":
        options["background"] = True
    if request.mode is RunMode.CONTINUE:
        messages = [
            Message("user", [request.request_text]),
            Message("assistant", [request.text_so_far]),
            Message("user", [CONTINUE_PROMPT]),
        ]
        return messages, options
    return request.request_text, options


async def _close(stream: Any) -> None:
    """Close the HTTP stream now; a ResponseStream left open keeps the connection until exit."""
    try:
        await asyncio.wait_for(asyncio.shield(stream.close()), STREAM_CLOSE_TIMEOUT_S)
    except (Exception, asyncio.CancelledError):
        pass


async def _read_stream(clients: ClientFactory, spec: ProviderConfig, request: RunRequest, feed: StreamFeed) -> Outcome:
    """Runs on the stream loop: stream one run into `feed`, which always ends, whatever happens."""
    try:
        feed.bind()
        from agent_framework import AgentSession

        agent = await clients.agent(spec, request.model, request.system)
        session = AgentSession.from_dict(request.base_session) if request.base_session else agent.create_session()
        messages, options = _messages_and_options(request)
        state = request.state.copy()
        reader = reader_for(request.api, state)
        stream = agent.run(messages, stream=True, session=session, options=options)
        compact = Compactor(stream)
        clock = asyncio.get_running_loop().time
        yielded = clock()
        try:
            async for update in stream:
                text = reader.text_of(update)
                feed.put(scalar_text(text) if text else "", state)
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
    )


async def stream_once(
    clients: ClientFactory, spec: ProviderConfig, task: Task, plan: RunPlan, on_text: Callable[[Task], None]
) -> Outcome:
    """Stream one run, appending text to the task as it arrives. Cancelling this cancels the stream."""
    request = _run_request(task, plan)
    feed = StreamFeed(request.state, clients.streams.handoff())
    future = clients.streams.submit(_read_stream(clients, spec, request, feed))
    ended = False
    try:
        while not ended:
            delivery = await feed.next()
            task.continuation_token = delivery.state.continuation_token
            task.last_sequence = delivery.state.last_sequence
            if delivery.text:
                task.output.append(delivery.text)
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
