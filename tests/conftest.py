"""Shared fixtures: an isolated home for config/data, and demo servers over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import pytest_asyncio

from tui.config import Config, ProviderConfig, parse_config
from tui.demo.server import DemoServerThread
from tui.engine import Engine


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config file location and data directory."""
    monkeypatch.setenv("AGENTDECK_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("AGENTDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServerThread]:
    server = DemoServerThread()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServerThread]:
    """A demo server of the module's own, for tests that read or change its state."""
    with DemoServerThread() as server:
        yield server


@pytest_asyncio.fixture
async def client(demo: DemoServerThread) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real `openai` SDK pointed at the module's demo server, without retries."""
    sdk = openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=0)
    yield sdk
    await sdk.close()


@pytest_asyncio.fixture
async def engine(demo_server: DemoServerThread) -> AsyncIterator[Engine]:
    """An engine on the shared demo server with the default test config; modules that need another define their own."""
    engine = Engine(config_for(demo_server.base_url))
    yield engine
    await engine.aclose()


@pytest.fixture
def demo_url(demo_server: DemoServerThread) -> str:
    return demo_server.base_url


def config_for(
    base_url: str, *, concurrency: int = 4, timeout: float | None = None, auto_continue: int = 0,
    streams: str = "thread", **provider: Any
) -> Config:
    """A config whose providers `chat` and `resp` talk to the given server.

    Drops are not continued by themselves unless `auto_continue` says so: most tests look at one run.
    Streams are read on a thread of the test's process unless `streams="process"`: most tests do not
    depend on where (tests/test_worker*.py do), and a worker process per test costs a second.
    """
    config = parse_config({}, Path("test-config.toml"), environ={})
    providers = dict(config.providers)
    providers["chat"] = ProviderConfig("chat", "chat", "demo-chat", base_url=base_url, **provider)
    providers["resp"] = ProviderConfig("resp", "responses", "demo-responses", base_url=base_url, **provider)
    return config.with_overrides(
        providers=providers, default_provider="chat", concurrency=concurrency, timeout=timeout,
        auto_continue=auto_continue, streams=streams,
    )
