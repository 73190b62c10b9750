"""Saved sessions: list, open, rename, delete, start a new one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen
from tui.store import SessionInfo, StoreError, delete_session, list_sessions, rename_session
from tui.widgets.footer import DeckFooter
from tui.widgets.formatting import one_line, plural

NEW_SESSION = ""
"""Dismiss value asking for a fresh session."""


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


def _counts(info: SessionInfo) -> str:
    parts = [f"{count} {status}" for status, count in sorted(info.counts.items()) if count]
    return ", ".join(parts) or "empty"


LONG_TIME, SHORT_TIME = "%Y-%m-%d %H:%M", "%m-%d %H:%M"
VARIANTS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("name", "created", "updated", "size", "tasks"), LONG_TIME, True),
    (("name", "updated", "size", "tasks"), LONG_TIME, True),
    (("name", "updated", "size", "tasks"), SHORT_TIME, True),
    (("name", "updated", "size", "tasks"), SHORT_TIME, False),
)
"""Columns, time format and whether tasks are described by status, from widest to narrowest."""
MIN_NAME_WIDTH = 8
CELL_PADDING = 2
"""A DataTable cell's padding, both sides together."""


def session_cells(
    sessions: list[SessionInfo], current: str | None, room: int
) -> tuple[tuple[str, ...], list[list[str]]]:
    """Column labels and cell texts that fit `room` cells: dropping the creation time, then shorter
    times, then the per-status counts, and only then cutting names (sizes and times stay whole)."""
    for columns, time_format, by_status in VARIANTS:
        rows = [_session_row(info, current, columns, time_format, by_status) for info in sessions]
        widths = [max([cell_len(label), *(cell_len(row[i]) for row in rows)]) for i, label in enumerate(columns)]
        over = sum(width + CELL_PADDING for width in widths) - room
        if over <= 0:
            return columns, rows
    name_width = max(MIN_NAME_WIDTH, widths[0] - over)
    return columns, [[one_line(row[0], name_width), *row[1:]] for row in rows]


def _session_row(
    info: SessionInfo, current: str | None, columns: tuple[str, ...], time_format: str, by_status: bool
) -> list[str]:
    name = f"{info.name} (this one)" if info.name == current else info.name
    if info.writer_pid is not None and info.name != current:
        name += " (being written)"
    cells = {
        "name": name,
        "created": time.strftime(time_format, time.localtime(info.created_at)),
        "updated": time.strftime(time_format, time.localtime(info.updated_at)),
        "size": _size(info.size),
        "tasks": f"{info.task_count}: {_counts(info)}" if by_status else str(info.task_count),
    }
    return [cells[column] for column in columns]


class SessionsScreen(ModalScreen[str | None]):
    """Dismisses with the path of the session to open, NEW_SESSION for a new one, or None."""

    CSS_PATH = "sessions.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open", id="sessions.open", tooltip="Open the selected session"),
        Binding("n", "new", "New", id="sessions.new", tooltip="Start a new, empty session"),
        Binding("r", "rename", "Rename", id="sessions.rename", tooltip="Rename the selected session"),
        Binding("d,delete", "delete", "Delete", id="sessions.delete", tooltip="Delete the selected session"),
        Binding("escape", "close", "Close", id="sessions.close", tooltip="Back to the tasks"),
    ]

    def __init__(self, current: str | None, *, rename_current: Callable[[str], Awaitable[None]] | None = None) -> None:
        super().__init__()
        self._current = current
        self._rename_current = rename_current
        """Renames the session open here, which its writer (this app) must do itself."""
        self.listed: list[SessionInfo] = []
        """The sessions shown, in table order."""

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-dialog"):
            yield Static("Sessions", id="sessions-title")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="sessions-table")
            yield Static("", id="sessions-problems", markup=False)
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fill)

    @work(thread=True, exclusive=True, group="sessions", exit_on_error=False)
    def reload(self) -> None:
        """Listing opens every file: off the event loop."""
        listing = list_sessions()
        problems = [f"skipped {problem.path.name}: {problem.message}" for problem in listing.problems]
        self.app.call_from_thread(self._show, listing.sessions, problems)

    def _show(self, sessions: list[SessionInfo], problems: list[str]) -> None:
        self.listed = sessions
        self._fill()
        self.query_one("#sessions-problems", Static).update("\n".join(problems))

    def _fill(self) -> None:
        """(Re)build the table with the columns that fit its width, keeping the cursor's row."""
        table = self.query_one(DataTable)
        room = table.size.width - table.styles.scrollbar_size_vertical
        columns, rows = session_cells(self.listed, self._current, room)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_columns(*columns)
        for info, row in zip(self.listed, rows):
            table.add_row(*row, key=str(info.path))
        if self.listed:
            table.move_cursor(row=min(cursor, len(self.listed) - 1))

    @property
    def selected(self) -> SessionInfo | None:
        table = self.query_one(DataTable)
        if not self.listed or table.cursor_row >= len(self.listed):
            return None
        return self.listed[table.cursor_row]

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        info = self.selected
        if info is None or info.name == self._current:
            self.dismiss(None)
            return
        self.dismiss(str(info.path))

    def action_new(self) -> None:
        self.dismiss(NEW_SESSION)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_rename(self) -> None:
        info = self.selected
        if info is None:
            return

        def answer(name: str | None) -> None:
            if name and name != info.name:
                self._rename(info, name)

        self.app.push_screen(AskScreen(f"Rename {info.name}", "A new name for this session", value=info.name), answer)

    @work(exclusive=True, group="sessions-rename", exit_on_error=False)
    async def _rename(self, info: SessionInfo, name: str) -> None:
        """Off the event loop: folding the log in and moving the file touch the disk."""
        try:
            if info.name == self._current and self._rename_current is not None:
                await self._rename_current(name)
                self._current = name
            else:
                await asyncio.to_thread(rename_session, info.path, name)
        except StoreError as exc:
            self.notify(str(exc), title="Not renamed", severity="error", markup=False)
        self.reload()

    def action_delete(self) -> None:
        info = self.selected
        if info is None:
            return
        if info.name == self._current:
            self.notify("This session is open here; open another one first.", severity="warning", markup=False)
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                delete_session(info.path)
            except StoreError as exc:
                self.notify(str(exc), title="Not deleted", severity="error", markup=False)
            self.reload()

        question = f"Delete session {info.name!r} and its {plural(info.task_count, 'task')}? This cannot be undone."
        self.app.push_screen(ConfirmScreen(question, yes="Delete", no="Keep"), answer)
