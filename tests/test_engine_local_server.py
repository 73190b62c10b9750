"""Providers with no `base_url` (the built-in demo ones) are served by the local server the caller gives the engine."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tui.config import parse_config
from tui.cli.demo_on_demand import DemoServerOnDemand
from tui.engine import Engine, TaskStatus


class CountingDemoServer(DemoServerOnDemand):
    """The CLI's on-demand demo server, counting how often the engine starts and stops it."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = self.stops = 0

    def start(self) -> str:
        self.starts += 1
        return super().start()

    def stop(self) -> None:
        self.stops += 1
        super().stop()


async def test_the_demo_server_starts_once_on_first_use_and_stops_on_close() -> None:
    server = CountingDemoServer()
    engine = Engine(parse_config({}, Path("test-config.toml"), environ={}), local_server=server)
    providers = ["demo", "demo-responses", "demo"]
    tasks = [engine.add_task(f"first use {n} [[delay:0]]", provider=name) for n, name in enumerate(providers)]
    assert server.starts == 0
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    assert [task.status for task in tasks] == [TaskStatus.DONE] * 3, [task.error for task in tasks]
    url = urlsplit(await engine.clients.base_url(engine.config.provider("demo")))
    assert (url.hostname, server.starts, server.stops) == ("127.0.0.1", 1, 0)
    await engine.aclose()
    assert server.stops == 1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((url.hostname, url.port), timeout=2).close()


async def test_without_a_local_server_a_demo_task_fails_with_a_reason_and_sends_nothing() -> None:
    engine = Engine(parse_config({}, Path("test-config.toml"), environ={}))
    task = engine.add_task("nowhere to go", provider="demo")
    await engine.run_task(task)
    await engine.aclose()
    assert task.status is TaskStatus.FAILED
    assert task.error == "provider 'demo' has no base_url and no local server serves it"
