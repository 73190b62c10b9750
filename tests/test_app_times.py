"""Times in the app after a task is continued: elapsed, `left` and the timeout all count every run."""

from __future__ import annotations

import re

import pytest

from tests.app_helpers import cell, has_status, main_screen, running_app, select, submit, wait_for
from tui.engine import TaskStatus

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


def seconds(text: str) -> float:
    assert text.endswith("s") and "m" not in text, text
    return float(text[:-1])


async def test_timed_out_task_gets_more_time_then_continues_on_its_total(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "stalls, then streams slowly [[silent:60]][[len:6000]]", timeout="1")
        await wait_for(pilot, has_status(task, TaskStatus.TIMED_OUT), timeout=8)
        assert task.error == "timed out after 1 s of running time"
        await select(app, pilot, task)
        await pilot.press("o")  # nothing left of its timeout: it is not sent again
        await pilot.pause()
        assert task.status is TaskStatus.TIMED_OUT
        assert any("used all of its timeout 1s" in n.message for n in app._notifications)

        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        assert re.search(r"has run 1\.\ds, 0\.0s left; timeout 1s", str(dialog.query_one("#hint").render()))
        await pilot.press("backspace", "plus", "4", "enter")
        await wait_for(pilot, lambda: task.timeout != 1 and app.screen is main_screen(app))
        assert task.timeout == pytest.approx(task.elapsed() + 4, abs=0.01)
        await pilot.press("o")
        await wait_for(pilot, has_status(task, TaskStatus.RUNNING))
        await pilot.pause(0.3)
        main_screen(app).table.sync([task.id])
        shown = seconds(cell(app, task, "left")) + seconds(cell(app, task, "elapsed"))
        assert shown == pytest.approx(task.timeout, abs=0.15)
        await wait_for(pilot, has_status(task, TaskStatus.TIMED_OUT), timeout=10)
        assert task.elapsed() == pytest.approx(task.timeout, abs=0.5)
        assert task.error == f"timed out after {task.timeout:g} s of running time"


async def test_the_timeout_dialog_words_a_bad_answer_as_the_command_line_does(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "silent [[silent:30]]", timeout="100")
        await wait_for(pilot, has_status(task, TaskStatus.RUNNING))
        await select(app, pilot, task)
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        for answer, words in [
            ("ten", "Timeout: must be a number of seconds."),
            ("-5", "Timeout: must be 0 (no timeout) or a positive number of seconds."),
            ("+604790", "Timeout: must be at most 604800 seconds (7 days)."),
        ]:
            dialog.query_one("#answer").value = answer  # type: ignore[attr-defined]
            await pilot.press("enter")
            await pilot.pause()
            assert str(dialog.query_one("#error").render()) == words
            assert app.screen is dialog and task.timeout == 100
