"""Builds Agent Framework agents for providers; heavy imports happen on first use.

The stream worker's proxy, the stream loop and the MCP servers are made (and their modules imported) when
first used, not with the factory: `agentdeck` builds its engine before its first frame, and a task runs later.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tui.config import ProviderConfig
from tui.engine.errors import MissingKeyError as MissingKeyError  # re-exported: raised here
from tui.engine.errors import NoServerError as NoServerError
from tui.engine.task import Usage

if TYPE_CHECKING:
    import openai
    from agent_framework import Agent

    from tui.config_mcp import McpServerConfig
    from tui.engine.mcp_servers import McpServers
    from tui.engine.stream_loop import StreamLoop
    from tui.engine.worker_proxy import StreamWorker

_Part = TypeVar("_Part")

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 600.0
MAX_AGENTS = 32


class LocalServer(Protocol):
    """Serves the providers that have no `base_url` (the caller decides which server that is).

    Both methods block; the factory calls them off the event loop, `start` once
    on the first request of such a provider and `stop` on close if it started.
    """

    def start(self) -> str:
        """Start serving and return the `/v1` base URL."""
        ...

    def stop(self) -> None: ...


class ClientFactory:
    """One SDK client per provider (shared connection pool), one agent per provider, model and instructions.

    Agents hold no conversation (each task brings its own AgentSession), so tasks
    share them. Building one per task leaked: each chat client and agent registers
    OpenTelemetry meters that the global proxy meter provider keeps forever
    (measured in a soak, see docs/performance.md). The `local_server` (for
    providers with no `base_url`) is started the first time one of their tasks runs.

    SDK clients bind their connection pools to the loop that first uses them,
    so clients and agents are used only where streams are read: in the stream
    worker process (`streams = "process"`, `worker`), or on `streams`, a loop on a
    thread of this one (`"thread"`); `agent` and `sdk_client` are for coroutines there.
    """

    def __init__(self, local_server: LocalServer | None = None, *, streams: str = "thread") -> None:
        self._in_worker = streams == "process"
        self._parts: dict[str, Any] = {}
        self._parts_lock = threading.Lock()
        self._mcp_configs: Mapping[str, McpServerConfig] = {}
        self._sdk_clients: dict[str, openai.AsyncOpenAI] = {}
        self._agents: OrderedDict[tuple[str, str, str | None], Agent] = OrderedDict()
        self._local_server = local_server
        self._local_url: str | None = None
        self._started_server: LocalServer | None = None
        self._local_lock = asyncio.Lock()

    @property
    def streams(self) -> StreamLoop:
        """The loop of a thread where streams are read in this process (`streams = "thread"`) and MCP servers run."""
        return self._part("streams", _new_stream_loop)

    @property
    def worker(self) -> StreamWorker | None:
        """The stream worker process, when streams are read there (None: on `streams`)."""
        return self._part("worker", _new_stream_worker) if self._in_worker else None

    @property
    def mcp(self) -> McpServers:
        """MCP servers, used on `streams` only; the engine gives them their config (`configure_mcp`)."""
        return self._part("mcp", lambda: _new_mcp_servers(self._mcp_configs))

    def configure_mcp(self, configs: Mapping[str, McpServerConfig]) -> None:
        self._mcp_configs = configs
        if (servers := self._parts.get("mcp")) is not None:
            servers.configs = configs

    def _part(self, name: str, make: Callable[[], _Part]) -> _Part:
        """The part `name`, made on first use; the warm-up thread and the app's loop may ask at once."""
        part = self._parts.get(name)
        if part is None:
            with self._parts_lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = make()
        return part

    async def base_url(self, provider: ProviderConfig) -> str:
        if provider.base_url is not None:
            return provider.base_url
        if self._local_server is None:
            raise NoServerError(f"provider {provider.name!r} has no base_url and no local server serves it")
        async with self._local_lock:
            if self._local_url is None:
                self._local_url = await asyncio.to_thread(self._local_server.start)
                self._started_server = self._local_server
            return self._local_url

    async def sdk_client(self, provider: ProviderConfig) -> openai.AsyncOpenAI:
        client = self._sdk_clients.get(provider.name)
        if client is None:
            key = provider.api_key()
            if key is None and provider.needs_key:
                raise MissingKeyError(
                    f"{provider.api_key_env} is not set (provider {provider.name!r} reads its key from it)"
                )
            base_url = await self.base_url(provider)
            # Importing openai and building its SSL context is slow: never on the caller's loop.
            client = await asyncio.to_thread(_new_sdk_client, base_url, key)
            client = self._sdk_clients.setdefault(provider.name, client)
        return client

    async def agent(self, provider: ProviderConfig, model: str, instructions: str | None) -> Agent:
        key = (provider.name, model, instructions or provider.instructions)
        agent = self._agents.get(key)
        if agent is None:
            agent = self._agents[key] = await self._new_agent(provider, model, instructions)
            if len(self._agents) > MAX_AGENTS:
                self._agents.popitem(last=False)
        self._agents.move_to_end(key)
        return agent

    async def _new_agent(self, provider: ProviderConfig, model: str, instructions: str | None) -> Agent:
        from agent_framework import Agent

        sdk = await self.sdk_client(provider)
        chat_client: Any
        if provider.api == "responses":
            from agent_framework.openai import OpenAIChatClient

            chat_client = OpenAIChatClient(model=model, async_client=sdk)
        else:
            from agent_framework.openai import OpenAIChatCompletionClient

            chat_client = OpenAIChatCompletionClient(model=model, async_client=sdk)
        # One round more than max_tool_rounds: the engine stops at the call past the limit, the framework never does.
        chat_client.function_invocation_configuration["max_iterations"] = provider.max_tool_rounds + 1
        return Agent(chat_client, instructions=instructions or provider.instructions)

    async def cancel_background(self, provider: ProviderConfig, response_id: str) -> Usage:
        """Stop a native background response on the server so it stops costing money, and learn what it used:
        from the cancel's answer, or from retrieving it once when that answer has no usage yet."""

        if self.worker is not None:
            resolved = replace(provider, base_url=await self.base_url(provider))
            return await asyncio.wrap_future(self.worker.cancel_background(resolved, response_id))
        return await self.streams.run(self.cancel_background_here(provider, response_id))

    async def cancel_background_here(self, provider: ProviderConfig, response_id: str) -> Usage:
        """`cancel_background` on the loop where streams are read."""
        from tui.engine.updates import usage_of_response

        sdk = await self.sdk_client(provider)
        response = await sdk.responses.cancel(response_id)
        if response.usage is None:
            response = await sdk.responses.retrieve(response_id)
        return usage_of_response(response.usage)

    def prepare(self) -> None:
        """Blocking: start the stream worker (or, reading streams here, import the SDKs) now, so the first task
        does not wait for that. This process imports `openai` either way: the worker's errors are rebuilt as its.
        The factory's parts are made here too, so the first task imports none of their modules on its loop."""
        _ = (self.streams, self.mcp)
        if self.worker is None:
            from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient  # noqa: F401
        else:
            import openai  # noqa: F401

            self.worker.prepare()

    async def close(self) -> None:
        worker: StreamWorker | None = self._parts.get("worker")
        if worker is not None:
            await asyncio.to_thread(worker.close)
        streams: StreamLoop | None = self._parts.get("streams")
        if streams is not None and streams.started:
            await streams.run(self.close_here())
            await streams.close()
        if self._started_server is not None:
            server, self._started_server = self._started_server, None
            await asyncio.to_thread(server.stop)

    async def close_here(self) -> None:
        """Close the MCP servers and SDK clients, on the loop where streams are read."""
        await self.mcp.close()
        clients = list(self._sdk_clients.values())
        self._sdk_clients.clear()
        self._agents.clear()
        for client in clients:
            await client.close()


def _new_stream_loop() -> StreamLoop:
    from tui.engine.stream_loop import StreamLoop

    return StreamLoop()


def _new_stream_worker() -> StreamWorker:
    from tui.engine.worker_proxy import StreamWorker

    return StreamWorker()


def _new_mcp_servers(configs: Mapping[str, McpServerConfig]) -> McpServers:
    from tui.engine.mcp_servers import McpServers

    return McpServers(configs)


def _new_sdk_client(base_url: str, key: str | None) -> openai.AsyncOpenAI:
    """No SDK retries: the engine waits out refusals itself, queued (`tui.engine.rate_limits`)."""
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=key or "no-key-needed",
        timeout=openai.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        max_retries=0,
    )
