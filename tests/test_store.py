"""SessionStore with a real engine over HTTP: continuous saving, lazy reopen, recovery, deltas only."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import config_for
from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, Task, TaskStatus
from tui.store import (
    SessionLocked,
    SessionStore,
    SessionUnreadable,
    SessionWatcher,
    StoredOutput,
    list_sessions,
    load_text,
    session_document,
)
from tui.store.batch import Pending, write_batch
from tui.store.files import file_size
from tui.store.records import MAX_UNPACKED_BYTES, capture_inputs, capture_state, unpack_data, window_of
from tui.store.schema import connect_writer


@pytest.fixture
async def engine(demo_url: str) -> AsyncIterator[Engine]:
    engine = Engine(config_for(demo_url, concurrency=8))
    yield engine
    await engine.aclose()


def saved(path: Path) -> dict[int, tuple[str, int, str]]:
    """(status, chars, text) per task, as another process would read them now."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id, status, chars FROM tasks").fetchall()
        texts = {}
        for task_id, _, _ in rows:
            text = ""
            for (stored,) in conn.execute("SELECT text FROM output_chunks WHERE task_id = ? ORDER BY seq", (task_id,)):
                text += unpack_data(stored, window_of(text)).decode()  # it may be packed against the text
            texts[task_id] = text
    finally:
        conn.close()
    return {task_id: (status, chars, texts[task_id]) for task_id, status, chars in rows}


async def test_run_is_saved_and_reopens_lazily(engine: Engine) -> None:
    store = SessionStore.open("alpha")
    store.attach(engine)
    prompts = [f"saved {i} [[len:3000]][[delay:0.5]]" for i in range(3)]
    tasks = [engine.add_task(p) for p in prompts]
    await asyncio.gather(*(engine.run_task(t) for t in tasks))
    assert store.close()
    assert store.stats.text_chars == 9000  # each character written once

    directory = paths.sessions_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())

    again = SessionStore.open("alpha")
    try:
        assert [t.prompt for t in again.tasks] == prompts
        assert all(t.status is TaskStatus.DONE for t in again.tasks)
        first = again.tasks[0]
        assert isinstance(first.output, StoredOutput) and not first.output.loaded
        assert first.chars == 3000  # known without reading the text
        assert await load_text(first) == expected_answer(prompts[0])
        assert [t.text for t in again.tasks] == [expected_answer(p) for p in prompts]
        assert first.session_state and first.session_state["type"] == "session"
    finally:
        again.close()


@pytest.mark.slow
async def test_text_reaches_disk_within_half_a_second_while_streaming(engine: Engine) -> None:
    store = SessionStore.open("live")
    store.attach(engine)
    task = engine.add_task("steady [[len:30000]][[delay:4]]")
    runner = asyncio.create_task(engine.run_task(task))
    lags = []
    for _ in range(5):
        await asyncio.sleep(0.25)
        in_memory = task.chars
        await asyncio.sleep(0.7)  # one flush interval plus slack for a busy machine
        lags.append(saved(store.path)[task.id][1] >= in_memory)
    engine.cancel(task.id)
    await asyncio.gather(runner, return_exceptions=True)
    store.close()
    assert all(lags), lags
    status, chars, text = saved(store.path)[task.id]
    assert (status, chars) == ("cancelled", task.chars) and text == task.text


async def test_status_change_is_saved_at_once(engine: Engine) -> None:
    store = SessionStore.open("urgent", flush_interval=30)
    store.attach(engine)
    task = engine.add_task("quick [[len:100]][[delay:0]]")
    await engine.run_task(task)
    deadline = time.monotonic() + 1.0
    while saved(store.path)[task.id][0] != "done" and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert saved(store.path)[task.id] == ("done", 100, task.text)
    store.close()


