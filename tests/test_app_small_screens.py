"""At 80×24 and 60×20 the selected task, the columns that matter and every dialog stay on screen."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable

from tests.app_helpers import finished, main_screen, running_app, screen_lines, submit, wait_for
from tui.app.app import AgentDeckApp
from tui.engine import Task
from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.sessions import SessionsScreen
from tui.store import SessionStore

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test

SMALL = (80, 24)
TINY = (60, 20)


async def _finished_tasks(app: AgentDeckApp, pilot: Pilot[int], count: int) -> list[Task]:
    prompts = [f"Explain topic number {n} in detail please [[len:200]][[delay:0]]" for n in range(1, count + 1)]
    tasks = [await submit(app, pilot, prompt) for prompt in prompts]
    await wait_for(pilot, finished(*tasks), timeout=20)
    await pilot.pause(0.3)
    return tasks


async def _one_running(app: AgentDeckApp, pilot: Pilot[int]) -> Task:
    """A task that streams a paragraph, then stays running (silent) with its 600 s timeout counting down."""
    task = await submit(app, pilot, "Compare consensus protocols in depth [[silent:600]][[silent_after:14]]")
    await wait_for(pilot, lambda: task.chars == 168)
    await pilot.pause(0.3)
    return task


def _table_lines(app: AgentDeckApp) -> list[str]:
    """The rows of the screen the task table covers: its header first."""
    table = main_screen(app).table
    return screen_lines(app)[table.region.y : table.region.bottom]


def _row_shown(app: AgentDeckApp, task: Task) -> bool:
    return any(line.split()[:1] == [str(task.id)] for line in _table_lines(app)[1:])


def _inside(widget: Widget, screen: Region) -> bool:
    return screen.contains_region(widget.region)


async def test_at_80x24_the_selected_row_of_nine_is_on_screen(demo_url: str) -> None:
    async with running_app(demo_url, size=SMALL) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, 9)
        table = main_screen(app).table
        assert table.selected_id == tasks[-1].id
        assert _row_shown(app, tasks[-1]), "the newest task, selected on submit, is visible"
        await pilot.press("escape", "home")
        assert _row_shown(app, tasks[0]) and table.scroll_y == 0
        await pilot.press("end")
        assert _row_shown(app, tasks[-1])
        for task in reversed(tasks):
            assert table.selected_id == task.id and _row_shown(app, task)
            await pilot.press("up")


async def test_at_80_columns_elapsed_and_left_show_and_the_prompt_is_readable(demo_url: str) -> None:
    async with running_app(demo_url, size=SMALL) as (app, pilot):
        task = await _one_running(app, pilot)
        header, *rows = _table_lines(app)
        assert header.split()[:2] == ["#", "status"]
        assert header.split()[-4:] == ["chars", "cost", "elapsed", "left"], "the cost stays longer than chars/s"
        row = next(line for line in rows if line.split()[:1] == [str(task.id)])
        table = main_screen(app).table
        assert row.split()[-2:] == [table.cell_text(task.id, "elapsed"), table.cell_text(task.id, "left")]
        assert "Compare consensus pro" in row, "the prompt gets 20 columns or more"


async def test_at_60x20_status_prompt_chars_elapsed_and_left_remain(demo_url: str) -> None:
    async with running_app(demo_url, size=TINY) as (app, pilot):
        done = await _finished_tasks(app, pilot, 2)
        running = await _one_running(app, pilot)
        header, *rows = _table_lines(app)
        assert header.split() == ["#", "status", "prompt", "chars", "elapsed", "left"]
        row = next(line for line in rows if line.split()[:1] == [str(running.id)])
        assert row.split()[1:3] == ["▶", "running"] and "168" in row.split()
        assert any(line.split()[:1] == [str(done[0].id)] and "200" in line.split() for line in rows)
        status_bar = screen_lines(app)[0]
        for shown in ("DEMO", "▶ 1", "✓ 2", "✗ 0"):
            assert shown in status_bar, f"{shown!r} missing from the header {status_bar!r}"


async def test_at_60x20_the_next_task_bar_shows_the_timeout(demo_url: str) -> None:
    async with running_app(demo_url, size=TINY) as (app, pilot):
        screen = main_screen(app)
        for selector in ("#provider", "#model", "#timeout"):
            assert _inside(screen.query_one(selector), app.screen.region), selector


async def test_at_60x20_every_dialog_fits(demo_url: str) -> None:
    async with running_app(demo_url, size=TINY) as (app, pilot):
        running = await _one_running(app, pilot)
        screen = main_screen(app)
        screen.table.focus()
        screen.table.select(running.id)
        await pilot.press("t")
        assert isinstance(app.screen, AskScreen)
        for selector in ("#dialog", "#hint", "#answer", "#keys"):
            assert _inside(app.screen.query_one(selector), app.screen.region), selector
        await pilot.press("escape", "C")
        assert isinstance(app.screen, ConfirmScreen)
        for selector in ("#dialog", "#question", "#yes", "#no"):
            assert _inside(app.screen.query_one(selector), app.screen.region), selector
        await pilot.press("n", "f1")
        assert isinstance(app.screen, HelpScreen)
        help_box = app.screen.query_one("#help")
        assert _inside(help_box, app.screen.region)
        assert help_box.virtual_size.width <= help_box.scrollable_content_region.width, "no sideways scrolling"


async def test_at_60x20_the_sessions_screen_shows_every_column_whole(demo_url: str) -> None:
    for name in ("quarterly-review", "incident-2026-11"):
        SessionStore.open(name).close()
    async with running_app(demo_url, size=TINY) as (app, pilot):
        await pilot.press("f2")
        assert isinstance(app.screen, SessionsScreen)
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.pause()
        assert _inside(app.screen.query_one("#sessions-dialog"), app.screen.region)
        assert table.virtual_size.width <= table.scrollable_content_region.width, "no column is cut off"


async def test_at_60x20_the_footer_keeps_quit_whole(demo_url: str) -> None:
    async with running_app(demo_url, size=TINY) as (app, pilot):
        await pilot.pause(0.3)
        footer = screen_lines(app)[-1]
        assert "^q Quit" in footer and footer.rstrip().endswith("^p palette")
