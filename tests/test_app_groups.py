"""Groups in the app, driven with Pilot against the real demo server: ask several models, follow up, retry."""

from __future__ import annotations

import pytest

from tests.app_helpers import cell, finished, main_screen, running_app, select, wait_for
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def test_ask_several_models_then_follow_up_and_retry_the_group(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        screen.actions.action_ask_several()
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*"demo,demo-responses,demo:big", "enter")
        await pilot.pause()
        assert "group of 3: demo, demo-responses, demo:big" in str(screen.query_one("#group").render())
        screen.prompt.focus()
        screen.prompt.load_text("compare [[len:200]]")
        await pilot.press("enter")
        tasks = [app.engine.tasks[i] for i in (1, 2, 3)]
        assert [(t.provider, t.model, t.group) for t in tasks] == [
            ("demo", "demo-chat", "g1"), ("demo-responses", "demo-responses", "g1"), ("demo", "big", "g1"),
        ]
        assert all(cell(app, task, "prompt").startswith("g1 · compare") for task in tasks)
        for task in tasks:
            await wait_for(pilot, finished(task))
        assert all(t.text == expected_answer("compare [[len:200]]") for t in tasks)

        await select(app, pilot, tasks[1])
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*"and then? [[len:50]]", "enter")
        await pilot.pause()
        follow_ups = [app.engine.tasks[i] for i in (4, 5, 6)]
        assert [(t.parent_id, t.group) for t in follow_ups] == [(1, "g2"), (2, "g2"), (3, "g2")]
        for task in follow_ups:
            await wait_for(pilot, finished(task))
        assert all(t.status is TaskStatus.DONE for t in follow_ups)

        await select(app, pilot, tasks[2])
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        only = app.engine.tasks[7]
        assert (only.model, only.group) == ("big", "g1") and 8 not in app.engine.tasks
        await wait_for(pilot, finished(only))
        await select(app, pilot, tasks[0])
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await pilot.pause()
        assert [app.engine.tasks[i].group for i in (8, 9, 10)] == ["g3"] * 3
        assert app.engine.tasks[10].model == "big" and 11 not in app.engine.tasks, "the retried member is asked once"
