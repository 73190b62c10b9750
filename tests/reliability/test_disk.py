"""A read-only or full data folder: a clear message, tasks finish in memory, nothing saved is harmed.

Root ignores permission bits, so a real read-only or full file system is
used: a small tmpfs mounted in a private mount namespace (`unshare`), which
the command runs in. Without `unshare`, a non-root user gets the read-only
case by chmod; otherwise those tests are skipped. A data folder that is a
file works everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tui import paths
from tui.demo.script import expected_answer
from tui.store import SessionStore, session_document
from tui.store.markdown_nesting import nest_headings

ROOT = Path(__file__).resolve().parents[2]

_IN_TMPFS = """
set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$MNT"
cp -a "$SEED/." "$MNT/"
if [ "$READ_ONLY" = 1 ]; then mount -o remount,ro "$MNT"; fi
if [ "$FILL" = 1 ]; then cat /dev/zero > "$MNT/filler" 2>/dev/null || true; fi
set +e
"$@"
code=$?
cp -a "$MNT/." "$OUT/"
exit $code
"""


@functools.cache
def namespace() -> tuple[str, ...] | None:
    """A command prefix giving a private mount namespace where tmpfs can be mounted, or None."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return None
    with tempfile.TemporaryDirectory() as probe:
        for prefix in (("unshare", "-rm"), ("unshare", "-m")):
            try:
                done = subprocess.run([*prefix, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', probe],
                                      capture_output=True, timeout=20, check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if done.returncode == 0:
                return prefix
    return None


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def seed() -> Path:
    """A data folder holding one finished session, `kept`."""
    made = agentdeck("run", "--session", "kept", "--provider", "demo", "kept one [[len:700]][[delay:0]]")
    assert made.returncode == 0, made.stderr
    return paths.data_dir()


def agentdeck(*args: str, env: dict[str, str] | None = None,
              prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=False)


def in_tmpfs(data: Path, out: Path, *args: str, size: str, read_only: bool,
             fill: bool = False) -> subprocess.CompletedProcess[str]:
    """`agentdeck ARGS` with a copy of `data` on a tmpfs of `size` as its data folder (with `fill`, a
    file takes every free byte first); the folder is copied to `out` afterwards."""
    prefix = namespace()
    assert prefix is not None
    mount_point = out.parent / f"{out.name}-mnt"
    mount_point.mkdir()
    out.mkdir()
    env = {**os.environ, "SIZE": size, "MNT": str(mount_point), "SEED": str(data), "OUT": str(out),
           "READ_ONLY": "1" if read_only else "0", "FILL": "1" if fill else "0", "AGENTDECK_DATA_DIR": str(mount_point)}
    return agentdeck(*args, env=env, prefix=(*prefix, "sh", "-c", _IN_TMPFS, "sh"))


def check_printed(result: subprocess.CompletedProcess[str], prompts: list[str],
                  returncode: int = 0) -> list[dict[str, Any]]:
    assert result.returncode == returncode, result.stderr
    assert "Traceback" not in result.stderr
    tasks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["prompt"] for t in tasks] == prompts
    for task in tasks:
        assert task["status"] == "done" and task["output"] == expected_answer(task["prompt"])
    return tasks


def chmod_tree(top: Path, writable: bool) -> None:
    for directory, _, names in os.walk(top):
        for path in [Path(directory), *(Path(directory) / n for n in names)]:
            mode = stat.S_IMODE(path.stat().st_mode)
            path.chmod(mode | stat.S_IWUSR if writable else mode & ~0o222)


def test_read_only_data_folder(tmp_path: Path) -> None:
    data = seed()
    kept = session_document("kept")["tasks"]
    before = digest(data / "sessions")
    prompts = ["ro one [[len:900]][[delay:0]]", "ro two [[len:1500]][[delay:0]]"]
    if namespace() is not None:
        def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
            return in_tmpfs(data, tmp_path / name, *args, size="4m", read_only=True)
    elif os.geteuid() != 0:
        chmod_tree(data, writable=False)

        def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
            return agentdeck(*args)
    else:
        pytest.skip("root ignores permissions and no private mount namespace is available for a read-only mount")
    try:
        for name in ("kept", "fresh"):  # an existing session, a new one
            result = run(f"run-{name}", "run", "--session", name, "--provider", "demo", "--json", *prompts)
            check_printed(result, prompts, returncode=1)
            assert f"cannot save session {name!r}" in result.stderr and "running without saving" in result.stderr
            assert f"agentdeck: nothing of this run was saved in session {name!r}" in result.stderr
            assert "read-only" in result.stderr.lower()
        listed = run("list", "sessions", "--json")  # what is saved can still be read
        assert listed.returncode == 0, listed.stderr
        assert [(s["name"], s["by_status"]) for s in json.loads(listed.stdout)] == [("kept", {"done": 1})]
        exported = run("export", "export", "kept", "--format", "json")
        assert exported.returncode == 0, exported.stderr
        assert json.loads(exported.stdout)["tasks"] == kept
    finally:
        if namespace() is None:
            chmod_tree(data, writable=True)
    assert digest(data / "sessions") == before


def test_full_disk_mid_run_keeps_tasks_running_and_saved_work_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if namespace() is None:
        pytest.skip("no private mount namespace to mount a small tmpfs in")
    data = seed()
    kept = session_document("kept")["tasks"]
    before = digest(data / "sessions")
    prompts = [f"fill the disk {i} [[len:500000]][[delay:1]][[chunk:200]]" for i in range(2)]
    out = tmp_path / "after"
    # 160 KB: the seeded session and the new one's schema and -shm fit, its text does not (even compressed).
    result = in_tmpfs(data, out, "run", "--session", "busy", "--provider", "demo", "--json", *prompts,
                      size="160k", read_only=False)
    check_printed(result, prompts, returncode=1)  # every task is done, but the session does not hold them
    assert "cannot save session 'busy': the disk is full; tasks keep running" in result.stderr
    assert "its latest changes are lost (tasks 1, 2: " in result.stderr
    assert result.stderr.count("the disk is full; tasks keep running") == 1  # said once, not per retry
    assert digest(out / "sessions")["kept.sqlite"] == before["kept.sqlite"]

    monkeypatch.setenv("AGENTDECK_DATA_DIR", str(out))  # the folder as the full disk left it
    assert session_document("kept")["tasks"] == kept
    busy = session_document("busy")["tasks"]
    assert [t["prompt"] for t in busy] == prompts
    for task in busy:  # what was saved before the disk filled is there, and is right
        assert task["status"] == "interrupted"
        assert expected_answer(task["prompt"]).startswith(task["output"]) and task["chars"] < 500000
    resumed = agentdeck("resume", "busy", "--json")  # and the work can be finished from there
    check_printed(resumed, prompts)
    store = SessionStore.open("busy")
    try:
        assert [t.text for t in store.tasks] == [expected_answer(p) for p in prompts]
    finally:
        store.close()


def test_full_disk_still_lists_and_exports(tmp_path: Path) -> None:
    """Reading needs no byte of free space: SQLite's shared-memory file cannot grow on a full disk."""
    if namespace() is None:
        pytest.skip("no private mount namespace to mount a small tmpfs in")
    data = seed()
    kept = session_document("kept")["tasks"]
    for companion in ("-wal", "-shm"):  # as a writer leaves it on closing: a reader has none to reuse
        (data / "sessions" / f"kept.sqlite{companion}").unlink(missing_ok=True)
    before = digest(data / "sessions")
    listed = in_tmpfs(data, tmp_path / "list", "sessions", "--json", size="256k", read_only=False, fill=True)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert [(s["name"], s["by_status"]) for s in json.loads(listed.stdout)] == [("kept", {"done": 1})]
    table = in_tmpfs(data, tmp_path / "table", "sessions", size="256k", read_only=False, fill=True)
    assert table.returncode == 0 and table.stdout.splitlines()[1].startswith("kept "), table.stderr
    for fmt in ("json", "md", "toml"):
        exported = in_tmpfs(data, tmp_path / f"export-{fmt}", "export", "kept", "--format", fmt, size="256k",
                            read_only=False, fill=True)
        assert exported.returncode == 0 and exported.stderr == "", exported.stderr
        if fmt == "json":
            assert json.loads(exported.stdout)["tasks"] == kept
        elif fmt == "md":
            assert nest_headings(expected_answer(kept[0]["prompt"])) in exported.stdout
        assert digest(tmp_path / f"export-{fmt}" / "sessions")["kept.sqlite"] == before["kept.sqlite"]


def test_full_disk_reads_a_log_a_killed_writer_left(tmp_path: Path) -> None:
    """A write-ahead log with text in it (its writer was killed) is read on a full disk too."""
    if namespace() is None:
        pytest.skip("no private mount namespace to mount a small tmpfs in")
    data = seed()
    sessions = data / "sessions"
    live = sqlite3.connect(sessions / "kept.sqlite", isolation_level=None)
    try:
        live.execute("PRAGMA wal_autocheckpoint = 0")
        live.execute("UPDATE tasks SET notice = 'only in the log'")
        for suffix in ("", "-wal"):  # what kill -9 leaves: the file, and a log the file lacks
            shutil.copyfile(sessions / f"kept.sqlite{suffix}", sessions / f"walled.sqlite{suffix}")
    finally:
        live.close()
    assert (sessions / "walled.sqlite-wal").stat().st_size > 0
    exported = in_tmpfs(data, tmp_path / "export", "export", "walled", "--format", "json", size="256k",
                        read_only=False, fill=True)
    assert exported.returncode == 0 and exported.stderr == "", exported.stderr
    assert [t["notice"] for t in json.loads(exported.stdout)["tasks"]] == ["only in the log"]


def test_data_folder_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("precious\n")
    monkeypatch.setenv("AGENTDECK_DATA_DIR", str(blocker))
    prompts = ["file in the way [[len:500]][[delay:0]]"]
    result = agentdeck("run", "--session", "s", "--provider", "demo", "--json", *prompts)
    check_printed(result, prompts, returncode=1)
    assert "cannot create the sessions folder: Not a directory" in result.stderr
    assert "running without saving" in result.stderr
    listed = agentdeck("sessions")
    assert listed.returncode == 2 and "cannot list sessions: Not a directory" in listed.stderr
    assert "Traceback" not in listed.stderr
    assert blocker.read_text() == "precious\n"
