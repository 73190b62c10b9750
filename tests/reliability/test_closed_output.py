"""Standard output closed or full, and Ctrl-C at any moment: ends like a well-made Unix tool.

Every command that prints is run with stdout as a pipe whose reader is gone
(`| head -c 10` after it exited) and as `/dev/full`. A closed pipe ends quietly
(exit 141 or 0, nothing on stderr about it); a full stdout gives one line and
exit 1; never a traceback, and a run's session is saved all the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.demo.script import expected_answer
from tui.store import export_pieces, session_document

ROOT = Path(__file__).resolve().parents[2]
LONG = "closed output [[len:3000]][[delay:0]]"
KEPT = "kept [[len:3000]][[delay:0]]"

COMMANDS = {
    "run": ["run", "--provider", "demo", "--session", "piped", LONG],
    "run-json": ["run", "--provider", "demo", "--json", "--session", "piped", LONG],
    "sessions": ["sessions"],
    "sessions-json": ["sessions", "--json"],
    "export-md": ["export", "kept", "--format", "md"],
    "export-json": ["export", "kept", "--format", "json"],
    "export-toml": ["export", "kept", "--format", "toml"],
    "import": ["import", "{export}", "--name", "imported"],
    "config-show": ["config", "show"],
    "config-path": ["config", "path"],
    "help": ["--help"],
}


def agentdeck(*args: str, stdout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, timeout=120, cwd=ROOT, check=False)


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """A saved session to list and export, and its JSON export to import."""
    made = subprocess.run([sys.executable, "-m", "tui", "run", "--session", "kept", "--provider", "demo",
                           KEPT], capture_output=True, cwd=ROOT, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    export = tmp_path / "kept.json"
    export.write_text("".join(export_pieces("kept", "json")))
    return export


def command(name: str, export: Path) -> list[str]:
    return [arg.replace("{export}", str(export)) for arg in COMMANDS[name]]


def check_saved(name: str) -> None:
    if name == "import":
        assert [t["output"] for t in session_document("imported")["tasks"]] == [expected_answer(KEPT)]
    if name.startswith("run"):
        tasks = session_document("piped")["tasks"]
        assert [(t["status"], t["output"]) for t in tasks] == [("done", expected_answer(LONG))]


@pytest.mark.parametrize("name", COMMANDS)
def test_closed_pipe_ends_quietly(name: str, kept: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = agentdeck(*command(name, kept), stdout=writer)
    finally:
        os.close(writer)
    assert result.returncode in (0, 141), result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "Broken pipe" not in result.stderr
    check_saved(name)


@pytest.mark.parametrize("name", COMMANDS)
def test_full_stdout_says_so_once(name: str, kept: Path) -> None:
    with open("/dev/full", "w") as full:
        result = agentdeck(*command(name, kept), stdout=full.fileno())
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    complaints = [line for line in result.stderr.splitlines() if "No space left on device" in line]
    assert complaints == ["agentdeck: cannot write to standard output: No space left on device"]
    check_saved(name)


def python_startup() -> float:
    """Seconds until Python runs a script's first line; a Ctrl-C before that is Python's own to report."""
    times = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT)
        times.append(time.monotonic() - start)
    return max(times)


@pytest.mark.parametrize("after", [0.02, 0.05, 0.1, 0.15, 0.25])
def test_ctrl_c_while_starting_exits_130_without_traceback(after: float) -> None:
    for _ in range(3):
        delay = python_startup() + after
        proc = subprocess.Popen([sys.executable, "-m", "tui", "run", "--provider", "demo", "x [[len:10]]"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                cwd=ROOT)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if not (proc.returncode == -signal.SIGINT and not err):
            break  # else the machine was slower than measured: Python had not installed its handler yet
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
