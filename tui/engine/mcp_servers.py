"""MCP servers through Agent Framework: started once on first use, shared, restarted after dying, stopped at exit.

All of it runs on one event loop (the client factory's stream loop, or the
`mcp` command's own): Agent Framework's MCP tools keep their connection on the
loop that opened it. A server's stderr goes to a private temporary file, never
to the terminal (it would write over the app's screen); its last lines explain
a server that would not start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from tui.config_mcp import McpServerConfig

if TYPE_CHECKING:
    from agent_framework import FunctionTool, MCPTool

log = logging.getLogger("agentdeck.mcp")
logging.getLogger("agent_framework").addHandler(logging.NullHandler())
"""The framework warns about each failed tool call and reconnect; with no handler Python would print that on
stderr (over the app's screen). We tell the model and the task ourselves; a configured root logger still sees it."""

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
STDERR_TAIL_CHARS = 300


class McpStartError(RuntimeError):
    """A server that did not start; the message names it and says why in one line."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"MCP server {name!r} did not start: {reason}")
        self.reason = reason


class ToolNameClash(RuntimeError):
    """Two servers enabled for one task offer a tool of the same name."""


@dataclass(frozen=True)
class OfferedTool:
    server: str
    function: FunctionTool


class McpServers:
    """The configured servers of one process, by name."""

    def __init__(self, configs: Mapping[str, McpServerConfig]) -> None:
        self.configs = configs
        self._tools: dict[str, MCPTool] = {}
        self._stderr: dict[str, IO[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._dead: set[str] = set()
        self.start_seconds: dict[str, float] = {}
        """How long each server's last start took (connect, handshake, tool list)."""

    async def start(self, name: str) -> MCPTool:
        """The connected server, started now if it is not running, restarted if it died since its last call.

        A restart reconnects the same tool object: the tools a running task was offered call through it.
        """
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            tool = self._tools.get(name)
            if tool is not None and tool.is_connected and name not in self._dead:
                return tool
            self._dead.discard(name)
            if tool is None:
                tool = _new_tool(self.configs[name], self._stderr_of(name))
            await self._connect(self.configs[name], tool)
            self._tools[name] = tool
            return tool

    async def offered(self, names: Iterable[str]) -> dict[str, OfferedTool]:
        """Every tool of these servers by its own name; a name two servers offer refuses the lot."""
        names = list(dict.fromkeys(names))
        servers = await asyncio.gather(*(self.start(name) for name in names))
        offered: dict[str, OfferedTool] = {}
        for name, server in zip(names, servers, strict=True):
            for function in server.functions:
                other = offered.get(function.name)
                if other is not None:
                    raise ToolNameClash(
                        f"tool {function.name!r} is offered by both MCP servers {other.server!r} and {name!r}; "
                        "enable only one of them for this task"
                    )
                offered[function.name] = OfferedTool(name, function)
        return offered

    def mark_dead(self, name: str) -> None:
        """The server's connection closed under a call: start it afresh on the next call."""
        self._dead.add(name)

    def is_dead(self, name: str) -> bool:
        return name in self._dead

    async def close(self) -> None:
        """Stop every server (its whole process tree), waiting a bounded time."""
        tools, self._tools = list(self._tools.values()), {}
        if tools:
            await asyncio.gather(*(_close_quietly(tool) for tool in tools))
        for stream in self._stderr.values():
            stream.close()
        self._stderr.clear()

    def _stderr_of(self, name: str) -> IO[str]:
        stderr = self._stderr.get(name)
        if stderr is None:
            stderr = self._stderr[name] = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        return stderr

    async def _connect(self, config: McpServerConfig, tool: MCPTool) -> None:
        stderr = self._stderr_of(config.name)
        stderr.seek(0)
        stderr.truncate()
        started = time.monotonic()
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await tool.connect(reset=True)
        except TimeoutError:
            await _close_quietly(tool)
            raise McpStartError(config.name, f"it did not answer within {START_TIMEOUT_S:g} s") from None
        except Exception as exc:
            await _close_quietly(tool)
            raise McpStartError(config.name, _why(config, exc, stderr)) from exc
        self.start_seconds[config.name] = time.monotonic() - started
        log.info("MCP server %s started in %.2f s", config.name, self.start_seconds[config.name])


def _new_tool(config: McpServerConfig, stderr: IO[str]) -> MCPTool:
    if config.command is None:
        from agent_framework import MCPStreamableHTTPTool

        return MCPStreamableHTTPTool(
            name=config.name, url=config.url, static_headers=config.headers() or None, load_prompts=False
        )
    return _stdio_tool_class()(
        name=config.name,
        command=config.command,
        args=list(config.args),
        env=dict(config.env) or None,
        cwd=config.cwd,
        load_prompts=False,
        stderr=stderr,
    )


_STDIO_TOOL: type | None = None


def _stdio_tool_class() -> type:
    """`MCPStdioTool` whose server writes its stderr to our file (the framework would pass it the terminal)."""
    global _STDIO_TOOL
    if _STDIO_TOOL is None:
        from agent_framework import MCPStdioTool

        class StdioTool(MCPStdioTool):
            def __init__(self, *, cwd: str | None, stderr: IO[str], **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self._cwd = cwd
                self._stderr = stderr

            def get_mcp_client(self) -> Any:
                from mcp.client.stdio import StdioServerParameters, stdio_client

                params = StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self._cwd)
                return stdio_client(params, errlog=self._stderr)

        _STDIO_TOOL = StdioTool
    return _STDIO_TOOL


async def _close_quietly(tool: MCPTool) -> None:
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await tool.close()
    except Exception as exc:
        log.info("MCP server %s did not close cleanly: %s", tool.name, exc)


def _why(config: McpServerConfig, exc: BaseException, stderr: IO[str]) -> str:
    """One line: a missing command, the server's own last words, or the innermost error."""
    if config.command is not None and os.sep not in config.command and shutil.which(config.command) is None:
        return f"command {config.command!r} not found (is it installed and on PATH?)"
    if config.cwd is not None and not os.path.isdir(config.cwd):
        return f"its cwd {config.cwd!r} is not a directory"
    stderr.flush()
    stderr.seek(0)
    lines = [line.strip() for line in stderr.read()[-STDERR_TAIL_CHARS * 4 :].splitlines() if line.strip()]
    if lines:
        return f"it exited saying: {lines[-1][:STDERR_TAIL_CHARS]}"
    if config.url is not None:
        return f"{config.url}: {_innermost(exc)}"
    return _innermost(exc)


def _innermost(exc: BaseException) -> str:
    current: BaseException = exc
    while True:
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        elif current.__cause__ is not None:
            current = current.__cause__
        else:
            break
    text = str(current.args[0] if current.args else current) or type(current).__name__
    return text.splitlines()[0][:STDERR_TAIL_CHARS]
