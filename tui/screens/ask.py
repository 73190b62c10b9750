"""A one-line question in a modal (a timeout, a follow-up, a file path); Escape cancels."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

Check = Callable[[str], str | None | Awaitable[str | None]]
"""Returns an error message for a bad answer, or None when it is acceptable; may be async (reading a file)."""


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
        self._checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = self._title
            yield Static(self._hint, id="hint", markup=False)
            yield Input(self._value, placeholder=self._placeholder, id="answer")
            yield Static("", id="error", markup=False)
            yield Static("Enter to confirm · Esc to cancel", id="keys")

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        """A bad answer is explained under the field and stays there to be corrected."""
        event.stop()
        if self._checking:
            return
        answer = event.value.strip()
        self._checking = True
        try:
            problem = self._check(answer) if self._check else None
            if inspect.isawaitable(problem):
                problem = await problem
        finally:
            self._checking = False
        self.query_one("#error", Static).update(problem or "")
        if not problem:
            self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
