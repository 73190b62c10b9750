"""kill -9 of `agentdeck run` during a tool call, then `agentdeck resume`: the calls made are kept, not made again.

The provider is the demo server over HTTP, the tools the demo MCP server's
(`--test-tools` adds `sleep`), both real processes. While the run is alive a
read-only watcher follows its session file, as `agentdeck open --watch` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.mcp_helpers import DEMO_TOOLS
from tui.demo.tools import expected_tool_answer
from tui.engine import TaskStatus, ToolCallStatus
from tui.store import SessionWatcher, StoreError, session_document
from tui.store.records import STOPPED_DURING_CALL

ROOT = Path(__file__).resolve().parents[2]
PROMPT = '[[tool:word_count {"text": "one two three"}]] [[tool:sleep {"seconds": 120}]] [[len:300]] go'
COUNTED = ("word_count", "3 words, 1 lines, 13 characters")


def write_config(demo_url: str, api: str) -> None:
    config = Path(os.environ["AGENTDECK_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    model = "demo-chat" if api == "chat" else "demo-responses"
    config.write_text(
        f'[providers.far]\napi = "{api}"\nbase_url = "{demo_url}"\nmodel = "{model}"\n\n'
        f"[mcp.demo]\ncommand = {json.dumps(DEMO_TOOLS.command)}\nargs = {json.dumps(list(DEMO_TOOLS.args))}\n",
        encoding="utf-8",
    )


def agentdeck(*args: str) -> subprocess.Popen[str]:
    """`python -m tui ARGS` in its own process group, so its MCP server can be ended with it."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True, start_new_session=True,
    )


def end_group(process: subprocess.Popen[str]) -> None:
    """Whatever the killed run left in its group (its MCP server, mid-sleep) goes too."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def open_when_made(name: str) -> SessionWatcher | None:
    """A watcher once the run has created its session (a file just created is still empty)."""
    try:
        return SessionWatcher.open(name)
    except StoreError:
        return None


@pytest.mark.slow
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_kill_9_during_a_tool_call_then_resume_keeps_the_calls_made(demo_url: str, api: str) -> None:
    write_config(demo_url, api)
    process = agentdeck("run", "--session", "tools-k9", "--provider", "far", "--tools", "demo", "--json", PROMPT)
    watcher = None
    try:
        deadline = time.monotonic() + 90
        while watcher is None or not watcher.tasks or len(watcher.tasks[1].tool_calls) < 2:
            assert time.monotonic() < deadline, "the sleep call never reached the session file"
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
            if watcher is None:
                watcher = open_when_made("tools-k9")
            else:
                watcher.poll()
        shown = watcher.tasks[1]
        assert watcher.writer_alive and shown.status is TaskStatus.RUNNING
        assert [(c.name, c.status, c.result) for c in shown.tool_calls] == [
            ("word_count", ToolCallStatus.DONE, COUNTED[1]), ("sleep", ToolCallStatus.RUNNING, None)
        ]
        made = shown.tool_calls[0].call_id
        time.sleep(0.5)  # well inside the 120 s sleep
        process.kill()
        process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL
        watcher.poll()  # the watcher sees the writer gone: its task interrupted, the call cut off
        assert not watcher.writer_alive and shown.status is TaskStatus.INTERRUPTED
        assert [(c.status, c.error) for c in shown.tool_calls] == [
            (ToolCallStatus.DONE, None), (ToolCallStatus.CANCELLED, STOPPED_DURING_CALL)
        ]
    finally:
        if watcher is not None:
            watcher.close()
        process.kill()
        end_group(process)
        process.communicate(timeout=10)

    resumed = agentdeck("resume", "tools-k9", "--json")
    try:
        out, err = resumed.communicate(timeout=120)
    finally:
        end_group(resumed)
    assert resumed.returncode == 0, err
    [task] = [json.loads(line) for line in out.splitlines()]
    told = f"Error: {STOPPED_DURING_CALL}"
    assert task["status"] == "done", task["error"]
    assert task["output"] == expected_tool_answer(PROMPT, [COUNTED, ("sleep", told)])
    assert [(c["name"], c["status"], c["result"]) for c in task["tool_calls"]] == [
        ("word_count", "done", COUNTED[1]), ("sleep", "cancelled", None)
    ]  # nothing called again
    [saved] = session_document("tools-k9")["tasks"]
    assert saved["status"] == "done" and saved["output"] == task["output"]
    assert [c["call_id"] for c in saved["tool_calls"]][0] == made
