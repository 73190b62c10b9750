"""Text chunks packed against their task's text before them (format 5): smaller at a model's pace, read
back exactly by every reader, and older files (whose chunks stand alone) open and go on unchanged."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import config_for
from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, Task, TaskStatus
from tui.store import SessionStore, SessionUnreadable, SessionWatcher, load_text, session_document
from tui.store.batch import Pending, write_batch
from tui.store.reader import SessionReader
from tui.store.records import WINDOW, capture_inputs, capture_state
from tui.store.schema import ADDED_TASK_COLUMNS, MIGRATIONS, connect_writer, migrate

MODEL_PACE = "[[len:3600]][[chunk:12]][[delay:10]]"
"""1,200 characters a second, as a model streams: each 0.3 s flush carries ~360 characters per task."""


@pytest.fixture
async def engine(demo_url: str) -> AsyncIterator[Engine]:
    engine = Engine(config_for(demo_url, concurrency=4))
    yield engine
    await engine.aclose()


async def test_text_at_a_models_pace_is_stored_in_under_half_its_size_and_watched_exactly(engine: Engine) -> None:
    store = SessionStore.open("paced")
    store.attach(engine)
    watcher = SessionWatcher.open("paced")
    poller = asyncio.create_task(watcher.run(interval=0.1))
    try:
        tasks = [engine.add_task(f"paced {i} {MODEL_PACE}") for i in range(4)]
        runs = [asyncio.create_task(engine.run_task(task)) for task in tasks]
        while tasks[0].id not in watcher.tasks or watcher.tasks[tasks[0].id].chars == 0:
            await asyncio.sleep(0.05)
        await load_text(watcher.tasks[tasks[0].id])  # followed chunk by chunk from here on
        await asyncio.gather(*runs)
        assert store.flush()
        while watcher.tasks[tasks[0].id].chars < 3600:
            await asyncio.sleep(0.05)
    finally:
        poller.cancel()
        await store.aclose()
    text_bytes = sum(len(task.text.encode("utf-8")) for task in tasks)
    assert store.stats.transactions >= 8  # many small flushes, not a few large ones
    assert store.stats.stored_bytes < 0.45 * text_bytes  # each alone would be ~0.6
    assert watcher.tasks[tasks[0].id].text == expected_answer(tasks[0].prompt)
    watcher.close()
    document = session_document("paced")
    assert [task["output"] for task in document["tasks"]] == [expected_answer(task.prompt) for task in tasks]


def _version_4_session(path: Path, text: str) -> None:
    """A file as agentdeck wrote it before format 5: one done task, its chunks each standing alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    for version, migration in enumerate(MIGRATIONS[:4], start=1):
        migration(conn)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    for name, kind in ADDED_TASK_COLUMNS.items():
        conn.execute(f"ALTER TABLE tasks ADD COLUMN {name} {kind}")
    task = Task(1, "old", "demo", "demo-chat", "chat", status=TaskStatus.DONE)
    chars: dict[int, int] = {}
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task), [text[:500]])}, chars, 1)
    write_batch(conn, {1: Pending(text=[text[500:]])}, chars, 2)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def test_a_version_4_file_reads_unchanged_and_goes_on_in_version_5(engine: Engine) -> None:
    path = paths.sessions_dir() / "old.sqlite"
    old_text = expected_answer("old [[len:1500]]")
    _version_4_session(path, old_text)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert session_document("old")["tasks"][0]["output"] == old_text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    store = SessionStore.open("old")
    store.attach(engine)
    try:
        new = engine.add_task(f"new {MODEL_PACE}")
        await engine.run_task(new)
    finally:
        await store.aclose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,), (2,), (3,), (4,), (5,)]
    finally:
        conn.close()
    outputs = [task["output"] for task in session_document("old")["tasks"]]
    assert outputs == [old_text, expected_answer(new.prompt)]


def _new_session(path: Path) -> sqlite3.Connection:
    path.touch()
    conn = connect_writer(path)
    migrate(conn, path)
    return conn


def test_a_task_resumed_by_a_new_writer_reads_back_whole(tmp_path: Path) -> None:
    """A writer that did not see a task's text from its start packs alone until it holds a window of it."""
    path = tmp_path / "resumed.sqlite"
    conn = _new_session(path)
    task = Task(1, "long", "demo", "demo-chat", "chat", status=TaskStatus.RUNNING)
    text = expected_answer(f"long [[len:{3 * WINDOW}]]")
    pieces = [text[at : at + 700] for at in range(0, len(text), 700)]
    chars: dict[int, int] = {}
    first_writer: dict[int, str] = {}
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task), pieces[:5])}, chars, 1, first_writer)
    for rev, piece in enumerate(pieces[5:20], start=2):
        write_batch(conn, {1: Pending(text=[piece])}, chars, rev, first_writer)
    after_restart: dict[int, str] = {}  # knows the saved length only
    for rev, piece in enumerate(pieces[20:], start=20):
        write_batch(conn, {1: Pending(text=[piece])}, chars, rev, after_restart)
    stored = [value for (value,) in conn.execute("SELECT text FROM output_chunks ORDER BY seq")]
    conn.close()
    assert any(isinstance(value, bytes) and value[1] & 0x20 for value in stored)  # some are packed against text
    reader = SessionReader(path)
    try:
        assert reader.read_text(1, 0, len(text)) == text
        assert reader.read_text(1, 40_000, len(text)) == text[40_000:]
    finally:
        reader.close()


def test_a_chunk_whose_earlier_text_is_missing_is_reported_never_guessed(tmp_path: Path) -> None:
    path = tmp_path / "cut.sqlite"
    conn = _new_session(path)
    task = Task(1, "cut", "demo", "demo-chat", "chat", status=TaskStatus.RUNNING)
    text = expected_answer("cut [[len:3000]]")
    chars: dict[int, int] = {}
    tails: dict[int, str] = {}
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task), [text[:1000]])}, chars, 1, tails)
    write_batch(conn, {1: Pending(text=[text[1000:2000]])}, chars, 2, tails)
    write_batch(conn, {1: Pending(text=[text[2000:]])}, chars, 3, tails)
    conn.execute("UPDATE output_chunks SET text = ? WHERE start = 1000", ("x" * 1000,))  # same length, other text
    conn.close()
    reader = SessionReader(path)
    try:
        with pytest.raises(SessionUnreadable, match="damaged|incomplete"):
            reader.read_text(1, 0, 3000)
    finally:
        reader.close()


async def test_an_agent_session_is_stored_against_its_answer_and_read_back_by_every_reader(engine: Engine) -> None:
    store = SessionStore.open("sessions")
    store.attach(engine)
    try:
        task = engine.add_task("remembered [[len:6000]][[delay:0]]")
        await engine.run_task(task)
    finally:
        await store.aclose()
    assert task.session_state is not None
    alone = zlib.compress(json.dumps(task.session_state, ensure_ascii=False).encode("utf-8"))
    conn = sqlite3.connect(paths.sessions_dir() / "sessions.sqlite")
    try:
        (stored,) = conn.execute("SELECT session_state FROM task_results").fetchone()
    finally:
        conn.close()
    assert len(stored) < len(alone) / 2  # the answer in it is told by reference to the saved text
    reopened = SessionStore.open("sessions")
    try:
        assert reopened.tasks[0].session_state == task.session_state
    finally:
        await reopened.aclose()
    watcher = SessionWatcher.open("sessions")
    try:
        assert watcher.tasks[task.id].session_state == task.session_state
    finally:
        watcher.close()
    assert session_document("sessions")["tasks"][0]["session_state"] == task.session_state
