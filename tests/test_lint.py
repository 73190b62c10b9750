"""The code stays lint-clean and its imports sorted: `ruff check` with the rules in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "tui", "tests", "bench", "screenshots"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"`ruff check --fix` fixes the ones marked [*]:\n{result.stdout}{result.stderr}"
