"""Tool calls in sessions: saved as they happen, reopened, watched, continued, exported and imported.

Tasks call the demo MCP server's tools through the demo model over real HTTP.
What a `kill -9` leaves is taken with SQLite's backup of the live file (one
consistent snapshot, as the crash would leave it); the real kill is in
tests/reliability/test_tool_call_faults.py. The tests that run tasks share one
demo MCP server, which takes seconds to start on a loaded machine: they are `slow`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.mcp_helpers import DEMO_TOOLS, engine_for, tool_config, wait_for
from tests.store_helpers import digest, old_format_session
from tui import paths
from tui.demo.script import expected_answer
from tui.demo.tools import expected_tool_answer
from tui.engine import (
    Engine,
    EngineError,
    EventKind,
    Task,
    TaskEvent,
    TaskStatus,
    ToolCall,
    ToolCallStatus,
)
from tui.engine.clients import ClientFactory
from tui.store import SessionStore, SessionWatcher, StoreError, import_file, list_sessions, render, session_document
from tui.store.records import STOPPED_DURING_CALL, STOPPED_WHILE_WAITING

COUNTED = ("word_count", "3 words, 1 lines, 13 characters")
PROMPT = '[[tool:word_count {"text": "one two three"}]] [[tool:sleep {"seconds": 30}]] [[len:200]] go'


@pytest.fixture(scope="module")
def clients() -> Iterator[ClientFactory]:
    """One client factory for the module: the demo MCP server starts once and serves every test.
    (The providers name the demo server's URL, so the factory needs no local server.)"""
    factory = ClientFactory()
    yield factory
    asyncio.run(factory.close())


def crash_copy(store: SessionStore, name: str) -> Path:
    """What `kill -9` of the writer would leave now: a consistent copy of its file, with no writer."""
    assert store.flush()
    copy = paths.sessions_dir() / f"{name}.sqlite"
    source = sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


@pytest.mark.slow  # starts the demo MCP server (seconds) when first
async def test_calls_are_on_disk_as_they_happen_and_reopen_whole(demo_url: str, clients: ClientFactory) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    store = SessionStore.open("tools")
    store.attach(engine)
    watcher = SessionWatcher.open("tools")
    seen: list[tuple[str, str]] = []
    watcher.subscribe(lambda e: seen.append((e.call.name, str(e.call.status))) if e.kind is EventKind.TOOL else None)
    poller = asyncio.create_task(watcher.run(interval=0.05))
    prompt = '[[tool:word_count {"text": "one two three"}]] [[tool:sleep {"seconds": 1.5}]] [[len:200]] go'
    try:
        task = engine.add_task(prompt)
        run = asyncio.create_task(engine.run_task(task))
        await wait_for(lambda: len(task.tool_calls) == 2)
        in_memory = asyncio.get_running_loop().time()
        await wait_for(lambda: task.id in watcher.tasks and len(watcher.tasks[task.id].tool_calls) == 2)
        on_disk = asyncio.get_running_loop().time() - in_memory
        shown = watcher.tasks[task.id]
        assert [(c.name, c.status, c.result) for c in shown.tool_calls] == [
            ("word_count", ToolCallStatus.DONE, COUNTED[1]), ("sleep", ToolCallStatus.RUNNING, None)
        ]
        assert task.tool_calls[1].status is ToolCallStatus.RUNNING  # seen on disk while the call still runs
        await run
        await wait_for(lambda: shown.status is TaskStatus.DONE and shown.tool_calls[1].status is ToolCallStatus.DONE)
    finally:
        poller.cancel()
        watcher.close()
        await store.aclose()
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_tool_answer(prompt, [COUNTED, ("sleep", "slept 1.5 s")])
    assert on_disk < 1.0, f"a started call took {on_disk:.2f} s to reach the file"
    print(f"\na call on disk and seen by a watcher polling every 0.05 s: {on_disk * 1000:.0f} ms after it started")
    # one TOOL event per change seen (a poll may come after word_count already ended)
    assert [e for e in seen if e != ("word_count", "running")] == [
        ("word_count", "done"), ("sleep", "running"), ("sleep", "done")
    ]
    assert shown.tool_calls == task.tool_calls and shown.tools == ("demo",)
    reopened = SessionStore.open("tools")
    try:
        [saved] = reopened.tasks
        assert saved.tool_calls == task.tool_calls  # every field: ids, arguments, results, offsets, times
        assert saved.tools == ("demo",) and saved.text == task.text
        assert [s.to_dict()["tool_calls"] for s in list_sessions().sessions] == [2]
    finally:
        reopened.close()


@pytest.mark.slow  # starts the demo MCP server (seconds) when first
async def test_a_call_waiting_for_approval_reopens_cancelled_in_an_interrupted_task(
    demo_url: str, clients: ClientFactory
) -> None:
    asking = replace(DEMO_TOOLS, approve="ask")
    engine = engine_for(tool_config(demo_url, asking), clients)
    store = SessionStore.open("asking")
    store.attach(engine)
    task = engine.add_task('[[tool:word_count {"text": "may I"}]] [[len:40]] ask first')
    run = asyncio.create_task(engine.run_task(task))
    try:
        await wait_for(lambda: task.status is TaskStatus.WAITING)
        crash_copy(store, "asking-crashed")
        live = session_document("asking")["tasks"][0]  # the writer is alive: shown as it is
        assert (live["status"], [c["status"] for c in live["tool_calls"]]) == ("waiting", ["waiting"])
        engine.answer_approval(task.id, task.tool_calls[0].call_id, "deny")
        await run
    finally:
        await store.aclose()
    assert task.status is TaskStatus.DONE and task.tool_calls[0].status is ToolCallStatus.DENIED
    reopened = SessionStore.open("asking-crashed")
    try:
        [stranded] = reopened.tasks
        assert stranded.status is TaskStatus.INTERRUPTED
        [call] = stranded.tool_calls
        assert (call.status, call.error, call.result) == (ToolCallStatus.CANCELLED, STOPPED_WHILE_WAITING, None)
        assert call.finished_at is not None and call.finished_at >= call.started_at
    finally:
        reopened.close()
    again = SessionStore.open("asking-crashed")  # the recovery was saved, not only shown
    try:
        assert again.tasks[0].tool_calls[0].status is ToolCallStatus.CANCELLED
    finally:
        again.close()


@pytest.mark.slow  # starts the demo MCP server (seconds) when first
@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_continuing_after_a_stop_during_a_call_keeps_the_calls_made(
    demo_url: str, clients: ClientFactory, provider: str
) -> None:
    config = tool_config(demo_url, DEMO_TOOLS)
    engine = engine_for(config, clients)
    store = SessionStore.open(f"stopped-{provider}")
    store.attach(engine)
    task = engine.add_task(PROMPT, provider=provider)
    run = asyncio.create_task(engine.run_task(task))
    try:
        await wait_for(lambda: len(task.tool_calls) == 2 and task.tool_calls[1].status is ToolCallStatus.RUNNING)
        crash_copy(store, f"crashed-{provider}")
        engine.cancel(task.id)
        with pytest.raises(asyncio.CancelledError):
            await run
    finally:
        await store.aclose()
    done_call = task.tool_calls[0]
    resumed = SessionStore.open(f"crashed-{provider}")
    second = engine_for(config, clients)
    resumed.attach(second)
    try:
        [stranded] = resumed.interrupted()
        assert [(c.name, c.status) for c in stranded.tool_calls] == [
            ("word_count", ToolCallStatus.DONE), ("sleep", ToolCallStatus.CANCELLED)
        ]
        assert stranded.tool_calls[1].error == STOPPED_DURING_CALL and stranded.chars == 0
        second.prepare_continue(stranded.id)
        await second.run_task(stranded)
    finally:
        await resumed.aclose()
    assert stranded.status is TaskStatus.DONE, stranded.error
    assert stranded.tool_calls[0] == done_call and len(stranded.tool_calls) == 2  # nothing called again
    told = f"Error: {STOPPED_DURING_CALL}"
    assert stranded.text == expected_tool_answer(PROMPT, [COUNTED, ("sleep", told)])
    saved = session_document(f"crashed-{provider}")["tasks"][0]
    assert [c["status"] for c in saved["tool_calls"]] == ["done", "cancelled"] and saved["output"] == stranded.text


@pytest.mark.slow  # starts the demo MCP server (seconds) when first
async def test_a_follow_up_after_reopening_carries_the_calls_in_its_agent_session(
    demo_url: str, clients: ClientFactory
) -> None:
    from agent_framework import AgentSession

    config = tool_config(demo_url, DEMO_TOOLS)
    engine = engine_for(config, clients)
    store = SessionStore.open("follow")
    store.attach(engine)
    prompt = '[[tool:word_count {"text": "one two three"}]] [[len:60]] count'
    task = engine.add_task(prompt)
    await engine.run_task(task)
    await store.aclose()
    assert task.status is TaskStatus.DONE, task.error
    reopened = SessionStore.open("follow")
    second = engine_for(config, clients)
    reopened.attach(second)
    try:
        [saved] = reopened.tasks
        messages = AgentSession.from_dict(saved.session_state).state["in_memory"]["messages"]
        contents = [content for message in messages for content in message.contents]
        [asked] = [c for c in contents if c.type == "function_call"]
        [answered] = [c for c in contents if c.type == "function_result"]
        call = saved.tool_calls[0]
        assert (asked.call_id, asked.name, asked.arguments) == (call.call_id, call.name, call.arguments)
        assert (answered.call_id, answered.result) == (call.call_id, COUNTED[1])
        follow = second.follow_up(saved.id, "[[len:80]] and then?")
        await second.run_task(follow)
    finally:
        await reopened.aclose()
    assert follow.status is TaskStatus.DONE, follow.error
    assert follow.text == expected_answer("[[len:80]] and then?") and follow.tools == ("demo",)


@pytest.mark.slow  # starts the demo MCP server (seconds) when first
async def test_a_version_2_file_reads_unchanged_and_gains_tool_calls_when_written(
    demo_url: str, clients: ClientFactory
) -> None:
    path = paths.sessions_dir() / "old.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    old_format_session(path, 2)
    before = digest(path)
    assert session_document("old")["tasks"][0]["tool_calls"] == []
    assert [s.to_dict()["tool_calls"] for s in list_sessions().sessions] == [0]
    watcher = SessionWatcher.open("old")  # opened on format 2, before any writer
    assert watcher.tasks[1].tool_calls == [] and watcher.tasks[1].tools == ()
    assert digest(path) == before
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    store = SessionStore.open("old")
    store.attach(engine)
    try:
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,), (2,), (3,), (4,), (5,)]
        finally:
            conn.close()
        task = engine.add_task('[[tool:word_count {"text": "one two three"}]] [[len:40]] new')
        await engine.run_task(task)
        assert store.flush()
        watcher.poll()
        assert [(c.name, c.result) for c in watcher.tasks[task.id].tool_calls] == [COUNTED]
    finally:
        watcher.close()
        await store.aclose()
    assert session_document("old")["tasks"][0]["output"] == "old"


