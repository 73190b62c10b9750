"""The engine's side of a run's tool calls: copies from the stream loop become the task's records.

Runs on the engine's loop. The model's call ids are unique within one run, not
across the runs of a continued task, so a repeated id gets a suffix here;
`ToolCall.call_id` is what `Engine.answer_approval` takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from tui.engine.approvals import Approvals
from tui.engine.feed import ToolEvent
from tui.engine.limits import Slot
from tui.engine.redact import Redactor
from tui.engine.task import Task, TaskStatus
from tui.engine.tool_calls import ApprovalDecision, ToolCall, ToolCallStatus


class ToolRecorder:
    def __init__(
        self,
        task: Task,
        redactor: Redactor,
        call_changed: Callable[[Task, ToolCall], None],
        task_changed: Callable[[Task], None],
        approvals: Approvals,
        slot: Slot,
    ) -> None:
        self.task = task
        self._redactor = redactor
        self._changed = call_changed
        self._task_changed = task_changed
        self._approvals = approvals
        self._slot = slot
        self._by_model_id: dict[str, ToolCall] = {}
        self._questions: set[asyncio.Task[None]] = set()

    def apply(self, task: Task, event: ToolEvent) -> None:
        seen = event.call
        call = self._by_model_id.get(seen.call_id)
        if call is None:
            call = replace(seen, call_id=self._unique_id(seen.call_id), offset=task.chars)
            if call.status is ToolCallStatus.WAITING:
                call.status = ToolCallStatus.RUNNING  # the engine makes it wait (see `_ask`), or not
            self._by_model_id[seen.call_id] = call
            task.tool_calls.append(call)
        elif not call.status.is_final:
            if seen.status is not ToolCallStatus.WAITING:
                call.status = seen.status
            call.result = self._redactor.hide(seen.result)
            call.error = self._redactor.hide(seen.error)
            call.finished_at = seen.finished_at
        if event.reply is None:
            self._changed(task, call)
        else:  # observers hear of it as waiting, or as running when its tool is approved for the task already
            self._ask(call, event.reply)

    def _unique_id(self, model_id: str) -> str:
        taken = {call.call_id for call in self.task.tool_calls}
        candidate, number = model_id, 1
        while candidate in taken:
            number += 1
            candidate = f"{model_id}-{number}"
        return candidate

    async def _await_approval(self, call: ToolCall) -> ApprovalDecision:
        """Pause the task as `waiting` until the operator answers for this call (or its tool is approved already).

        Meanwhile the task gives up its place under the concurrency limit, so queued tasks run; once
        answered it waits for a place again (still `waiting`) before the call runs.
        """
        task = self.task
        if self._approvals.approved_for_task(task.id, call.name):
            self._changed(task, call)
            return ApprovalDecision.ALWAYS
        call.status = ToolCallStatus.WAITING
        task.status = TaskStatus.WAITING
        self._changed(task, call)
        self._task_changed(task)
        self._slot.give_back()
        decision = await self._approvals.ask(task.id, call.call_id, call.name)
        call.status = ToolCallStatus.RUNNING
        if not task.waiting_calls and not self._slot.held:
            await self._slot.take()
        if task.status is TaskStatus.WAITING and not task.waiting_calls:
            task.status = TaskStatus.RUNNING
            self._task_changed(task)
        return decision

    def _ask(self, call: ToolCall, reply: Callable[[ApprovalDecision], None]) -> None:
        async def ask() -> None:
            reply(await self._await_approval(call))

        question = asyncio.create_task(ask(), name=f"agentdeck-approval-{self.task.id}-{call.call_id}")
        self._questions.add(question)
        question.add_done_callback(self._questions.discard)

    def withdraw(self) -> None:
        """The run ended: no question of it waits any more (its stream side was cancelled with it)."""
        for question in list(self._questions):
            question.cancel()
