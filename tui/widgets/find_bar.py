"""The find bar at the foot of an output pane (Ctrl+F): what to find, and how many matches there are."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

FIND_BAR_BINDINGS: list[Binding] = [
    Binding("enter", "step(True)", "Next", id="find.next", tooltip="Go to the next match"),
    Binding("shift+enter,up", "step(False)", "Previous", id="find.previous", tooltip="Go to the previous match"),
    Binding("escape", "close", "Close", id="find.close", tooltip="Close the find bar, staying at the match"),
]


class FindBar(Horizontal):
    """Posts `Changed` as the user types and `Step` / `Closed` for the keys; the pane does the finding."""

    DEFAULT_CSS = """
    FindBar {
        display: none;
        dock: bottom;
        height: 1;
        background: $boost;
        & > Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
        & > Input:focus { border: none; background: $boost; }
        & > #find-count { width: auto; min-width: 9; padding: 0 1; color: $text-muted; }
        & > #find-count.-none { color: $text-warning; }
        &.-open { display: block; }
    }
    """
    BINDINGS = FIND_BAR_BINDINGS

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Step(Message):
        def __init__(self, forward: bool) -> None:
            super().__init__()
            self.forward = forward

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Find in this output (Enter next, Shift+Enter previous, Esc close)", id="find-input")
        yield Static("", id="find-count", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def text(self) -> str:
        return self.input.value

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        """Shown and focused at once, so the keys typed right after Ctrl+F land in it (see `focus_follow`)."""
        self.add_class("-open")
        self.screen.set_focus(self.input)

    def close(self) -> None:
        """Hidden; its text stays for the next Ctrl+F (which finds it again)."""
        self.remove_class("-open")

    def show_count(self, counted: str) -> None:
        count = self.query_one("#find-count", Static)
        count.update(counted if self.text.strip() else "")
        count.set_class(counted == "no match", "-none")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_step(True)

    def action_step(self, forward: bool) -> None:
        self.post_message(self.Step(forward))

    def action_close(self) -> None:
        self.post_message(self.Closed())
