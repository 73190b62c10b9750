"""The operator's answer to a tool call that waits for approval: once, always for this task, or deny."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.engine.tool_calls import ApprovalDecision, ToolCall, ToolCallStatus
from tui.safety import visible_controls
from tui.widgets.formatting import one_line
from tui.widgets.tool_call_text import arguments_pretty

MAX_ARGUMENT_CHARS = 20_000
"""Arguments longer than this are cut in the dialog (a model may send a whole file)."""


class ApproveScreen(ModalScreen[ApprovalDecision | None]):
    """Dismisses with the decision, or None (Escape) to leave the call waiting; the caller tells the engine."""

    CSS_PATH = "approve.tcss"
    BINDINGS = [
        Binding("y", "answer('once')", "Approve once", id="approve.once", tooltip="Run this call"),
        Binding(
            "a", "answer('always')", "Always (this task)", id="approve.always",
            tooltip="Run this call and the task's later calls of this tool without asking",
        ),
        Binding("n", "answer('deny')", "Deny", id="approve.deny", tooltip="Do not run it; the model is told"),
        Binding("escape", "answer('')", "Later", id="approve.later", tooltip="Close; the call keeps waiting"),
    ]

    def __init__(self, task_id: int, prompt: str, call: ToolCall) -> None:
        super().__init__()
        self._task_id = task_id
        self._prompt = prompt
        self.call = call

    def compose(self) -> ComposeResult:
        call = self.call
        arguments = arguments_pretty(call.arguments)
        if len(arguments) > MAX_ARGUMENT_CHARS:
            arguments = arguments[:MAX_ARGUMENT_CHARS] + f"\n… cut at {MAX_ARGUMENT_CHARS:,} characters"
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"Approve {one_line(call.name, 40)}?"
            yield Static(
                f"Task #{self._task_id} ({one_line(self._prompt, 50)}) asks to run tool "
                f"{visible_controls(call.name)} of MCP server {visible_controls(call.server)}, with:",
                id="question", markup=False,
            )
            with VerticalScroll(id="arguments"):
                yield Static(arguments, markup=False)
            with Horizontal(id="buttons"):
                yield Button("Approve once (y)", variant="success", id="once")
                yield Button("Always for this task (a)", variant="primary", id="always")
                yield Button("Deny (n)", variant="error", id="deny")
            yield Static("Esc: answer later (the task keeps waiting; other tasks run on)", id="keys")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()
        self.set_interval(0.25, self._close_when_settled)

    def _close_when_settled(self) -> None:
        """The task was cancelled or timed out meanwhile: there is nothing left to answer."""
        if self.call.status is not ToolCallStatus.WAITING and self.is_current:
            self.notify(
                f"{one_line(self.call.name, 40)} of task #{self._task_id} no longer waits "
                f"({str(self.call.status).replace('_', ' ')}).",
                markup=False,
            )
            self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "")

    def action_answer(self, decision: str) -> None:
        self.dismiss(ApprovalDecision(decision) if decision else None)
