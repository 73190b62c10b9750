"""Where sessions and exports land is never a surprise: a path looks like one, and `export -o` does not
silently replace a file (with `--force` it keeps the file's mode)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui import paths

ROOT = Path(__file__).resolve().parents[2]
FAST = "x [[len:80]][[delay:0]]"


def agentdeck(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, timeout=60, cwd=cwd,
                          stdin=subprocess.DEVNULL, check=False)


def test_a_session_path_must_look_like_one(tmp_path: Path) -> None:
    refused = agentdeck("run", "--session", "x.sqlite", "--provider", "demo", FAST, cwd=tmp_path)
    assert refused.returncode == 2 and b"looks like a file name" in refused.stderr
    assert list(tmp_path.iterdir()) == []
    saved = agentdeck("run", "--session", "./x.sqlite", "--provider", "demo", FAST, cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr.decode()
    assert (tmp_path / "x.sqlite").is_file()
    named = agentdeck("run", "--session", "x", "--provider", "demo", FAST, cwd=tmp_path)
    assert named.returncode == 0 and (paths.sessions_dir() / "x.sqlite").is_file()


def test_an_empty_session_name_is_refused_not_ignored(tmp_path: Path) -> None:
    result = agentdeck("run", "--session", "", "--provider", "demo", FAST, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().strip().splitlines()[-1].endswith("needs a session name or a path (got '')")


@pytest.fixture
def session() -> str:
    made = agentdeck("run", "--session", "kept", "--provider", "demo", FAST)
    assert made.returncode == 0, made.stderr.decode()
    return "kept"


def test_export_does_not_replace_a_file_without_force(session: str, tmp_path: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("precious\n")
    refused = agentdeck("export", session, "-o", str(target))
    assert refused.returncode == 2
    assert refused.stderr.decode().strip() == f"agentdeck: {target}: already exists; use --force to replace it"
    assert target.read_text() == "precious\n"
    fresh = tmp_path / "new.md"
    assert agentdeck("export", session, "-o", str(fresh)).returncode == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o640])
def test_export_with_force_keeps_the_mode_of_the_file_it_replaces(mode: int, session: str, tmp_path: Path) -> None:
    target = tmp_path / "shared.json"
    target.write_text("old\n")
    os.chmod(target, mode)
    replaced = agentdeck("export", session, "-o", str(target), "--force")
    assert replaced.returncode == 0, replaced.stderr.decode()
    assert target.read_text().startswith("{")
    assert stat.S_IMODE(target.stat().st_mode) == mode
