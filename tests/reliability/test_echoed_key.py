"""A provider that quotes the API key back (in a 401, a 400 body, a stream error event) never gets it
written or shown: not on stderr, not in `--json`, not in the session file, not in any export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.echo_server import FORMS, PLACES, EchoServerThread
from tui import paths

ROOT = Path(__file__).resolve().parents[2]
ECHO_ENV = "ECHO_PROVIDER_KEY"
ECHO_KEY = "sk-echo-4f9a8b7c6d5e4f3a2b1c0d9e"
OPENAI_KEY = "sk-test-SECRET123"


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = EchoServerThread()
    yield server.start()
    server.stop()


def leaked_forms(key: str) -> list[bytes]:
    """The key, the masked forms providers quote, and its part after the prefix."""
    return [form(key).encode() for form in FORMS] + [key[8:].encode(), key.encode("utf-16-le")]


def assert_no_key(where: str, data: bytes) -> None:
    for key in (ECHO_KEY, OPENAI_KEY):
        for form in leaked_forms(key):
            assert form not in data, f"{form!r} leaked into {where}"


def agentdeck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL, env={**os.environ, **env}, check=False)


def write_config(url: str) -> None:
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[providers.echo-chat]\napi = "chat"\nbase_url = "{url}"\nmodel = "m"\napi_key_env = "{ECHO_ENV}"\n'
        "max_retries = 0\n"
        f'[providers.echo-resp]\napi = "responses"\nbase_url = "{url}"\nmodel = "m"\napi_key_env = "{ECHO_ENV}"\n'
        "max_retries = 0\n"
    )


@pytest.mark.parametrize(("provider", "api", "key"), [("echo-chat", "chat", ECHO_KEY),
                                                      ("echo-resp", "responses", ECHO_KEY),
                                                      ("openai", "responses", OPENAI_KEY)])
def test_a_key_echoed_by_the_provider_is_never_written_or_shown(provider: str, api: str, key: str, echo_url: str,
                                                                tmp_path: Path) -> None:
    write_config(echo_url)
    env = {ECHO_ENV: ECHO_KEY, "OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": echo_url}
    prompts = [f"place={place} form={form}" for place in PLACES[api] for form in range(len(FORMS))]
    ran = agentdeck("run", "--provider", provider, "--session", "echo", "--json", "--concurrency", "8", *prompts,
                    env=env)
    assert ran.returncode == 1, ran.stderr.decode()
    results = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [r["status"] for r in results] == ["failed"] * len(prompts), results
    for result in results:
        assert f"[redacted {'OPENAI_API_KEY' if provider == 'openai' else ECHO_ENV}]" in result["error"], result
    outputs = [("run stderr", ran.stderr), ("run --json", ran.stdout)]
    for fmt in ("md", "json", "toml"):
        exported = agentdeck("export", "echo", "--format", fmt, env=env)
        assert exported.returncode == 0, exported.stderr.decode()
        outputs.append((f"export --format {fmt}", exported.stdout))
    for where, data in outputs:
        assert_no_key(where, data)
    files = [p for p in paths.data_dir().rglob("*") if p.is_file()]
    assert any(p.name == "echo.sqlite" for p in files)
    for path in files:
        assert_no_key(str(path), path.read_bytes())


def test_redaction_hides_only_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.engine.redact import Redactor

    monkeypatch.setenv(ECHO_ENV, ECHO_KEY)
    monkeypatch.setenv("LOCAL_KEY", "EMPTY")  # a placeholder, not a secret
    redactor = Redactor([ECHO_ENV, "LOCAL_KEY", "UNSET_KEY"])
    untouched = "wait... the EMPTY model said ****, 1...200 and sk-...999 (another key)"
    assert redactor.hide(untouched) == untouched
    hidden = f"[redacted {ECHO_ENV}]"
    assert redactor.hide(f"key {ECHO_KEY}; again sk-e...0d9e") == f"key {hidden}; again {hidden}"
