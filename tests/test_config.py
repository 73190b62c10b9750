"""The config file: the README's shape loads; every mistake names the file and key; exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.config import ConfigError, load_config

README_EXAMPLE = """\
default_provider = "deepseek"
concurrency = 4          # tasks streaming at once; more wait as queued
timeout = 600            # seconds per task; 0 = none

[providers.deepseek]
api = "chat"             # Chat Completions; "responses" = Responses API
base_url = "https://api.deepseek.com/v1"
model = "deepseek-chat"
api_key_env = "DEEPSEEK_API_KEY"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_readme_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, README_EXAMPLE), environ={})
    assert config.default_provider == "deepseek"
    assert config.concurrency == 4 and config.timeout == 600
    deepseek = config.provider(None)
    assert (deepseek.api, deepseek.base_url, deepseek.model) == ("chat", "https://api.deepseek.com/v1", "deepseek-chat")
    assert deepseek.api_key_env == "DEEPSEEK_API_KEY"
    assert "demo" in config.providers and "openai" not in config.providers


def test_missing_file_gives_demo_default(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml", environ={})
    assert config.default_provider == "demo" and not config.loaded_from_file


def test_openai_builtin_when_key_set(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "x", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    config = load_config(tmp_path / "absent.toml", environ=env)
    assert config.default_provider == "openai"
    assert config.provider("openai").api == "responses"
    assert config.provider("openai").base_url == "http://127.0.0.1:9/v1"


def test_timeout_zero_means_none(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "timeout = 0\n"), environ={}).timeout is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeout = [\n", "line 2 is the last"),
        ("concurrency = 2\ntimeout = = 3\n", "line 2"),
        ("concurrency = 'four'\n", "key 'concurrency': must be a whole number"),
        ("concurrency = 0\n", "key 'concurrency': must be between 1 and 256"),
        ("timeout = -5\n", "key 'timeout'"),
        ("concurency = 3\n", "did you mean 'concurrency'"),
        ("[providers.x]\napi = 'graphql'\nbase_url='http://a'\nmodel='m'\n", "key 'providers.x.api'"),
        ("[providers.x]\napi = 'chat'\nmodel='m'\n", "key 'providers.x.base_url': is required"),
        ("[providers.x]\nbase_url='http://a'\n", "key 'providers.x.model': is required"),
        ("[providers.x]\nbase_url='http://a'\nmodel=3\n", "key 'providers.x.model': must be a non-empty string"),
        (
            "[providers.x]\nbase_url='http://a'\nmodel='m'\napi_key_env='sk-abc def'\n",
            "NAME of an environment variable",
        ),
        ("default_provider = 'nope'\n", "key 'default_provider': no provider named 'nope'"),
        ("providers = 3\n", "key 'providers'"),
    ],
)
def test_broken_config_is_named(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(path) in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("-5", "must be 0 (no timeout) or a positive number of seconds, got -5"),
        ("nan", "must be 0 (no timeout) or a positive number of seconds, got nan"),
        ("1e9", "must be at most 604800 seconds (7 days), got 1000000000.0"),
        ("'ten'", "must be a number of seconds, got str 'ten'"),
    ],
)
def test_a_bad_timeout_is_worded_as_on_the_command_line(tmp_path: Path, value: str, words: str) -> None:
    provider = "[providers.x]\nbase_url = 'http://a'\nmodel = 'm'\n"
    for text, key in ((f"timeout = {value}\n", "timeout"), (f"{provider}timeout = {value}\n", "providers.x.timeout")):
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, text), environ={})
        assert f"key '{key}': {words}" in str(err.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"timeout = 1\n\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, environ={})


def run_cli(*args: str, env_config: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "AGENTDECK_CONFIG": str(env_config)}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=60)


def test_broken_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[providers.x]\napi = 'soap'\n")
    result = run_cli("run", "hello", env_config=path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "providers.x.api" in result.stderr and str(path) in result.stderr


@pytest.mark.slow
def test_config_init_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    first = run_cli("config", "init", env_config=path)
    assert first.returncode == 0 and path.exists()
    load_config(path, environ={})
    path.write_text("# mine\n", encoding="utf-8")
    second = run_cli("config", "init", env_config=path)
    assert second.returncode == 2 and "--force" in second.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"
    forced = run_cli("config", "init", "--force", env_config=path)
    assert forced.returncode == 0 and "deepseek" in path.read_text(encoding="utf-8")


def test_config_path_and_show(tmp_path: Path) -> None:
    path = write(tmp_path, README_EXAMPLE)
    assert run_cli("config", "path", env_config=path).stdout.strip() == str(path)
    shown = run_cli("config", "show", env_config=path)
    assert shown.returncode == 0
    assert "[providers.deepseek]" in shown.stdout and "DEEPSEEK_API_KEY" in shown.stdout
