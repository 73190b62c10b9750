"""The operator's limits as a user sets them: config keys and `--idle-timeout`, `--max-output-tokens`,
`--budget-usd` on `agentdeck run`; a mistake is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_run import agentdeck
from tui.config import ConfigError, load_config
from tui.demo.script import expected_answer


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_limits_load_from_the_config(tmp_path: Path) -> None:
    text = """
idle_timeout = 300
budget_usd = 5.5
[providers.slow]
base_url = "http://127.0.0.1:9/v1"
model = "m"
idle_timeout = 0
max_output_tokens = 2000
"""
    config = load_config(write(tmp_path, text), environ={})
    slow, demo = config.provider("slow"), config.provider("demo")
    assert (config.idle_timeout, config.budget_usd) == (300, 5.5)
    assert (slow.idle_timeout, slow.max_output_tokens) == (0, 2000)
    assert config.idle_timeout_of(slow) is None and config.idle_timeout_of(demo) == 300
    assert load_config(write(tmp_path, ""), environ={}).idle_timeout == 120


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("idle_timeout = -1", "key 'idle_timeout': must be 0 (no timeout) or a positive number"),
        ('idle_timeout = "2m"', "key 'idle_timeout': must be a number of seconds"),
        ("budget_usd = 0", "key 'budget_usd': must be more than 0"),
        ('[providers.x]\nbase_url = "http://h/v1"\nmodel = "m"\nmax_output_tokens = 0',
         "key 'providers.x.max_output_tokens': must be between 1 and"),
        ('[providers.x]\nbase_url = "http://h/v1"\nmodel = "m"\nbudget_usd = 1', "key 'providers.x.budget_usd'"),
    ],
)
def test_a_wrong_limit_names_its_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ={})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idle-timeout", "soon"], "--idle-timeout: must be a number of seconds"),
        (["--idle-timeout", "-5"], "--idle-timeout: must be 0 (no timeout) or a positive number"),
        (["--max-output-tokens", "0"], "--max-output-tokens: must be between 1 and"),
        (["--max-output-tokens", "lots"], "--max-output-tokens: must be a whole number of tokens"),
        (["--budget-usd", "0"], "--budget-usd: must be more than 0"),
        (["--budget-usd", "nan"], "--budget-usd: must be more than 0"),
        (["--budget-usd", "five"], "--budget-usd: must be an amount in USD"),
    ],
)
def test_bad_limit_flags_exit_2_with_one_reason(args: list[str], message: str) -> None:
    result = agentdeck("run", "--provider", "demo", *args, "hello")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_idle_timeout_flag_ends_a_quiet_task_and_says_why() -> None:
    prompt = "goes quiet [[silent:60]][[silent_after:2]][[delay:0]]"
    result = agentdeck("run", "--provider", "demo", "--idle-timeout", "3", "--timeout", "50", prompt, "--json")
    assert result.returncode == 1, result.stderr
    task = json.loads(result.stdout)
    assert (task["status"], task["error"]) == ("timed_out", "no output for 3 s")
    assert task["output"] == expected_answer(prompt)[: task["chars"]] and task["elapsed_s"] < 25


@pytest.mark.slow
def test_max_output_tokens_flag_cuts_the_answer_and_says_so() -> None:
    prompt = "be brief [[len:400]][[delay:0]]"
    result = agentdeck("run", "--provider", "demo", "--max-output-tokens", "5", prompt, "--json")
    assert result.returncode == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["output"] == expected_answer(prompt)[:20]
    assert task["notice"] == "the answer stopped at max_output_tokens (5)"
