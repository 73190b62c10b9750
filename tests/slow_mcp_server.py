"""A small MCP server over stdio for the app's tests: a tool that takes as long as asked, and one with noisy text."""

from __future__ import annotations

import asyncio

from mcp.server.mcpserver import MCPServer

server = MCPServer("slow")


@server.tool(structured_output=False)
async def wait(seconds: float) -> str:
    """Sleep `seconds`, then say so."""
    await asyncio.sleep(seconds)
    return f"waited {seconds} s"


@server.tool(structured_output=False)
def lines(count: int) -> str:
    """`count` numbered lines, the first with a terminal escape in it."""
    return "\n".join(["line 1 \x1b[31mred\x1b[0m", *(f"line {n}" for n in range(2, count + 1))])


if __name__ == "__main__":
    server.run()
