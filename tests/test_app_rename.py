"""Renaming the session the app has open (F2, `r`): allowed, and it goes on saving under the new name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app_helpers import demo_engine, submit, wait_for
from tui import paths
from tui.app.app import AgentDeckApp
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.screens.sessions import SessionsScreen
from tui.store import SessionStore, session_document, writer_pid

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


def companions(name: str) -> list[str]:
    base = paths.sessions_dir() / f"{name}.sqlite"
    return [p.name for p in (base, *(Path(f"{base}{s}") for s in ("-wal", "-shm", ".lock"))) if p.exists()]


async def test_renaming_the_open_session_while_a_task_streams(demo_url: str) -> None:
    store = SessionStore.open("current")
    engine = demo_engine(demo_url)
    store.attach(engine)
    app = AgentDeckApp(engine, session_name=store.name, store=store)
    prompt = "renamed while streaming [[len:4000]][[delay:15]]"
    async with app.run_test(size=(120, 36)) as pilot:
        task = await submit(app, pilot, prompt)
        await wait_for(pilot, lambda: task.chars > 300)
        await pilot.press("f2")
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.listed)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*["backspace"] * len("current"), *"nightly", "enter")
        await wait_for(pilot, lambda: app.session_name == "nightly")
        assert not [n for n in app._notifications if n.title == "Not renamed"]
        await wait_for(pilot, lambda: [info.name for info in screen.listed] == ["nightly"])
        assert "nightly (this one)" in str(screen.query_one("DataTable").get_row_at(0)[0])
        assert store.name == "nightly" and app._terminal_title.startswith("agentdeck nightly: ")
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert str(app.screen.query_one("#status").render()).startswith("agentdeck nightly ")
        assert companions("current") == [] and writer_pid(store.path) == os.getpid()
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE, timeout=20)
        await app.shutdown()
    assert store.close()
    saved = session_document("nightly")["tasks"]
    assert [(t["status"], t["output"]) for t in saved] == [("done", expected_answer(prompt))]
