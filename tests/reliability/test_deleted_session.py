"""The session file deleted while a run writes it: said once, and everything is written back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui import paths
from tui.demo.script import expected_answer
from tui.store import StoreError, session_document, session_info

ROOT = Path(__file__).resolve().parents[2]
SLOW = "deleted under me [[len:4000]][[delay:25]][[chunk:20]]"  # about 5 s


def start_writer(name: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-m", "tui", "run", "--session", name, "--provider", "demo", "--json",
                             SLOW], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    path = paths.sessions_dir() / f"{name}.sqlite"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if session_info(path).task_count and session_document(name)["tasks"][0]["chars"] > 0:
                return proc, path
        except StoreError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the writer never saved text: {proc.communicate()}")


@pytest.mark.parametrize("companions", [False, True], ids=["file", "file-and-log"])
def test_deleted_session_file_is_written_back(companions: bool) -> None:
    proc, path = start_writer("gone")
    for suffix in ("", *(("-wal", "-shm") if companions else ())):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.count(f"session file {path} was deleted while being written") == 1, err
    assert json.loads(out)["output"] == expected_answer(SLOW)
    (saved,) = session_document("gone")["tasks"]
    assert saved["status"] == "done" and saved["output"] == expected_answer(SLOW)
    assert session_info(path).writer_pid is None


def test_another_session_moved_into_its_place_is_left_alone() -> None:
    other = subprocess.run([sys.executable, "-m", "tui", "run", "--session", "newcomer", "--provider", "demo",
                            "newcomer [[len:50]][[delay:0]]"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    proc, path = start_writer("taken")
    os.replace(paths.sessions_dir() / "newcomer.sqlite", path)  # `mv newcomer.sqlite taken.sqlite`
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    restored = path.parent / "taken-restored.sqlite"
    assert f"was deleted while being written; everything is written back to {restored}" in err
    assert [t["prompt"] for t in session_document("taken")["tasks"]] == ["newcomer [[len:50]][[delay:0]]"]
    (restored,) = session_document("taken-restored")["tasks"]
    assert restored["status"] == "done" and restored["output"] == expected_answer(SLOW)
