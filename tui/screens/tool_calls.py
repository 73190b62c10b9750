"""A task's tool calls in full: arguments and the whole result or error, shown literally."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.engine import Task
from tui.engine.tool_calls import ToolCall
from tui.safety import visible_controls
from tui.widgets.formatting import one_line
from tui.widgets.tool_call_text import CALL_COLOURS, arguments_pretty, header_line

MAX_RESULT_CHARS = 200_000
"""A longer result is cut here (laying out megabytes in a dialog would freeze it); `y` copies the task's text."""


def _call_text(call: ToolCall) -> Content:
    header = Content.styled(header_line(call), f"${CALL_COLOURS[call.status]} bold")
    outcome = call.result if call.result is not None else call.error
    label = "result" if call.result is not None else "error" if call.error is not None else "no result yet"
    body = visible_controls(outcome or "")
    if len(body) > MAX_RESULT_CHARS:
        body = body[:MAX_RESULT_CHARS] + f"\n… cut at {MAX_RESULT_CHARS:,} characters"
    return Content("\n").join([
        header,
        Content.styled("arguments:", "bold"),
        Content(arguments_pretty(call.arguments)),
        Content.styled(f"{label}:", "bold"),
        Content(body),
    ])


class ToolCallsScreen(ModalScreen[None]):
    """Opens scrolled to one call (the one clicked); closes on Escape, q or l."""

    CSS_PATH = "tool_calls.tcss"
    BINDINGS = [Binding("escape,q,l", "dismiss", "Close", id="calls.close", tooltip="Back to the tasks")]

    def __init__(self, task: Task, call_id: str | None = None) -> None:
        super().__init__()
        self._task_ref = task
        self._call_id = call_id

    def compose(self) -> ComposeResult:
        task = self._task_ref
        with VerticalScroll(id="calls") as scroll:
            scroll.border_title = f"Tool calls of task #{task.id} · {one_line(task.prompt, 50)}"
            scroll.border_subtitle = "Esc closes · ↑ ↓ scroll"
            for index, call in enumerate(list(task.tool_calls)):
                yield Static(_call_text(call), markup=False, id=f"call-{index}", classes="call")
            if not task.tool_calls:
                yield Static("This task has called no tool.", classes="call")

    def on_mount(self) -> None:
        calls = self._task_ref.tool_calls
        scroll = self.query_one("#calls", VerticalScroll)
        scroll.focus()
        index = next((i for i, call in enumerate(calls) if call.call_id == self._call_id), None)
        if index is not None:
            target = self.query_one(f"#call-{index}")
            self.call_after_refresh(scroll.scroll_to_widget, target, animate=False, top=True)
