"""A task's timeout bounds its running time across all its runs: the engine over real HTTP, and `resume`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

from tests.app_helpers import demo_engine
from tui.engine import Engine, Task, TaskStatus
from tui.store import SessionStore, session_document

SLOW = "[[len:40000]][[delay:100]]"
"""About 120 characters a second: a continued run is still streaming when its timeout fires."""


async def interrupted_after(engine: Engine, prompt: str, seconds: float) -> Task:
    """Run a task for about `seconds`, then stop it as quitting does: `interrupted`, resumable."""
    task = engine.add_task(prompt, timeout=None)
    runner = engine.start(task)
    while task.chars == 0 or task.elapsed() < seconds:  # the first task also imports the SDK
        await asyncio.sleep(0.01)
    engine.interrupt_all()
    await asyncio.gather(runner, return_exceptions=True)
    assert task.status is TaskStatus.INTERRUPTED and task.chars > 0
    return task


def last_run(task: Task) -> float:
    assert task.started_at is not None and task.finished_at is not None
    return task.finished_at - task.started_at


async def test_a_continued_task_times_out_on_its_total_running_time(engine: Engine) -> None:
    task = await interrupted_after(engine, f"timed across runs {SLOW}", 1.2)
    engine.set_timeout(task.id, 2.0)
    first_run = task.elapsed()
    engine.prepare_continue(task.id)
    runner = engine.start(task)
    while task.status is not TaskStatus.RUNNING:
        await asyncio.sleep(0.01)
    left = task.time_left()
    assert left is not None and left == pytest.approx(2.0 - first_run, abs=0.15)
    await runner
    assert task.status is TaskStatus.TIMED_OUT, task.error
    assert task.elapsed() == pytest.approx(2.0, abs=0.3)
    assert last_run(task) == pytest.approx(2.0 - first_run, abs=0.3)
    assert task.error == "timed out after 2 s of running time"


async def test_a_timeout_set_on_a_continued_task_counts_every_run(engine: Engine) -> None:
    task = await interrupted_after(engine, f"timeout set while continued {SLOW}", 1.0)
    engine.prepare_continue(task.id)
    runner = engine.start(task)
    await asyncio.sleep(0.3)
    engine.set_timeout(task.id, 1.8)
    left = task.time_left()
    assert left is not None and left == pytest.approx(1.8 - task.elapsed(), abs=0.1) and left < 0.8
    await runner
    assert task.status is TaskStatus.TIMED_OUT
    assert task.elapsed() == pytest.approx(1.8, abs=0.3)


async def test_continuing_a_task_with_no_time_left_sends_nothing(demo_server: Any, engine: Engine) -> None:
    task = await interrupted_after(engine, f"used up {SLOW}", 1.0)
    chars, ran = task.chars, task.elapsed()
    engine.set_timeout(task.id, 0.5)
    demo_server.reset_stats()
    engine.prepare_continue(task.id)
    await engine.run_task(task)
    assert task.status is TaskStatus.TIMED_OUT and task.chars == chars
    assert not any(demo_server.stats()["requests"].values())
    assert task.elapsed() == pytest.approx(ran, abs=0.05)
    assert task.error == f"timed out: it had already run {ran:.1f} s of its 0.5 s"
    engine.set_timeout(task.id, ran + 0.6)  # `+N` in the app: more time, then it continues
    engine.prepare_continue(task.id)
    await engine.run_task(task)
    assert task.status is TaskStatus.TIMED_OUT and task.chars > chars


async def test_resume_leaves_a_task_with_no_time_left_and_says_why(demo_url: str) -> None:
    store = SessionStore.open("budget")
    engine = demo_engine(demo_url)
    store.attach(engine)
    task = await interrupted_after(engine, f"no time for a resume {SLOW}", 0.5)
    engine.set_timeout(task.id, 0.3)
    await engine.aclose()
    assert store.close()
    resumed = subprocess.run(
        [sys.executable, "-m", "tui", "resume", "budget"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )
    assert resumed.returncode == 1, resumed.stderr
    assert "task 1 not resumed: it has used all of its 0.3 s timeout (a timeout counts every run" in resumed.stderr
    (saved,) = session_document("budget")["tasks"]
    assert (saved["status"], saved["chars"]) == ("interrupted", task.chars)
