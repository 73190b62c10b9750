"""The main screen's side of tool calls: approvals asked and answered, and the calls shown in full."""

from __future__ import annotations

from textual.widget import Widget

from tui.engine import EngineError, Task, TaskEvent, TaskStatus
from tui.engine.events import EventKind
from tui.engine.tool_calls import ApprovalDecision, ToolCall, ToolCallStatus
from tui.screens.task_actions import ActionHost, TaskActions
from tui.widgets.formatting import one_line
from tui.widgets.prompt_box import PromptBox
from tui.widgets.tool_call_text import APPROVE_KEY

TOOL_ACTIONS = frozenset({"approve", "tool_calls"})
"""Keys shown in the footer only when they apply (a call waits; the task has calls), hidden otherwise."""
_ANSWERED = {
    ApprovalDecision.ONCE: "approved once",
    ApprovalDecision.ALWAYS: "approved for the rest of this task",
    ApprovalDecision.DENY: "denied",
}


class ToolHost(ActionHost):
    """What the tool actions need of the screen that owns them, beyond what the task actions need."""

    @property
    def focused(self) -> Widget | None: ...


class ToolActions:
    """Calls that start waiting are announced with a toast; `p` answers the selected (or oldest) waiting task.

    A collaborator of the main screen beside its `TaskActions`, whose selection,
    app and failure notices it shares.
    """

    def __init__(self, host: ToolHost, tasks: TaskActions) -> None:
        self._host = host
        self._tasks = tasks
        self.engine = tasks.engine
        self._new_questions: list[tuple[Task, ToolCall]] = []

    def note_tool_event(self, event: TaskEvent) -> None:
        """Runs inside the engine: remember calls that started waiting, announced on the next tick."""
        if event.kind is EventKind.TOOL and event.call is not None and event.call.status is ToolCallStatus.WAITING:
            self._new_questions.append((event.task, event.call))

    def announce_questions(self) -> None:
        """A toast per call that began waiting; its key hint is the way to `p` from where focus is now."""
        questions, self._new_questions = self._new_questions, []
        if self._tasks.deck.read_only:
            return
        app = self._host.app
        for task, call in questions:
            if call.status is not ToolCallStatus.WAITING:
                continue  # answered or withdrawn already
            if app.screen is not self._host:
                how = f"close this dialog, then press {APPROVE_KEY}"
            elif isinstance(self._host.focused, PromptBox):
                how = f"press Esc, then {APPROVE_KEY}"
            else:
                how = f"press {APPROVE_KEY}"
            app.notify(
                f"#{task.id} {one_line(task.prompt, 40)}\nasks to run {one_line(call.name, 40)} "
                f"({one_line(call.server, 20)}): {how} to answer.",
                title="⏸ Approval needed", severity="warning", markup=False, timeout=10,
            )

    def waiting_task(self) -> Task | None:
        """The selected task if it waits for an answer, else the one waiting longest."""
        selected = self._tasks.selected
        if selected is not None and selected.waiting_calls:
            return selected
        waiting = [task for task in self.engine.by_status(TaskStatus.WAITING) if task.waiting_calls]
        return min(waiting, key=lambda task: task.waiting_calls[0].started_at, default=None)

    def can(self, action: str) -> bool:
        """Whether a tool key applies now; any other action is the task actions' to judge."""
        if action == "approve":
            return not self._tasks.deck.read_only and self.waiting_task() is not None
        if action == "tool_calls":
            selected = self._tasks.selected
            return selected is not None and bool(selected.tool_calls)
        return self._tasks.can(action)

    def action_approve(self) -> None:
        task = self.waiting_task()
        if task is None or self._tasks.deck.read_only:
            return
        self._tasks.table.select(task.id)
        self.ask_approval(task)

    def ask_approval(self, task: Task, answered_ids: frozenset[str] = frozenset()) -> None:
        """The dialog for the task's first waiting call; parallel calls are asked one after another."""
        call = next((c for c in task.waiting_calls if c.call_id not in answered_ids), None)
        if call is None:
            return
        app = self._host.app

        def answered(decision: ApprovalDecision | None) -> None:
            if decision is None:
                return
            try:
                self.engine.answer_approval(task.id, call.call_id, decision)
            except EngineError as exc:
                self._tasks.fail(exc)
                return
            app.notify(f"#{task.id} {one_line(call.name, 40)}: {_ANSWERED[decision]}.", markup=False)
            if task.status is TaskStatus.WAITING:
                self.ask_approval(task, answered_ids | {call.call_id})

        from tui.screens.approve import ApproveScreen  # dialogs' modules wait until one opens

        app.push_screen(ApproveScreen(task.id, task.prompt, call), answered)

    def action_tool_calls(self, call_id: str | None = None) -> None:
        task = self._tasks.selected
        if task is not None and task.tool_calls:
            self.show_calls(task.id, call_id)

    def show_calls(self, task_id: int | None, call_id: str | None) -> None:
        """A clicked call: every call of its task, that one in view."""
        from tui.screens.tool_calls import ToolCallsScreen

        task = self.engine.find(task_id)
        if task is not None:
            self._host.app.push_screen(ToolCallsScreen(task, call_id))
