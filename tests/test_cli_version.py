"""`agentdeck --version` answers with the installed version, as every command-line tool does."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def test_version_prints_the_installed_version_and_exits_0() -> None:
    result = subprocess.run([sys.executable, "-m", "tui", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"agentdeck {version('agentdeck')}\n"
    assert result.stderr == ""