# -- export and import ------------------------------------------------------

HOSTILE = "```\n# not a heading\n````\n<b>bold?</b> **not bold**\r\n\x1b[31mESC\x00NUL é 𝄞"


def crafted_export(calls: list[dict[str, Any]], output: str = "before\nafter\n", **task: Any) -> dict[str, Any]:
    return {
        "session": {"format": "agentdeck-session", "version": 1, "name": "crafted"},
        "tasks": [{"id": 1, "prompt": "p", "status": "done", "output": output, "tools": ["demo"],
                   "tool_calls": calls, **task}],
    }


def call_doc(**fields: Any) -> dict[str, Any]:
    return {"call_id": "call_1", "name": "word_count", "server": "demo", "arguments": '{"text": "a b"}',
            "result": "2 words", "error": None, "status": "done", "offset": 0, "started_at": 100.0,
            "finished_at": 101.5, **fields}


def imported(doc: dict[str, Any], tmp_path: Path, fmt: str = "json", name: str = "imported") -> str:
    source = tmp_path / f"export-{name}.{fmt}"
    source.write_text(render(doc, fmt), encoding="utf-8")
    return import_file(source, name=name)[0]


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_tool_calls_round_trip_exactly_through_json_and_toml(fmt: str, tmp_path: Path) -> None:
    calls = [call_doc(arguments=json.dumps({"text": HOSTILE}), result=HOSTILE),
             call_doc(call_id="call_2", name="sleep", offset=7, result=None, error="tool sleep timed out after 1 s",
                      status="timed_out")]
    first = session_document(imported(crafted_export(calls), tmp_path, name="first"))
    again = session_document(imported(first, tmp_path, fmt, name="again"))
    assert again["tasks"] == first["tasks"]
    [task] = first["tasks"]
    assert task["tools"] == ["demo"]
    assert [(c["call_id"], c["arguments"], c["result"], c["error"], c["status"], c["offset"], c["elapsed_s"])
            for c in task["tool_calls"]] == [
        ("call_1", json.dumps({"text": HOSTILE}), HOSTILE, None, "done", 0, 1.5),
        ("call_2", '{"text": "a b"}', None, "tool sleep timed out after 1 s", "timed_out", 7, 1.5),
    ]
    assert set(task["tool_calls"][0]) == {"name", "server", "arguments", "result", "error", "status", "elapsed_s",
                                          "call_id", "offset", "started_at", "finished_at"}


