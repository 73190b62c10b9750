"""Stalls in the app: the table shows time to first output, how long a running task has been quiet, and
filters stalled tasks (`v` steps to that view only while some task is stalled)."""

from __future__ import annotations

import time

from tests.app_helpers import main_screen, running_app, submit, wait_for
from tui.engine import TaskStatus
from tui.widgets.task_rows import TaskFilter


async def test_a_quiet_running_task_says_so_and_the_stalled_filter_shows_only_it(demo_url: str) -> None:
    ahead = [0.0]
    async with running_app(demo_url, clock=lambda: time.time() + ahead[0]) as (app, pilot):
        screen = main_screen(app)
        table = screen.table
        done = await submit(app, pilot, "answers at once [[len:40]][[delay:0]]")
        quiet = await submit(app, pilot, "then nothing [[silent:600]][[silent_after:2]][[delay:0]]")
        await wait_for(pilot, lambda: done.status is TaskStatus.DONE and quiet.chars == 24)
        await wait_for(pilot, lambda: table.cell_text(quiet.id, "status") == "▶ running")
        await wait_for(pilot, lambda: table.cell_text(done.id, "first").endswith("s"))
        await pilot.press("escape", "v", "v", "v", "v")
        assert table.task_filter is TaskFilter.ALL  # nothing stalled: `v` steps past the empty view

        ahead[0] = 23.0
        await wait_for(pilot, lambda: table.cell_text(quiet.id, "status").startswith("▶ quiet 2"))
        await pilot.press("v", "v", "v", "v")
        assert table.task_filter is TaskFilter.STALLED
        await wait_for(pilot, lambda: table.shown_ids == [quiet.id])
        assert screen.engine.get(done.id).status is TaskStatus.DONE
