"""The app and its session on disk: resume after a stop, re-attach native runs, watch read-only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import config_for
from tui.app.app import AgentDeckApp
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus
from tui.store import SessionStore, SessionWatcher

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def wait_until(pilot: Pilot[int], predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def interrupted_session(demo_url: str, tmp_path: Path, prompts: dict[str, str]) -> Path:
    """A session whose tasks were stopped mid-stream, as after quitting or a crash."""
    path = tmp_path / "work.sqlite"
    store = SessionStore.open(path)
    engine = Engine(config_for(demo_url))
    store.attach(engine)
    tasks = [engine.add_task(prompt, provider=provider) for prompt, provider in prompts.items()]
    runners = [engine.start(task) for task in tasks]
    while min(task.chars for task in tasks) < 100:
        await asyncio.sleep(0.02)
    engine.interrupt_all()
    await asyncio.gather(*runners, return_exceptions=True)
    await engine.aclose()
    assert store.close()
    return path


async def test_reopened_session_resumes_every_interrupted_task(demo_url: str, tmp_path: Path) -> None:
    chat = "resume me in the app [[len:2500]][[delay:4]]"
    native = "re-attach me natively [[len:2500]][[delay:4]]"
    path = await interrupted_session(demo_url, tmp_path, {chat: "chat", native: "resp"})
    store = SessionStore.open(path)
    engine = Engine(config_for(demo_url))
    store.attach(engine)
    app = AgentDeckApp(engine, session_name=store.name)
    async with app.run_test(size=(120, 36)) as pilot:
        by_prompt = {task.prompt: task for task in engine.tasks.values()}
        await wait_until(pilot, lambda: by_prompt[native].status is TaskStatus.DONE)
        assert by_prompt[chat].status is TaskStatus.INTERRUPTED
        app.screen.query_one("TaskTable").focus()
        await pilot.press("R")
        await wait_until(pilot, lambda: by_prompt[chat].status is TaskStatus.DONE)
        await app.shutdown()
    assert store.close()
    for prompt in (chat, native):
        assert by_prompt[prompt].text == expected_answer(prompt)


async def test_watch_mode_is_live_and_read_only(demo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "watched.sqlite"
    store = SessionStore.open(path)
    writer = Engine(config_for(demo_url))
    store.attach(writer)
    prompt = "watched from elsewhere [[len:3000]][[delay:5]]"
    task = writer.add_task(prompt)
    runner = writer.start(task)
    watcher = SessionWatcher.open(path)
    mirror = Engine(config_for(demo_url))
    mirror.adopt(watcher.tasks.values())
    app = AgentDeckApp(mirror, session_name=watcher.name, watcher=watcher)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(mirror.tasks) == 1)
        (seen,) = mirror.tasks.values()
        await wait_until(pilot, lambda: seen.chars > 200)
        assert app.screen.submit(["should not run"]) is False
        assert len(mirror.tasks) == 1 and not app.screen.can("cancel")
        await runner
        await wait_until(pilot, lambda: seen.status is TaskStatus.DONE)
    await writer.aclose()
    store.close()
    watcher.close()
    assert seen.text == expected_answer(prompt)


async def test_sessions_screen_lists_and_switches(demo_url: str, tmp_path: Path) -> None:
    from tui import paths
    from tui.app.app import SessionSwitch
    from tui.screens.sessions import SessionsScreen

    sessions = paths.sessions_dir()
    sessions.mkdir(parents=True)
    work = await interrupted_session(demo_url, sessions, {"kept elsewhere [[len:2000]][[delay:4]]": "chat"})
    SessionStore.open("second").close()
    store = SessionStore.open("current")
    engine = Engine(config_for(demo_url))
    store.attach(engine)
    app = AgentDeckApp(engine, session_name=store.name)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.listed)
        assert {info.name for info in app.screen.listed} == {"work", "second", "current"}
        row = next(i for i, info in enumerate(app.screen.listed) if info.name == "work")
        app.screen.query_one("DataTable").move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
    store.close()
    assert app.return_value == SessionSwitch(str(work))
