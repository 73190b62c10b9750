"""The engine's tasks by status, and the usage of the final ones, kept as tasks change.

The app reads the running tasks, the counts and the session's total four times a
second; a session kept for weeks holds thousands of finished tasks, so those reads
must not scan them. Every status change reaches the index through the task itself
(`Task.status_listener`), whoever makes it.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from tui.engine.pricing import RunningTotal, UsageTotal
from tui.engine.task import Task, TaskStatus

_ACTIVE = tuple(status for status in TaskStatus if status.is_active)
_BY_ID = attrgetter("id")


class TaskIndex:
    """Tasks by status, oldest first on reading, and a running total of the final ones' usage."""

    def __init__(self) -> None:
        self._by_status: dict[TaskStatus, dict[int, Task]] = {status: {} for status in TaskStatus}
        self._final = RunningTotal()

    def add(self, task: Task) -> None:
        """Index a task the engine now holds (the engine has discarded another with its id)."""
        task.status_listener = self._moved
        self._moved(task, None)

    def discard(self, task: Task) -> None:
        if self._by_status[task.status].pop(task.id, None) is task:
            task.status_listener = None
            self._final.forget(task.id)

    def _moved(self, task: Task, before: TaskStatus | None) -> None:
        if before is not None:
            self._by_status[before].pop(task.id, None)
        self._by_status[task.status][task.id] = task
        if task.status.is_final:
            self._final.count(task)
        else:  # continued: summed with the active ones now
            self._final.forget(task.id)

    def usage_changed(self, task: Task) -> None:
        """The task's usage may have changed (its run settled, a cancelled response reported what it used,
        a watched session's task was read again): a final one is counted again."""
        if task.status.is_final and self._by_status[task.status].get(task.id) is task:
            self._final.count(task)

    def by_status(self, *statuses: TaskStatus) -> list[Task]:
        """Tasks in any of these statuses, oldest (lowest id) first."""
        found = [task for status in dict.fromkeys(statuses) for task in self._by_status[status].values()]
        found.sort(key=_BY_ID)
        return found

    def counts(self) -> Counter[TaskStatus]:
        return Counter({status: len(tasks) for status, tasks in self._by_status.items() if tasks})

    def usage_total(self) -> UsageTotal:
        """Every task's tokens and cost: the final ones' kept total and the active ones' usage now."""
        return self._final.with_tasks(task for status in _ACTIVE for task in self._by_status[status].values())
