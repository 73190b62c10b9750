"""Groups in sessions: saved with their tasks, read back, watched; version 3 files open unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.store_helpers import digest, old_format_session
from tui import paths
from tui.engine import Engine
from tui.store import SessionStore, SessionWatcher, group_export, import_file, session_document


async def test_a_group_is_saved_with_its_tasks_and_read_back(engine: Engine) -> None:
    store = SessionStore.open("grouped")
    store.attach(engine)
    watcher = SessionWatcher.open("grouped")
    try:
        tasks = engine.add_group("saved group [[len:50]]", [("chat", None), ("resp", None)])
        alone = engine.add_task("alone [[len:10]]")
        await asyncio.gather(*(engine.run_task(task) for task in [*tasks, alone]))
        assert store.flush()
        watcher.poll()
        assert [watcher.tasks[task.id].group for task in [*tasks, alone]] == ["g1", "g1", None]
    finally:
        watcher.close()
        await store.aclose()
    reopened = SessionStore.open("grouped")
    try:
        assert [task.group for task in reopened.tasks] == ["g1", "g1", None]
    finally:
        await reopened.aclose()
    assert [task["group"] for task in session_document("grouped")["tasks"]] == ["g1", "g1", None]


async def test_a_version_3_file_reads_unchanged_and_gains_groups_when_written(engine: Engine) -> None:
    path = paths.sessions_dir() / "old.sqlite"
    old_format_session(path, 3)
    before = digest(path)
    assert session_document("old")["tasks"][0]["group"] is None
    assert digest(path) == before
    store = SessionStore.open("old")
    store.attach(engine)
    try:
        tasks = engine.add_group("new group [[len:20]]", [("chat", None), ("chat", "second")])
        await asyncio.gather(*(engine.run_task(task) for task in tasks))
        assert store.flush()
    finally:
        await store.aclose()
    document = session_document("old")
    assert [(task["id"], task["group"]) for task in document["tasks"]] == [(1, None), (2, "g1"), (3, "g1")]
    assert document["tasks"][0]["output"] == "old"


async def test_an_exported_group_imports_back_as_a_group(engine: Engine, tmp_path: Path) -> None:
    store = SessionStore.open("shared")
    store.attach(engine)
    try:
        tasks = engine.add_group("travels [[len:30]]", [("chat", None), ("resp", None)])
        await asyncio.gather(*(engine.run_task(task) for task in tasks))
    finally:
        await store.aclose()
    exported = tmp_path / "g1.json"
    exported.write_text(group_export("shared", "g1", "json"), encoding="utf-8")
    name, count = import_file(exported, "again")
    assert count == 2
    assert [(t["provider"], t["group"]) for t in session_document(name)["tasks"]] == [("chat", "g1"), ("resp", "g1")]
