"""Renaming a session while its own writer has it open: the file, its lock and its saving follow the name."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus
from tui.store import SessionLocked, SessionStore, StoreError, list_sessions, session_document

pytestmark = pytest.mark.slow  # a session renamed while a task streams


def names() -> list[str]:
    return sorted(info.name for info in list_sessions().sessions)


async def test_refused_renames_change_nothing_and_saving_goes_on(engine: Engine) -> None:
    SessionStore.open("taken").close()
    store = SessionStore.open("open here")
    store.attach(engine)
    prompt = "kept while renames are refused [[len:3000]][[delay:5]]"
    task = engine.add_task(prompt)
    runner = engine.start(task)
    while task.chars < 300:
        await asyncio.sleep(0.01)
    with pytest.raises(StoreError, match="a session named 'taken' already exists"):
        await asyncio.to_thread(store.rename, "taken")

    reader = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)  # another program, mid-read
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM output_chunks").fetchone()
    assert store.flush()
    with pytest.raises(StoreError, match="another program is reading this session"):
        await asyncio.to_thread(store.rename, "elsewhere")
    reader.close()
    assert names() == ["open here", "taken"] and store.name == "open here"

    await asyncio.to_thread(store.rename, "elsewhere")
    assert store.name == "elsewhere" and names() == ["elsewhere", "taken"]
    with pytest.raises(SessionLocked):
        SessionStore.open("elsewhere")
    await runner
    assert task.status is TaskStatus.DONE and store.close()
    assert [t["output"] for t in session_document("elsewhere")["tasks"]] == [expected_answer(prompt)]
    assert not list(paths.sessions_dir().glob("open here*"))  # no file, log or lock left under the old name
