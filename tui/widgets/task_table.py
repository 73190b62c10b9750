"""The live task table: one row per task, patched cell by cell a few times a second."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

from tui.engine import Task, TaskStatus
from tui.widgets.formatting import duration, one_line
from tui.widgets.status import status_text


class TaskFilter(StrEnum):
    ALL = "all"
    ACTIVE = "active"
    DONE = "done"
    PROBLEMS = "problems"
    """Failed, timed out, interrupted or cancelled: what may need a retry or continue."""


class TaskSort(StrEnum):
    ID = "id"
    STATUS = "status"
    CHARS = "chars"
    ELAPSED = "elapsed"


_FILTERS: dict[TaskFilter, Callable[[TaskStatus], bool]] = {
    TaskFilter.ALL: lambda status: True,
    TaskFilter.ACTIVE: lambda status: status.is_active,
    TaskFilter.DONE: lambda status: status is TaskStatus.DONE,
    TaskFilter.PROBLEMS: lambda status: status.is_final and status is not TaskStatus.DONE,
}
_STATUS_ORDER = {
    status: rank
    for rank, status in enumerate(
        (
            TaskStatus.RUNNING,
            TaskStatus.QUEUED,
            TaskStatus.FAILED,
            TaskStatus.TIMED_OUT,
            TaskStatus.INTERRUPTED,
            TaskStatus.CANCELLED,
            TaskStatus.DONE,
        )
    )
}
# (key, label, width); the prompt column gets the width the others leave.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "#", 4),
    ("status", "status", 12),
    ("model", "provider/model", 20),
    ("prompt", "prompt", 30),
    ("chars", "chars", 8),
    ("rate", "chars/s", 7),
    ("elapsed", "elapsed", 7),
    ("left", "left", 6),
)
MIN_PROMPT_WIDTH = 16
STALL_S = 2.0
"""A running task with no new text for this long shows no rate: the engine's rate is the last burst's."""

Clock = Callable[[], float]


class TaskTable(DataTable[Text]):
    """Rows are keyed by task id; only cells whose text changed are redrawn.

    The table never subscribes to the engine itself: its screen batches the
    engine's events and calls `sync` on a timer, so a thousand chunks a
    second still cost a handful of cell updates.
    """

    DEFAULT_CSS = """
    TaskTable {
        height: 1fr;
        min-height: 4;
        background: $surface;
    }
    """

    def __init__(self, tasks: Mapping[int, Task], *, clock: Clock, id: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id)
        self._tasks = tasks
        self._clock = clock
        self._drawn: dict[int, tuple[str, ...]] = {}
        self._growth: dict[int, tuple[int, float]] = {}
        """Per task: its length when last seen growing, and when."""
        self._prompt_width = dict((key, width) for key, _, width in COLUMNS)["prompt"]
        self.task_filter = TaskFilter.ALL
        self.task_sort = TaskSort.ID

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.sync(self._tasks)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.rebuild())

    def on_resize(self, event: events.Resize) -> None:
        """Give the prompt column whatever width the fixed columns and the scrollbar leave."""
        fixed = sum(width for key, _, width in COLUMNS if key != "prompt")
        padding = 2 * self.cell_padding * len(COLUMNS)
        width = max(MIN_PROMPT_WIDTH, event.size.width - fixed - padding - self.styles.scrollbar_size_vertical)
        if width != self._prompt_width:
            self._prompt_width = width
            self.columns[ColumnKey("prompt")].width = width
            self.rebuild()

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(row_key.value) if row_key.value is not None else None

    @property
    def shown_ids(self) -> list[int]:
        """Task ids in display order."""
        return [int(row.key.value) for row in self.ordered_rows if row.key.value is not None]

    def select(self, task_id: int) -> None:
        if task_id in self._drawn:
            self.move_cursor(row=self.get_row_index(str(task_id)))

    def sync(self, ids: Iterable[int]) -> None:
        """Bring these tasks' rows up to date: add, patch changed cells, or drop them."""
        now = self._clock()
        reorder = self.task_sort is not TaskSort.ID
        for task_id in ids:
            task = self._tasks.get(task_id)
            if task is None:
                self._growth.pop(task_id, None)
            if task is None or not _FILTERS[self.task_filter](task.status):
                if self._drawn.pop(task_id, None) is not None:
                    self.remove_row(str(task_id))
                continue
            cells = self._cells(task, now)
            texts = tuple(cell.plain for cell in cells)
            before = self._drawn.get(task_id)
            if before is None:
                self.add_row(*cells, key=str(task_id))
                reorder = True
            else:
                for (column, _, _), cell, text, old in zip(COLUMNS, cells, texts, before):
                    if text != old:
                        self.update_cell(str(task_id), column, cell)
            self._drawn[task_id] = texts
        if reorder and self.row_count > 1:
            self._apply_sort()

    def set_view(self, task_filter: TaskFilter | None = None, task_sort: TaskSort | None = None) -> None:
        if task_filter is not None:
            self.task_filter = task_filter
        if task_sort is not None:
            self.task_sort = task_sort
        self.rebuild()

    def rebuild(self) -> None:
        """Redraw every row (filter change, theme change), keeping the selection when it stays visible."""
        selected = self.selected_id
        self.clear()
        self._drawn.clear()
        self.sync(self._tasks)
        if selected is not None:
            self.select(selected)

    def _apply_sort(self) -> None:
        selected = self.selected_id
        self.sort("id", key=lambda cell: self._sort_key(int(cell.plain)))
        if selected is not None:
            self.select(selected)

    def _sort_key(self, task_id: int) -> tuple[float, int]:
        task = self._tasks.get(task_id)
        if task is None or self.task_sort is TaskSort.ID:
            return (0, task_id)
        if self.task_sort is TaskSort.STATUS:
            return (_STATUS_ORDER[task.status], task_id)
        if self.task_sort is TaskSort.CHARS:
            return (-task.chars, task_id)
        return (-task.elapsed(self._clock()), task_id)

    def _rate(self, task: Task, now: float) -> str:
        chars, since = self._growth.get(task.id, (-1, now))
        if task.chars != chars:
            self._growth[task.id] = (task.chars, now)
            since = now
        return "0" if now - since > STALL_S else f"{task.rate:,.0f}"

    def _cells(self, task: Task, now: float) -> tuple[Text, ...]:
        running = task.status is TaskStatus.RUNNING
        started = task.started_at is not None or task.prior_elapsed > 0
        return (
            Text(str(task.id), justify="right"),
            status_text(self.app, task.status),
            Text(one_line(f"{task.provider}/{task.model}", 20), no_wrap=True),
            Text(one_line(task.prompt, self._prompt_width), no_wrap=True),
            Text(f"{task.chars:,}", justify="right"),
            Text(self._rate(task, now) if running else "", justify="right"),
            Text(duration(task.elapsed(now)) if started else "—", justify="right"),
            Text(duration(task.time_left(now)) if running and task.timeout else "", justify="right"),
        )
