"""What the task table shows, without the widget: its filters, sorts and each row's cell texts.

Kept apart from `TaskTable` so the row texts and the orders can be read (and tested) on their own,
and the filter and sort names imported without the widget (the command palette does).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from tui.engine import Task, TaskStatus
from tui.engine.stalls import QUIET_SHOWN_AFTER_S, is_stalled, quiet_for
from tui.widgets.formatting import cost_cell, count, duration, one_line, tokens_cell
from tui.widgets.status import ICONS, quiet_label
from tui.widgets.tool_call_text import table_cell


class TaskFilter(StrEnum):
    ALL = "all"
    ACTIVE = "active"
    DONE = "done"
    PROBLEMS = "problems"
    """Failed, timed out, interrupted or cancelled: what may need a retry or continue."""
    STALLED = "stalled"
    """Running but quiet for more than `QUIET_SHOWN_AFTER_S`; `v` steps past it while no task is stalled."""

    @property
    def label(self) -> str:
        """The tasks this view shows, in words: `done tasks`, `tasks with problems`."""
        return "tasks with problems" if self is TaskFilter.PROBLEMS else f"{self} tasks"


class TaskSort(StrEnum):
    ID = "id"
    STATUS = "status"
    CHARS = "chars"
    ELAPSED = "elapsed"


FILTERS: dict[TaskFilter, Callable[[Task, float], bool]] = {
    TaskFilter.ALL: lambda task, now: True,
    TaskFilter.ACTIVE: lambda task, now: task.status.is_active,
    TaskFilter.DONE: lambda task, now: task.status is TaskStatus.DONE,
    TaskFilter.PROBLEMS: lambda task, now: task.status.is_final and task.status is not TaskStatus.DONE,
    TaskFilter.STALLED: is_stalled,
}
_STATUS_ORDER = {
    status: rank
    for rank, status in enumerate(
        (
            TaskStatus.WAITING,
            TaskStatus.RUNNING,
            TaskStatus.QUEUED,
            TaskStatus.FAILED,
            TaskStatus.TIMED_OUT,
            TaskStatus.INTERRUPTED,
            TaskStatus.CANCELLED,
            TaskStatus.DONE,
        )
    )
}
SORT_VALUES: dict[TaskSort, Callable[[Task, float], float]] = {
    TaskSort.ID: lambda task, now: 0,
    TaskSort.STATUS: lambda task, now: _STATUS_ORDER[task.status],
    TaskSort.CHARS: lambda task, now: -task.chars,
    TaskSort.ELAPSED: lambda task, now: -task.elapsed(now),
}
"""What each sort orders by (then the id), given a task and the time now."""

STALL_S = 2.0
"""A running task with no new text for this long shows no rate: the engine's rate is the last burst's."""


class RowTexts:
    """Each row's cell texts, in `COLUMNS` order; it keeps when each task last grew, for its rate."""

    def __init__(self, widths: dict[str, int]) -> None:
        self.widths = widths
        """Column widths by key, shared with the table: the model and prompt cells are cut to theirs."""
        self._growth: dict[int, tuple[int, float]] = {}
        """Per task: its length when last seen growing, and when."""

    def forget(self, task_id: int) -> None:
        self._growth.pop(task_id, None)

    def _rate(self, task: Task, now: float) -> str:
        chars, since = self._growth.get(task.id, (-1, now))
        if task.chars != chars:
            self._growth[task.id] = (task.chars, now)
            since = now
        return "0" if now - since > STALL_S else f"{task.rate:,.0f}"

    def texts(self, task: Task, now: float) -> tuple[str, ...]:
        running = task.status is TaskStatus.RUNNING
        started = task.started_at is not None or task.prior_elapsed > 0
        quiet = quiet_for(task, now)
        stalled = quiet is not None and quiet > QUIET_SHOWN_AFTER_S
        return (
            str(task.id),
            f"{ICONS[task.status]} {quiet_label(quiet) if stalled else task.status.word}",
            one_line(f"{task.provider}/{task.model}", self.widths["model"]),
            one_line(_waiting(task) + _prompt(task), self.widths["prompt"]),
            table_cell(task.tool_calls),
            count(task.chars),
            self._rate(task, now) if running else "",
            tokens_cell(task.usage),
            cost_cell(task.usage),
            duration(task.time_to_first_output) if task.started_at is not None else "",
            duration(task.elapsed(now)) if started else "—",
            duration(task.time_left(now)) if running and task.timeout else "",
        )


def _prompt(task: Task) -> str:
    return f"{task.group} · {task.prompt}" if task.group else task.prompt


def _waiting(task: Task) -> str:
    """Why a queued task is not running yet (`waiting: deepseek 2/2 · `), before its prompt."""
    return f"{task.notice} · " if task.status is TaskStatus.QUEUED and task.notice else ""
