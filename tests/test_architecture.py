"""The layer contracts hold (`[tool.importlinter]` in pyproject.toml), and the CLI loads the app only to open it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHERS = {"tui.cli.app_command", "tui.cli.watch_command"}
"""The CLI modules that import the app; the contracts' ignored imports name them."""

CLI_WITHOUT_TEXTUAL = f"""
import importlib, pkgutil, sys

class BlockTextual:
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is not allowed here: " + name)
        return None

sys.meta_path.insert(0, BlockTextual())
import tui.cli
for module in pkgutil.iter_modules(tui.cli.__path__, "tui.cli."):
    if module.name not in {sorted(LAUNCHERS)!r}:
        importlib.import_module(module.name)
print("ok")
"""


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sysconfig.get_path("scripts")) / "lint-imports"
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[test]'"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_imports_the_app_lazily() -> None:
    """Only the launchers import the app; every other CLI module (e.g. `agentdeck run`) works without Textual."""
    result = subprocess.run([sys.executable, "-c", CLI_WITHOUT_TEXTUAL], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