def test_toml_export_puts_each_call_in_its_own_table_under_its_task(tmp_path: Path) -> None:
    doc = session_document(imported(crafted_export([call_doc(), call_doc(call_id="call_2", result="x\ny")]),
                                    tmp_path))
    text = render(doc, "toml")
    assert text.count("\n[[tasks.tool_calls]]\n") == 2
    assert 'result = """\nx\ny"""' in text  # multi-line, readable
    assert [c["call_id"] for c in tomllib.loads(text)["tasks"][0]["tool_calls"]] == ["call_1", "call_2"]


def test_running_and_waiting_calls_import_as_cancelled_in_an_interrupted_task(tmp_path: Path) -> None:
    calls = [call_doc(), call_doc(call_id="call_2", status="running", result=None, finished_at=None, offset=7),
             call_doc(call_id="call_3", status="waiting", result=None, finished_at=None, offset=7)]
    doc = session_document(imported(crafted_export(calls, status="waiting", started_at=100.0), tmp_path))
    [task] = doc["tasks"]
    assert task["status"] == "interrupted"
    assert [(c["status"], c["error"]) for c in task["tool_calls"]] == [
        ("done", None), ("cancelled", STOPPED_DURING_CALL), ("cancelled", STOPPED_WHILE_WAITING)
    ]


