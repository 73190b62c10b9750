"""Hostile model output kept exactly through a session, every export format and import, and never
reaching a terminal raw from `agentdeck run`, `sessions` or `export`."""

from __future__ import annotations

import errno
import json
import os
import pty
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx2 as httpx  # the HTTP library this openai SDK is built on
import openai
import pytest

from tui.config import ProviderConfig
from tui.demo.script import expected_answer
from tui.engine.errors import describe_failure
from tui.engine.redact import Redactor
from tui.engine.task import scalar_text
from tui.store import session_document

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "show me trouble [[hostile]][[len:12000]][[delay:0]][[chunk:50]]"
TEXT = scalar_text(expected_answer(HOSTILE))  # the lone surrogate arrives as U+FFFD
# What must never reach a terminal raw: ESC, the C1 controls (CSI, OSC, ST as single characters), NUL, BEL, BS, DEL.
RAW_CONTROLS = ("\x1b", "\x9b", "\x9d", "\x9c", "\x00", "\x07", "\x08", "\x7f")


def agentdeck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, stdin=subprocess.DEVNULL, check=False)


def on_a_terminal(*args: str, stderr_too: bool = True) -> tuple[str, str]:
    """Run `agentdeck ARGS` with stdout (and stderr) on a pseudo-terminal; returns what the terminal got
    and what went to the stderr pipe (if not on the terminal)."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=child,
        stderr=child if stderr_too else subprocess.PIPE, env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(child)
    received = bytearray()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError as exc:  # EIO: the child side is closed
                if exc.errno != errno.EIO:
                    raise
                break
            if not data:
                break
            received += data
        elif process.poll() is not None:
            break
    os.close(main)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, (received[-2000:], err)
    return received.decode("utf-8", "replace"), (err or b"").decode("utf-8", "replace")


def assert_no_raw_controls(text: str) -> None:
    for control in RAW_CONTROLS:
        assert control not in text, f"raw {control!r} at {text.find(control)}: {text[text.find(control) - 40:][:80]!r}"


@pytest.fixture
def hostile_session() -> str:
    made = agentdeck("run", "--session", "hostile", "--provider", "demo", HOSTILE, "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["output"] == TEXT
    assert_no_raw_controls(made.stderr)
    return "hostile"


def test_session_and_every_export_keep_the_text_exactly(hostile_session: str, tmp_path: Path) -> None:
    (saved,) = session_document(hostile_session)["tasks"]
    assert saved["output"] == TEXT and saved["chars"] == len(TEXT)
    assert "\x1b]52;c;" in TEXT and "[@click=app.quit]" in TEXT and "x" * 10_000 in TEXT and "\ufffd" in TEXT

    for fmt in ("json", "toml", "md"):
        target = tmp_path / f"hostile.{fmt}"
        done = agentdeck("export", hostile_session, "-o", str(target))
        assert done.returncode == 0, done.stderr
        raw = target.read_bytes().decode("utf-8")
        if fmt == "json":
            assert json.loads(raw)["tasks"][0]["output"] == TEXT
            assert "\x1b" not in raw  # JSON escapes C0 controls (\u001b); C1 and bidi stay as characters
        elif fmt == "toml":
            assert tomllib.loads(raw)["tasks"][0]["output"] == TEXT
            assert "\x1b" not in raw  # so does TOML
        else:
            assert TEXT in raw  # Markdown carries the text unchanged too (documented: view it with a pager)
        if fmt != "md":
            imported = agentdeck("import", str(target), "--name", f"back-{fmt}")
            assert imported.returncode == 0, imported.stderr
            assert session_document(f"back-{fmt}")["tasks"] == session_document(hostile_session)["tasks"]


def test_terminal_output_never_carries_raw_controls(hostile_session: str) -> None:
    listing, _ = on_a_terminal("sessions")
    assert "hostile" in listing and "back" not in listing
    assert_no_raw_controls(listing)
    for fmt in ("md", "json", "toml"):
        shown, _ = on_a_terminal("export", hostile_session, "--format", fmt)
        assert_no_raw_controls(shown)
        assert "␛]52;c;ZWNobyBwd25lZA==␇" in shown or "\\u001b]52;c;ZWNobyBwd25lZA==\\u0007" in shown
    answer, progress = on_a_terminal("run", "--provider", "demo", "prompt with \x1b]0;a title\x07 in it",
                                     HOSTILE, stderr_too=False)
    assert_no_raw_controls(answer)
    assert_no_raw_controls(progress)
    assert "[bold red]markup[/]" in answer and "␛]0;a title␇" in answer


def test_a_provider_error_message_cannot_carry_controls() -> None:
    """Error text comes from the server too: one line, controls made visible, before anyone shows it."""
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    body = {"error": {"message": "boom \x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m\nsecond line\x00"}}
    error = openai.InternalServerError("boom", response=httpx.Response(500, request=request), body=body)
    provider = ProviderConfig("p", "chat", "m", base_url="http://127.0.0.1:9/v1")
    message = describe_failure(error, provider, "m", Redactor(())).message
    assert message.startswith("500 Internal Server Error: boom")
    assert_no_raw_controls(message)
    assert "\n" not in message and "␛]52;c;cHduZWQ=␇" in message
