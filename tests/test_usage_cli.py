"""Cost on the command line: `run --json`, `sessions`, `usage` and exports, over the demo server."""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui import paths
from tui.config import parse_config
from tui.engine import Engine, Task, TaskOutput, TaskStatus, Usage
from tui.store.batch import Pending, write_batch
from tui.store.reader import SessionReader
from tui.store.records import capture_inputs, capture_state
from tui.store.schema import MIGRATIONS, connect_writer

PRICES = "[providers.demo]\nprice_input = 0.27\nprice_output = 1.10\n"


def agentdeck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def priced_config() -> None:
    config = Path(os.environ["AGENTDECK_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(PRICES)


def run_json(*args: str) -> list[dict[str, Any]]:
    result = agentdeck("run", *args, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def expected_cost(task: dict[str, Any]) -> float:
    usage = task["usage"]
    return (usage["input_tokens"] * 0.27 + usage["output_tokens"] * 1.10) / 1_000_000


def test_run_json_prints_the_cost_of_each_task_and_usage_sums_the_sessions() -> None:
    priced_config()
    first = run_json("--provider", "demo", "--session", "one", "a [[len:400]][[delay:0]]", "b [[len:90]][[delay:0]]")
    assert [task["usage"]["estimated"] for task in first] == [False, False]
    assert all(0 < task["first_output_s"] <= task["elapsed_s"] for task in first)
    assert [task["cost_usd"] for task in first] == pytest.approx([expected_cost(task) for task in first], rel=1e-12)
    second = run_json("--provider", "demo-responses", "--session", "two", "c [[len:300]][[delay:0]]")
    assert second[0]["cost_usd"] is None and second[0]["usage"]["total_tokens"] > 0

    sessions = {info["name"]: info for info in json.loads(agentdeck("sessions", "--json").stdout)}
    assert sessions["one"]["cost_usd"] == pytest.approx(sum(task["cost_usd"] for task in first), rel=1e-12)
    assert sessions["two"]["cost_usd"] is None and sessions["two"]["usage"]["tokens"] == second[0]["usage"][
        "total_tokens"]
    rows = {line.split()[0]: line for line in agentdeck("sessions").stdout.splitlines()[1:]}
    assert " – " in rows["two"] and f"${sessions['one']['cost_usd']:.4f}" in rows["one"]

    result = agentdeck("usage", "--by", "provider", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    groups = {group["provider"]: group for group in doc["groups"]}
    assert groups["demo"]["tasks"] == 2 and groups["demo-responses"]["tasks"] == 1
    assert groups["demo"]["input_tokens"] == sum(task["usage"]["input_tokens"] for task in first)
    assert groups["demo"]["output_tokens"] == sum(task["usage"]["output_tokens"] for task in first)
    assert groups["demo"]["cost_usd"] == pytest.approx(sum(task["cost_usd"] for task in first), rel=1e-12)
    assert groups["demo-responses"]["cost_usd"] is None and groups["demo"]["estimated_share"] == 0
    assert doc["total"]["tasks"] == 3 and doc["sessions"] == 2

    table = agentdeck("usage", "--by", "session", "--session", "two")
    assert table.returncode == 0 and table.stdout.splitlines()[1].split()[0] == "two"
    assert agentdeck("usage", "--since", "2999-01-01", "--json").stdout.count('"tasks": 0') == 1


def test_usage_on_a_fresh_clone_says_there_are_no_sessions() -> None:
    result = agentdeck("usage")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "no saved sessions\n")


@pytest.mark.parametrize("args", [("--since", "31/01/2026"), ("--session", "nowhere")])
def test_usage_refuses_a_bad_date_or_session_in_one_line(args: tuple[str, ...]) -> None:
    result = agentdeck("usage", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("agentdeck: ") and result.stderr.count("\n") == 1


def old_session(path: Path) -> None:
    """A session as agentdeck saved it before cost: usage holds input/output/total tokens only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    for version, migration in enumerate(MIGRATIONS, start=1):
        migration(conn)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.close()
    conn = connect_writer(path)
    task = Task(1, "an old prompt", "demo", "demo-chat", "chat", status=TaskStatus.DONE, output=TaskOutput("old"),
                usage=Usage(input_tokens=1000, output_tokens=2000, total_tokens=3000), started_at=time.time())
    state = capture_state(task)
    assert state["usage"] == {"input_tokens": 1000, "output_tokens": 2000, "total_tokens": 3000}
    write_batch(conn, {1: Pending(capture_inputs(task), state, ["old"])}, {}, 1)
    conn.close()


def test_a_session_saved_before_cost_opens_unchanged_and_is_priced_by_todays_config() -> None:
    path = paths.sessions_dir() / "old.sqlite"
    old_session(path)
    listed = json.loads(agentdeck("sessions", "--json").stdout)
    assert listed[0]["cost_usd"] is None and listed[0]["usage"]["tokens"] == 3000
    exported = json.loads(agentdeck("export", "old", "--format", "json").stdout)["tasks"][0]
    assert exported["usage"] == {"input_tokens": 1000, "output_tokens": 2000, "total_tokens": 3000,
                                 "estimated": False}
    assert exported["cost_usd"] is None
    markdown = agentdeck("export", "old").stdout
    assert "- tokens: 3,000 (1,000 in, 2,000 out), cost: –\n" in markdown
    toml = agentdeck("export", "old", "--format", "toml").stdout
    assert "[tasks.usage]" in toml and "estimated = false" in toml
    today = datetime.date.today().isoformat()
    doc = json.loads(agentdeck("usage", "--by", "day", "--json").stdout)
    assert doc["groups"] == [{"day": today, **doc["total"]}] and doc["total"]["tokens"] == 3000

    reader = SessionReader(path)
    try:
        tasks = reader.load_tasks()
    finally:
        reader.close()
    engine = Engine(parse_config(tomllib.loads(PRICES), Path("prices.toml"), environ={}))
    engine.adopt(tasks)
    assert engine.cost_of(tasks[0]) == pytest.approx((1000 * 0.27 + 2000 * 1.10) / 1_000_000, rel=1e-12)


def test_a_priced_runs_progress_lines_end_with_the_cost_of_each_task() -> None:
    priced_config()
    result = agentdeck("run", "--provider", "demo", "a [[len:400]][[delay:0]]")
    assert result.returncode == 0, result.stderr
    done = next(line for line in result.stderr.splitlines() if line.startswith("agentdeck: task 1 done"))
    assert " cost=$0.0" in done
    unpriced = agentdeck("run", "--provider", "demo-responses", "b [[len:100]][[delay:0]]")
    assert "cost=" not in unpriced.stderr, "no price means no cost, never $0"
