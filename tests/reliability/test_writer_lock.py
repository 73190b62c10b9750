"""One writer per session, whatever happens to the files next to it.

The writer's lock lives on the session file itself, so deleting a lock file
(or every file but the session) does not let a second writer in; readers and
watchers still see who writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui import paths
from tui.store import SessionWatcher, StoreError, session_info

ROOT = Path(__file__).resolve().parents[2]
SLOW = "slow writer [[len:100000]][[delay:50]][[chunk:20]]"


def agentdeck(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


@pytest.fixture
def writer() -> Iterator[subprocess.Popen[str]]:
    """`agentdeck run --session shared` streaming slowly, once its session is being written."""
    proc = agentdeck("run", "--session", "shared", "--provider", "demo", SLOW)
    path = paths.sessions_dir() / "shared.sqlite"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if session_info(path).writer_pid is not None:
                break
        except StoreError:  # not there yet, or still empty
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    else:
        pytest.fail("the writer never started")
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)


def test_deleting_lock_files_lets_no_second_writer_in(writer: subprocess.Popen[str]) -> None:
    folder = paths.sessions_dir()
    for leftover in folder.glob("*.lock"):
        leftover.unlink()
    second = agentdeck("run", "--session", "shared", "--provider", "demo", "second [[len:10]]")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2, err
    assert f"session 'shared' is being written by process {writer.pid}" in err
    assert "Traceback" not in err
    assert session_info(folder / "shared.sqlite").writer_pid == writer.pid


def test_a_second_process_watches_instead(writer: subprocess.Popen[str]) -> None:
    for leftover in paths.sessions_dir().glob("*.lock"):
        leftover.unlink()
    watcher = SessionWatcher.open("shared")
    try:
        assert watcher.writer_alive and watcher.writer_pid == writer.pid
        deadline = time.monotonic() + 20
        while 1 not in watcher.tasks and time.monotonic() < deadline:  # the lock comes before the first task row
            time.sleep(0.1)
            watcher.poll()
        before = watcher.tasks[1].chars
        while watcher.tasks[1].chars == before and time.monotonic() < deadline:
            time.sleep(0.3)
            watcher.poll()
        assert watcher.tasks[1].chars > before and str(watcher.tasks[1].status) == "running"
    finally:
        watcher.close()
    writer.send_signal(signal.SIGTERM)
    writer.communicate(timeout=30)
    # the kernel freed the lock with the process
    assert session_info(paths.sessions_dir() / "shared.sqlite").writer_pid is None
    assert writer.returncode == 130
    later = agentdeck("run", "--session", "shared", "--provider", "demo", "later [[len:10]][[delay:0]]")
    _, err = later.communicate(timeout=60)
    assert later.returncode == 0, err
    assert not list(paths.sessions_dir().glob("*.lock")), os.listdir(paths.sessions_dir())