def test_markdown_shows_each_call_where_it_happened_with_untrusted_text_fenced(tmp_path: Path) -> None:
    output = "Let me count.\n\n```py\nprint('open')\nSo the answer is two.\n"
    calls = [call_doc(offset=len("Let me count.\n\n"), result=HOSTILE),
             call_doc(call_id="call_2", name="na`me **x**\n# y", offset=len(output) - len("So the answer is two.\n"),
                      result="\n".join(f"line {i}" for i in range(100)))]
    doc = session_document(imported(crafted_export(calls, output=output), tmp_path))
    text = render(doc, "md")
    answer = text.split("**Answer**\n\n", 1)[1]
    assert answer.index("Let me count.") < answer.index("**Tool call 1**") < answer.index("print('open')")
    assert answer.index("print('open')") < answer.index("**Tool call 2**") < answer.index("So the answer is two.")
    assert "**Tool call 1** · `word_count` on `demo` · done · 1.50 s" in answer
    assert "**Tool call 2** · ``na`me **x** # y`` on `demo` · done · 1.50 s" in answer
    assert "line 19\n" in answer and "line 20" not in answer and "JSON and TOML exports hold it whole" in answer
    tokens = MarkdownIt().parse(text)
    fenced = [t.content for t in tokens if t.type == "fence"]
    as_parsed = HOSTILE.replace("\r\n", "\n").replace("\x00", "\ufffd")  # what any CommonMark parser does
    assert as_parsed + "\n" in fenced  # the whole result, literally, in one code block
    assert HOSTILE in text
    assert '{\n  "text": "a b"\n}\n' in fenced  # arguments pretty-printed
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Session imported", "Task 1 · done"]  # nothing from a result or a name became a heading
    assert text.count("\x1b[31mESC\x00NUL") == 1  # raw, like model output in Markdown exports


