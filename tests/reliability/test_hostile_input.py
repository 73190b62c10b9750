"""Hostile input: huge, empty and oddly encoded prompts, absurd flag values. Clear errors, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.cli.main import main
from tui.demo.script import expected_answer
from tui.store import session_document

ROOT = Path(__file__).resolve().parents[2]
FAST = "[[len:300]][[delay:0]][[chunk:100]]"


def agentdeck(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui", *args], input=stdin, capture_output=True, timeout=120,
                          cwd=ROOT, check=False)


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `agentdeck ARGV` in this process; it must exit 2 with a short reason; returns stderr."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse refuses with SystemExit(2)
        code = stop.code
    out, err = capsys.readouterr()
    assert code == 2, (argv, code, out, err)
    assert "Traceback" not in err and err.strip(), argv
    assert len(err.strip().splitlines()[-1]) < 400
    return err


BIG = 1_000_000


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs resolve relative paths against a throwaway folder, not the checkout."""
    monkeypatch.chdir(tmp_path)


def big_prompt(size: int = BIG) -> str:
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "the", "model", "keeps",
             "writing"]
    text = " ".join(words[i % len(words)] for i in range(size // 4))
    return f"{text[: size - len(FAST) - 1]} {FAST}"  # `size` characters


BAD_FLAGS = [
    (["run", "--timeout", "-1", "x"], "--timeout: must be 0 (no timeout) or a positive number"),
    (["run", "--timeout=-1e-9", "x"], "--timeout: must be 0 (no timeout) or a positive number"),
    (["run", "--timeout", "nan", "x"], "--timeout: must be 0 (no timeout) or a positive number"),
    (["run", "--timeout", "inf", "x"], "--timeout: must be at most 604800 seconds"),
    (["run", "--timeout=-inf", "x"], "--timeout: must be 0 (no timeout) or a positive number"),
    (["run", "--timeout", "1e999", "x"], "--timeout: must be at most 604800 seconds"),
    (["run", "--timeout", "ten", "x"], "--timeout: must be a number of seconds"),
    (["run", "--timeout", "", "x"], "--timeout: must be a number of seconds"),
    (["run", "--concurrency", "0", "x"], "--concurrency: must be between 1 and 256"),
    (["run", "--concurrency", "-4", "x"], "--concurrency: must be between 1 and 256"),
    (["run", "--concurrency", "1000000000", "x"], "--concurrency: must be between 1 and 256"),
    (["run", "--concurrency", "9" * 400, "x"], "--concurrency: must be between 1 and 256"),
    (["run", "--concurrency", "2.5", "x"], "--concurrency: must be a whole number"),
    (["run", "--concurrency", "nan", "x"], "--concurrency: must be a whole number"),
    (["resume", "s", "--concurrency", "0"], "--concurrency: must be between 1 and 256"),
    (["--timeout", "-1"], "--timeout: must be 0 (no timeout) or a positive number"),  # the app's flags too
    (["--concurrency", "1000000000"], "--concurrency: must be between 1 and 256"),
    (["run", "--provider", "nosuch", "x"], "unknown provider 'nosuch'"),
    (["run", "--provider", "\x1b]0;title\x07", "x"], "unknown provider '\\x1b]0;title\\x07'"),
    (["run", "--base-url", "ftp://host/v1", "--model", "m", "x"], "--base-url must start with http://"),
    (["run", "--base-url", "http://", "--model", "m", "x"], "--base-url has no host name"),
    (["run", "--base-url", "http://[::1", "--model", "m", "x"], "--base-url has no host name"),
    (["run", "--api", "responses", "x"], "--api and --api-key-env only apply together with --base-url"),
    (["run", "--session", "../escape", "x"], "must end in .sqlite"),
    (["run", "--session", "what?", "x"], "invalid session name 'what?'"),
    (["run", "--session", "x" * 101, "x"], "invalid session name"),
    (["run", "--session", "", "x"], "--session: needs a session name or a path"),
    (["run", "--session", "  ", "x"], "--session: needs a session name or a path"),
    (["--session", ""], "--session: needs a session name or a path"),
    (["run", "--session", "x.sqlite", "x"], "'x.sqlite' looks like a file name; write ./x.sqlite"),
    (["export", "x.sqlite"], "'x.sqlite' looks like a file name; write ./x.sqlite"),
    (["export", ""], "invalid session name ''"),
    (["run", "-a", "/no/such/file.txt", "x"], "no such file"),
    (["run", "-a", "/", "x"], "/"),
    (["demo-server", "--port", "70000"], "--port must be between 0 and 65535"),
    (["demo-server", "--port", "-1"], "--port must be between 0 and 65535"),
    (["export", "nothing", "--format", "xml"], "invalid choice: 'xml'"),
    (["export", "nothing"], "no session named 'nothing'"),
    (["import", "/no/such/export.json"], "no such file"),
    (["resume", "nothing"], "no session named 'nothing'"),
]


@pytest.mark.parametrize(("argv", "reason"), BAD_FLAGS, ids=[" ".join(a)[:50] for a, _ in BAD_FLAGS])
def test_absurd_flags_are_refused_clearly(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(argv, capsys)
    assert reason.lower() in err.lower(), err
    assert "\x1b" not in err  # what the user typed is echoed with its controls made visible


EMPTY_PROMPTS = [
    ["run", "--provider", "demo", ""],
    ["run", "--provider", "demo", "   ", "\t", "\n"],
]


@pytest.mark.parametrize("argv", EMPTY_PROMPTS)
def test_empty_prompts_are_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert "no prompt given" in refused(argv, capsys)


PROMPT_FILES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "no prompt given"),
    "blank and comments": (b"\n   \n# a comment\n\t\n", "no prompt given"),
    "latin-1": ("café crème\n".encode("latin-1"), "not UTF-8 text"),
    "utf-16 without BOM": ("one\ntwo\n".encode("utf-16-le"), "contains NUL bytes"),
    "NUL bytes": (b"one\x00two\n", "contains NUL bytes"),
    "binary": (bytes(range(256)) * 40, "not UTF-8 text"),
    "broken utf-16": (b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8", "not UTF-8 text"),
}


@pytest.mark.parametrize("kind", sorted(PROMPT_FILES))
def test_bad_prompt_files_are_refused(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, reason = PROMPT_FILES[kind]
    path = tmp_path / "prompts.txt"
    path.write_bytes(data)
    assert reason in refused(["run", "--provider", "demo", "-f", str(path)], capsys)


def test_prompt_file_that_is_a_folder_or_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a folder, not a regular file" in refused(["run", "-f", str(tmp_path)], capsys)
    assert "No such file" in refused(["run", "-f", str(tmp_path / "absent.txt")], capsys)


def test_prompt_argument_that_is_not_utf8(capsys: pytest.CaptureFixture[str]) -> None:
    """Undecodable argv bytes arrive as lone surrogates, which no request could carry."""
    err = refused(["run", "--provider", "demo", "caf\udce9 au lait"], capsys)
    assert "PROMPT 1 is not UTF-8 text: caf\\xe9 au lait" in err
    assert "--system is not UTF-8 text" in refused(["run", "--system", "\udcff", "x"], capsys)


GOOD_FILES = {
    "utf-8 with BOM and CRLF": lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
    "utf-16-le with BOM": lambda text: text.encode("utf-16"),
    "utf-16-be with BOM": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
}


@pytest.mark.parametrize("kind", sorted(GOOD_FILES))
def test_prompt_files_in_other_unicode_encodings_work(kind: str, tmp_path: Path) -> None:
    prompts = [f"naïve café ✓ 𝄞 one {FAST}", f"שלום two {FAST}"]
    path = tmp_path / "prompts.txt"
    path.write_bytes(GOOD_FILES[kind]("# comment\n" + "\n".join(prompts) + "\n"))
    result = agentdeck("run", "--provider", "demo", "-f", str(path), "--json")
    assert result.returncode == 0, result.stderr.decode()
    tasks = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [t["prompt"] for t in tasks] == prompts
    assert all(t["output"] == expected_answer(t["prompt"]) for t in tasks)


def check_one_done(stdout: bytes, prompt: str) -> dict[str, Any]:
    (task,) = [json.loads(line) for line in stdout.decode().splitlines()]
    assert task["status"] == "done" and task["prompt"] == prompt
    assert task["output"] == expected_answer(prompt)
    return task


def test_one_megabyte_prompt_from_a_file_and_stdin_is_run_and_saved(tmp_path: Path) -> None:
    prompt = big_prompt()
    assert len(prompt) == BIG
    path = tmp_path / "big.txt"
    path.write_text(prompt + "\n", encoding="utf-8")
    from_file = agentdeck("run", "--session", "big", "--provider", "demo", "-f", str(path), "--json")
    assert from_file.returncode == 0, from_file.stderr.decode()[-2000:]
    check_one_done(from_file.stdout, prompt)
    (saved,) = session_document("big")["tasks"]
    assert saved["prompt"] == prompt and saved["request_text"] == prompt
    from_stdin = agentdeck("run", "--provider", "demo", "-f", "-", "--json", stdin=prompt.encode())
    assert from_stdin.returncode == 0, from_stdin.stderr.decode()[-2000:]
    check_one_done(from_stdin.stdout, prompt)


def test_large_prompt_as_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    """Linux limits one argument to 128 KiB when a program starts: just below that through a real
    process, and 1 MB through `main` (as a wrapper calling it, or a shell with a higher limit, could)."""
    prompt = big_prompt(120_000)
    result = agentdeck("run", "--provider", "demo", prompt, "--json")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    check_one_done(result.stdout, prompt)
    huge = big_prompt()
    assert main(["run", "--provider", "demo", huge, "--json"]) == 0
    check_one_done(capsys.readouterr().out.encode(), huge)


def test_blank_prompts_among_real_ones_are_skipped() -> None:
    real = f"the only real one {FAST}"
    result = agentdeck("run", "--provider", "demo", "", "  ", real, "\t", "--json")
    assert result.returncode == 0, result.stderr.decode()
    check_one_done(result.stdout, real)