@pytest.mark.slow
async def test_only_new_text_is_written_and_1mb_stays_about_1mb(engine: Engine) -> None:
    store = SessionStore.open("big")
    store.attach(engine)
    prompt = "big [[len:1000000]][[chunk:400]][[delay:0.5]]"
    task = engine.add_task(prompt)
    await engine.run_task(task)
    assert store.close()
    assert task.text == expected_answer(prompt)
    assert store.stats.text_bytes == len(task.text.encode())  # deltas only, nothing rewritten
    assert store.stats.transactions >= 4  # it really was saved while streaming
    size = sum(p.stat().st_size for p in paths.sessions_dir().glob("big.sqlite*"))
    assert size <= 1.6 * len(task.text.encode()), size


async def test_second_writer_is_refused_but_a_watcher_is_welcome(engine: Engine) -> None:
    store = SessionStore.open("solo")
    store.attach(engine)
    try:
        with pytest.raises(SessionLocked, match=r"being written by process \d+.*--watch"):
            SessionStore.open("solo")
        watcher = SessionWatcher.open("solo")
        assert watcher.writer_alive
        watcher.close()
        info = list_sessions().sessions[0]
        assert info.writer_pid == os.getpid()
    finally:
        store.close()
    SessionStore.open("solo").close()  # free again


def crashed_session(name: str, statuses: dict[int, TaskStatus], text: str = "partial text") -> Path:
    """A file as a killed writer leaves it: tasks still `running`/`queued`, no lock held."""
    store = SessionStore.open(name)
    path = store.path
    store.close()
    conn = connect_writer(path)
    batch = {}
    for task_id, status in statuses.items():
        task = Task(task_id, f"prompt {task_id}", "demo", "demo-chat", "chat", status=status,
                    started_at=time.time() - 5 if status is not TaskStatus.QUEUED else None)
        texts = [text] if status is not TaskStatus.QUEUED else []
        batch[task_id] = Pending(capture_inputs(task), capture_state(task), texts)
    write_batch(conn, batch, {}, 1)
    conn.close()
    return path


def test_tasks_of_a_dead_writer_are_interrupted_on_open() -> None:
    crashed_session("crash", {1: TaskStatus.RUNNING, 2: TaskStatus.QUEUED, 3: TaskStatus.DONE})
    info = list_sessions().sessions[0]
    assert info.counts == {"interrupted": 2, "done": 1}
    watcher = SessionWatcher.open("crash")
    assert [t.status for t in watcher.tasks.values()] == ["interrupted", "interrupted", "done"]
    watcher.close()
    store = SessionStore.open("crash")
    try:
        running, queued, done = store.tasks
        assert running.status is queued.status is TaskStatus.INTERRUPTED and done.status is TaskStatus.DONE
        assert running.text == "partial text" and running.finished_at is not None and running.elapsed() > 0
        assert store.interrupted() == [running, queued]
    finally:
        store.close()
    assert {k: v[0] for k, v in saved(store.path).items()} == {1: "interrupted", 2: "interrupted", 3: "done"}


async def test_resume_in_process_continues_where_the_text_stops(engine: Engine) -> None:
    prompt = "resume me [[len:4000]][[delay:0]]"
    crashed_session("resume", {1: TaskStatus.RUNNING}, text=expected_answer(prompt)[:1234])
    conn = sqlite3.connect(paths.sessions_dir() / "resume.sqlite")
    conn.execute("UPDATE task_inputs SET prompt = ?, request_text = ?, provider = 'chat'", (prompt, prompt))
    conn.commit()
    conn.close()
    store = SessionStore.open("resume")
    store.attach(engine)
    task = store.interrupted()[0]
    engine.prepare_continue(task.id)
    await engine.run_task(task)
    store.close()
    assert task.status is TaskStatus.DONE and task.text == expected_answer(prompt)
    assert saved(store.path)[1] == ("done", 4000, expected_answer(prompt))


