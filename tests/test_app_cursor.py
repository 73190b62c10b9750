"""Moving the table's cursor stays cheap: the footer and the pane do work only when what they show changes."""

from __future__ import annotations

import asyncio

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from tests.app_helpers import finished, main_screen, panes_settled, running_app, wait_for
from tui.app.app import AgentDeckApp
from tui.engine import Task, TaskStatus
from tui.screens import main as main_module

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


def _footer_keys(app: AgentDeckApp) -> list[FooterKey]:
    return list(main_screen(app).query(FooterKey))


def _key_state(app: AgentDeckApp, action: str) -> str | None:
    """How the footer shows the key of `action`: "on", "dimmed", or None (not shown)."""
    key = next((key for key in _footer_keys(app) if key.action == action), None)
    return None if key is None else "dimmed" if key.has_class("-disabled") else "on"


async def _finished_pages(app: AgentDeckApp, pilot: Pilot[int], count: int) -> list[Task]:
    """`count` finished one-page Markdown answers, with the table focused and its cursor on the first."""
    screen = main_screen(app)
    screen.submit([f"a page on topic {n} [[len:800]][[delay:0]]" for n in range(count)])
    tasks = list(app.engine.tasks.values())
    await wait_for(pilot, finished(*tasks), timeout=30)
    screen.table.focus()
    screen.table.action_first()
    return tasks


async def test_the_footer_is_rebuilt_only_when_the_keys_it_shows_change(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        screen.submit([f"short answer {n} [[len:200]][[delay:0]]" for n in range(3)])
        screen.submit(["missing model [[fault:404]]"])
        tasks = list(app.engine.tasks.values())
        await wait_for(pilot, finished(*tasks), timeout=30)
        assert tasks[-1].status is TaskStatus.FAILED
        screen.table.focus()
        screen.table.select(tasks[0].id)
        await wait_for(pilot, lambda: _key_state(app, "follow_up") == "on")
        before = _footer_keys(app)
        for task in tasks[1:3]:
            await pilot.press("down")
            await wait_for(pilot, lambda: screen.highlight.task_id == task.id)
            await pilot.pause(0.1)
            assert _footer_keys(app) == before, "another done task: the same keys, not rebuilt"
        await pilot.press("down")
        await wait_for(pilot, lambda: _key_state(app, "follow_up") == "dimmed", timeout=5)
        assert _footer_keys(app) != before
        assert _key_state(app, "retry") == "on", "a failed task can be retried"


async def test_the_table_tick_between_a_cursor_move_and_its_message_previews_too(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_module, "PANE_SETTLE_S", 2.0)  # a loaded machine must not settle between moves
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        tasks = await _finished_pages(app, pilot, 9)
        table = screen.table
        await wait_for(pilot, lambda: panes_settled(app) and not screen.output.panes[0].showing_raw)
        pane = screen.output.panes[0]
        for moved, ticked in zip(tasks[1::2], tasks[2::2]):  # the order of the two below is the loop's: try a few
            table.action_cursor(1)
            await wait_for(pilot, lambda: pane.task_id == moved.id and pane.previewing)
            table.action_cursor(1)
            screen._tick_table()  # the 4 Hz tick, landing before the screen has heard of the move
            await wait_for(pilot, lambda: pane.task_id == ticked.id and not pane.busy)
            await pilot.pause(0.1)
            assert pane.previewing and pane.showing_raw, "the cursor has not rested: no Markdown yet"
        await wait_for(pilot, lambda: panes_settled(app) and not pane.showing_raw, timeout=5)
        assert pane.task_id == tasks[-1].id


async def test_a_held_arrow_key_shows_no_row_in_the_pane_until_the_cursor_pauses(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_module, "PANE_PREVIEW_S", 0.5)  # a loaded machine must not pause between key repeats
    monkeypatch.setattr(main_module, "PANE_SETTLE_S", 1.5)
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        tasks = await _finished_pages(app, pilot, 10)
        table = screen.table
        pane = screen.output.panes[0]
        await wait_for(pilot, lambda: panes_settled(app) and pane.task_id == tasks[0].id)
        shown = set()
        for _ in tasks[1:]:
            table.action_cursor(1)
            screen._tick_table()  # the 4 Hz tick may land before the screen has heard of the move
            await asyncio.sleep(0.03)  # a key repeat
            shown.add(pane.task_id)
            assert pane.busy, "the pane is about to change: helpers waiting for it must wait"
        assert shown == {tasks[0].id}, "the rows passed over were not shown"
        await wait_for(pilot, lambda: pane.task_id == tasks[-1].id and pane.previewing, timeout=5)
        await wait_for(pilot, lambda: panes_settled(app) and not pane.showing_raw, timeout=5)
