"""Streams read in the worker process (`streams = "process"`, the default) keep every promise of the engine.

Over real HTTP to the demo server; the worker is a real child process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import config_for
from tests.mcp_helpers import DEMO_TOOLS, tool_config
from tui.config import Config, ConfigError, ProviderConfig, describe, parse_config
from tui.config_mcp import McpServerConfig
from tui.demo.script import expected_answer
from tui.demo.server import DemoServerThread
from tui.demo.tools import expected_tool_answer
from tui.engine import Engine, Task, TaskStatus, ToolCallStatus


def process_config(demo: DemoServerThread, **options: Any) -> Config:
    return config_for(demo.base_url, streams="process", **options)


@pytest.fixture
async def engine(demo: DemoServerThread) -> AsyncIterator[Engine]:
    engine = Engine(process_config(demo))
    yield engine
    await engine.aclose()


async def run_one(engine: Engine, prompt: str, **options: Any) -> Task:
    task = engine.add_task(prompt, **options)
    await engine.run_task(task)
    return task


async def until(predicate: Any, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_done_tasks_have_the_exact_text(engine: Engine, provider: str) -> None:
    prompts = [f"worker exact {provider} {i} [[len:4000]][[chunk:7]][[delay:0.5]]" for i in range(3)]
    tasks = [engine.add_task(prompt, provider=provider) for prompt in prompts]
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    for task, prompt in zip(tasks, prompts, strict=True):
        assert task.status is TaskStatus.DONE, task.error
        assert task.text == expected_answer(prompt)
        assert task.usage.total_tokens
    assert engine.clients.worker is not None and engine.clients.worker.pid != os.getpid()


async def test_cancel_closes_the_stream_within_a_second(engine: Engine, demo: DemoServerThread) -> None:
    task = engine.add_task("worker cancel [[len:20000]][[delay:20]]")
    runner = engine.start(task)
    await until(lambda: task.chars > 0)
    assert demo.stats()["open_streams"] == 1
    engine.cancel(task.id)
    cancelled = time.monotonic()
    await asyncio.gather(runner, return_exceptions=True)
    await until(lambda: demo.stats()["open_streams"] == 0, timeout=1.0)
    assert time.monotonic() - cancelled < 1.0
    assert task.status is TaskStatus.CANCELLED


@pytest.mark.slow  # seconds: kept out of the inner loop, run by the whole suite
async def test_provider_errors_read_as_in_process(demo: DemoServerThread) -> None:
    """The rebuilt exceptions give the same messages, statuses and retries as the real ones."""
    prompts = [
        "errors [[fault:401]]", "errors [[fault:403]]", "errors [[fault:404]]", "errors [[fault:500]]",
        "errors [[len:900]][[malformed:3]]", "errors [[len:900]][[drop:3]]",
    ]
    results: dict[str, list[tuple[TaskStatus, str | None]]] = {}
    for mode in ("thread", "process"):
        engine = Engine(config_for(demo.base_url, streams=mode, max_retries=0))
        try:
            tasks = [await run_one(engine, prompt) for prompt in prompts]
            results[mode] = [(task.status, task.error) for task in tasks]
        finally:
            await engine.aclose()
    assert results["process"] == results["thread"]
    assert results["process"][0][0] is TaskStatus.FAILED and results["process"][0][1].startswith("401 Unauthorized")
    assert results["process"][5][0] is TaskStatus.INTERRUPTED


async def test_a_429_retry_after_is_waited_out(engine: Engine) -> None:
    started = time.monotonic()
    prompt = "worker refused [[fault:429]][[retry_after:0.6]][[fail_times:1]][[len:300]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert time.monotonic() - started >= 0.6


async def test_a_missing_key_fails_saying_which_variable(demo: DemoServerThread) -> None:
    config = process_config(demo)
    remote = ProviderConfig(
        "remote", "chat", "m", base_url="https://example.invalid/v1", api_key_env="AGENTDECK_NO_KEY"
    )
    engine = Engine(config.with_overrides(providers={**config.providers, "remote": remote}))
    try:
        task = await run_one(engine, "needs a key", provider="remote")
    finally:
        await engine.aclose()
    assert task.status is TaskStatus.FAILED
    assert task.error == "AGENTDECK_NO_KEY is not set (provider 'remote' reads its key from it)"


@pytest.mark.slow  # seconds: kept out of the inner loop, run by the whole suite
async def test_timeout_and_idle_timeout(demo: DemoServerThread) -> None:
    engine = Engine(replace(process_config(demo, timeout=1.0), idle_timeout=1.5))
    try:
        await asyncio.to_thread(engine.clients.prepare)  # the app starts the worker early: its imports are no idle time
        timed = await run_one(engine, "worker timeout [[len:20000]][[delay:20]]")
        idle = await run_one(engine, "worker idle [[len:900]][[silent:5]]", timeout=None)
    finally:
        await engine.aclose()
    assert timed.status is TaskStatus.TIMED_OUT and timed.error == "timed out after 1 s of running time"
    assert 0 < timed.chars < 20000
    assert idle.status is TaskStatus.TIMED_OUT and "no output for" in (idle.error or "")
    await until(lambda: demo.stats()["open_streams"] == 0, timeout=1.0)


async def test_a_dropped_stream_continues_to_the_exact_text(engine: Engine) -> None:
    prompt = "worker drop [[len:3000]][[delay:0]][[drop:40]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.INTERRUPTED
    await engine.run_task(engine.prepare_continue(task.id))
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)


@pytest.mark.slow  # seconds: kept out of the inner loop, run by the whole suite
async def test_a_background_response_is_reattached_by_the_next_app(demo: DemoServerThread) -> None:
    prompt = "worker reattach [[len:3000]][[delay:5]]"
    first = Engine(process_config(demo))
    task = first.add_task(prompt, provider="resp")
    runner = first.start(task)
    await until(lambda: task.chars > 200 and task.continuation_token is not None)
    first.interrupt_all()
    await asyncio.gather(runner, return_exceptions=True)
    await first.aclose()
    assert task.status is TaskStatus.INTERRUPTED and task.is_native_background
    second = Engine(process_config(demo))
    second.adopt([task])
    try:
        await second.run_task(second.prepare_continue(task.id))
    finally:
        await second.aclose()
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert task.notice is None  # re-attached, not continued in the session


async def test_a_killed_worker_leaves_tasks_interrupted_and_a_new_one_continues(engine: Engine) -> None:
    prompt = "worker killed [[len:6000]][[delay:10]]"
    task = engine.add_task(prompt)
    runner = engine.start(task)
    await until(lambda: task.chars > 100)
    worker = engine.clients.worker
    assert worker is not None and worker.pid is not None
    first = worker.pid
    os.kill(first, signal.SIGKILL)
    await asyncio.wait_for(runner, 5)
    assert task.status is TaskStatus.INTERRUPTED
    assert task.error == "the stream worker stopped (killed by signal 9); continue to resume"
    await asyncio.sleep(0.3)
    assert task.status is TaskStatus.INTERRUPTED  # not continued by itself
    await engine.run_task(engine.prepare_continue(task.id))
    assert task.status is TaskStatus.DONE, task.error
    assert worker.pid not in (None, first)
    assert not alive(first)
    assert task.text == expected_answer(prompt)


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_an_mcp_tool_asked_for_is_approved_from_this_process(demo: DemoServerThread, provider: str) -> None:
    asking = McpServerConfig(**{**vars(DEMO_TOOLS), "approve": "ask"})
    engine = Engine(tool_config(demo.base_url, asking).with_overrides(streams="process"))
    prompt = '[[tool:word_count {"text": "two words"}]] [[len:60]] count them'
    try:
        task = engine.add_task(prompt, provider=provider)
        runner = engine.start(task)
        await until(lambda: task.status is TaskStatus.WAITING or task.status.is_final, timeout=60)
        [call] = task.waiting_calls
        engine.answer_approval(task.id, call.call_id, "once")
        await asyncio.wait_for(runner, 30)
    finally:
        await engine.aclose()
    assert task.status is TaskStatus.DONE, task.error
    result = "2 words, 1 lines, 9 characters"
    assert task.text == expected_tool_answer(prompt, [("word_count", result)])
    assert [(c.status, c.result) for c in task.tool_calls] == [(ToolCallStatus.DONE, result)]


@pytest.mark.slow  # seconds: kept out of the inner loop, run by the whole suite
async def test_an_mcp_server_that_does_not_start_fails_the_task_saying_why(demo: DemoServerThread) -> None:
    gone = McpServerConfig("gone", command="agentdeck-no-such-mcp-server")
    engine = Engine(tool_config(demo.base_url, gone).with_overrides(streams="process"))
    try:
        task = await run_one(engine, "[[len:40]] anything")
    finally:
        await engine.aclose()
    assert task.status is TaskStatus.FAILED
    assert task.error == (
        "MCP server 'gone' did not start: command 'agentdeck-no-such-mcp-server' not found"
        " (is it installed and on PATH?)"
    )


def test_the_streams_setting_is_checked_and_shown(tmp_path: Path) -> None:
    assert parse_config({}, tmp_path / "c.toml").streams == "process"
    assert parse_config({"streams": "thread"}, tmp_path / "c.toml").streams == "thread"
    with pytest.raises(ConfigError, match="key .streams.: must be .process. or .thread., got str .fork."):
        parse_config({"streams": "fork"}, tmp_path / "c.toml")
    assert 'streams = "process"' in describe(parse_config({}, tmp_path / "c.toml"))
