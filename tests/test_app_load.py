"""Under load: keys are handled while many tasks stream, a 1 MB answer opens whole in the raw view and follows the end.

How fast is measured in bench/ (ui_lag, first_frame), never here: a loaded machine would fail a timed test.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from textual import events

from tests.app_helpers import finished, main_screen, running_app, select, wait_for
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.widgets.markdown_body import MarkdownBody
from tui.widgets.output_pane import OutputPane
from tui.widgets.raw_body import RawBody

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def test_keys_are_handled_while_32_tasks_stream(demo_url: str) -> None:
    async with running_app(demo_url, concurrency=32) as (app, pilot):
        screen = main_screen(app)
        screen.submit([f"load {n} [[len:20000]][[delay:2]]" for n in range(32)])
        screen.table.focus()
        tasks = list(app.engine.tasks.values())
        await wait_for(pilot, lambda: sum(t.chars > 0 for t in tasks) >= 30, timeout=20)
        latencies = []
        for _ in range(8):
            before = screen.table.task_filter
            pressed = time.monotonic()
            # Posted the way the terminal driver posts a key, without Pilot's wait for idle.
            app.post_message(events.Key("v", "v"))
            while screen.table.task_filter == before and time.monotonic() - pressed < 5:
                await asyncio.sleep(0.005)
            latencies.append(time.monotonic() - pressed)
            await asyncio.sleep(0.15)
        streaming = sum(t.status is TaskStatus.RUNNING for t in tasks)
        app.engine.cancel_all()
        assert streaming >= 30, "the keys must be pressed while the tasks stream"
        assert all(latency < 5 for latency in latencies), f"a key was not handled while tasks streamed: {latencies}"


async def test_a_1mb_answer_opens_whole_in_the_raw_view(demo_url: str) -> None:
    prompt = "huge [[len:1000000]][[delay:1]][[chunk:2000]]"
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        screen.submit([prompt, "small [[len:300]]"])
        big, small = app.engine.tasks.values()
        await wait_for(pilot, finished(big, small), timeout=30)
        await select(app, pilot, small)
        pane = screen.query_one(OutputPane)
        await pane.show(big)
        assert pane.showing_raw and "raw (long output)" in str(pane.border_subtitle)
        assert pane.query_one(RawBody).text == expected_answer(prompt)


@pytest.mark.parametrize("raw", [False, True], ids=["markdown", "raw"])
async def test_the_pane_follows_the_end_until_the_user_scrolls_up(demo_url: str, raw: bool) -> None:
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        screen.submit(["follow me [[len:30000]][[delay:8]]"])
        (task,) = app.engine.tasks.values()
        await select(app, pilot, task)
        if raw:
            await pilot.press("m")
        pane = screen.query_one(OutputPane)
        body = pane.query_one(RawBody if raw else MarkdownBody)
        await wait_for(pilot, lambda: body.max_scroll_y > 5)
        assert body.following
        body.scroll_home(animate=False, immediate=True)
        chars = task.chars
        await wait_for(pilot, lambda: task.chars > chars + 500)
        await pilot.pause(0.3)
        assert body.scroll_y == 0 and not body.following, "reading earlier text is not interrupted"
        body.scroll_end(animate=False, immediate=True)
        chars = task.chars
        await wait_for(pilot, lambda: task.chars > chars + 500)
        await pilot.pause(0.3)
        assert body.following and body.scroll_y >= body.max_scroll_y - 1
        app.engine.cancel_all()
