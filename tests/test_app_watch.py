"""Watch mode in the app against a real second process writing the session."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app_helpers import demo_engine, main_screen, wait_for
from tui import paths
from tui.app.app import AgentDeckApp
from tui.engine import TaskStatus
from tui.screens.confirm import ConfirmScreen
from tui.store import SessionWatcher, StoreError

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test

STREAMS_THEN_WAITS = "watched analysis [[len:3000]][[delay:300]][[silent_after:14]][[silent:600]]"
"""168 characters over about four seconds (the watcher sees them arrive), then nothing for ten minutes."""


@pytest.fixture
def writer() -> Iterator[subprocess.Popen[str]]:
    """`agentdeck run --session watched` in its own process, killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", "--session", "watched", STREAMS_THEN_WAITS],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    yield process
    process.kill()
    process.communicate(timeout=10)


def saved() -> dict[str, Any] | None:
    """The saved state of the writer's task, as a fresh reader sees it (None before it exists)."""
    try:
        watcher = SessionWatcher.open("watched")
    except StoreError:
        return None
    try:
        task = watcher.tasks.get(1)
        return None if task is None else {"status": task.status, "chars": task.chars, "pid": watcher.writer_pid}
    finally:
        watcher.close()


def fingerprint() -> str:
    """The session's bytes (database and write-ahead log): what a write would change."""
    path = paths.sessions_dir() / "watched.sqlite"
    digest = hashlib.sha256()
    for part in (path, Path(f"{path}-wal")):
        digest.update(part.read_bytes() if part.exists() else b"")
    return digest.hexdigest()


def wait(check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        time.sleep(0.1)


async def test_watch_mode_says_read_only_offers_only_what_works_and_quits_without_touching(
    demo_url: str, writer: subprocess.Popen[str]
) -> None:
    wait(lambda: (state := saved()) is not None and int(state["chars"]) > 0)
    watcher = SessionWatcher.open("watched")
    engine = demo_engine(demo_url)
    engine.adopt(watcher.tasks.values())
    app = AgentDeckApp(engine, session_name=watcher.name, watcher=watcher)
    async with app.run_test(size=(120, 36)) as pilot:
        (task,) = engine.tasks.values()
        await wait_for(pilot, lambda: task.chars == 168)
        app.clear_notifications()
        await pilot.pause(0.6)
        screen = main_screen(app)
        assert "read-only" in app.sub_title
        assert "READ-ONLY" in str(screen.query_one("#status").render())

        screen.table.focus()
        await pilot.pause()
        offered = {key: binding.enabled for key, binding in screen.active_bindings.items()}
        for key in ("n", "c", "C", "t", "o", "r", "R", "d", "f"):
            assert key not in offered, key
        assert offered["y"] and offered["g"] and offered["v"]

        await pilot.press("c")
        await pilot.pause()
        assert any("read-only" in n.message for n in app._notifications)
        assert task.status is TaskStatus.RUNNING

        before = fingerprint()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app._exit
    watcher.close()
    await engine.aclose()
    assert writer.poll() is None
    assert saved() == {"status": TaskStatus.RUNNING, "chars": 168, "pid": writer.pid}
    assert fingerprint() == before
