"""Tool calls that wait for the operator: one pending answer per call, and tools approved for a whole task."""

from __future__ import annotations

import asyncio

from tui.engine.tool_calls import ApprovalDecision


class Approvals:
    """Lives on the engine's loop; `ask` is awaited by the tool call, `answer` is called by the UI."""

    def __init__(self) -> None:
        self._pending: dict[tuple[int, str], asyncio.Future[ApprovalDecision]] = {}
        self._always: dict[int, set[str]] = {}

    def approved_for_task(self, task_id: int, tool: str) -> bool:
        return tool in self._always.get(task_id, ())

    async def ask(self, task_id: int, call_id: str, tool: str) -> ApprovalDecision:
        """Wait for the operator's answer; cancelling the waiting task withdraws the question."""
        future: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self._pending[(task_id, call_id)] = future
        try:
            decision = await future
        finally:
            self._pending.pop((task_id, call_id), None)
        if decision is ApprovalDecision.ALWAYS:
            self._always.setdefault(task_id, set()).add(tool)
        return decision

    def is_pending(self, task_id: int, call_id: str) -> bool:
        return (task_id, call_id) in self._pending

    def answer(self, task_id: int, call_id: str, decision: ApprovalDecision) -> bool:
        """False when nothing waits for this call (answered already, or its task stopped)."""
        future = self._pending.get((task_id, call_id))
        if future is None or future.done():
            return False
        future.set_result(decision)
        return True

    def forget(self, task_id: int) -> None:
        """A task removed: its whole-task approvals go with it."""
        self._always.pop(task_id, None)
