"""The demo MCP server: a few harmless tools so `agentdeck --demo` shows tool calls with no setup.

`python -m tui.demo.mcp_server` serves over stdio; `--http PORT` serves Streamable
HTTP on 127.0.0.1 instead (port 0 picks a free one) and prints the endpoint URL on
one line once listening. `--test-tools` adds `sleep` and `crash`, which exist to
test timeouts, cancellation and a server dying mid-call; they are off by default
because nobody wants a model able to kill its own tool server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

HOST = "127.0.0.1"
MAX_READ_BYTES = 64 * 1024
"""`read_file` returns at most this much of a file (and says it cut the rest)."""
MAX_SLEEP_S = 3600.0
CRASH_EXIT_CODE = 3
SERVER_NAME = "agentdeck-demo"


def clock(timezone: str | None = None) -> str:
    """The current date and time, in an IANA timezone such as "UTC" or "Europe/Paris" (default: local time)."""
    if timezone is None:
        return dt.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"unknown timezone: {timezone!r}") from None
    return f"{dt.datetime.now(zone).isoformat(timespec='seconds')} ({timezone})"


def word_count(text: str) -> str:
    """How many words, lines and characters a text has."""
    return f"{len(text.split())} words, {len(text.splitlines())} lines, {len(text)} characters"


def read_file(path: str) -> str:
    """The text of a file under the server's current directory (at most 64 KiB; paths leaving it are refused)."""
    root = Path.cwd().resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise ToolError(f"refused: {path!r} is outside the current directory")
    if not target.is_file():
        raise ToolError(f"no such file: {path!r}")
    size = target.stat().st_size
    with target.open("rb") as file:
        data = file.read(MAX_READ_BYTES)
    if b"\x00" in data:
        raise ToolError(f"refused: {path!r} is not a text file")
    text = data.decode("utf-8", errors="replace")
    if size > MAX_READ_BYTES:
        text += f"\n[… cut at {MAX_READ_BYTES} of {size} bytes]"
    return text


async def sleep(seconds: float) -> str:
    """Wait this many seconds (at most an hour), then say so. For testing timeouts and cancellation."""
    await asyncio.sleep(min(max(seconds, 0.0), MAX_SLEEP_S))
    return f"slept {seconds:g} s"


def crash() -> str:
    """End the server process at once, mid-call. For testing a tool server that dies."""
    os._exit(CRASH_EXIT_CODE)


def stdio_command(*, test_tools: bool = False) -> list[str]:
    """The command line that starts this server over stdio with the running interpreter."""
    return [sys.executable, "-m", "tui.demo.mcp_server", *(["--test-tools"] if test_tools else [])]


def build_server(*, test_tools: bool = False) -> MCPServer:
    """The server with its tools; `test_tools` adds `sleep` and `crash`."""
    server = MCPServer(SERVER_NAME, instructions="Harmless demo tools of agentdeck.", log_level="WARNING")
    tools = [clock, word_count, read_file] + ([sleep, crash] if test_tools else [])
    for tool in tools:
        server.tool(structured_output=False)(tool)  # plain text results, as a model reads them
    return server


async def serve_http(server: MCPServer, listener: socket.socket) -> None:
    """Streamable HTTP at `http://127.0.0.1:PORT/mcp`; the URL is printed once the socket listens."""
    import uvicorn

    config = uvicorn.Config(server.streamable_http_app(host=HOST), log_level="warning")
    http = uvicorn.Server(config)
    serving = asyncio.create_task(http.serve(sockets=[listener]))
    while not http.started and not serving.done():
        await asyncio.sleep(0.01)
    if http.started:
        print(f"http://{HOST}:{listener.getsockname()[1]}/mcp", flush=True)
    await serving


def main(argv: list[str] | None = None) -> int:
    """`python -m tui.demo.mcp_server [--http PORT] [--test-tools]`."""
    parser = argparse.ArgumentParser(prog="python -m tui.demo.mcp_server", description="Run the demo MCP server.")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve Streamable HTTP on 127.0.0.1:PORT (0: any)")
    parser.add_argument("--test-tools", action="store_true", help="also offer `sleep` and `crash` (for tests)")
    args = parser.parse_args(argv)
    if args.http is not None and not 0 <= args.http <= 65535:
        parser.error(f"--http: {args.http} is not a port (0-65535)")
    # Plain lines on stderr; otherwise the SDK installs a Rich handler that draws boxed tracebacks.
    logging.basicConfig(level=logging.WARNING, format="demo-mcp: %(levelname)s %(message)s")
    server = build_server(test_tools=args.test_tools)
    if args.http is None:
        server.run("stdio")
        return 0
    try:  # bound here, so a taken port is one line rather than uvicorn's traceback
        listener = socket.create_server((HOST, args.http))
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        print(f"agentdeck: demo MCP server: cannot listen on {HOST}:{args.http}: {reason}", file=sys.stderr)
        return 1
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_http(server, listener))
    return 0


__all__ = ["MAX_READ_BYTES", "build_server", "main", "stdio_command"]

if __name__ == "__main__":
    raise SystemExit(main())
