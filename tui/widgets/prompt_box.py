"""The prompt box: multi-line, Enter runs it, Ctrl+J (or Shift+Enter) starts a new line."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tui.widgets.focus_follow import hand_on_straggler, run_binding_now

PLACEHOLDER = "Ask something… Enter runs it · Ctrl+J new line · paste a list to run one task per line"


class PromptBox(TextArea):
    """Enter submits, because that is what a newcomer presses.

    Most terminals send the same byte for Enter and Shift+Enter, so the
    newline key that always works is Ctrl+J (a line feed); Shift+Enter and
    Alt+Enter work where the terminal tells them apart.
    """

    DEFAULT_CSS = """
    PromptBox {
        height: auto;
        min-height: 3;
        max-height: 8;
        border: round $foreground 25%;
        &:focus { border: round $accent; }
    }
    """

    BINDINGS = [
        Binding("enter", "submit", "Run", id="prompt.submit", tooltip="Run the prompt as a new task"),
        Binding("ctrl+j", "newline", "Newline", id="prompt.newline", tooltip="Insert a new line (also Shift+Enter)"),
        Binding("ctrl+o", "attach", "Attach", id="prompt.attach", tooltip="Attach a text file to the next prompt"),
        Binding("escape", "leave", "Tasks", id="prompt.leave", tooltip="Move to the task table"),
    ]

    NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})

    @dataclass
    class _PromptMessage(Message):
        prompt_box: PromptBox

        @property
        def control(self) -> PromptBox:
            """The box the message came from, so `@on(PromptBox.Submitted, "#id")` can match it."""
            return self.prompt_box

    @dataclass
    class Submitted(_PromptMessage):
        """The user pressed Enter on a non-empty prompt."""

        text: str

    @dataclass
    class MultiLinePaste(_PromptMessage):
        """Several non-empty lines were pasted: the screen asks whether to run them as separate tasks."""

        text: str
        lines: list[str]

    @dataclass
    class AttachRequested(_PromptMessage):
        pass

    @dataclass
    class LeaveRequested(_PromptMessage):
        pass

    @dataclass
    class Resized(_PromptMessage):
        """The box grew or shrank with its text (Textual's Resize event does not bubble)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, placeholder=PLACEHOLDER, id=id)

    def on_resize(self) -> None:
        self.post_message(self.Resized(self))

    async def on_key(self, event: events.Key) -> None:
        """Runs before TextArea's own key handler, which a handled key skips (`prevent_default`)."""
        if hand_on_straggler(self, event) or (not event.is_printable and await run_binding_now(self, event)):
            return
        # TextArea inserts a newline on Enter before bindings are consulted, so decide here.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif event.key in self.NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()

    def on_paste(self, event: events.Paste) -> None:
        """Runs before TextArea inserts the paste; a multi-line paste is kept from it for the screen to ask about."""
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        if len(lines) > 1:
            event.stop()
            event.prevent_default()
            self.post_message(self.MultiLinePaste(self, event.text, lines))

    def paste_text(self, text: str) -> None:
        """Insert pasted text as one prompt (after the user declined to split it)."""
        self.replace(text, *self.selection, maintain_selection_offset=False)

    def action_submit(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        self.replace("\n", *self.selection, maintain_selection_offset=False)

    def action_attach(self) -> None:
        self.post_message(self.AttachRequested(self))

    def action_leave(self) -> None:
        self.post_message(self.LeaveRequested(self))
