"""`[mcp.NAME]` tables: MCP servers whose tools tasks may call, checked like the rest of the config.

A server is a command started over stdio (`command`, `args`, `env`, `cwd`) or a
Streamable HTTP endpoint (`url`, `headers_env`). Header values are secrets: the
config names the environment variables that hold them, never the values.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ApproveMode = Literal["auto", "ask", "deny"]
APPROVE_MODES: tuple[ApproveMode, ...] = ("auto", "ask", "deny")
DEFAULT_TOOL_TIMEOUT_S = 60.0
MAX_TOOL_TIMEOUT_S = 24 * 3600
DEFAULT_MAX_TOOL_ROUNDS = 20
MAX_TOOL_ROUNDS = 1000
DEMO_SERVER = "demo"
MCP_KEYS = {"command", "args", "env", "cwd", "url", "headers_env", "approve", "tool_timeout"}


class _Checker(Protocol):
    """What tui.config's checker offers (this module sits below tui.config, which imports it)."""

    def fail(self, key: str, problem: str) -> Exception: ...

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None: ...

    def string(self, table: Mapping[str, Any], key: str, prefix: str, *, required: bool = False) -> str | None: ...

    def number(self, table: Mapping[str, Any], key: str, prefix: str, low: float, high: float) -> float | None: ...


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server; exactly one of `command` (stdio) and `url` (Streamable HTTP) is set."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the server process; literal values (never keys)."""
    cwd: str | None = None
    url: str | None = None
    headers_env: Mapping[str, str] = field(default_factory=dict)
    """HTTP header name -> environment variable holding its value (a secret)."""
    approve: ApproveMode = "auto"
    tool_timeout: float = DEFAULT_TOOL_TIMEOUT_S
    builtin: bool = False

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    @property
    def where(self) -> str:
        """How it is reached, for messages: the command line or the URL."""
        if self.command is None:
            return str(self.url)
        return " ".join([self.command, *self.args])

    def headers(self) -> dict[str, str]:
        """Header values read from the environment now (unset variables are left out)."""
        return {header: os.environ[var] for header, var in self.headers_env.items() if os.environ.get(var)}


def builtin_mcp_servers() -> dict[str, McpServerConfig]:
    """The demo MCP server (a few harmless tools), always there unless the config defines its own `mcp.demo`."""
    return {
        DEMO_SERVER: McpServerConfig(
            DEMO_SERVER, command=sys.executable, args=("-m", "tui.demo.mcp_server"), builtin=True
        )
    }


def _string_table(check: _Checker, raw: Mapping[str, Any], key: str, prefix: str) -> dict[str, str]:
    value = raw.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise check.fail(f"{prefix}{key}", f'must be a table of strings like {{ NAME = "value" }}, got {_kind(value)}')
    return dict(value)


def _kind(value: object) -> str:
    return f"{type(value).__name__} {repr(value)[:40]}"


def parse_mcp_server(check: _Checker, name: str, raw: object) -> McpServerConfig:
    prefix = f"mcp.{name}."
    if not isinstance(raw, dict):
        raise check.fail(f"mcp.{name}", "must be a table like [mcp.NAME]")
    check.unknown_keys(raw, MCP_KEYS, prefix)
    command = check.string(raw, "command", prefix)
    url = check.string(raw, "url", prefix)
    if command and url:
        raise check.fail(f"mcp.{name}", "has both `command` (stdio) and `url` (Streamable HTTP); keep one")
    if not command and not url:
        raise check.fail(f"mcp.{name}", "needs `command` (a server started over stdio) or `url` (Streamable HTTP)")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise check.fail(f"{prefix}args", f"must be a list of strings, got {_kind(args)}")
    if url and not url.startswith(("http://", "https://")):
        raise check.fail(f"{prefix}url", f"must start with http:// or https://, got {url!r}")
    stdio_only = [key for key in ("args", "env", "cwd") if key in raw and not command]
    if stdio_only:
        raise check.fail(f"{prefix}{stdio_only[0]}", "only applies to a server started with `command`")
    if "headers_env" in raw and not url:
        raise check.fail(f"{prefix}headers_env", "only applies to a server reached by `url`")
    headers_env = _string_table(check, raw, "headers_env", prefix)
    for header, var in headers_env.items():
        if not var.replace("_", "").isalnum():
            raise check.fail(
                f"{prefix}headers_env.{header}",
                "must be the NAME of an environment variable holding the value (like DOCS_TOKEN), not the value",
            )
    approve = raw.get("approve", "auto")
    if approve not in APPROVE_MODES:
        raise check.fail(f"{prefix}approve", f'must be "auto", "ask" or "deny", got {_kind(approve)}')
    timeout = check.number(raw, "tool_timeout", prefix, 0.001, MAX_TOOL_TIMEOUT_S)
    return McpServerConfig(
        name=name,
        command=command,
        args=tuple(args),
        env=_string_table(check, raw, "env", prefix),
        cwd=check.string(raw, "cwd", prefix),
        url=url,
        headers_env=headers_env,
        approve=approve,
        tool_timeout=DEFAULT_TOOL_TIMEOUT_S if timeout is None else timeout,
    )


def parse_mcp_servers(check: _Checker, raw: object) -> dict[str, McpServerConfig]:
    servers = builtin_mcp_servers()
    if raw is None:
        return servers
    if not isinstance(raw, dict):
        raise check.fail("mcp", "must be a table of [mcp.NAME] tables")
    servers.update({name: parse_mcp_server(check, name, table) for name, table in raw.items()})
    return servers


def parse_tool_list(
    check: _Checker, raw: Mapping[str, Any], prefix: str, servers: Mapping[str, Any]
) -> tuple[str, ...]:
    """A provider's `tools`: names of configured MCP servers."""
    value = raw.get("tools", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise check.fail(f"{prefix}tools", f"must be a list of MCP server names, got {_kind(value)}")
    for name in value:
        if name not in servers:
            known = ", ".join(sorted(servers))
            problem = f"no MCP server named {name!r}; add an [mcp.{name}] table (known: {known})"
            raise check.fail(f"{prefix}tools", problem)
    return tuple(dict.fromkeys(value))


def describe_server(server: McpServerConfig) -> dict[str, Any]:
    """The server as `config show` prints it; header values stay in their variables."""
    entry: dict[str, Any] = {"url": server.url}
    if server.command:
        entry = {"command": server.command, "args": list(server.args)}
    if server.env:
        entry["env"] = dict(server.env)
    if server.cwd:
        entry["cwd"] = server.cwd
    for header, var in server.headers_env.items():
        entry.setdefault("headers_env", {})[header] = f"{var} ({'set' if os.environ.get(var) else 'NOT SET'})"
    entry.update(approve=server.approve, tool_timeout=server.tool_timeout)
    if server.builtin:
        entry["builtin"] = True
    return entry
