"""The live task table: one row per task, redrawn row by row a few times a second.

A line-API widget rather than a `DataTable`: changing one cell of a
`DataTable` invalidates every cached row, so with fifty running tasks each tick
re-rendered the whole table (docs/performance.md, UI lag). Here a row is rendered
only when its own text changed, and each line is a cached strip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.engine import Task, TaskStatus
from tui.engine.stalls import is_stalled
from tui.widgets.focus_follow import KeysFollowFocus
from tui.widgets.status import quiet_style, status_style
from tui.widgets.table_columns import COLUMNS, Layout, cell_segments, fit_columns
from tui.widgets.task_rows import FILTERS, SORT_VALUES, RowTexts, TaskFilter, TaskSort

_INDEX = {column.key: index for index, column in enumerate(COLUMNS)}
"""Where each column's text sits in a row's texts; hidden columns keep theirs for `cell_text`."""
STRIPS_KEPT = 1_024
"""Drawn rows kept, cursor and not: several screens of the tallest terminal."""
Clock = Callable[[], float]


class LineStyles(NamedTuple):
    base: Style
    cursor: Style
    header: Style


class TaskMessage(Message):
    """About one task's row; `control` is the table, so `@on(..., "#id")` picks the table by id."""

    def __init__(self, table: TaskTable, task_id: int | None) -> None:
        super().__init__()
        self.table = table
        self.task_id = task_id

    @property
    def control(self) -> TaskTable:
        return self.table


