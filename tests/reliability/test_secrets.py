"""Secrets and permissions: a recognisable key never lands in a file, an export, an output, a log or a
screenshot; session files are private; symlinks are not written through; no shell ever runs."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui import paths
from tui.config import load_config
from tui.demo.script import expected_answer
from tui.demo.server import DemoServerThread
from tui.engine import Engine
from tui.store import SessionStore, session_document

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "AGENTDECK_FAKE_KEY"
FAKE_KEY = "sk-test-DO-NOT-LEAK-1234567890abcdef"
OTHER_KEY = "sk-test-the-server-wants-another-one"
FAST = "[[len:600]][[delay:0]]"


@pytest.fixture
def keyed_server() -> Iterator[str]:
    """A demo server that only answers requests carrying the fake key."""
    server = DemoServerThread(api_key=FAKE_KEY)
    yield server.start()
    server.stop()


@pytest.fixture
def wrong_key_server() -> Iterator[str]:
    """A demo server that wants another key: the fake one is refused (and quoted, masked, in the 401)."""
    server = DemoServerThread(api_key=OTHER_KEY)
    yield server.start()
    server.stop()


@pytest.fixture
def keyed_config(keyed_server: str, wrong_key_server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'default_provider = "keyed"\n'
        f'[providers.keyed]\napi = "chat"\nbase_url = "{keyed_server}"\nmodel = "demo-chat"\n'
        f'api_key_env = "{KEY_ENV}"\n'
        f'[providers.keyed-resp]\napi = "responses"\nbase_url = "{keyed_server}"\nmodel = "demo-responses"\n'
        f'api_key_env = "{KEY_ENV}"\n'
        f'[providers.refused]\napi = "chat"\nbase_url = "{wrong_key_server}"\nmodel = "demo-chat"\n'
        f'api_key_env = "{KEY_ENV}"\nmax_retries = 0\n'
    )
    return config


def agentdeck(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL, check=False)


def assert_no_key(where: str, data: bytes | str) -> None:
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    for form in (FAKE_KEY.encode(), FAKE_KEY.encode("utf-16-le"), FAKE_KEY[8:].encode()):
        assert form not in raw, f"the key leaked into {where}"


def assert_no_key_under(*directories: Path) -> int:
    checked = 0
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert_no_key(str(path), path.read_bytes())
                checked += 1
    return checked


def test_the_key_is_used_but_never_written_or_shown(keyed_config: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    outputs: list[tuple[str, subprocess.CompletedProcess[bytes]]] = []

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[bytes]:
        result = agentdeck(*args)
        outputs.append((" ".join(args), result))
        assert result.returncode == code, (args, result.stderr.decode())
        return result

    prompts = [f"keyed one {FAST}", f"keyed two {FAST}"]
    done = run("run", "--session", "secret", "--json", *prompts)
    assert [json.loads(line)["output"] for line in done.stdout.splitlines()] == [expected_answer(p) for p in prompts]
    run("run", "--session", "secret", "--provider", "keyed-resp", "--json", f"keyed three {FAST}")
    refused = run("run", "--session", "secret", "--provider", "refused", "--json", f"keyed four {FAST}", code=1)
    assert "401 Unauthorized" in json.loads(refused.stdout)["error"]
    run("run", "--session", "secret", "--base-url", load_config().provider("keyed").base_url or "",
        "--model", "m", "--api-key-env", KEY_ENV, "--json", f"ad hoc {FAST}")
    run("sessions")
    run("sessions", "--json")
    run("config", "show")
    run("config", "path")
    for fmt in ("md", "json", "toml"):
        run("export", "secret", "--format", fmt)
        run("export", "secret", "-o", str(exports / f"secret.{fmt}"))
    run("import", str(exports / "secret.json"), "--name", "secret-copy")
    run("resume", "secret")
    assert [t["status"] for t in session_document("secret")["tasks"]] == ["done", "done", "done", "failed", "done"]

    for command, result in outputs:
        assert_no_key(f"stdout of `{command}`", result.stdout)
        assert_no_key(f"stderr of `{command}`", result.stderr)
    checked = assert_no_key_under(paths.config_file().parent, paths.data_dir(), exports)
    assert checked >= 8


async def test_the_app_shows_and_saves_no_key(keyed_config: Path, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from tests.app_helpers import finished, select, submit, wait_for
    from tui.app.app import AgentDeckApp

    caplog.set_level(logging.DEBUG)
    engine = Engine(load_config())
    store = SessionStore.open("app-secret")
    store.attach(engine)
    app = AgentDeckApp(engine, session_name="app-secret")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        good = await submit(app, pilot, f"keyed from the app {FAST}")
        await wait_for(pilot, finished(good), timeout=20)
        await select(app, pilot, good)
        await pilot.pause(0.3)
        shot = app.save_screenshot(path=str(tmp_path), filename="app.svg")
        await app.shutdown()
    await store.aclose()
    assert good.text == expected_answer(good.prompt)
    assert_no_key("the screenshot", Path(shot).read_bytes())
    assert_no_key("the log", caplog.text)
    assert_no_key_under(paths.config_file().parent, paths.data_dir(), tmp_path)


def test_session_files_are_private() -> None:
    made = agentdeck("run", "--session", "private", "--provider", "demo", f"private {FAST}")
    assert made.returncode == 0, made.stderr.decode()
    assert stat.S_IMODE(paths.data_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.sessions_dir().stat().st_mode) == 0o700
    store = SessionStore.open("private")  # while open: the write-ahead log and shared memory files too
    try:
        files = sorted(paths.sessions_dir().iterdir())
        assert {p.name for p in files} >= {"private.sqlite", "private.sqlite-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        store.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("victim_kind", ["text", "session", "missing"])
def test_a_symlinked_session_is_never_written_through(victim_kind: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim.sqlite"
    if victim_kind == "text":
        victim.write_text("precious\n")
    elif victim_kind == "session":
        SessionStore.open(str(victim)).close()
    directory = paths.sessions_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "link.sqlite").symlink_to(victim)
    before = digest(victim) if victim.exists() else None
    for args in (["run", "--session", "link", "--provider", "demo", f"x {FAST}"], ["resume", "link"]):
        result = agentdeck(*args)
        assert result.returncode == 2, result.stderr.decode()
        assert b"is a symbolic link; refusing to write through it" in result.stderr
    listing = agentdeck("sessions")
    assert b"skipped link.sqlite" in listing.stderr and b"symbolic link" in listing.stderr
    imported_over = agentdeck("import", str(victim), "--name", "link") if victim_kind == "session" else None
    if imported_over is not None:
        assert imported_over.returncode == 2
    assert (digest(victim) if victim.exists() else None) == before
    assert not victim.exists() or victim_kind != "missing"


FORBIDDEN_CALLS = {
    ("os", "system"), ("os", "popen"), ("os", "execl"), ("os", "execle"), ("os", "execlp"), ("os", "execv"),
    ("os", "execve"), ("os", "execvp"), ("os", "spawnl"), ("os", "spawnv"), ("os", "posix_spawn"),
    ("asyncio", "create_subprocess_shell"), ("pty", "spawn"), ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
}


STREAM_WORKER = "tui/engine/worker_proxy.py"
"""The one module that starts a program: the stream worker, this same Python with a fixed argv, no shell."""


def test_no_shell_is_ever_invoked() -> None:
    """Model output must never reach a shell: the package starts no shell and no program but its stream worker."""
    worker = (ROOT / STREAM_WORKER).read_text(encoding="utf-8")
    assert '[sys.executable, "-m", "tui.engine.worker", str(commands_read), str(news_write)]' in worker
    offences = []
    sources = sorted((ROOT / "tui").rglob("*.py"))
    assert len(sources) > 30
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and (func.value.id, func.attr) in FORBIDDEN_CALLS
                ):
                    offences.append(f"{where}: {func.value.id}.{func.attr}()")
                for keyword in node.keywords:
                    harmless = isinstance(keyword.value, ast.Constant) and not keyword.value.value
                    if keyword.arg == "shell" and not harmless:
                        offences.append(f"{where}: shell=...")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                launches_worker = names == ["subprocess"] and where.startswith(f"{STREAM_WORKER}:")
                if any(n.split(".")[0] in {"subprocess", "pty", "commands"} for n in names) and not launches_worker:
                    offences.append(f"{where}: imports {names}")
    assert offences == []
