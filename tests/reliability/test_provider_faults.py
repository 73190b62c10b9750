"""Every provider fault ends in the right status with one line of reason, and harms no other task."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from tests.conftest import config_for
from tui.config import ProviderConfig
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus

FAULTS = [
    ("[[fault:401]]", TaskStatus.FAILED, "401 Unauthorized"),
    ("[[fault:403]]", TaskStatus.FAILED, "403 Forbidden"),
    ("[[fault:404]]", TaskStatus.FAILED, "404 Not Found"),
    ("[[fault:429]][[retry_after:0.05]]", TaskStatus.FAILED, "429 Too Many Requests"),
    ("[[fault:500]]", TaskStatus.FAILED, "500 Internal Server Error"),
    ("[[fault:503]]", TaskStatus.FAILED, "503 Service Unavailable"),
    ("[[drop:5]][[delay:0]]", TaskStatus.INTERRUPTED, "connection to"),
    ("[[cut:5]][[delay:0]]", TaskStatus.INTERRUPTED, "stream ended before the model finished"),
    ("[[malformed:5]][[delay:0]]", TaskStatus.INTERRUPTED, "malformed stream event"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("api", ["chat", "resp"])
async def test_each_fault_is_isolated_and_explained(demo_url: str, api: str) -> None:
    engine = Engine(config_for(demo_url, concurrency=16, max_retries=0))
    healthy = [engine.add_task(f"healthy {i} [[len:400]][[delay:2]]", provider=api) for i in range(3)]
    faulty = [engine.add_task(f"fault {marker}", provider=api) for marker, _, _ in FAULTS]
    await asyncio.gather(*(engine.start(t) for t in healthy + faulty), return_exceptions=True)
    await engine.aclose()
    for task in healthy:
        assert task.status is TaskStatus.DONE and task.text == expected_answer(task.prompt)
    for task, (_, status, reason) in zip(faulty, FAULTS, strict=True):
        assert task.status is status, (task.prompt, task.status, task.error)
        assert task.error is not None and reason in task.error, (task.prompt, task.error)
        assert "\n" not in task.error and "Traceback" not in task.error and len(task.error) < 240


async def test_silent_stream_hits_the_read_timeout_or_task_timeout(demo_url: str) -> None:
    engine = Engine(config_for(demo_url))
    task = engine.add_task("quiet [[silent:60]][[delay:0]]", timeout=0.8)
    await engine.run_task(task)
    await engine.aclose()
    assert task.status is TaskStatus.TIMED_OUT and task.chars == 24


async def test_five_megabyte_answer_arrives_whole(demo_url: str) -> None:
    engine = Engine(config_for(demo_url))
    prompt = "huge [[len:5000000]][[chunk:4000]][[delay:0]]"
    task = engine.add_task(prompt)
    await engine.run_task(task)
    await engine.aclose()
    assert task.status is TaskStatus.DONE and task.text == expected_answer(prompt)


@pytest.mark.parametrize(
    "url_for",
    [
        lambda demo: f"http://127.0.0.1:{free_port()}/v1",
        lambda demo: "http://no-such-host.invalid/v1",
        lambda demo: demo.replace("http://", "https://"),
    ],
    ids=["refused", "unknown-host", "tls-to-plain-http"],
)
async def test_unreachable_provider_fails_with_reason(demo_url: str, url_for: Callable[[str], str]) -> None:
    config = config_for("http://unused", max_retries=0)
    broken = ProviderConfig("broken", "chat", "m", base_url=url_for(demo_url), max_retries=0)
    engine = Engine(config.with_overrides(providers={**config.providers, "broken": broken}))
    task = engine.add_task("anyone there?", provider="broken")
    await engine.run_task(task)
    await engine.aclose()
    assert task.status is TaskStatus.FAILED and "connection to" in (task.error or "")
