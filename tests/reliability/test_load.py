"""200 prompts at concurrency 8 with one in ten hitting a fault: all end, every done one is exact.

Drops, cuts and malformed chunks mid-stream are continued by themselves (`auto_continue`) and end
done with the exact answer; refusals (401) and server errors that never stop (500) fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tui.demo.script import expected_answer

FAULT_MARKERS = ["[[fault:500]]", "[[drop:3]]", "[[fault:401]]", "[[cut:4]]", "[[malformed:2]]"]


def test_two_hundred_prompts_with_faults(tmp_path: Path) -> None:
    prompts = []
    for i in range(200):
        fault = FAULT_MARKERS[(i // 10) % len(FAULT_MARKERS)] if i % 10 == 7 else ""
        prompts.append(f"load item {i} [[len:{300 + i * 7}]][[delay:1]]{fault}")
    prompt_file = tmp_path / "prompts.txt"
    prompt_file.write_text("\n".join(prompts) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tui", "run", "--provider", "demo", "--concurrency", "8", "-f", str(prompt_file),
         "--json"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    tasks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["prompt"] for t in tasks] == prompts
    failing = ("[[fault:500]]", "[[fault:401]]")
    for task in tasks:
        if any(marker in task["prompt"] for marker in failing):
            assert task["status"] == "failed", task
        else:
            assert task["status"] == "done", task
            assert task["output"] == expected_answer(task["prompt"])
        assert task["chars"] == len(task["output"])
    assert sum(task["status"] == "done" for task in tasks) == 192
