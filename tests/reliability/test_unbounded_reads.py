"""Every file agentdeck reads is a regular file read with a size limit: a FIFO, /dev/zero, a huge sparse
file or a folder in its place ends fast with exit 2 and one line, never a hang or a memory blow-up."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP = 3 * 1024**3
"""Address space of each run: reading a file whole instead of refusing it fails loudly, not by swapping."""
HUGE = 16 * 1024**3


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def agentdeck(*args: str, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL,
              timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, timeout=timeout, cwd=ROOT,
                          stdin=stdin, env={**os.environ, **(env or {})}, preexec_fn=_cap_memory, check=False)


def make_source(kind: str, where: Path, suffix: str) -> Path:
    """A path of this kind: a FIFO nobody writes, /dev/zero, a sparse 16 GB file, or a folder."""
    if kind == "zero":
        return Path("/dev/zero")
    path = where / f"source{suffix}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        with open(path, "wb") as handle:
            handle.truncate(HUGE)
    elif kind == "folder":
        path.mkdir()
    return path


def _run_file(path: Path) -> tuple[str, ...]:
    return ("run", "--provider", "demo", "-f", str(path))


def _attachment(path: Path) -> tuple[str, ...]:
    return ("run", "--provider", "demo", "-a", str(path), "x")


def _import(path: Path) -> tuple[str, ...]:
    return ("import", str(path))


def _export(path: Path) -> tuple[str, ...]:
    return ("export", str(path))


def _open(path: Path) -> tuple[str, ...]:
    return ("open", str(path))


def _resume(path: Path) -> tuple[str, ...]:
    return ("resume", str(path))


READERS: dict[str, tuple[str, Callable[[Path], tuple[str, ...]]]] = {
    "prompt file": (".txt", _run_file),
    "attachment": (".md", _attachment),
    "import": (".json", _import),
    "session file (export)": (".sqlite", _export),
    "session file (open)": (".sqlite", _open),
    "session file (resume)": (".sqlite", _resume),
}
KINDS = ["fifo", "zero", "huge", "folder"]


def assert_refused(result: subprocess.CompletedProcess[bytes], started: float) -> str:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentdeck: "), err
    assert time.monotonic() - started < 15
    return lines[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_file_read_refuses_what_is_not_a_bounded_regular_file(reader: str, kind: str, tmp_path: Path) -> None:
    suffix, argv = READERS[reader]
    source = make_source(kind, tmp_path, suffix)
    started = time.monotonic()
    line = assert_refused(agentdeck(*argv(source)), started)
    assert str(source) in line


@pytest.mark.parametrize("kind", KINDS)
def test_the_config_file_is_refused_the_same_way(kind: str, tmp_path: Path) -> None:
    source = make_source(kind, tmp_path, ".toml")
    started = time.monotonic()
    line = assert_refused(agentdeck("run", "x", env={"AGENTDECK_CONFIG": str(source)}), started)
    assert str(source) in line


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom"])
def test_stdin_prompts_are_read_with_a_limit(source: str) -> None:
    started = time.monotonic()
    with open(source, "rb") as endless:
        line = assert_refused(agentdeck("run", "--provider", "demo", "-f", "-", stdin=endless.fileno()), started)
    assert "stdin" in line and "limit" in line


def test_a_large_file_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    """300 MB of binary is refused from its size alone: the run uses far less memory than the file."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(300 * 1024**2)
    started = time.monotonic()
    # The peak of this process's own memory (VmHWM): ru_maxrss would also count the forking test process.
    measured = ("import re, sys; from tui.cli.main import main; code = main(sys.argv[1:]); "
                "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", measured, "run", "--provider", "demo", "-f", str(big)],
                            capture_output=True, timeout=30, cwd=ROOT, check=False)
    assert "over the prompt file limit" in assert_refused(result, started)
    assert int(result.stdout) < 200 * 1024  # KB


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_session_lock_file_that_is_not_a_file_never_blocks(kind: str, isolated_home: Path) -> None:
    """`NAME.sqlite.lock` beside a session (a writer's lock) is never opened in a way that can block."""
    made = agentdeck("run", "--session", "locked", "--provider", "demo", "x [[len:50]][[delay:0]]")
    assert made.returncode == 0, made.stderr.decode()
    lock = Path(os.environ["AGENTDECK_DATA_DIR"]) / "sessions" / "locked.sqlite.lock"  # as older versions left it
    lock.unlink(missing_ok=True)
    os.mkfifo(lock) if kind == "fifo" else lock.mkdir()
    listing = agentdeck("sessions")
    assert listing.returncode == 0 and b"Traceback" not in listing.stderr
    assert b"locked" in listing.stdout + listing.stderr
    assert agentdeck("export", "locked").returncode == 0
    started = time.monotonic()
    writer = agentdeck("run", "--session", "locked", "--provider", "demo", "y [[len:50]][[delay:0]]")
    if writer.returncode != 0:  # refusing to take a lock that is not a file is fine too, in one line
        assert "lock" in assert_refused(writer, started)
