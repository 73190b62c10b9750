"""`agentdeck run` as a user runs it: a real process, the demo provider, exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.demo.script import expected_answer


def agentdeck(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def run_json(*args: str) -> list[dict[str, Any]]:
    """The tasks `agentdeck run ARGS --json` prints, once it has exited 0."""
    result = agentdeck("run", *args, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_demo_run_json_prints_a_done_task() -> None:
    result = agentdeck("run", "--provider", "demo", "explain backpressure", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    task = json.loads(lines[0])
    assert task["status"] == "done" and task["prompt"] == "explain backpressure"
    assert task["output"] == expected_answer("explain backpressure")
    assert task["chars"] == len(task["output"]) and task["error"] is None
    assert task["elapsed_s"] > 0


@pytest.mark.slow
def test_task_flags_before_the_subcommand_are_kept() -> None:
    result = agentdeck("--provider", "demo-responses", "--timeout", "30", "run", "where [[delay:0]]", "--json")
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert (task["provider"], task["api"], task["timeout"]) == ("demo-responses", "responses", 30)
    again = agentdeck("--provider", "demo-responses", "run", "--provider", "demo", "later wins [[delay:0]]", "--json")
    assert json.loads(again.stdout)["provider"] == "demo"


@pytest.mark.slow
def test_prompts_from_file_and_stdin(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# a comment\none [[delay:0]]\n\n  two [[delay:0]]\n", encoding="utf-8")
    tasks = run_json("--provider", "demo-responses", "-f", str(prompts))
    assert [t["prompt"] for t in tasks] == ["one [[delay:0]]", "two [[delay:0]]"]
    assert all(t["output"] == expected_answer(t["prompt"]) for t in tasks)
    piped = agentdeck("run", "--provider", "demo", "-f", "-", "--json", stdin="three [[delay:0]]\n")
    assert json.loads(piped.stdout)["output"] == expected_answer("three [[delay:0]]")


@pytest.mark.slow
def test_plain_output_and_progress_on_stderr() -> None:
    result = agentdeck("run", "--provider", "demo", "hello [[len:300]][[delay:0]]")
    assert result.returncode == 0
    assert result.stdout.strip() == expected_answer("hello [[len:300]][[delay:0]]").strip()
    assert "task 1 done" in result.stderr


@pytest.mark.slow
def test_exit_1_when_a_task_fails() -> None:
    result = agentdeck("run", "--provider", "demo", "ok [[delay:0]]", "bad [[fault:401]]", "--json")
    assert result.returncode == 1
    statuses = [json.loads(line)["status"] for line in result.stdout.splitlines()]
    assert statuses == ["done", "failed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "-1"], "--timeout"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "1000000000"], "--concurrency"),
        (["--provider", "nosuch"], "unknown provider 'nosuch'"),
        (["--base-url", "http://127.0.0.1:9/v1"], "--base-url needs --model"),
        (["-a", "/no/such/file.txt"], "no such file"),
    ],
)
def test_bad_flags_exit_2_with_one_reason(args: list[str], message: str) -> None:
    result = agentdeck("run", *args, "hello")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_no_prompt_is_a_usage_error() -> None:
    result = agentdeck("run", "--provider", "demo")
    assert result.returncode == 2 and "no prompt" in result.stderr


def test_missing_key_for_remote_provider_is_refused() -> None:
    env_free = agentdeck("run", "--base-url", "https://api.example.invalid/v1", "--model", "m", "--api-key-env",
                         "AGENTDECK_TEST_UNSET_KEY", "hi")
    assert env_free.returncode == 2 and "AGENTDECK_TEST_UNSET_KEY is not set" in env_free.stderr


@pytest.mark.slow
def test_adhoc_local_provider_needs_no_key(demo_url: str) -> None:
    result = agentdeck("run", "--base-url", demo_url, "--model", "m", "--api", "responses", "x [[delay:0]]", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"] == expected_answer("x [[delay:0]]")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_with_130(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", "--provider", "demo", "--json", "long [[len:100000]][[delay:20]]"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    while not re.search(r"running chars=[1-9]", seen):  # a heartbeat with text: the answer is streaming
        line = proc.stderr.readline()
        assert line, seen
        seen += line
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    err = seen + err
    assert proc.returncode == 130, err
    task = json.loads(out)
    assert task["status"] == "interrupted" and task["chars"] > 0
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_run_with_unfinished_tasks_ends_by_naming_the_resume_command(isolated_home: Path) -> None:
    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.toml").write_text("auto_continue = 0\n")  # the drop is left unfinished
    result = agentdeck("run", "--provider", "demo", "--session", "batch", "fine [[len:60]]",
                       "cut short [[len:600]][[drop:3]]")
    assert result.returncode == 1
    assert ("agentdeck: session batch: 1 done · 1 interrupted · reopen: agentdeck open batch · "
            "resume: agentdeck resume batch") in result.stderr


@pytest.mark.slow
def test_a_run_without_a_session_says_it_kept_nothing() -> None:
    result = agentdeck("run", "--provider", "demo", "hello [[len:30]]")
    assert result.returncode == 0
    assert "not saved; add --session NAME" in result.stderr
