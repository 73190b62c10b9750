"""A tool call among a Markdown answer's blocks: its state, arguments and the first lines of its result."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.engine.tool_calls import ToolCall
from tui.widgets.tool_call_text import CALL_COLOURS, call_lines, shown_state


class ToolCallView(Static):
    """Drawn from `call_lines` (the raw body shows the same lines); a click asks for the whole call."""

    DEFAULT_CSS = """
    ToolCallView {
        height: auto;
        margin: 0 1 1 1;
        padding: 0 1;
        background: $boost;
        border-left: outer $accent 60%;
        color: $foreground;
        &:hover { background: $boost 200%; }
    }
    """

    class Clicked(Message):
        """The reader wants the whole call (its full arguments and result)."""

        def __init__(self, call_id: str) -> None:
            super().__init__()
            self.call_id = call_id
            self.task_id: int | None = None
            """Set by the pane the call is in."""

    def __init__(self, call: ToolCall) -> None:
        super().__init__(markup=False)
        self.call = call
        self._state: tuple[object, ...] | None = None
        self.redraw()

    def redraw(self) -> None:
        """Update the text when what it shows changed (a Static update costs a layout)."""
        state = shown_state(self.call)
        if state == self._state:
            return
        self._state = state
        header, *rest = call_lines(self.call)
        colour = f"${CALL_COLOURS[self.call.status]}"
        lines = [Content.styled(header, f"{colour} bold"), *(Content(line) for line in rest)]
        self.update(Content("\n").join(lines))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self.call.call_id))