async def test_follow_up_retry_and_remove_are_saved(engine: Engine) -> None:
    store = SessionStore.open("turns")
    store.attach(engine)
    first = engine.add_task("first turn [[len:300]][[delay:0]]")
    await engine.run_task(first)
    second = engine.follow_up(first.id, "second turn [[len:200]][[delay:0]]")
    await engine.run_task(second)
    retried = engine.retry(second.id)
    await asyncio.sleep(0)  # the store re-reads the request fields retry sets after ADDED
    doomed = engine.add_task("to be removed [[len:50]][[delay:0]]")
    await engine.run_task(doomed)
    engine.remove(doomed.id)
    store.close()

    again = SessionStore.open("turns")
    engine2 = Engine(engine.config)
    try:
        again.attach(engine2)
        by_id = engine2.tasks
        assert set(by_id) == {first.id, second.id, retried.id}
        assert by_id[second.id].parent_id == first.id
        assert by_id[second.id].base_session == first.session_state
        assert by_id[retried.id].base_session == first.session_state
        assert by_id[retried.id].request_text == second.request_text
        third = engine2.follow_up(second.id, "third turn [[len:100]][[delay:0]]")  # restored session state
        await engine2.run_task(third)
        assert third.status is TaskStatus.DONE, third.error
    finally:
        again.close()
        await engine2.aclose()


def test_text_round_trips_exactly_whether_stored_compressed_or_not() -> None:
    """Reopen, a live watcher and export give back each character; a lone surrogate reads as U+FFFD."""
    odd = "é 中文 \U0001f600 \x00\x1b[31m\r\n lone \ud800 end "
    texts = {1: (odd + "a phrase that repeats ") * 3000, 2: odd, 3: "x"}
    store = SessionStore.open("exact")
    store.close()
    path = store.path
    conn = connect_writer(path)
    tasks = {i: Task(i, f"prompt {i}", "demo", "demo-chat", "chat", status=TaskStatus.DONE) for i in texts}
    chars: dict[int, int] = {}
    write_batch(conn, {i: Pending(capture_inputs(t), capture_state(t), [texts[i][:7]]) for i, t in tasks.items()},
                chars, 1)
    watcher = SessionWatcher.open(path)
    for task in watcher.tasks.values():
        task.output.text()  # loaded, so the watcher keeps it up to date
    for rev, (cut, end) in enumerate(((7, 1001), (1001, 50_000), (50_000, None)), start=2):
        write_batch(conn, {i: Pending(text=[texts[i][cut:end]]) for i in texts}, chars, rev)
        watcher.poll()
    conn.close()
    expected = {i: text.replace("\ud800", "\ufffd") for i, text in texts.items()}
    try:
        assert {i: t.text for i, t in watcher.tasks.items()} == expected
    finally:
        watcher.close()
    again = SessionStore.open(path)
    try:
        assert {t.id: t.text for t in again.tasks} == expected
    finally:
        again.close()
    assert {t["id"]: t["output"] for t in session_document("exact")["tasks"]} == expected
    assert file_size(path) < len(expected[1].encode())  # text that compresses takes less room than itself


@pytest.mark.slow
def test_a_chunk_that_would_expand_without_bound_is_reported_as_damage() -> None:
    """A crafted chunk (a few KB of zlib that inflates past the limit) gives a clear error, not an exhausted memory."""
    store = SessionStore.open("bomb")
    store.close()
    conn = connect_writer(store.path)
    task = Task(1, "prompt", "demo", "demo-chat", "chat", status=TaskStatus.DONE)
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task), ["fine text"])}, {}, 1)
    bomb = zlib.compress(b"a" * (MAX_UNPACKED_BYTES + 1), 9)
    assert len(bomb) < 300_000
    conn.execute("UPDATE output_chunks SET text = ? WHERE task_id = 1", (bomb,))
    conn.commit()
    conn.close()
    again = SessionStore.open(store.path)
    try:
        with pytest.raises(SessionUnreadable, match="expands beyond 256 MB"):
            again.tasks[0].output.text()
    finally:
        again.close()
