"""`agentdeck run --providers` and `agentdeck export --group` as a user runs them: a real process, the demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.test_cli_run import agentdeck, run_json
from tui.demo.script import expected_answer


@pytest.mark.slow
def test_providers_run_prints_one_done_task_per_provider_sharing_one_group() -> None:
    tasks = run_json("--providers", "demo,demo-responses", "x")
    assert [(t["provider"], t["status"]) for t in tasks] == [("demo", "done"), ("demo-responses", "done")]
    assert {t["group"] for t in tasks} == {"g1"}
    assert all(t["output"] == expected_answer("x") for t in tasks)


@pytest.mark.slow
def test_each_prompt_of_a_file_is_its_own_group_and_a_model_can_be_named(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one [[len:30]]\ntwo [[len:30]]\n", encoding="utf-8")
    tasks = run_json("--providers", "demo,demo:other:7b", "-f", str(prompts))
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


@pytest.mark.slow
def test_export_of_a_group_is_a_table_of_figures_then_each_answer() -> None:
    prompt = "compare [[len:300]]"
    ran = agentdeck("run", "--session", "cmp", "--providers", "demo,demo-responses,demo:big", prompt, "--json")
    assert ran.returncode == 0, ran.stderr
    agentdeck("run", "--session", "cmp", "not in the group [[len:20]]")
    result = agentdeck("export", "cmp", "--group", "g1", "--format", "md")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Group g1 of session cmp\n\n> compare [[len:300]]\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| #")]
    assert [row.split(" | ")[1:3] for row in rows] == [
        ["demo/demo-chat", "done"], ["demo-responses/demo-responses", "done"], ["demo/big", "done"],
    ]
    assert all(row.endswith("| – |") for row in rows)  # no cost known yet
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. demo/demo-chat · task 1 · done", "## 2. demo-responses/demo-responses · task 2 · done",
                        "## 3. demo/big · task 3 · done"]
    assert text.count(expected_answer(prompt).split("\n")[-1]) == 3
    assert "not in the group" not in text


def test_export_of_an_unknown_group_exits_2_with_one_line() -> None:
    from tui.store import SessionStore

    SessionStore.open("plain").close()
    result = agentdeck("export", "plain", "--group", "g7", "--format", "md")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "agentdeck: session 'plain' has no group 'g7'\n"


@pytest.mark.slow
def test_export_of_a_group_shows_each_answers_cost_when_its_model_has_a_price(demo_url: str) -> None:
    config = Path(os.environ["AGENTDECK_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[providers.priced]\napi = "chat"\nbase_url = "{demo_url}"\nmodel = "demo-chat"\n'
        "price_input = 1000000\nprice_output = 1000000\n"
    )
    ran = agentdeck("run", "--session", "priced", "--providers", "priced,demo", "cost [[len:40]]", "--json")
    assert ran.returncode == 0, ran.stderr
    tokens = [json.loads(line)["usage"]["total_tokens"] for line in ran.stdout.splitlines()]
    text = agentdeck("export", "priced", "--group", "g1").stdout
    rows = [line for line in text.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert rows[0].endswith(f"| {tokens[0]} | ${tokens[0]:,.2f} |")  # $1 a token
    assert rows[1].endswith("| – |")  # the demo has no price
