"""One streaming run of a task through Agent Framework: fresh, continued, or re-attached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.engine.prompts import CONTINUE_PROMPT
from tui.engine.task import Task, Usage, scalar_text
from tui.engine.updates import reader_for

if TYPE_CHECKING:
    from agent_framework import Agent

STREAM_CLOSE_TIMEOUT_S = 2.0


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


def plan_run(task: Task, *, native_resume: bool = True) -> RunPlan:
    if native_resume and task.api == "responses" and task.continuation_token:
        return RunPlan(RunMode.REATTACH)
    if task.chars > 0:
        return RunPlan(RunMode.CONTINUE)
    return RunPlan(RunMode.FRESH)


def _request(task: Task, plan: RunPlan) -> tuple[Any, dict[str, Any]]:
    from agent_framework import Message

    options: dict[str, Any] = {}
    if plan.mode is RunMode.REATTACH:
        options["continuation_token"] = dict(task.continuation_token or {})
        return None, options
    if task.api == "responses":
        options["background"] = True
        task.continuation_token = None
        task.last_sequence = None
    if plan.mode is RunMode.CONTINUE:
        messages = [
            Message("user", [task.request_text]),
            Message("assistant", [task.text]),
            Message("user", [CONTINUE_PROMPT]),
        ]
        return messages, options
    return task.request_text, options


def _is_not_found(exc: BaseException) -> bool:
    import openai

    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, openai.NotFoundError):
            return True
        current = current.__cause__ or current.__context__
    return False


async def _close(stream: Any) -> None:
    """Close the HTTP stream now; a ResponseStream left open keeps the connection until exit."""
    try:
        await asyncio.wait_for(asyncio.shield(stream.close()), STREAM_CLOSE_TIMEOUT_S)
    except (Exception, asyncio.CancelledError):
        pass


async def stream_once(agent: Agent, task: Task, plan: RunPlan, on_text: Callable[[Task], None]) -> Outcome:
    """Stream one run, appending text to the task as it arrives."""
    from agent_framework import AgentSession

    session = AgentSession.from_dict(task.base_session) if task.base_session else agent.create_session()
    messages, options = _request(task, plan)
    reader = reader_for(task)
    stream = agent.run(messages, stream=True, session=session, options=options)
    try:
        async for update in stream:
            text = reader.text_of(update)
            if text:
                task.output.append(scalar_text(text))
                on_text(task)
            if reader.failure:
                break
            # Buffered SSE events are parsed without awaiting anything; yield so one busy stream
            # cannot hold the event loop (and every other stream, and the UI) for seconds.
            await asyncio.sleep(0)
    except Exception as exc:
        if plan.mode is RunMode.REATTACH and _is_not_found(exc):
            task.continuation_token = None
            task.last_sequence = None
            return Outcome(fallback_notice="the server no longer had the background response; continued in the session")
        raise
    finally:
        await _close(stream)
    if reader.finished and task.api == "responses" and session.service_session_id is None and task.continuation_token:
        session.service_session_id = task.continuation_token.get("response_id")
    return Outcome(
        finished=reader.finished and not reader.failure,
        failure=reader.failure,
        usage=reader.usage,
        session_state=session.to_dict() if reader.finished else None,
    )
