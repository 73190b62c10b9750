"""`agentdeck run --tools`, `--approve-all` and `agentdeck mcp list|check` as a user runs them: real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.demo.tools import expected_tool_answer

pytestmark = pytest.mark.slow


def agentdeck(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
    )


def write_config(home: Path, text: str) -> None:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def demo_server_table(**settings: str) -> str:
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    return f'[mcp.demo]\ncommand = {json.dumps(sys.executable)}\nargs = ["-m", "tui.demo.mcp_server"]\n{extra}'


def test_run_with_the_built_in_demo_server_prints_a_done_task_with_its_call() -> None:
    prompt = '[[tool:word_count {"text": "hello tool world"}]] [[len:80]] count the words'
    result = agentdeck("run", "--provider", "demo", "--tools", "demo", prompt, "--json")
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "done"
    assert task["tool_calls"] == [{
        "name": "word_count", "server": "demo", "arguments": '{"text": "hello tool world"}',
        "result": "3 words, 1 lines, 16 characters", "error": None, "status": "done",
        "elapsed_s": task["tool_calls"][0]["elapsed_s"],
    }]
    assert task["output"] == expected_tool_answer(prompt, [("word_count", "3 words, 1 lines, 16 characters")])
    assert "agentdeck: task 1 tool word_count (demo) running\n" in result.stderr
    assert "agentdeck: task 1 tool word_count (demo) done " in result.stderr


def test_tools_none_offers_no_tools() -> None:
    prompt = "[[tool:clock]] [[len:40]] what time is it"
    result = agentdeck("run", "--provider", "demo", "--tools", "none", prompt, "--json")
    task = json.loads(result.stdout)
    assert (task["status"], task["tool_calls"]) == ("done", [])
    assert task["output"].startswith("Tool clock is not available: no tool of that name was offered.")


def test_an_ask_tool_is_denied_in_run_unless_approve_all(isolated_home: Path) -> None:
    write_config(isolated_home, demo_server_table(approve="ask"))
    prompt = '[[tool:word_count {"text": "a b"}]] [[len:40]] count'
    denied = json.loads(agentdeck("run", "--provider", "demo", "--tools", "demo", prompt, "--json").stdout)
    why = "tool word_count was not run: it needs the operator's approval, and this run gives none"
    assert denied["status"] == "done"
    assert [(c["status"], c["error"], c["result"]) for c in denied["tool_calls"]] == [("denied", why, None)]
    assert f"Tool word_count returned: Error: {why}" in denied["output"]
    approved = agentdeck("run", "--provider", "demo", "--tools", "demo", "--approve-all", prompt, "--json")
    assert [(c["status"], c["result"]) for c in json.loads(approved.stdout)["tool_calls"]] == [
        ("done", "2 words, 1 lines, 3 characters")
    ]


def test_a_deny_server_never_runs_its_tools(isolated_home: Path) -> None:
    write_config(isolated_home, demo_server_table(approve="deny"))
    result = agentdeck("run", "--provider", "demo", "--tools", "demo", "--approve-all",
                       '[[tool:read_file {"path": "x"}]] [[len:40]] read', "--json")
    [call] = json.loads(result.stdout)["tool_calls"]
    assert (call["status"], call["error"]) == ("denied", "tool read_file was not run: MCP server 'demo' has approve = \"deny\"")


def test_mcp_list_names_every_tool_and_says_which_servers_did_not_start(isolated_home: Path) -> None:
    write_config(isolated_home, '[mcp.time]\ncommand = "mcp-server-time"\n[mcp.gone]\ncommand = "agentdeck-no-such-mcp"\n')
    listed = agentdeck("mcp", "list")
    assert listed.returncode == 1
    lines = listed.stdout.splitlines()
    assert any(line.startswith("demo (stdio: ") and line.endswith("3 tools") for line in lines), lines
    assert any(line.startswith("  get_current_time  Get current time") for line in lines), lines
    assert "gone (stdio: agentdeck-no-such-mcp): did not start: command 'agentdeck-no-such-mcp' not found" in listed.stdout
    assert listed.stderr == "agentdeck: 1 of 3 MCP servers did not start: gone\n"
    checked = agentdeck("mcp", "check", "time", "--json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert (report["name"], report["started"], report["error"]) == ("time", True, None)
    assert {tool["name"] for tool in report["tools"]} == {"get_current_time", "convert_time"}
