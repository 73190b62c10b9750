"""Model output built to attack a terminal is kept exactly and never reaches one raw."""

from __future__ import annotations

import json
import subprocess
import sys

from tui.demo.script import expected_answer
from tui.engine.task import scalar_text
from tui.safety import visible_controls

HOSTILE = "show me trouble [[hostile]][[len:12000]][[delay:0]][[chunk:50]]"


def test_json_output_carries_the_text_unchanged() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "run", "--provider", "demo", HOSTILE, "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["output"] == scalar_text(expected_answer(HOSTILE))
    assert "\x1b]52;" in task["output"] and "[@click=app.quit]" in task["output"]
    assert "\ufffd" in task["output"] and task["chars"] == len(task["output"])


def test_visible_controls_defuses_every_escape() -> None:
    shown = visible_controls(scalar_text(expected_answer(HOSTILE)))
    for char in shown:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F), repr(char)
    assert "␛]52;c;" in shown and "\\x9b" in shown and "␀" in shown
    assert "[bold red]markup[/]" in shown
