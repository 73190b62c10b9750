"""MCP servers for tool tests: the demo one (with its test tools), real ones from PyPI, one over Streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.conftest import config_for
from tui.config import Config
from tui.config_mcp import McpServerConfig
from tui.engine import Engine, Task, TaskStatus
from tui.engine.clients import ClientFactory

DEMO_TOOLS = McpServerConfig("demo", command=sys.executable, args=("-m", "tui.demo.mcp_server", "--test-tools"))


def tool_config(demo_url: str, *servers: McpServerConfig, **provider: Any) -> Config:
    """Providers `chat` and `resp` on the demo server, offered these MCP servers by default."""
    config = config_for(demo_url)
    mcp = {**config.mcp, **{server.name: server for server in servers}}
    names = tuple(server.name for server in servers)
    providers = {
        name: replace(spec, tools=names, **provider) if name in ("chat", "resp") else spec
        for name, spec in config.providers.items()
    }
    return config.with_overrides(mcp=mcp, providers=providers)


def engine_for(config: Config, clients: ClientFactory, **options: Any) -> Engine:
    return Engine(config, clients=clients, **options)


async def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def finished(task: Task) -> bool:
    return task.status.is_final and task.status is not TaskStatus.QUEUED


@contextmanager
def demo_mcp_over_http() -> Iterator[str]:
    """The demo MCP server (test tools on) serving Streamable HTTP on 127.0.0.1; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.demo.mcp_server", "--http", "0", "--test-tools"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ),
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def descendant_pids(ancestor: int) -> list[int]:
    """Live processes below `ancestor`: its children, theirs (the stream worker's MCP servers), and so on."""
    found, parents = [], [ancestor]
    while parents:
        children = child_pids(parents.pop())
        found.extend(children)
        parents.extend(children)
    return found


def child_pids(parent: int) -> list[int]:
    """Live processes whose parent is `parent` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
