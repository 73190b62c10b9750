"""A session's spending limit (`budget_usd`): once reached, no task starts and running ones stop.

Spent is `Engine.spent_usd`: every task's cost, estimated usage included, and a
running task's by its text so far (providers report usage only at a run's end).
A task whose model has no price counts nothing. Running tasks are held against
the budget when a task ends and every `CHECK_EVERY_S` while any runs. Queued
tasks wait (still `queued`, noticed "budget reached") until the budget is
raised or removed; running ones end `cancelled` with that reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from tui.engine.limits import Slot
from tui.engine.task import Task, TaskStatus

BUDGET_REACHED = "budget reached"
CHECK_EVERY_S = 1.0
"""How often running tasks' growing estimates are held against the budget."""
SPENDING = (TaskStatus.RUNNING, TaskStatus.WAITING)


def reached_message(spent: float, limit: float) -> str:
    return f"{BUDGET_REACHED}: ${spent:.4f} spent of ${limit:g}"


class Budget:
    """The gate every task start passes, and the watch that stops running tasks once the limit is reached.

    `spent()` is what the session has cost so far; `stop(task_id, message)` cancels a running task with that
    message; `changed(task)` tells observers.
    """

    def __init__(
        self, limit: float | None, *, spent: Callable[[], float], tasks: Callable[[], Iterable[Task]],
        stop: Callable[[int, str], bool], changed: Callable[[Task], None],
    ) -> None:
        self.limit = limit
        self.spent = spent
        self._tasks = tasks
        self._stop = stop
        self._changed = changed
        self._raised = asyncio.Event()
        self._running: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.spent() >= self.limit

    # -- the gate ------------------------------------------------------------

    async def admit(self, task: Task, slot: Slot, *, wait: bool) -> bool:
        """Take the task's place under the concurrency limit once the budget allows a start.

        Over budget, the task stays queued with the notice; False at once when not `wait` (headless runs end).
        """
        while True:
            while self.reached:
                self._hold(task)
                if not wait:
                    return False
                await self._raised.wait()
            await slot.take()
            if not self.reached:
                break
            slot.give_back()
        if task.notice is not None and task.notice.startswith(BUDGET_REACHED):
            task.notice = None
            self._changed(task)
        return True

    def _hold(self, task: Task, notice: str | None = None) -> None:
        assert self.limit is not None
        notice = notice or reached_message(self.spent(), self.limit)
        if task.notice != notice:
            task.notice = notice
            self._changed(task)

    def set_limit(self, limit: float | None) -> None:
        """A new budget (None: none); queued tasks go if it allows, running ones stop if it does not."""
        self.limit = limit
        raised, self._raised = self._raised, asyncio.Event()
        raised.set()
        self.check()

    # -- the watch -----------------------------------------------------------

    def begin(self, task: Task) -> None:
        """A run starts: its cost grows with its text, so it is watched while it runs."""
        self._running.add(task.id)
        if self.limit is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(CHECK_EVERY_S, self._tick)

    def end(self, task: Task) -> None:
        self._running.discard(task.id)

    def _tick(self) -> None:
        self._timer = None
        self.check()
        if self.limit is not None and self._running:
            self._timer = asyncio.get_running_loop().call_later(CHECK_EVERY_S, self._tick)

    def check(self) -> None:
        """Stop every running task once the budget is reached, and say so on the queued ones."""
        spent = self.spent()
        if self.limit is None or spent < self.limit:
            return
        message = reached_message(spent, self.limit)
        for task in list(self._tasks()):
            if task.status in SPENDING:
                self._stop(task.id, message)
            elif task.status is TaskStatus.QUEUED:
                self._hold(task, message)
