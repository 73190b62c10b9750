"""A stream worker that crashes says why: its last words on stderr end up in the interrupted task's error.

Real worker processes streaming from the demo server over HTTP, killed with real signals.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from tests.test_worker import process_config, until
from tui.config import ProviderConfig
from tui.demo.script import expected_answer
from tui.demo.server import DemoServerThread
from tui.engine import Engine, Task, TaskStatus
from tui.engine.worker_proxy import StderrTail

CRASH_KEY_ENV = "AGENTDECK_CRASH_TEST_KEY"


@pytest.fixture
async def engine(demo: DemoServerThread) -> AsyncIterator[Engine]:
    engine = Engine(process_config(demo))
    yield engine
    await engine.aclose()


async def crash_while_streaming(engine: Engine, prompt: str, signum: int) -> Task:
    """Start a task, send the worker `signum` once text flows, and wait for the task to end."""
    task = engine.add_task(prompt)
    runner = engine.start(task)
    await until(lambda: task.chars > 100)
    worker = engine.clients.worker
    assert worker is not None and worker.pid is not None
    os.kill(worker.pid, signum)
    await asyncio.wait_for(runner, 10)
    return task


async def test_a_segfault_names_itself_and_a_continue_completes_the_task(engine: Engine) -> None:
    prompt = "worker segfault [[len:6000]][[delay:10]]"
    task = await crash_while_streaming(engine, prompt, signal.SIGSEGV)
    assert task.status is TaskStatus.INTERRUPTED
    assert task.error == (
        "the stream worker stopped (killed by signal 11: Fatal Python error: Segmentation fault); continue to resume"
    )
    await engine.run_task(engine.prepare_continue(task.id))
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)


async def test_a_secret_in_the_crash_line_is_redacted_before_it_is_stored(
    demo: DemoServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's stderr has no realistic way to carry a key; the key here is a word faulthandler writes.

    So the test shows that the line the worker wrote reaches `task.error` (which the session file stores)
    only through the engine's redactor, whatever secret the config names.
    """
    monkeypatch.setenv(CRASH_KEY_ENV, "Segmentation")
    config = process_config(demo)
    remote = ProviderConfig("remote", "chat", "m", base_url="https://example.invalid/v1", api_key_env=CRASH_KEY_ENV)
    engine = Engine(config.with_overrides(providers={**config.providers, "remote": remote}))
    try:
        task = await crash_while_streaming(engine, "worker secret [[len:6000]][[delay:10]]", signal.SIGSEGV)
    finally:
        await engine.aclose()
    assert task.status is TaskStatus.INTERRUPTED
    assert task.error == (
        "the stream worker stopped (killed by signal 11: Fatal Python error: [redacted AGENTDECK_CRASH_TEST_KEY]"
        " fault); continue to resume"
    )


def tail_of(script: str) -> tuple[StderrTail, subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    assert process.stderr is not None
    return StderrTail(process.stderr), process


def test_an_uncaught_exception_is_named_by_its_last_line() -> None:
    tail, process = tail_of("import sys\nprint('starting', file=sys.stderr)\nraise MemoryError")
    assert process.wait(10) == 1
    assert tail.last_words(signalled=False) == "MemoryError"


def test_a_process_killed_from_outside_names_nothing_it_wrote_before() -> None:
    tail, process = tail_of("import sys, time\nprint('a warning', file=sys.stderr, flush=True)\ntime.sleep(30)")
    time.sleep(0.5)
    process.kill()
    assert process.wait(10) == -signal.SIGKILL
    assert tail.last_words(signalled=True) is None


def test_a_flood_on_stderr_never_blocks_the_writer_and_keeps_a_short_tail() -> None:
    """Megabytes, three of them in a single line: the writer finishes, and its last line is found."""
    script = (
        "import sys\nw = sys.stderr.write\nw('x' * 3_000_000 + '\\n')\n"
        "for i in range(50_000): w(f'line {i} ' + 'y' * 500 + '\\n')\nw('RuntimeError: the end\\n')"
    )
    tail, process = tail_of(script)
    assert process.wait(30) == 0  # it ended by itself: no write waited on a full pipe
    assert tail.last_words(signalled=False) == "RuntimeError: the end"
