"""What the engine tells its observers (UI, headless CLI, persistence)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from tui.engine.task import Task
from tui.engine.tool_calls import ToolCall


class EventKind(StrEnum):
    ADDED = "added"
    STATUS = "status"
    """Status, error, timeout or other metadata changed."""
    PROGRESS = "progress"
    """New text arrived; read it with `task.output.since(offset)`."""
    TOOL = "tool"
    """A tool call started, now waits for approval, or ended: `event.call` (also in `task.tool_calls`)."""
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class TaskEvent:
    kind: EventKind
    task: Task
    call: ToolCall | None = None
    """The tool call a TOOL event is about."""


Observer = Callable[[TaskEvent], None]


class ProgressThrottle:
    """Coalesces per-chunk progress into at most `rate_hz` notifications per task.

    The first chunk after a quiet spell is reported at once; later ones within
    the interval are folded into one trailing notification, so the last state
    is always delivered.
    """

    def __init__(self, emit: Callable[[Task], None], rate_hz: float = 10.0) -> None:
        self._emit = emit
        self._interval = 1.0 / rate_hz
        self._last: dict[int, float] = {}
        self._pending: dict[int, asyncio.TimerHandle] = {}
        self._marks: dict[int, tuple[float, int]] = {}

    def touch(self, task: Task) -> None:
        if task.id in self._pending:
            return
        now = time.monotonic()
        wait = self._last.get(task.id, 0.0) + self._interval - now
        if wait <= 0:
            self._fire(task)
        else:
            loop = asyncio.get_running_loop()
            self._pending[task.id] = loop.call_later(wait, self._fire, task)

    def flush(self, task: Task) -> None:
        """Deliver any pending progress now (before a status change)."""
        handle = self._pending.pop(task.id, None)
        if handle is not None:
            handle.cancel()
            self._fire(task)

    def forget(self, task: Task) -> None:
        handle = self._pending.pop(task.id, None)
        if handle is not None:
            handle.cancel()
        self._last.pop(task.id, None)
        self._marks.pop(task.id, None)

    def _fire(self, task: Task) -> None:
        self._pending.pop(task.id, None)
        now = time.monotonic()
        previous = self._marks.get(task.id)
        self._last[task.id] = now
        self._marks[task.id] = (now, task.chars)
        if previous is not None:
            _smooth_rate(task, now - previous[0], task.chars - previous[1])
        self._emit(task)


def _smooth_rate(task: Task, span: float, new_chars: int) -> None:
    """Smoothed chars/s between notifications, so the table shows the current pace."""
    if span <= 0:
        return
    instant = new_chars / span
    task.rate = instant if task.rate == 0 else 0.6 * instant + 0.4 * task.rate
