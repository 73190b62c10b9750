"""Scheduling over real HTTP: per-provider lanes, waiting out 429s, continuing drops, adaptive lanes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import config_for
from tui.config import Config, ConfigError, parse_config
from tui.demo.script import expected_answer
from tui.demo.server import DemoServerThread
from tui.engine import Engine, EventKind, Task, TaskStatus
from tui.engine.scheduling import PROBE_AFTER


@pytest.fixture
def capped() -> Iterator[DemoServerThread]:
    """A provider that allows two streams per model and answers 429 beyond."""
    with DemoServerThread(max_streams_per_model=2) as server:
        yield server


def lanes_of(config: Config, limit: int) -> Config:
    """The config with a per-provider `concurrency` on each provider."""
    providers = {name: replace(spec, concurrency=limit) for name, spec in config.providers.items()}
    return config.with_overrides(providers=providers)


def notices(engine: Engine) -> list[str]:
    seen: list[str] = []
    engine.subscribe(lambda event: seen.append(event.task.notice) if event.task.notice else None)
    return seen


async def run_all(engine: Engine, tasks: list[Task]) -> None:
    await asyncio.gather(*(engine.start(task) for task in tasks))


async def test_a_provider_never_streams_more_than_its_concurrency(demo: DemoServerThread) -> None:
    demo.reset_stats()
    engine = Engine(lanes_of(config_for(demo.base_url, concurrency=8), 2))
    seen = notices(engine)
    tasks = [engine.add_task(f"lane {n} [[len:300]][[delay:5]]") for n in range(6)]
    await run_all(engine, tasks)
    assert all(task.status is TaskStatus.DONE for task in tasks)
    assert demo.stats()["max_streams_by_model"]["demo-chat"] == 2
    assert "waiting: chat 2/2" in seen
    assert all(task.notice is None for task in tasks)
    await engine.aclose()


async def test_a_task_held_by_the_global_limit_says_so_without_naming_a_provider(demo: DemoServerThread) -> None:
    engine = Engine(config_for(demo.base_url, concurrency=2))
    seen = notices(engine)
    tasks = [engine.add_task(f"global {n} [[len:300]][[delay:5]]") for n in range(4)]
    await run_all(engine, tasks)
    assert all(task.status is TaskStatus.DONE for task in tasks)
    assert "waiting: 2/2 running" in seen
    assert not any(notice.startswith("waiting: chat") for notice in seen)
    await engine.aclose()


async def test_a_provider_limit_raised_while_running_takes_effect_at_once(demo: DemoServerThread) -> None:
    demo.reset_stats()
    engine = Engine(lanes_of(config_for(demo.base_url, concurrency=8), 1))
    tasks = [engine.add_task(f"raise {n} [[len:400]][[delay:10]]") for n in range(6)]
    runners = [engine.start(task) for task in tasks]
    while tasks[0].status is not TaskStatus.RUNNING:
        await asyncio.sleep(0.01)
    engine.scheduler.set_provider_concurrency("chat", 3)
    await asyncio.gather(*runners)
    assert demo.stats()["max_streams_by_model"]["demo-chat"] == 3
    await engine.aclose()


@pytest.mark.parametrize("dated", ["", "[[retry_date]]"])
async def test_a_429_is_waited_out_without_counting_against_the_timeout(demo: DemoServerThread, dated: str) -> None:
    engine = Engine(config_for(demo.base_url))
    await engine.run_task(engine.add_task("warm up the client [[len:10]]"))
    seen = notices(engine)
    prompt = f"limited {dated} [[fault:429]][[fail_times:1]][[retry_after:1]][[len:100]][[delay:1]]"
    started = time.monotonic()
    task = await asyncio.wait_for(engine.run_task(engine.add_task(prompt, timeout=0.8)), 10)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    waited = time.monotonic() - started
    assert task.elapsed() < 0.8 and (dated or waited >= 1.0)
    # An HTTP date has whole seconds: the time it names may already have come, with nothing left to show.
    assert dated or any(notice.startswith("rate limited, retry in ") for notice in seen)
    assert task.notice is None
    await engine.aclose()


async def test_429s_beyond_max_retries_fail_the_task_only(demo: DemoServerThread) -> None:
    engine = Engine(config_for(demo.base_url, max_retries=2))
    refused = engine.add_task("always limited [[fault:429]][[retry_after:0.05]]")
    fine = engine.add_task("fine [[len:100]][[delay:0]]")
    demo.reset_stats()
    await run_all(engine, [refused, fine])
    assert fine.status is TaskStatus.DONE
    assert refused.status is TaskStatus.FAILED
    assert (refused.error or "").startswith("429 Too Many Requests: rate limited, retries used up")
    assert demo.stats()["requests"]["POST /v1/chat/completions"] == 3 + 1
    await engine.aclose()


async def test_a_rate_limited_task_gives_its_place_to_the_next(demo: DemoServerThread) -> None:
    engine = Engine(config_for(demo.base_url, concurrency=1))
    limited = engine.add_task("slow limit [[fault:429]][[fail_times:1]][[retry_after:1.5]][[len:50]]")
    other = engine.add_task("meanwhile [[len:100]][[delay:0]]")
    await run_all(engine, [limited, other])
    assert limited.status is other.status is TaskStatus.DONE
    assert other.finished_at is not None and limited.finished_at is not None
    assert other.finished_at < limited.finished_at
    await engine.aclose()


@pytest.mark.parametrize("fault", ["drop", "cut"])
@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_a_dropped_stream_is_continued_by_itself_keeping_its_text(
    demo: DemoServerThread, fault: str, provider: str
) -> None:
    engine = Engine(config_for(demo.base_url, auto_continue=2))
    prompt = f"continue alone {fault} [[len:1500]][[delay:0]][[{fault}:20]]"
    task = await engine.run_task(engine.add_task(prompt, provider=provider))
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert (task.notice or "").startswith("continued by itself after: ")
    await engine.aclose()


async def test_lanes_halve_on_429_and_come_back_after_successes(capped: DemoServerThread) -> None:
    engine = Engine(lanes_of(config_for(capped.base_url, concurrency=16, max_retries=10), 8))
    lanes = engine.scheduler.lanes("chat")
    effective: list[int] = []
    engine.subscribe(lambda event: effective.append(lanes.effective) if event.kind is EventKind.STATUS else None)
    tasks = [engine.add_task(f"adapt {n} [[len:200]][[delay:5]]") for n in range(16)]
    await run_all(engine, tasks)
    assert all(task.status is TaskStatus.DONE for task in tasks), [t.error for t in tasks]
    assert min(effective) <= 4 and lanes.throttled
    assert capped.stats()["max_streams_by_model"]["demo-chat"] == 2
    capped.server.stats.models.cap = None
    lowered = lanes.effective
    more = [engine.add_task(f"recover {n} [[len:50]][[delay:0]]") for n in range(PROBE_AFTER * 8)]
    await run_all(engine, more)
    assert lanes.effective > lowered
    await engine.aclose()


def test_provider_concurrency_and_auto_continue_come_from_the_config_file() -> None:
    provider = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "concurrency": 2, "auto_continue": 0}
    config = parse_config({"auto_continue": 1, "providers": {"x": provider}}, Path("c.toml"), environ={})
    assert config.auto_continue == 1
    assert (config.providers["x"].concurrency, config.providers["x"].auto_continue) == (2, 0)
    with pytest.raises(ConfigError, match=r"providers\.x\.concurrency"):
        parse_config({"providers": {"x": provider | {"concurrency": 0}}}, Path("c.toml"), environ={})


async def test_a_stream_that_keeps_dropping_is_continued_auto_continue_times_then_interrupted() -> None:
    requests = 0

    async def always_drops(request: web.Request) -> web.StreamResponse:
        """A Chat Completions stream that sends some text, then breaks the connection, every time."""
        nonlocal requests
        requests += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for delta in ({"role": "assistant", "content": ""}, {"content": f"part {requests}. "}):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        assert request.transport is not None
        request.transport.abort()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", always_drops)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    engine = Engine(config_for(f"http://127.0.0.1:{port}/v1", auto_continue=1))
    try:
        task = await engine.run_task(engine.add_task("never finishes"))
        assert task.status is TaskStatus.INTERRUPTED
        assert requests == 2
        assert task.text == "part 1. part 2. "
    finally:
        await engine.aclose()
        await runner.cleanup()
