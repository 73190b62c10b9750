"""Tasks that call MCP tools: the demo model over real HTTP, real MCP servers over stdio and Streamable HTTP.

One client factory serves the module, so each MCP server process starts once
(seconds each) and is shared by the tests, as the app shares it by its tasks.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_helpers import SharedDemoServer
from tests.mcp_helpers import DEMO_TOOLS, demo_mcp_over_http, engine_for, tool_config, wait_for
from tui.config_mcp import McpServerConfig
from tui.demo.tools import expected_tool_answer
from tui.engine import EngineError, EventKind, TaskEvent, TaskStatus, ToolCallStatus
from tui.engine.clients import ClientFactory

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clients(demo_server: object) -> Iterator[ClientFactory]:
    factory = ClientFactory(SharedDemoServer(demo_server.base_url))  # type: ignore[attr-defined]
    yield factory
    asyncio.run(factory.close())


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_a_tool_result_reaches_the_model_and_the_final_text(
    demo_url: str, clients: ClientFactory, provider: str
) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    seen: list[tuple[str, str]] = []

    def observe(event: TaskEvent) -> None:
        if event.kind is EventKind.TOOL and event.call is not None:
            seen.append((str(event.call.status), event.call.call_id))

    engine.subscribe(observe)
    prompt = '[[tool:word_count {"text": "two words"}]] [[len:60]] count them'
    task = engine.add_task(prompt, provider=provider)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    result = "2 words, 1 lines, 9 characters"
    assert task.text == expected_tool_answer(prompt, [("word_count", result)])
    [call] = task.tool_calls
    assert call.summary() | {"elapsed_s": 0} == {
        "name": "word_count", "server": "demo", "arguments": '{"text": "two words"}', "result": result,
        "error": None, "status": "done", "elapsed_s": 0,
    }
    assert call.offset == 0 and call.elapsed_s < 5
    assert seen == [("running", call.call_id), ("done", call.call_id)]
    assert task.summary()["tool_calls"] == [call.summary()]


async def test_mcp_server_time_over_stdio(demo_url: str, clients: ClientFactory) -> None:
    time_server = McpServerConfig("time", command="mcp-server-time", args=("--local-timezone", "UTC"))
    engine = engine_for(tool_config(demo_url, time_server), clients)
    prompt = '[[tool:get_current_time {"timezone": "Asia/Tokyo"}]] [[len:40]] what time is it'
    task = engine.add_task(prompt)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    [call] = task.tool_calls
    assert (call.server, call.status) == ("time", ToolCallStatus.DONE)
    assert json.loads(call.result or "")["timezone"] == "Asia/Tokyo"
    assert task.text == expected_tool_answer(prompt, [("get_current_time", call.result or "")])


async def test_mcp_server_git_on_a_temporary_repository(
    demo_url: str, clients: ClientFactory, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(repo)], check=True)
    (repo / "notes.txt").write_text("hello\n", encoding="utf-8")
    git_server = McpServerConfig("git", command="mcp-server-git", args=("--repository", str(repo)))
    engine = engine_for(tool_config(demo_url, git_server), clients)
    prompt = f'[[tool:git_status {{"repo_path": "{repo}"}}]] [[len:40]] status?'
    task = engine.add_task(prompt)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    [call] = task.tool_calls
    assert call.status is ToolCallStatus.DONE and "notes.txt" in (call.result or "")
    assert "notes.txt" in task.text


async def test_streamable_http_server(demo_url: str, clients: ClientFactory) -> None:
    with demo_mcp_over_http() as url:
        web = McpServerConfig("web", url=url)
        engine = engine_for(tool_config(demo_url, web), clients)
        task = engine.add_task('[[tool:word_count {"text": "a b c"}]] [[len:40]] count')
        await engine.run_task(task)
        await clients.streams.run(clients.mcp.close())
    assert task.status is TaskStatus.DONE, task.error
    assert [(c.server, c.result) for c in task.tool_calls] == [("web", "3 words, 1 lines, 5 characters")]


async def test_a_missing_server_fails_the_task_saying_why(demo_url: str, clients: ClientFactory) -> None:
    gone = McpServerConfig("gone", command="agentdeck-no-such-mcp-server")
    engine = engine_for(tool_config(demo_url, gone), clients)
    task = engine.add_task("[[len:40]] anything")
    await engine.run_task(task)
    assert task.status is TaskStatus.FAILED
    assert task.error == (
        "MCP server 'gone' did not start: command 'agentdeck-no-such-mcp-server' not found"
        " (is it installed and on PATH?)"
    )
    assert task.chars == 0


async def test_a_server_crashing_mid_call_fails_that_call_and_restarts_for_the_next(
    demo_url: str, clients: ClientFactory
) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    prompt = '[[tool:crash]] [[tool:word_count {"text": "still here"}]] [[len:40]] go'
    task = engine.add_task(prompt)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    crashed, after = task.tool_calls
    died = "MCP server 'demo' stopped during the call (connection closed); it restarts on the next call"
    assert (crashed.status, crashed.error) == (ToolCallStatus.FAILED, died)
    assert (after.status, after.result) == (ToolCallStatus.DONE, "2 words, 1 lines, 10 characters")
    assert f"Tool crash returned: Error: {died}" in task.text


async def test_a_call_past_tool_timeout_fails_and_the_task_goes_on(demo_url: str, clients: ClientFactory) -> None:
    slow = McpServerConfig(**{**vars(DEMO_TOOLS), "tool_timeout": 1.0})
    engine = engine_for(tool_config(demo_url, slow), clients)
    started = time.monotonic()
    task = engine.add_task('[[tool:sleep {"seconds": 30}]] [[len:40]] wait')
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    [call] = task.tool_calls
    assert (call.status, call.error) == (ToolCallStatus.TIMED_OUT, "tool sleep timed out after 1 s")
    assert "Tool sleep returned: Error: tool sleep timed out after 1 s" in task.text
    assert time.monotonic() - started < 15


async def test_cancelling_a_task_during_a_call_cancels_the_call(demo_url: str, clients: ClientFactory) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    task = engine.add_task('[[tool:sleep {"seconds": 60}]] [[len:40]] wait')
    runner = engine.start(task)
    await wait_for(lambda: task.tool_calls and task.tool_calls[0].status is ToolCallStatus.RUNNING)
    started = time.monotonic()
    assert engine.cancel(task.id)
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert time.monotonic() - started < 3
    assert task.status is TaskStatus.CANCELLED
    [call] = task.tool_calls
    assert call.status is ToolCallStatus.CANCELLED and call.finished_at is not None
    # The server is fine: the next task's call runs at once.
    again = engine.add_task('[[tool:word_count {"text": "x"}]] [[len:20]] again')
    await engine.run_task(again)
    assert [c.status for c in again.tool_calls] == [ToolCallStatus.DONE]


async def test_max_tool_rounds_fails_the_task_keeping_text_and_calls(demo_url: str, clients: ClientFactory) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS, max_tool_rounds=2), clients)
    task = engine.add_task('[[tool:word_count {"text": "x"}]] [[tool_rounds:5]] [[len:40]] loop')
    await engine.run_task(task)
    assert task.status is TaskStatus.FAILED
    assert task.error == "stopped: the model wanted more than 2 tool rounds (max_tool_rounds)"
    assert [c.status for c in task.tool_calls] == [ToolCallStatus.DONE, ToolCallStatus.DONE]


async def test_two_servers_offering_one_name_refuse_the_task(demo_url: str, clients: ClientFactory) -> None:
    twin = McpServerConfig(**{**vars(DEMO_TOOLS), "name": "twin"})
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS, twin), clients)
    task = engine.add_task("[[len:40]] which clock?")
    await engine.run_task(task)
    assert task.status is TaskStatus.FAILED and task.chars == 0
    assert task.error is not None and "offered by both MCP servers 'demo' and 'twin'" in task.error


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_interrupted_after_a_call_continues_without_calling_again(
    demo_url: str, clients: ClientFactory, provider: str
) -> None:
    engine = engine_for(tool_config(demo_url, DEMO_TOOLS), clients)
    prompt = '[[tool:word_count {"text": "one two three"}]] [[len:400]] [[chunk:10]] [[drop:5]] go'
    task = engine.add_task(prompt, provider=provider)
    await engine.run_task(task)
    assert task.status is TaskStatus.INTERRUPTED, task.error
    assert [c.status for c in task.tool_calls] == [ToolCallStatus.DONE]
    engine.prepare_continue(task.id)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    assert len(task.tool_calls) == 1
    assert task.text == expected_tool_answer(prompt, [("word_count", "3 words, 1 lines, 13 characters")])


def test_no_tool_server_outlives_run_after_sigterm(tmp_path: Path) -> None:
    """`agentdeck run` stopped by SIGTERM during a call leaves no MCP server process behind."""
    from tests.mcp_helpers import command_line, descendant_pids, is_alive

    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    args = json.dumps(list(DEMO_TOOLS.args))
    config.write_text(f'[mcp.demo]\ncommand = {json.dumps(sys.executable)}\nargs = {args}\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", "--provider", "demo", "--tools", "demo",
         '[[tool:sleep {"seconds": 120}]] wait', "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AGENTDECK_CONFIG": str(config)},
    )
    servers: list[int] = []
    deadline = time.monotonic() + 60
    while not servers and time.monotonic() < deadline and process.poll() is None:
        servers = [pid for pid in descendant_pids(process.pid) if "tui.demo.mcp_server" in command_line(pid)]
        time.sleep(0.1)
    assert servers, "the demo MCP server never started"
    time.sleep(3)  # well inside the call
    process.send_signal(15)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    [task] = [json.loads(line) for line in out.splitlines()]
    assert task["status"] == "interrupted"
    assert [c["status"] for c in task["tool_calls"]] in ([], ["cancelled"])
    time.sleep(0.5)
    assert not [pid for pid in servers if is_alive(pid)]


@pytest.mark.parametrize(
    ("answer", "statuses"),
    [
        ("once", ["done", "done"]),  # asked twice
        ("always", ["done", "done"]),  # asked once
        ("deny", ["denied", "denied"]),
    ],
)
async def test_an_ask_tool_waits_for_the_operator(
    demo_url: str, clients: ClientFactory, answer: str, statuses: list[str]
) -> None:
    asking = McpServerConfig(**{**vars(DEMO_TOOLS), "approve": "ask"})
    engine = engine_for(tool_config(demo_url, asking), clients)
    task = engine.add_task('[[tool:word_count {"text": "a"}]] [[tool:word_count {"text": "b"}]] [[len:40]] two')
    runner = engine.start(task)
    questions = 0
    while not task.status.is_final:
        await wait_for(lambda: task.status is TaskStatus.WAITING or task.status.is_final)
        if task.status is TaskStatus.WAITING:
            [call] = task.waiting_calls
            assert call.status is ToolCallStatus.WAITING and call.name == "word_count"
            await asyncio.sleep(0.3)  # nothing moves while it waits
            assert task.status is TaskStatus.WAITING and call.result is None
            questions += 1
            engine.answer_approval(task.id, call.call_id, answer)
            with pytest.raises(EngineError, match="not waiting for approval"):
                engine.answer_approval(task.id, call.call_id, answer)
            await wait_for(lambda: task.status is not TaskStatus.WAITING)
    await runner
    assert task.status is TaskStatus.DONE, task.error
    assert [str(c.status) for c in task.tool_calls] == statuses
    assert questions == (1 if answer == "always" else 2)
    if answer == "deny":
        assert task.tool_calls[0].error == "tool word_count was not run: the operator denied it"


async def test_cancelling_a_waiting_task_withdraws_the_question(demo_url: str, clients: ClientFactory) -> None:
    asking = McpServerConfig(**{**vars(DEMO_TOOLS), "approve": "ask"})
    engine = engine_for(tool_config(demo_url, asking), clients)
    task = engine.add_task('[[tool:clock]] [[len:40]] time?')
    runner = engine.start(task)
    await wait_for(lambda: task.status is TaskStatus.WAITING)
    call_id = task.waiting_calls[0].call_id
    engine.cancel(task.id)
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert task.status is TaskStatus.CANCELLED
    assert [c.status for c in task.tool_calls] == [ToolCallStatus.CANCELLED]
    with pytest.raises(EngineError):
        engine.answer_approval(task.id, call_id, "once")


async def test_a_waiting_task_lets_queued_tasks_run(demo_url: str, clients: ClientFactory) -> None:
    asking = McpServerConfig(**{**vars(DEMO_TOOLS), "approve": "ask"})
    engine = engine_for(tool_config(demo_url, asking).with_overrides(concurrency=1), clients)
    waiting = engine.add_task('[[tool:word_count {"text": "a"}]] [[len:40]] first')
    queued = engine.add_task("[[len:40]] [[delay:0]] second", tools=[])
    runners = [engine.start(waiting), engine.start(queued)]
    await wait_for(lambda: waiting.status is TaskStatus.WAITING)
    await wait_for(lambda: queued.status is TaskStatus.DONE)
    assert waiting.status is TaskStatus.WAITING
    engine.answer_approval(waiting.id, waiting.waiting_calls[0].call_id, "once")
    await asyncio.gather(*runners)
    assert waiting.status is TaskStatus.DONE and waiting.tool_calls[0].status is ToolCallStatus.DONE
