"""`agentdeck run --providers` and `agentdeck export --group` as a user runs them: a real process, the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_run import agentdeck
from tui.demo.script import expected_answer


@pytest.mark.slow
def test_providers_run_prints_one_done_task_per_provider_sharing_one_group() -> None:
    result = agentdeck("run", "--providers", "demo,demo-responses", "x", "--json")
    assert result.returncode == 0, result.stderr
    tasks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(t["provider"], t["status"]) for t in tasks] == [("demo", "done"), ("demo-responses", "done")]
    assert {t["group"] for t in tasks} == {"g1"}
    assert all(t["output"] == expected_answer("x") for t in tasks)


@pytest.mark.slow
def test_each_prompt_of_a_file_is_its_own_group_and_a_model_can_be_named(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one [[len:30]]\ntwo [[len:30]]\n", encoding="utf-8")
    result = agentdeck("run", "--providers", "demo,demo:other:7b", "-f", str(prompts), "--json")
    assert result.returncode == 0, result.stderr
    tasks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(t["prompt"], t["model"], t["group"]) for t in tasks] == [
        ("one [[len:30]]", "demo-chat", "g1"), ("one [[len:30]]", "other:7b", "g1"),
        ("two [[len:30]]", "demo-chat", "g2"), ("two [[len:30]]", "other:7b", "g2"),
    ]


@pytest.mark.parametrize(("providers", "message"), [
    ("demo,nope", "agentdeck: --providers: unknown provider 'nope'"),
    ("demo,demo:", "agentdeck: --providers: 'demo:' names no model after ':'"),
    ("demo,,demo", "agentdeck: --providers: needs NAME or NAME:MODEL"),
])
def test_bad_providers_exit_2_with_one_line(providers: str, message: str) -> None:
    result = agentdeck("run", "--providers", providers, "x")
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_model_and_providers_together_are_refused() -> None:
    result = agentdeck("run", "--providers", "demo,demo-responses", "--model", "m", "x")
    assert result.returncode == 2 and "name each model as NAME:MODEL" in result.stderr