BAD_CALLS: dict[str, tuple[Any, str]] = {
    "not-a-list": ({"tool_calls": {"name": "x"}}, "task 1: 'tool_calls' has the wrong type (dict)"),
    "not-an-object": ({"tool_calls": ["x"]}, "task 1: tool_calls[0] must be an object/table"),
    "no-name": ({"tool_calls": [call_doc(name="")]}, "task 1: tool_calls[0]: 'name' is empty"),
    "no-call-id": ({"tool_calls": [call_doc(call_id=None)]}, "task 1: tool_calls[0]: 'call_id' is missing"),
    "long-name": ({"tool_calls": [call_doc(server="s" * 1025)]}, "'server' is longer than 1,024 characters"),
    "status": ({"tool_calls": [call_doc(status="exploded")]}, "tool_calls[0]: 'status' must be one of cancelled"),
    "result-type": ({"tool_calls": [call_doc(result=5)]}, "tool_calls[0]: 'result' has the wrong type (int)"),
    "offset-past-text": ({"tool_calls": [call_doc(offset=14)]}, "'offset' must be a whole number from 0 to 13"),
    "offsets-backwards": ({"tool_calls": [call_doc(offset=5), call_doc(call_id="call_2", offset=2)]},
                          "tool_calls[1]: 'offset' must not be before the previous call's (5), got 2"),
    "same-id": ({"tool_calls": [call_doc(), call_doc()]}, "'tool_calls' holds two calls with the same 'call_id'"),
    "infinite-time": ({"tool_calls": [call_doc(started_at=float("inf"))]}, "'started_at' must be a finite number"),
    "negative-time": ({"tool_calls": [call_doc(finished_at=-1)]}, "'finished_at' must be a finite number"),
    "tools": ({"tools": ["demo", 7]}, "task 1: 'tools' must be a list of at most 1000 MCP server names"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_a_bad_tool_call_refuses_the_import_and_writes_nothing(case: str, tmp_path: Path) -> None:
    fields, message = BAD_CALLS[case]
    doc = crafted_export([call_doc()], output="before\nafter\n")
    doc["tasks"][0].update(fields)
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(StoreError) as refused:
        import_file(source)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert list_sessions().sessions == [] and not list(paths.sessions_dir().glob("*"))


def test_a_bad_tool_call_is_one_line_and_exit_2_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    doc = crafted_export([call_doc(status="exploded")])
    source = tmp_path / "bad.toml"
    source.write_text(render(doc, "toml"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tui", "import", str(source)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("agentdeck: ") and done.stderr.count("\n") == 1
    assert "tool_calls[0]: 'status' must be one of" in done.stderr
    assert list_sessions().sessions == []


def test_a_task_removed_takes_its_calls_with_it(tmp_path: Path) -> None:
    name = imported(crafted_export([call_doc()]), tmp_path)

    async def remove() -> None:
        engine = Engine(tool_config("http://127.0.0.1:9", DEMO_TOOLS))
        store = SessionStore.open(name)
        store.attach(engine)
        engine.remove(1)
        await store.aclose()
        await engine.aclose()

    asyncio.run(remove())
    conn = sqlite3.connect(paths.sessions_dir() / f"{name}.sqlite")
    try:
        assert conn.execute("SELECT count(*) FROM tool_calls").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM task_tools").fetchone() == (0,)
    finally:
        conn.close()


def test_a_task_whose_mcp_server_is_gone_is_not_continued_and_says_why(tmp_path: Path) -> None:
    import subprocess
    import sys

    doc = crafted_export([call_doc()], status="interrupted", tools=["gone"])
    name = imported(doc, tmp_path)
    done = subprocess.run([sys.executable, "-m", "tui", "resume", name], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 1
    assert "agentdeck: task 1 not resumed: no MCP server named 'gone'" in done.stderr and "Traceback" not in done.stderr

    async def continue_in_app() -> None:
        engine = Engine(tool_config("http://127.0.0.1:9", DEMO_TOOLS))
        store = SessionStore.open(name)
        store.attach(engine)
        try:
            with pytest.raises(EngineError, match="task 1 was offered MCP server 'gone', which is not configured now"):
                engine.prepare_continue(1)
            assert engine.get(1).status is TaskStatus.INTERRUPTED
        finally:
            await store.aclose()
            await engine.aclose()

    asyncio.run(continue_in_app())


def test_an_engine_relaying_a_watched_session_passes_each_call_on() -> None:
    """The app shows a watched session through `Engine.publish`: a TOOL event keeps the call it is about."""
    engine = Engine(tool_config("http://127.0.0.1:9", DEMO_TOOLS))
    heard: list[TaskEvent] = []
    engine.subscribe(heard.append)
    task = Task(1, "p", "chat", "demo-chat", "chat")
    call = ToolCall("call_1", "word_count", "demo", "{}")
    engine.publish(TaskEvent(EventKind.ADDED, task))
    engine.publish(TaskEvent(EventKind.TOOL, task, call))
    assert [(e.kind, e.call) for e in heard] == [(EventKind.ADDED, None), (EventKind.TOOL, call)]
