"""Defects a new user hit in ten minutes: each drives the app as that user did, against the demo server."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from tests.app_helpers import finished, main_screen, running_app, submit, wait_for
from tests.terminal_app import TerminalApp
from tui.app.app import AgentDeckApp
from tui.engine import Task, TaskStatus
from tui.screens.main import MainScreen
from tui.store import SessionStore, StoreError, session_document
from tui.widgets.task_rows import TaskFilter, TaskSort

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def _finished_tasks(app: AgentDeckApp, pilot: Pilot[int], done: int, failed: int = 0) -> list[Task]:
    """`done` answered tasks, then `failed` ones, all finished: nothing is left running."""
    prompts = [f"short answer {n} [[len:40]][[delay:0]]" for n in range(done)]
    prompts += [f"refused {n} [[fault:401]]" for n in range(failed)]
    tasks = [await submit(app, pilot, prompt) for prompt in prompts]
    await wait_for(pilot, finished(*tasks), timeout=20)
    await pilot.pause(0.3)
    return tasks


async def test_filtering_to_an_empty_view_and_back_keeps_the_app_alive(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, done=3, failed=7)
        table = main_screen(app).table
        await pilot.press("escape", "end", "v")
        assert table.task_filter is TaskFilter.ACTIVE and table.row_count == 0
        assert table.selected_id is None
        await pilot.press("v")
        await pilot.pause(0.3)
        assert app.is_running
        assert table.task_filter is TaskFilter.DONE and table.row_count == 3
        assert table.selected_id in {task.id for task in tasks[:3]}


async def test_filter_from_a_middle_row_to_empty_and_back(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, done=2, failed=4)
        table = main_screen(app).table
        await pilot.press("escape")
        table.select(tasks[2].id)
        await pilot.press("v", "v")
        await pilot.pause(0.3)
        assert app.is_running
        assert table.row_count == 2 and table.selected_id in (tasks[0].id, tasks[1].id)
        await pilot.press("v", "v")
        await pilot.pause(0.3)
        assert table.task_filter is TaskFilter.ALL
        assert table.selected_id is not None


async def test_deleting_the_last_row_selects_the_row_above(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, done=4)
        table = main_screen(app).table
        await pilot.press("escape", "end", "c", "d")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: tasks[-1].id not in app.engine.tasks)
        await pilot.pause(0.5)
        assert app.is_running
        assert table.row_count == 3
        assert table.selected_id == tasks[-2].id
        assert all(task.status is TaskStatus.DONE for task in tasks[:-1])


def _type_at_once(app: AgentDeckApp, keys: str) -> None:
    """Queue every key before the app handles the first, as a paste or a fast typist does."""
    driver = app._driver
    assert driver is not None
    for char in keys:
        event = events.Key("space" if char == " " else char, char)
        event.set_sender(app)
        driver.send_message(event)


async def test_keys_typed_fast_after_n_fill_the_prompt(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, done=2)
        screen = main_screen(app)
        await pilot.press("escape")
        assert screen.focused is screen.table
        _type_at_once(app, "nrycsv retry your copy")
        await pilot.pause(0.5)
        assert screen.prompt.text == "rycsv retry your copy"
        assert len(app.engine.tasks) == 2, "no retry was started"
        assert [task.status for task in tasks] == [TaskStatus.DONE, TaskStatus.DONE]
        assert screen.table.task_filter is TaskFilter.ALL and screen.table.task_sort is TaskSort.ID


async def test_an_answer_typed_right_after_the_question_key_answers_it(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        tasks = await _finished_tasks(app, pilot, done=2)
        await pilot.press("escape")
        _type_at_once(app, "dy")
        await wait_for(pilot, lambda: tasks[-1].id not in app.engine.tasks)
        assert isinstance(app.screen, MainScreen)


# -- unexpected stops and getting back to the work ------------------------------

SLOW = "a long analysis [[len:20000]][[delay:40]]"


def _started(name: str) -> TerminalApp:
    app = TerminalApp("--demo", "--session", name)
    app.wait_for("Ask something")
    return app


def _until_saved_text(name: str, app: TerminalApp, timeout: float = 60.0) -> None:
    """Wait until the session on disk holds some of a task's text: it is really streaming."""
    deadline = time.monotonic() + timeout
    while True:
        app.settle(0.3)
        try:
            tasks = session_document(name)["tasks"]
        except StoreError:
            tasks = []
        if tasks and tasks[0]["chars"] > 0:
            return
        assert time.monotonic() < deadline, f"no text saved; the screen: {app.text[-1500:]!r}"


def _saved_statuses(name: str) -> list[str]:
    return [task["status"] for task in session_document(name)["tasks"]]


def test_a_signal_saves_running_tasks_as_interrupted_reports_and_exits_non_zero() -> None:
    app = _started("nightly")
    try:
        app.type(SLOW + "\r")
        _until_saved_text("nightly", app)
        app.send_signal(signal.SIGTERM)
        code = app.wait()
    finally:
        app.close()
    assert code == 128 + signal.SIGTERM
    assert "agentdeck stopped unexpectedly: received SIGTERM" in app.text
    assert "agentdeck resume nightly" in app.text
    (task,) = session_document("nightly")["tasks"]
    assert task["status"] == "interrupted" and task["chars"] > 0


def test_a_closed_terminal_window_saves_running_tasks_as_interrupted_and_the_app_exits() -> None:
    app = _started("hangup")
    try:
        app.type(SLOW + "\r")
        _until_saved_text("hangup", app)
        app.hang_up()
        code = app.process.wait(timeout=30)  # it used to hang for ever, writing to a terminal that was gone
    finally:
        app.close()
    assert code == 128 + signal.SIGHUP
    assert _saved_statuses("hangup") == ["interrupted"]


def test_quitting_prints_the_session_its_tasks_and_how_to_resume() -> None:
    app = _started("weekly")
    try:
        app.type(SLOW + "\r")
        app.settle(1.5)
        app.type("\x11")  # Ctrl+Q asks, because a task is running
        app.wait_for("Stop it and quit?")
        app.type("y")
        code = app.wait()
    finally:
        app.close()
    assert code == 0
    assert ("agentdeck: session weekly: 1 interrupted · reopen: agentdeck open weekly · "
            "resume: agentdeck resume weekly (or R in the app)") in app.text
    assert _saved_statuses("weekly") == ["interrupted"]


async def test_a_crash_interrupts_running_tasks_logs_and_saves(demo_url: str, isolated_home: Path) -> None:
    store = SessionStore.open("crashy")
    with pytest.raises(ZeroDivisionError):
        async with running_app(demo_url, session_name="crashy") as (app, pilot):
            store.attach(app.engine)
            task = await submit(app, pilot, SLOW)
            await wait_for(pilot, lambda: task.chars > 0)
            app.call_later(lambda: 1 / 0)  # stands for any bug in a handler
            await pilot.pause(1.0)
    store.close()
    assert task.status is TaskStatus.INTERRUPTED, task.error
    stop = app.unexpected_stop
    assert stop is not None and stop.exit_code == 1 and "ZeroDivisionError" in stop.what
    assert stop.log is not None and stop.log.is_relative_to(isolated_home)
    assert "ZeroDivisionError" in stop.log.read_text()
    assert _saved_statuses("crashy") == ["interrupted"]
