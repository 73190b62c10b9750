"""The engine, config, store and demo server stay usable without Textual."""

from __future__ import annotations

import subprocess
import sys

BLOCK_TEXTUAL = """
import sys

class BlockTextual:
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is not allowed here: " + name)
        return None

sys.meta_path.insert(0, BlockTextual())
import tui.engine, tui.engine.engine, tui.engine.runs, tui.config, tui.paths, tui.safety
import tui.demo.server, tui.cli.run_command
import tui.store
print("ok")
"""


def test_headless_modules_import_without_textual() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCK_TEXTUAL], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
