"""The task table with thousands of rows: rows made only when drawn still show each task as it is now."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.engine import Task, TaskStatus
from tui.widgets.task_rows import TaskFilter, TaskSort
from tui.widgets.task_table import TaskTable

ROWS = 3_000


class _TableApp(App[None]):
    def __init__(self, tasks: dict[int, Task]) -> None:
        super().__init__()
        self.tasks = tasks

    def compose(self) -> ComposeResult:
        yield TaskTable(self.tasks, clock=lambda: 1_000.0, id="table")


def _tasks() -> dict[int, Task]:
    return {
        i: Task(id=i, prompt=f"question {i}", provider="demo", model="demo-chat", api="chat",
                status=TaskStatus.DONE, created_at=0.0)
        for i in range(1, ROWS + 1)
    }


def _visible_ids(app: _TableApp) -> list[int]:
    table = app.query_one(TaskTable)
    return [int(strip.text.split()[0]) for strip in (table.render_line(y) for y in range(1, table.size.height))
            if strip.text.strip()]


async def test_a_task_that_changed_off_screen_shows_its_new_status_when_scrolled_to_after_a_filter() -> None:
    tasks = _tasks()
    app = _TableApp(tasks)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(TaskTable)
        table.styles.height = 18
        await pilot.pause()
        assert table.row_count == ROWS
        far = tasks[2_500]
        far.status = TaskStatus.FAILED
        table.sync([far.id])
        table.task_filter = TaskFilter.PROBLEMS
        await pilot.pause()
        assert table.shown_ids == [far.id]
        assert "failed" in table.cell_text(far.id, "status")
        table.task_filter = TaskFilter.ALL
        table.task_sort = TaskSort.STATUS
        await pilot.pause()
        assert table.shown_ids[0] == far.id, "failed sorts before done"
        table.select(2_999)
        await pilot.pause()
        assert 2_999 in _visible_ids(app)
        tasks[2_999].status = TaskStatus.CANCELLED
        table.sync([2_999])
        await pilot.pause()
        assert "cancelled" in table.cell_text(2_999, "status")
        assert table.shown_ids.index(2_999) < table.shown_ids.index(1), "the changed row moved with the sort"
