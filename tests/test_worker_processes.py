"""No orphans: the real `agentdeck` on a pseudo-terminal, its stream worker and the MCP server that started.

However the app ends (quit, SIGTERM, kill -9), every process it started is gone a few seconds later.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.terminal_app import TerminalApp
from tui.demo.server import DemoServerThread

pytestmark = pytest.mark.slow

SLOW = "a long analysis [[len:20000]][[delay:40]]"


@pytest.fixture
def tooled_config(isolated_home: Path, demo: DemoServerThread) -> Iterator[None]:
    """The default provider offers the demo MCP server's tools, so each run starts that server (in the worker)."""
    path = Path(os.environ["AGENTDECK_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_provider = "tooled"\n[providers.tooled]\napi = "chat"\nmodel = "demo-chat"\n'
        f'base_url = "{demo.base_url}"\ntools = ["demo"]\n',
        encoding="utf-8",
    )
    yield


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    return children


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _streaming_app() -> tuple[TerminalApp, set[int]]:
    """The app with one task streaming; its worker and the MCP server (two processes at least) under it."""
    app = TerminalApp("--session", "orphans")
    app.wait_for("Ask something")
    app.type(SLOW + "\r")
    deadline = time.monotonic() + 60
    while len(_descendants(app.process.pid)) < 2:
        assert time.monotonic() < deadline, f"no worker and MCP server: {app.text[-1500:]!r}"
        app.settle(0.3)
    app.settle(1.0)
    started = _descendants(app.process.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in started]
    assert any(b"tui.engine.worker" in c for c in commands) and any(b"tui.demo.mcp_server" in c for c in commands)
    return app, started


def _quit(app: TerminalApp) -> None:
    app.type("\x11")
    app.wait_for("Stop it and quit?")
    app.type("y")


@pytest.mark.usefixtures("tooled_config")
@pytest.mark.parametrize(
    "stop",
    [_quit, lambda app: app.send_signal(signal.SIGTERM), lambda app: app.send_signal(signal.SIGKILL)],
    ids=["quit", "sigterm", "kill-9"],
)
def test_the_worker_and_its_mcp_server_exit_with_the_app(stop: Callable[[TerminalApp], None]) -> None:
    app, started = _streaming_app()
    try:
        stop(app)
        app.wait()
        deadline = time.monotonic() + 8
        while left := {pid for pid in started if _alive(pid)}:
            assert time.monotonic() < deadline, f"still running after the app: {left}"
            time.sleep(0.1)
    finally:
        app.close()
        for pid in started:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
