"""The demo MCP server as its own process, reached through Agent Framework's MCP clients
(stdio and Streamable HTTP), and its tools driving a whole agent run against the demo server.

Each server process spends 2-3 s importing the `mcp` SDK on a loaded machine, so the
tests that start their own are marked slow."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from agent_framework import Agent, MCPStdioTool, MCPStreamableHTTPTool
from agent_framework.exceptions import ToolExecutionException

from tui.demo.mcp_server import CRASH_EXIT_CODE, MAX_READ_BYTES, stdio_command
from tui.demo.server import DemoServerThread
from tui.demo.tools import expected_tool_answer


SERVER = stdio_command()
FAST = "[[delay:0]] [[len:60]]"


class HttpServer:
    """`python -m tui.demo.mcp_server --http 0 ...` in a directory; `url` is what it printed."""

    def __init__(self, cwd: Path, *flags: str) -> None:
        self.process = subprocess.Popen([*SERVER, "--http", "0", *flags], cwd=cwd, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mcp-cwd")
    (root / "notes.txt").write_text("alpha beta\ngamma\n")
    (root / "big.txt").write_text("y" * (MAX_READ_BYTES + 10))
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (root.parent / "secret.txt").write_text("outside")
    (root / "link.txt").symlink_to(root.parent / "secret.txt")
    return root


@pytest.fixture(scope="module")
def http_server(workdir: Path) -> Iterator[HttpServer]:
    server = HttpServer(workdir, "--test-tools")
    yield server
    server.stop()


def text_of(result: object) -> str:
    """The text an MCP tool call returned, as Agent Framework hands it on."""
    assert isinstance(result, list)
    return "".join(content.text or "" for content in result)


@pytest.mark.slow
async def test_stdio_offers_the_harmless_tools_and_calls_them() -> None:
    async with MCPStdioTool(name="demo", command=SERVER[0], args=SERVER[1:]) as mcp:
        tools = {f.name: f for f in mcp.functions}
        assert sorted(tools) == ["clock", "read_file", "word_count"]  # no test tools unless asked
        assert all(f.description for f in tools.values())
        counted = await tools["word_count"].invoke(text="one two  three\nfour")
        assert text_of(counted) == "4 words, 2 lines, 19 characters"
        assert text_of(await tools["clock"].invoke(timezone="UTC")).endswith("+00:00 (UTC)")
        with pytest.raises(ToolExecutionException, match="unknown timezone: 'Nowhere/Else'"):
            await tools["clock"].invoke(timezone="Nowhere/Else")


async def test_http_read_file_stays_under_the_current_directory(http_server: HttpServer, workdir: Path) -> None:
    async with MCPStreamableHTTPTool(name="demo", url=http_server.url) as mcp:
        read = next(f for f in mcp.functions if f.name == "read_file")
        assert text_of(await read.invoke(path="notes.txt")) == "alpha beta\ngamma\n"
        assert text_of(await read.invoke(path=str(workdir / "notes.txt"))) == "alpha beta\ngamma\n"
        big = text_of(await read.invoke(path="big.txt"))
        assert big.startswith("y" * MAX_READ_BYTES)
        assert big.endswith(f"[… cut at {MAX_READ_BYTES} of {MAX_READ_BYTES + 10} bytes]")
        for path, reason in [
            ("../secret.txt", "outside the current directory"),
            (str(workdir.parent / "secret.txt"), "outside the current directory"),
            ("/etc/passwd", "outside the current directory"),
            ("link.txt", "outside the current directory"),
            ("missing.txt", "no such file"),
            ("blob.bin", "not a text file"),
        ]:
            with pytest.raises(ToolExecutionException, match=reason):
                await read.invoke(path=path)


async def test_http_test_tools_sleep_and_a_cancelled_call_leaves_the_server_working(http_server: HttpServer) -> None:
    async with MCPStreamableHTTPTool(name="demo", url=http_server.url) as mcp:
        tools = {f.name: f for f in mcp.functions}
        assert sorted(tools) == ["clock", "crash", "read_file", "sleep", "word_count"]
        assert text_of(await tools["sleep"].invoke(seconds=0.05)) == "slept 0.05 s"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(tools["sleep"].invoke(seconds=30), timeout=0.5)
        assert text_of(await tools["word_count"].invoke(text="still here")).startswith("2 words")


@pytest.mark.slow
async def test_crash_ends_the_server_process_mid_call(workdir: Path) -> None:
    server = HttpServer(workdir, "--test-tools")
    try:
        async with MCPStreamableHTTPTool(name="demo", url=server.url) as mcp:
            crash = next(f for f in mcp.functions if f.name == "crash")
            with pytest.raises(ToolExecutionException, match="Connection closed"):
                await asyncio.wait_for(crash.invoke(), timeout=30)
        assert server.process.wait(timeout=10) == CRASH_EXIT_CODE
    finally:
        server.stop()


@pytest.mark.slow
def test_a_taken_port_is_one_line_and_exit_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run([*SERVER, "--http", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"agentdeck: demo MCP server: cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.slow
async def test_agent_uses_the_demo_mcp_tools_against_the_demo_server() -> None:
    from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient

    prompt = f'Count these [[tool:word_count {{"text":"one two three"}}]] {FAST}'
    with DemoServerThread() as demo:
        sdk = openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=0)
        async with MCPStdioTool(name="demo", command=SERVER[0], args=SERVER[1:]) as mcp:
            for client in (
                OpenAIChatCompletionClient(model="demo-chat", async_client=sdk),
                OpenAIChatClient(model="demo-responses", async_client=sdk),
            ):
                response = await Agent(client=client, tools=[mcp]).run(prompt)
                expected = expected_tool_answer(prompt, [("word_count", "3 words, 1 lines, 13 characters")])
                assert response.text == expected
        await sdk.close()
