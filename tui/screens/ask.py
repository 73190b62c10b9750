"""A one-line question in a modal (a timeout, a follow-up, a file path); Escape cancels."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

Check = Callable[[str], str | None]
"""Returns an error message for a bad answer, or None when it is acceptable."""


class AskScreen(ModalScreen[str | None]):
    """Dismisses with the text entered (stripped), or None when cancelled."""

    CSS_PATH = "ask.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ask.cancel", tooltip="Close without changing anything")]

    def __init__(
        self,
        title: str,
        hint: str,
        *,
        value: str = "",
        placeholder: str = "",
        check: Check | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._value = value
        self._placeholder = placeholder
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = self._title
            yield Static(self._hint, id="hint", markup=False)
            yield Input(self._value, placeholder=self._placeholder, id="answer")
            yield Static("", id="error", markup=False)
            yield Static("Enter to confirm · Esc to cancel", id="keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = event.value.strip()
        problem = self._check(answer) if self._check else None
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
