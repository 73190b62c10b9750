"""Stalls: a run that gets no output for too long ends `timed_out`, apart from the wall-clock timeout.

Output is what a model produces: text, reasoning (which adds no text to the
answer) and tool calls. Protocol events that only say a stream is open
(`response.created`, an empty role chunk, a keep-alive) are not output, so a
stream that stays open but says nothing is caught too. While one of the task's
tool calls runs or waits for the operator's approval, the model is not the one
quiet: the idle clock is held.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from tui.engine.task import Task, TaskStatus

DEFAULT_IDLE_TIMEOUT_S = 120.0
QUIET_SHOWN_AFTER_S = 10.0
"""A running task quiet for longer than this shows how long (and counts as stalled)."""
HELD_RECHECK_S = 1.0
"""While the clock is held, how often to look again (the quiet time restarts from the last look)."""
_OUTPUT_CONTENTS = frozenset({"text_reasoning", "function_call", "function_result"})
_REASONING_DELTA_FIELDS = ("reasoning_content", "reasoning")
"""Chat chunks of reasoning models (DeepSeek, vLLM, OpenRouter) carry reasoning here; the framework skips it."""


def is_output(update: Any) -> bool:
    """Whether a stream update carries model output; asked before `release_raw` drops the raw chunk."""
    for content in update.contents or ():
        if content.type in _OUTPUT_CONTENTS or (content.type == "text" and content.text):
            return True
    raw = getattr(getattr(update, "raw_representation", None), "raw_representation", None)
    kind = getattr(raw, "type", None)
    if isinstance(kind, str):
        return kind.startswith("response.reasoning")
    for choice in getattr(raw, "choices", None) or ():
        extra = getattr(getattr(choice, "delta", None), "model_extra", None) or {}
        if any(extra.get(name) for name in _REASONING_DELTA_FIELDS):
            return True
    return False


def mark_output(task: Task, now: float | None = None) -> None:
    """Output arrived for the task's current run."""
    now = time.time() if now is None else now
    if task.first_output_at is None:
        task.first_output_at = now
    task.last_output_at = now


def quiet_for(task: Task, now: float | None = None) -> float | None:
    """Seconds a running task has had no output (since its run began when none came yet); None otherwise."""
    if task.status is not TaskStatus.RUNNING or task.started_at is None:
        return None
    since = task.last_output_at or task.started_at
    return max(0.0, (time.time() if now is None else now) - since)


def is_stalled(task: Task, now: float | None = None) -> bool:
    quiet = quiet_for(task, now)
    return quiet is not None and quiet > QUIET_SHOWN_AFTER_S


def idle_message(seconds: float) -> str:
    return f"no output for {seconds:g} s"


class IdleWatch:
    """An `asyncio.timeout` around one run that expires once the task has been quiet for `seconds`.

    One timer per run, re-armed only when it fires (not per chunk): it looks at
    `task.last_output_at`, which the stream keeps current. `seconds` None: never.
    """

    def __init__(self, task: Task, seconds: float | None) -> None:
        self.task = task
        self.seconds = seconds
        self.fired = False
        self._scope = asyncio.timeout(None)
        self._timer: asyncio.TimerHandle | None = None
        self._held_at = 0.0

    async def __aenter__(self) -> IdleWatch:
        await self._scope.__aenter__()
        if self.seconds is not None:
            self._arm(self.seconds)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool | None:
        if self._timer is not None:
            self._timer.cancel()
        return await self._scope.__aexit__(kind, error, trace)

    @property
    def message(self) -> str:
        return idle_message(self.seconds or 0)

    def _arm(self, delay: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, self._check)

    def _held(self) -> bool:
        task = self.task
        return task.status is not TaskStatus.RUNNING or any(not call.status.is_final for call in task.tool_calls)

    def _check(self) -> None:
        assert self.seconds is not None
        now = time.time()
        if self._held():
            self._held_at = now
            self._arm(min(self.seconds, HELD_RECHECK_S))
            return
        since = max(self.task.last_output_at or self.task.started_at or now, self._held_at)
        left = since + self.seconds - now
        if left > 0:
            self._arm(left)
            return
        self.fired = True
        self._scope.reschedule(asyncio.get_running_loop().time())
