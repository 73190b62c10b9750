"""kill -9 of a headless run while a group streams, then `agentdeck resume`: every member ends with exact text.

The provider is the demo server in its own process (it outlives the killed client, like a real provider);
one member uses Chat Completions, one the Responses API in background mode, one names its own model, and
with a concurrency of 2 the last member is still queued when the process dies.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.reliability.test_process_faults import agentdeck, far_server, wait_streaming  # noqa: F401 (fixture)
from tui.demo.script import expected_answer
from tui.store import session_document

PACE = "[[len:2400]][[delay:50]][[chunk:24]]"  # 5 s per member: none ends before the kill


def test_kill_9_mid_group_then_resume_completes_every_member(far_server: str) -> None:  # noqa: F811
    config = Path(os.environ["AGENTDECK_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[providers.far]\napi = "chat"\nbase_url = "{far_server}"\nmodel = "demo-chat"\n\n'
        f'[providers.far-resp]\napi = "responses"\nbase_url = "{far_server}"\nmodel = "demo-responses"\n'
    )
    tag = f"group-{os.getpid()}"
    prompt = f"tag:{tag} ask us all {PACE}"
    process = agentdeck("run", "--session", "g9", "--providers", "far,far-resp,far:second-model",
                        "--concurrency", "2", "--json", prompt)
    wait_streaming(far_server, [tag], 2, process)
    time.sleep(1.0)  # text received more than 0.5 s before a crash is on disk
    process.kill()
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL
    before = session_document("g9")["tasks"]
    assert [(t["status"], t["group"]) for t in before] == [("interrupted", "g1")] * 3
    assert before[0]["chars"] > 0 and before[1]["chars"] > 0

    resumed = agentdeck("resume", "g9", "--json")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [(t["id"], t["status"], t["group"]) for t in printed] == [(1, "done", "g1"), (2, "done", "g1"),
                                                                    (3, "done", "g1")]
    saved = session_document("g9")["tasks"]
    assert [(t["provider"], t["model"]) for t in saved] == [
        ("far", "demo-chat"), ("far-resp", "demo-responses"), ("far", "second-model"),
    ]
    assert all(t["status"] == "done" and t["output"] == expected_answer(prompt) for t in saved)
