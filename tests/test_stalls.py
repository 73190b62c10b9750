"""Stalls over real HTTP: a stream that goes quiet ends `timed_out` after `idle_timeout`, keeping its text."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import config_for
from tests.engine_helpers import continue_to_the_end, run_one
from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus
from tui.store import SessionStore
from tui.store.reader import SessionReader
from tui.store.schema import MIGRATIONS

WALL_CLOCK_S = 60.0


@pytest.fixture
async def engine(demo_url: str) -> Any:
    engine = Engine(config_for(demo_url, timeout=WALL_CLOCK_S).with_overrides(idle_timeout=1.0))
    yield engine
    await engine.aclose()


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_a_stream_that_goes_quiet_ends_after_the_idle_timeout_keeping_its_text(
    engine: Engine, provider: str
) -> None:
    prompt = f"quiet {provider} [[silent:30]][[silent_after:3]][[delay:0]]"
    started = time.monotonic()
    task = await run_one(engine, prompt, provider=provider)
    assert task.status is TaskStatus.TIMED_OUT
    assert task.error == "no output for 1 s"
    assert task.chars == 36 and task.text == expected_answer(prompt)[:36]
    assert task.finished_at is not None and task.last_output_at is not None
    assert task.finished_at - task.last_output_at < 1.0 + 1.0
    assert time.monotonic() - started < WALL_CLOCK_S / 2

    await continue_to_the_end(engine, task, prompt)


async def test_a_task_that_keeps_writing_is_not_stopped_however_long_it_runs(engine: Engine) -> None:
    prompt = "steady writer [[len:300]][[chunk:10]][[delay:100]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE, task.error
    assert task.elapsed() > 2.0 and task.text == expected_answer(prompt)


async def test_idle_timeout_zero_waits_for_a_quiet_stream(demo_url: str) -> None:
    engine = Engine(config_for(demo_url, timeout=WALL_CLOCK_S).with_overrides(idle_timeout=0.0))
    prompt = "patient [[silent:1.5]][[silent_after:2]][[delay:0]][[len:100]]"
    task = await run_one(engine, prompt)
    await engine.aclose()
    assert task.status is TaskStatus.DONE and task.text == expected_answer(prompt)


async def test_a_provider_idle_timeout_wins_over_the_top_level_one(demo_url: str) -> None:
    config = config_for(demo_url, timeout=WALL_CLOCK_S, idle_timeout=0.5).with_overrides(idle_timeout=600.0)
    engine = Engine(config)
    task = await run_one(engine, "short fuse [[silent:30]][[silent_after:1]][[delay:0]]")
    await engine.aclose()
    assert task.status is TaskStatus.TIMED_OUT and task.error == "no output for 0.5 s"


async def test_time_to_first_output_is_kept_per_run_and_saved(engine: Engine) -> None:
    store = SessionStore.open("times")
    store.attach(engine)
    prompt = "first words [[silent:1.2]][[silent_after:0]][[len:60]][[delay:0]]"
    engine.config = engine.config.with_overrides(idle_timeout=0.0)
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE
    assert task.time_to_first_output is not None and 1.0 < task.time_to_first_output < 10
    assert task.first_output_at is not None and task.last_output_at is not None
    assert task.first_output_at <= task.last_output_at <= (task.finished_at or 0)
    await store.aclose()

    reopened = SessionStore.open("times")
    saved = reopened.tasks[0]
    reopened.close()
    assert saved.first_output_at == pytest.approx(task.first_output_at)
    assert saved.last_output_at == pytest.approx(task.last_output_at)
    assert saved.time_to_first_output == pytest.approx(task.time_to_first_output)


def version_3_session_without_output_times(path: Path) -> None:
    """A file as agentdeck wrote it before output times were saved: one finished task."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    for version, migration in enumerate(MIGRATIONS, start=1):
        migration(conn)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.execute("INSERT INTO tasks (id, rev, status, chars, started_at, finished_at, updated_at) "
                 "VALUES (1, 1, 'done', 0, 10.0, 12.0, 12.0)")
    conn.execute("INSERT INTO task_inputs (task_id, prompt, provider, model, api, created_at, attachments, "
                 "request_text) VALUES (1, 'old', 'demo', 'demo-chat', 'chat', 9.0, '[]', 'old')")
    conn.close()


def test_a_session_saved_before_output_times_reads_unchanged_and_gains_them_when_written() -> None:
    path = paths.sessions_dir() / "before.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    version_3_session_without_output_times(path)
    before = path.read_bytes()
    reader = SessionReader(path)
    [task] = reader.load_tasks()
    reader.close()
    assert (task.status, task.first_output_at, task.time_to_first_output) == (TaskStatus.DONE, None, None)
    assert path.read_bytes() == before
    store = SessionStore.open("before")
    store.close()
    conn = sqlite3.connect(path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
    conn.close()
    assert {"first_output_at", "last_output_at"} <= columns


async def test_reasoning_counts_as_output_though_it_adds_no_text(engine: Engine) -> None:
    prompt = "deliberate [[think:2.5]][[len:60]][[delay:0]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert task.time_to_first_output is not None and task.time_to_first_output < 1.0


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_max_output_tokens_reaches_the_server_and_a_cut_answer_says_so(
    demo_server: Any, demo_url: str, provider: str
) -> None:
    engine = Engine(config_for(demo_url, timeout=WALL_CLOCK_S, max_output_tokens=10))
    prompt = f"brief {provider} [[len:400]][[delay:0]]"
    task = await run_one(engine, prompt, provider=provider)
    await engine.aclose()
    assert demo_server.stats()["last_output_limit"] == 10
    if provider == "chat":  # the demo cuts Chat answers at the limit (about 4 characters a token), as models do
        assert task.status is TaskStatus.DONE and task.text == expected_answer(prompt)[:40]
        assert task.notice == "the answer stopped at max_output_tokens (10)"