class TaskTable(KeysFollowFocus, ScrollView, can_focus=True):
    """Rows are keyed by task id; the header stays on the first line while rows scroll.

    The table never subscribes to the engine itself: its screen batches the
    engine's events and calls `sync` on a timer, so a thousand chunks a
    second still cost one redraw of the rows that changed.
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
    ]
    COMPONENT_CLASSES = {"task-table--header", "task-table--cursor"}
    DEFAULT_CSS = """
    TaskTable {
        height: auto;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        min-height: 4;
        background: $surface;
        color: $foreground;
        & > .task-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .task-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .task-table--header {
                background-tint: $foreground 5%;
            }
            & > .task-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    class Highlighted(TaskMessage):
        """The cursor moved to another task (or the table emptied: `task_id` is None)."""

    class Selected(TaskMessage):
        """Enter or a click on a task's row."""

    task_filter: var[TaskFilter] = var(TaskFilter.ALL, init=False)
    """Which tasks have rows; setting it (or `task_sort`) redraws them."""
    task_sort: var[TaskSort] = var(TaskSort.ID, init=False)

    def __init__(self, tasks: Mapping[int, Task], *, clock: Clock, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tasks = tasks
        self._clock = clock
        self._order: list[int] = []
        self._positions: dict[int, int] = {}
        self._shown: set[int] = set()
        """The tasks that have rows (they pass the filter)."""
        self._drawn: dict[int, tuple[str, ...]] = {}
        """Rows' texts, made when a row is first drawn or synced: 10,000 rows need only the visible ones'."""
        self._statuses: dict[int, TaskStatus] = {}
        self._strips: LRUCache[tuple[int, bool], Strip] = LRUCache(STRIPS_KEPT)
        """Drawn rows: a few screens' worth, not every row scrolled past (each strip holds its own caches)."""
        self._line_styles: LineStyles | None = None
        """Kept with the strips: each costs a walk up the DOM, and every line drawn wants one."""
        self._layout: Layout = tuple((column, column.width) for column in COLUMNS)
        """The columns shown and their widths: what fits the table's width, by `fit_columns`."""
        self._widths = {column.key: column.width for column in COLUMNS}
        self._cell_texts = RowTexts(self._widths)
        self._selected: int | None = None
        """The cursor is a task id, never a position: rows come and go under it."""
        self._highlighted: int | None = None
        self._with_tools = False
        """Some task has called a tool: the tools column is wanted (it stays once shown)."""
        self._quiet: set[int] = set()
        """Running tasks quiet for long: their status cell says so, in the theme's warning colour."""

    def on_mount(self) -> None:
        self.sync(self._tasks)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.rebuild())

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width and keep the selected row in the rows now visible."""
        self._fit()
        self._scroll_to_cursor()

    def _fit(self) -> None:
        """Choose the columns for the current width and the widest id; redraw every row if they changed."""
        width = self.size.width - self.styles.scrollbar_size_vertical
        if width <= 0:
            return
        layout = fit_columns(width, len(str(max(self._tasks, default=0))), tools=self._with_tools)
        if layout != self._layout:
            self._layout = layout
            self._widths.update((column.key, column_width) for column, column_width in layout)
            self.rebuild()

    def notify_style_update(self) -> None:
        """Focus, blur and theme changes restyle the cached lines."""
        super().notify_style_update()
        self._strips.clear()
        self._line_styles = None

    # -- what the screen asks ------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_id(self) -> int | None:
        return self._selected if self._selected in self._positions else None

    @property
    def _cursor(self) -> int:
        return self._positions.get(self._selected, 0) if self._selected is not None else 0

    @property
    def shown_ids(self) -> list[int]:
        """Task ids in display order."""
        return list(self._order)

    def cell_text(self, task_id: int, column: str) -> str:
        """What a cell shows, as plain text."""
        return self._row_texts(task_id)[_INDEX[column]]

    def select(self, task_id: int) -> None:
        if task_id in self._positions:
            self._move_cursor(self._positions[task_id])

    def sync(self, ids: Iterable[int]) -> None:
        """Bring these tasks' rows up to date: add, redraw changed rows, or drop them."""
        now = self._clock()
        reorder = self.task_sort is not TaskSort.ID
        for task_id in ids:
            task = self._tasks.get(task_id)
            if task is None:
                self._cell_texts.forget(task_id)
            if task is None or not FILTERS[self.task_filter](task, now):
                if task_id in self._shown:
                    self._shown.discard(task_id)
                    self._forget(task_id)
                    reorder = True
                continue
            if task.tool_calls and not self._with_tools:
                self._with_tools = reorder = True  # `_reorder` fits the columns again
            if task_id not in self._shown:
                self._shown.add(task_id)
                reorder = True
            before = self._drawn.get(task_id)
            if before is None:
                continue  # its texts are made when the row is drawn
            texts = self._cell_texts.texts(task, now)
            if texts == before:
                continue
            self._drawn[task_id] = texts
            self._statuses[task_id] = task.status
            self._quiet.discard(task_id)
            if is_stalled(task, now):
                self._quiet.add(task_id)
            self._drop_strips(task_id)
            if not reorder:
                self._refresh_row(task_id)
        if reorder:
            self._reorder()

    def watch_task_filter(self) -> None:
        self.rebuild()

    def watch_task_sort(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Redraw every row (filter, theme or width change), keeping the selection when it stays visible."""
        self._drawn.clear()
        self._statuses.clear()
        self._strips.clear()
        self._line_styles = None
        wanted, now = FILTERS[self.task_filter], self._clock()
        self._shown = {task_id for task_id, task in self._tasks.items() if wanted(task, now)}
        self._with_tools = self._with_tools or any(self._tasks[task_id].tool_calls for task_id in self._shown)
        self._reorder()

    # -- rows ----------------------------------------------------------------

    def _forget(self, task_id: int) -> None:
        self._drawn.pop(task_id, None)
        self._statuses.pop(task_id, None)
        self._quiet.discard(task_id)
        self._drop_strips(task_id)

    def _row_texts(self, task_id: int) -> tuple[str, ...]:
        """A row's texts, made now if the row has not been drawn since the last rebuild."""
        texts = self._drawn.get(task_id)
        if texts is None:
            task, now = self._tasks[task_id], self._clock()
            texts = self._drawn[task_id] = self._cell_texts.texts(task, now)
            self._statuses[task_id] = task.status
            if is_stalled(task, now):
                self._quiet.add(task_id)
        return texts

    def _drop_strips(self, task_id: int) -> None:
        for cursor in (False, True):
            self._strips.discard((task_id, cursor))

    def _reorder(self) -> None:
        """Keep the selected task selected; if it left the view, select the row now where it was."""
        was_at = self._cursor
        by_id = self.task_sort is TaskSort.ID
        self._order = sorted(self._shown) if by_id else sorted(self._shown, key=self._sort_key())
        self._positions = {task_id: index for index, task_id in enumerate(self._order)}
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._order) + 1)
        self._fit()  # a new task may have a longer id
        self._move_cursor(self._positions.get(self._selected, was_at) if self._selected is not None else was_at)
        self.refresh()

    def _refresh_row(self, task_id: int) -> None:
        """Redraw one task's row if it is on screen: line 0 is the header, so a row is virtual line `index + 1`."""
        index = self._positions.get(task_id)
        if index is not None and 0 <= index - round(self.scroll_y) < self._visible_rows:
            self.refresh_line(index + 1)

    def _sort_key(self) -> Callable[[int], tuple[float, int]]:
        """The key for this sort, with the sort and the time read once: a sort of 10,000 rows calls it per row."""
        tasks, value, now = self._tasks, SORT_VALUES[self.task_sort], self._clock()

        def key(task_id: int) -> tuple[float, int]:
            task = tasks.get(task_id)
            return (0, task_id) if task is None else (value(task, now), task_id)

        return key

    # -- cursor --------------------------------------------------------------

    def _move_cursor(self, index: int) -> None:
        previous = self.selected_id
        current = self._order[max(0, min(index, len(self._order) - 1))] if self._order else None
        if current is not None:
            self._selected = current  # an empty view keeps the last selection for when rows come back
        for task_id in (previous, current):
            if task_id is not None:
                self._refresh_row(task_id)
        self._scroll_to_cursor()
        if current != self._highlighted:
            self._highlighted = current
            self.post_message(self.Highlighted(self, current))

    @property
    def _visible_rows(self) -> int:
        """Rows on screen under the header: the table may be cut to less than its content by `max-height`."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        """Scroll now, not after the next refresh: a deferred scroll is judged against a stale layout and lost.

        When the table is still growing (`height: auto`) the scroll may fall
        short; the resize that follows calls this again.
        """
        if not self._order:
            return
        top, visible = round(self.scroll_y), self._visible_rows
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True, force=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True, force=True)

    def action_cursor(self, step: int) -> None:
        self._move_cursor(self._cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_cursor(self._cursor + direction * max(1, self._visible_rows - 1))

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self._order) - 1)

    def action_select_cursor(self) -> None:
        if self.selected_id is not None:
            self.post_message(self.Selected(self, self.selected_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index < len(self._order):
            self._move_cursor(index)
            self.action_select_cursor()

    # -- drawing -------------------------------------------------------------

    @property
    def _styles(self) -> LineStyles:
        if self._line_styles is None:
            base = self.rich_style
            self._line_styles = LineStyles(
                base,
                base + self.get_component_rich_style("task-table--cursor"),
                base + self.get_component_rich_style("task-table--header"),
            )
        return self._line_styles

    def render_line(self, y: int) -> Strip:
        width, styles = self.size.width, self._styles
        if y == 0:
            return self._header().crop_extend(0, width, styles.header)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._order):
            return Strip.blank(width, styles.base)
        task_id = self._order[index]
        cursor = task_id == self._selected
        strip = self._strips.get((task_id, cursor))
        if strip is None:
            strip = self._row(task_id, cursor)
            self._strips.set((task_id, cursor), strip)
        return strip.crop_extend(0, width, styles.cursor if cursor else styles.base)

    def _header(self) -> Strip:
        style = self._styles.header
        return Strip(cell_segments([(column.label, column, width, style) for column, width in self._layout]))

    def _row(self, task_id: int, cursor: bool) -> Strip:
        base = self._styles.cursor if cursor else self._styles.base
        texts = self._row_texts(task_id)
        status = self._statuses.get(task_id)
        status_cell = base + status_style(self.app, status) if status is not None and not cursor else base
        if task_id in self._quiet and not cursor:
            status_cell = base + quiet_style(self.app)
        return Strip(
            cell_segments(
                [
                    (texts[_INDEX[column.key]], column, width, status_cell if column.key == "status" else base)
                    for column, width in self._layout
                ]
            )
        )
