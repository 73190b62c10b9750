"""Scheduling as the operator sees it: a provider's limit set from the palette, why a task waits, 429s."""

from __future__ import annotations

from textual.widgets import Input

from tests.app_helpers import cell, has_status, main_screen, running_app, submit, wait_for
from tui.app.commands import DeckCommands
from tui.engine import TaskStatus
from tui.screens.ask import AskScreen
from tui.widgets.status_bar import StatusBar


async def test_a_provider_limit_from_the_palette_queues_its_tasks_and_says_why(demo_url: str) -> None:
    async with running_app(demo_url, concurrency=4) as (app, pilot):
        commands = {name: run for name, run, _ in DeckCommands(main_screen(app))._commands()}
        commands["tasks: Set how many demo tasks stream at once"]()
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one(Input).value = "1"
        await pilot.press("enter")
        first = await submit(app, pilot, "holds the lane [[silent:30]]")
        second = await submit(app, pilot, "waits its turn [[len:100]]")
        await wait_for(pilot, has_status(first, TaskStatus.RUNNING))
        await wait_for(pilot, lambda: cell(app, second, "prompt").startswith("waiting: demo 1/1"))
        assert second.status is TaskStatus.QUEUED


async def test_the_header_names_a_provider_slowed_by_429s(demo_url: str) -> None:
    async with running_app(demo_url, concurrency=4) as (app, pilot):
        app.engine.scheduler.set_provider_concurrency("demo", 4)
        task = await submit(app, pilot, "refused once [[fault:429]][[fail_times:1]][[retry_after:0.05]][[len:50]]")
        await wait_for(pilot, has_status(task, TaskStatus.DONE))
        bar = main_screen(app).query_one(StatusBar)
        await wait_for(pilot, lambda: "rate limited: demo 1 of 4 at once" in str(bar.render()))
