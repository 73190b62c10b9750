"""The app driven with Pilot against the real demo server: submit, watch, cancel, time out, follow up."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from tests.app_helpers import (
    cell,
    finished,
    has_status,
    main_screen,
    running_app,
    select,
    submit,
    submit_and_open,
    wait_for,
)
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.screens.bindings import HELP_SECTIONS
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen, key_label
from tui.widgets.markdown_body import MarkdownBody
from tui.widgets.output_pane import LIVE_MARKDOWN_LIMIT, OutputPane
from tui.widgets.raw_body import RawBody
from tui.widgets.task_table import TaskTable

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def test_three_tasks_appear_at_once_and_progress_to_done(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompts = [f"task {n} [[len:900]][[delay:30]]" for n in range(3)]
        tasks = []
        for prompt in prompts:
            tasks.append(await submit(app, pilot, prompt))
            assert main_screen(app).table.row_count == len(tasks), "each Enter adds a row at once"
            assert cell(app, tasks[-1], "status") in ("◌ queued", "▶ running")

        def some_text_counted() -> bool:
            return any(cell(app, t, "chars") not in ("0", "") for t in tasks)

        await wait_for(pilot, some_text_counted)
        await wait_for(pilot, finished(*tasks), timeout=20)
        await pilot.pause(0.4)
        for task, prompt in zip(tasks, prompts):
            assert task.status is TaskStatus.DONE, task.error
            assert task.text == expected_answer(prompt)
            assert cell(app, task, "status") == "✓ done"
            assert cell(app, task, "chars") == "900"
        assert "3 done" in app.sub_title


async def test_cancel_the_selected_task(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        slow = await submit(app, pilot, "slow one [[silent:30]]")
        other = await submit(app, pilot, "quick one [[len:300]]")
        await wait_for(pilot, has_status(slow, TaskStatus.RUNNING))
        await select(app, pilot, slow)
        await pilot.press("c")
        await wait_for(pilot, has_status(slow, TaskStatus.CANCELLED))
        await wait_for(pilot, lambda: cell(app, slow, "status") == "⊘ cancelled")
        await wait_for(pilot, finished(other))
        assert other.status is TaskStatus.DONE


async def test_cancel_while_queued(demo_url: str) -> None:
    async with running_app(demo_url, concurrency=1) as (app, pilot):
        first = await submit(app, pilot, "holds the slot [[silent:30]]")
        queued = await submit(app, pilot, "waits [[len:100]]")
        await wait_for(pilot, has_status(first, TaskStatus.RUNNING))
        assert queued.status is TaskStatus.QUEUED
        await select(app, pilot, queued)
        await pilot.press("c")
        await wait_for(pilot, has_status(queued, TaskStatus.CANCELLED))
        assert first.status is TaskStatus.RUNNING


async def test_a_task_times_out_and_says_so_in_its_pane(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "never answers [[silent:30]]", timeout="1")
        assert task.timeout == 1
        await wait_for(pilot, has_status(task, TaskStatus.TIMED_OUT), timeout=5)
        await pilot.pause(0.4)
        pane = main_screen(app).query_one(OutputPane)
        assert pane.task_id == task.id
        problem = pane.query_one(".problem")
        assert problem.has_class("-shown")
        assert "timed out after 1 s" in str(problem.render())
        assert any("timed out" in n.title for n in app._notifications)


async def test_timeout_set_from_the_modal_applies_to_a_running_task(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "silent [[silent:30]]")
        await wait_for(pilot, has_status(task, TaskStatus.RUNNING))
        await select(app, pilot, task)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("backspace", "backspace", "backspace", "1", "enter")
        assert task.timeout == 1
        await wait_for(pilot, has_status(task, TaskStatus.TIMED_OUT), timeout=5)


async def test_follow_up_runs_in_the_same_session(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        first = await submit_and_open(app, pilot, "first question [[len:400]]")
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"and then? [[len:150]]")
        await pilot.press("enter")
        await pilot.pause()
        follow = app.engine.tasks[first.id + 1]
        assert follow.parent_id == first.id and follow.prompt == "and then? [[len:150]]"
        await wait_for(pilot, finished(follow))
        assert follow.status is TaskStatus.DONE, follow.error
        assert main_screen(app).table.selected_id == follow.id


async def test_continue_and_retry_after_a_timeout(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "stalls once [[silent:3]][[len:300]]", timeout="1")
        await wait_for(pilot, has_status(task, TaskStatus.TIMED_OUT), timeout=5)
        await select(app, pilot, task)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("backspace", "0", "enter")
        assert task.timeout is None
        await pilot.press("o")
        await wait_for(pilot, finished(task))
        assert task.status is TaskStatus.DONE, task.error
        await pilot.press("r")
        retried = app.engine.tasks[task.id + 1]
        assert retried.prompt == task.prompt
        await wait_for(pilot, finished(retried), timeout=8)


async def test_grid_shows_up_to_four_running_tasks(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = [await submit(app, pilot, f"grid {n} [[silent:30]]") for n in range(5)]
        await wait_for(pilot, lambda: sum(t.status is TaskStatus.RUNNING for t in tasks) == 4)
        screen = main_screen(app)
        screen.table.focus()
        await pilot.press("g")
        await wait_for(pilot, lambda: len(screen.output.panes) == 4)
        shown = {pane.task_id for pane in screen.output.panes}
        assert len(shown) == 4 and shown <= {t.id for t in tasks}
        await pilot.press("g")
        await wait_for(pilot, lambda: len(screen.output.panes) == 1)


async def test_raw_toggle_shows_the_same_text(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = "raw view [[len:900]]"
        await submit_and_open(app, pilot, prompt)
        pane = main_screen(app).query_one(OutputPane)
        assert pane.query(MarkdownBody)
        await pilot.press("m")
        await pilot.pause()
        raw = pane.query_one(RawBody)
        assert raw.text == expected_answer(prompt)
        await pilot.press("m")
        await pilot.pause()
        assert pane.query(MarkdownBody) and not pane.query(RawBody)


async def test_help_lists_every_key(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#keys", Static).content)
        text = console.export_text()
        for _, bindings in HELP_SECTIONS:
            for binding in bindings:
                assert re.search(rf"{re.escape(key_label(binding))} +{re.escape(binding.description)} ", text)
                assert binding.tooltip in text
        await pilot.press("escape")
        main_screen(app).table.focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)


async def test_delete_and_cancel_all_ask_first(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        done = await submit(app, pilot, "short [[len:100]]")
        await wait_for(pilot, finished(done))
        busy = [await submit(app, pilot, f"busy {n} [[silent:30]]") for n in range(2)]
        await select(app, pilot, done)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert done.id in app.engine.tasks
        await pilot.press("d")
        await pilot.press("y")
        await wait_for(pilot, lambda: done.id not in app.engine.tasks)
        await wait_for(pilot, lambda: main_screen(app).table.row_count == 2)
        await pilot.press("C")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, finished(*busy))
        assert {t.status for t in busy} == {TaskStatus.CANCELLED}


async def test_copy_puts_the_output_on_the_clipboard(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = "copy me [[len:500]]"
        await submit_and_open(app, pilot, prompt)
        await pilot.press("y")
        assert app.clipboard == expected_answer(prompt)


async def test_quit_interrupts_running_tasks_after_confirming(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, "long [[silent:30]]")
        await wait_for(pilot, lambda: task.chars > 0)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, finished(task))
        assert task.status is TaskStatus.INTERRUPTED
        assert app._exit


def test_docs_keys_lists_every_binding() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "keys.md").read_text(encoding="utf-8")
    for _, bindings in HELP_SECTIONS:
        for binding in bindings:
            assert f"| `{key_label(binding)}` | {binding.description} | {binding.tooltip} |" in docs


async def test_arrow_keys_and_clicks_move_the_selection_and_the_pane_follows(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = [await submit(app, pilot, f"nav {n} [[len:60]]") for n in range(3)]
        await wait_for(pilot, finished(*tasks))
        screen = main_screen(app)
        screen.table.focus()
        await pilot.press("home")
        assert screen.table.selected_id == tasks[0].id
        await pilot.press("down", "down")
        assert screen.table.selected_id == tasks[2].id
        await wait_for(pilot, lambda: screen.output.shown_ids == [tasks[2].id])
        await pilot.press("up")
        await wait_for(pilot, lambda: screen.output.shown_ids == [tasks[1].id])
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.output.panes[0].has_focus_within)
        await pilot.click(TaskTable, offset=(2, 1))  # the first row, under the header
        assert screen.table.selected_id == tasks[0].id
        await wait_for(pilot, lambda: screen.output.shown_ids == [tasks[0].id])
        await wait_for(pilot, lambda: screen.output.panes[0].has_focus_within)


async def test_the_table_scrolls_to_keep_the_selected_row_in_view(demo_url: str) -> None:
    async with running_app(demo_url, concurrency=1) as (app, pilot):
        screen = main_screen(app)
        assert screen.submit([f"row {n} [[len:24]]" for n in range(40)])
        await wait_for(pilot, lambda: screen.table.row_count == 40)
        screen.table.focus()
        await pilot.press("end")
        last = max(app.engine.tasks)
        assert screen.table.selected_id == last
        assert screen.table.scroll_y > 0
        lines = [screen.table.render_line(y).text for y in range(screen.table.size.height)]
        assert lines[0].split()[:2] == ["#", "status"], "the header stays on top"
        assert lines[-1].split()[0] == str(last)
        await pilot.press("home")
        assert screen.table.scroll_y == 0


async def test_a_long_answer_streams_raw_and_shows_as_markdown_when_it_ends(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = f"long live answer [[len:{LIVE_MARKDOWN_LIMIT + 6000}]][[chunk:100]][[delay:40]]"
        task = await submit(app, pilot, prompt)
        await select(app, pilot, task)
        pane = main_screen(app).output.panes[0]
        await wait_for(pilot, lambda: 0 < task.chars < LIVE_MARKDOWN_LIMIT and pane.query(MarkdownBody))
        await wait_for(
            pilot,
            lambda: task.chars > LIVE_MARKDOWN_LIMIT and "raw while streaming" in str(pane.border_subtitle),
            timeout=20,
        )
        assert pane.query(RawBody)
        await wait_for(pilot, finished(task), timeout=20)
        await wait_for(pilot, lambda: str(pane.border_subtitle).endswith("· markdown"))
        assert pane.query(MarkdownBody) and not pane.query(RawBody)
