"""Sessions with real processes: kill -9 mid-stream, reopen, resume (chat and native background), watch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tui import paths
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.store import SessionWatcher, StoreError, session_document

pytestmark = pytest.mark.slow  # agentdeck processes, kill -9 and resume

Run = Callable[..., subprocess.CompletedProcess[str]]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui", *args]


def agentdeck(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start agentdeck processes in the background; whatever is still running at the end is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   stdin=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except StoreError:  # the session file may not exist or be initialised yet
            result = None
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {check}")


def saved_chars(name: str, count: int, at_least: int) -> dict[int, int] | None:
    watcher = SessionWatcher.open(name)
    try:
        chars = {task.id: task.chars for task in watcher.tasks.values()}
    finally:
        watcher.close()
    return chars if len(chars) == count and min(chars.values()) >= at_least else None


def kill_mid_stream(spawn: Callable[..., subprocess.Popen[str]], name: str, prompts: list[str],
                    *options: str) -> dict[int, int]:
    writer = spawn("run", "--session", name, "--concurrency", str(len(prompts)), *options, *prompts)
    seen = wait_for(lambda: saved_chars(name, len(prompts), 1500))
    assert writer.poll() is None, writer.communicate()
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    return seen


def check_crashed(name: str, prompts: list[str], seen: dict[int, int]) -> None:
    doc = session_document(name)
    tasks = doc["tasks"]
    assert [t["prompt"] for t in tasks] == prompts
    for task in tasks:
        assert task["status"] == "interrupted"
        assert task["chars"] >= seen[task["id"]] > 0  # nothing saved earlier was lost
        assert expected_answer(task["prompt"]).startswith(task["output"])
        assert task["chars"] < len(expected_answer(task["prompt"]))


def check_finished(name: str, prompts: list[str]) -> list[dict[str, Any]]:
    tasks = session_document(name)["tasks"]
    assert [t["status"] for t in tasks] == ["done"] * len(prompts), [t["error"] for t in tasks]
    for task in tasks:
        assert task["output"] == expected_answer(task["prompt"])  # no gap, no duplicate
    return tasks


def test_kill_9_then_reopen_and_resume_chat(spawn: Callable[..., subprocess.Popen[str]]) -> None:
    prompts = [f"chat crash {i} [[len:9000]][[delay:5]]" for i in range(6)]
    seen = kill_mid_stream(spawn, "crash", prompts, "--provider", "demo")
    check_crashed("crash", prompts, seen)

    listed = json.loads(agentdeck("sessions", "--json").stdout)
    assert [(s["name"], s["by_status"], s["writer_pid"]) for s in listed] == [("crash", {"interrupted": 6}, None)]

    resumed = agentdeck("resume", "crash", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming 6 tasks" in resumed.stderr
    printed = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert [t["output"] for t in printed] == [expected_answer(p) for p in prompts]
    check_finished("crash", prompts)
    assert agentdeck("resume", "crash").returncode == 0  # nothing left to do, and it says so


def demo_server(spawn: Callable[..., subprocess.Popen[str]]) -> str:
    server = spawn("demo-server", "--port", "0")
    assert server.stdout is not None
    return server.stdout.readline().strip()


def use_provider(base_url: str) -> None:
    config = Path(os.environ["AGENTDECK_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[providers.bg]\napi = "responses"\nbase_url = "{base_url}"\nmodel = "demo"\n')


def server_requests(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_demo/stats", timeout=5) as response:
        return dict(json.load(response)["requests"])


def test_kill_9_then_resume_reattaches_native_background(spawn: Callable[..., subprocess.Popen[str]]) -> None:
    base_url = demo_server(spawn)  # outlives the writer, like a real provider
    use_provider(base_url)
    prompts = [f"background crash {i} [[len:12000]][[delay:5]]" for i in range(3)]
    seen = kill_mid_stream(spawn, "native", prompts, "--provider", "bg")
    check_crashed("native", prompts, seen)
    assert all(t["continuation_token"] for t in session_document("native")["tasks"])

    resumed = agentdeck("resume", "native")
    assert resumed.returncode == 0, resumed.stderr
    tasks = check_finished("native", prompts)
    assert all(t["notice"] is None for t in tasks)
    requests = server_requests(base_url)
    assert requests["POST /v1/responses"] == 3  # nothing was asked again...
    assert requests["GET /v1/responses/{response_id}"] == 3  # ...each was re-attached


def test_resume_falls_back_to_the_session_when_the_server_forgot(spawn: Callable[..., subprocess.Popen[str]]) -> None:
    use_provider(demo_server(spawn))
    prompts = ["forgotten [[len:9000]][[delay:5]]"]
    seen = kill_mid_stream(spawn, "forgot", prompts, "--provider", "bg")
    check_crashed("forgot", prompts, seen)
    use_provider(demo_server(spawn))  # a new server that never saw the response

    resumed = agentdeck("resume", "forgot")
    assert resumed.returncode == 0, resumed.stderr
    task = check_finished("forgot", prompts)[0]
    assert "no longer had the background response" in task["notice"]
    assert "no longer had the background response" in resumed.stderr


def test_watch_a_running_writer_then_see_it_die(spawn: Callable[..., subprocess.Popen[str]]) -> None:
    prompts = [f"watched {i} [[len:20000]][[delay:6]]" for i in range(2)]
    writer = spawn("run", "--session", "watched", *prompts)
    wait_for(lambda: saved_chars("watched", 2, 1))
    watcher = SessionWatcher.open("watched")
    assert watcher.writer_alive
    first = watcher.tasks[1]
    first.output.text()  # a shown pane: its text is loaded and then followed
    growth: list[float] = []
    events: list[str] = []
    watcher.subscribe(lambda e: events.append(f"{e.kind}:{e.task.id}:{e.task.status}"))
    last = (first.chars, watcher.tasks[2].chars)
    started = time.monotonic()
    while time.monotonic() - started < 3:
        watcher.poll()
        now = (first.chars, watcher.tasks[2].chars)
        if now[0] > last[0] and now[1] > last[1]:
            growth.append(time.monotonic())
        last = now
        time.sleep(0.25)
    gaps = [b - a for a, b in zip([started, *growth], growth, strict=False)]
    assert len(growth) >= 3 and max(gaps) < 1.0, gaps  # new text is visible within a second
    assert expected_answer(prompts[0]).startswith(first.text) and len(first.text) == first.chars

    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    killed = time.monotonic()
    wait_for(lambda: watcher.poll() and watcher.tasks[2].status is TaskStatus.INTERRUPTED, timeout=5, every=0.25)
    assert time.monotonic() - killed < 1.5
    assert not watcher.writer_alive and first.status is TaskStatus.INTERRUPTED
    assert "status:2:interrupted" in events
    watcher.close()


def test_a_second_writer_is_refused(spawn: Callable[..., subprocess.Popen[str]]) -> None:
    writer = spawn("run", "--session", "busy", "long [[len:20000]][[delay:5]]")
    wait_for(lambda: saved_chars("busy", 1, 1))
    second = agentdeck("run", "--session", "busy", "another")
    assert second.returncode == 2
    assert f"session 'busy' is being written by process {writer.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    listed = agentdeck("sessions")
    assert "busy (being written)" in listed.stdout and "1 (1 running)" in listed.stdout


def test_listing_export_and_import_from_the_command_line(tmp_path: Path) -> None:
    made = agentdeck("run", "--session", "kept", "one [[len:300]][[delay:0]]", "two [[len:500]][[delay:0]]")
    assert made.returncode == 0, made.stderr
    (paths.sessions_dir() / "broken.sqlite").write_bytes(b"\x00" * 5000)
    listed = agentdeck("sessions")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[1].startswith("kept ") and "2 (2 done)" in listed.stdout
    assert "skipped broken.sqlite: " in listed.stderr and "not SQLite" in listed.stderr

    markdown = agentdeck("export", "kept")
    assert markdown.stdout.startswith("# Session kept")
    assert expected_answer("two [[len:500]][[delay:0]]") in markdown.stdout
    for fmt in ("json", "toml"):
        target = tmp_path / f"kept.{fmt}"
        exported = agentdeck("export", "kept", "-o", str(target))
        assert exported.returncode == 0 and oct(target.stat().st_mode & 0o777) == "0o600"
        imported = agentdeck("import", str(target))
        assert imported.returncode == 0, imported.stderr
        name = imported.stdout.strip()
        assert session_document(name)["tasks"] == session_document("kept")["tasks"]

    missing = agentdeck("export", "nothing-here")
    assert missing.returncode == 2 and "no session named 'nothing-here'" in missing.stderr
    broken = agentdeck("resume", "broken")
    assert broken.returncode == 2 and "not SQLite" in broken.stderr


def test_open_hands_the_session_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli.main import main
    from tui.store import SessionStore

    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        "tui.cli.app_command.app_command", lambda args, config: calls.append((args.session, args.watch)) or 0
    )
    SessionStore.open("mine").close()
    assert main(["open", "mine"]) == 0
    store = SessionStore.open("mine")
    try:
        assert main(["open", str(store.path)]) == 0  # being written: read-only
    finally:
        store.close()
    path = str(paths.sessions_dir() / "mine.sqlite")
    assert calls == [(path, False), (path, True)]
    assert main(["open", "absent"]) == 2


def test_sessions_count_statuses_in_the_headers_order_and_words() -> None:
    prompts = ["slow [[silent:600]]", "refused [[fault:401]]"]
    # Long enough for the 401 to come back on a loaded machine (the first request imports the framework).
    made = agentdeck("run", "--session", "mixed", "--timeout", "12", *prompts)
    assert made.returncode != 0, "a timed-out task is not a clean run"
    listed = agentdeck("sessions")
    assert "2 (1 failed, 1 timed out)" in listed.stdout, listed.stdout
