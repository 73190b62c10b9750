"""Every tool call of a run passes here, on the stream loop: approval, timeout, a dead server, cancel, a record.

Agent Framework runs the model -> tools -> model loop; this function middleware
sits around each call it makes. Whatever happens, the model gets one clear line
back (never an exception, which the framework would reduce to "Function
failed"), and the engine gets a copy of the call as it starts, waits and ends.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tui.engine.feed import StreamSide, ToolEvent
from tui.engine.mcp_servers import McpServers, McpStartError, OfferedTool
from tui.engine.tool_calls import ApprovalDecision, ApprovalPolicy, ToolCall, ToolCallStatus

if TYPE_CHECKING:
    from agent_framework import FunctionInvocationContext, FunctionMiddleware

CONNECTION_CLOSED = -32000
"""The MCP client's error code for a transport that closed (the server process died)."""


class ToolRun:
    """The tool calls of one stream run of one task."""

    def __init__(
        self, offered: dict[str, OfferedTool], servers: McpServers, feed: StreamSide, policy: ApprovalPolicy
    ) -> None:
        self.offered = offered
        self.servers = servers
        self.feed = feed
        self.policy = policy
        self._always: set[str] = set()

    def middleware(self) -> FunctionMiddleware:
        from agent_framework import FunctionMiddleware

        run = self

        class Gate(FunctionMiddleware):
            async def process(
                self, context: FunctionInvocationContext, call_next: Callable[[], Awaitable[None]]
            ) -> None:
                await run.handle(context, call_next)

        return Gate()

    async def handle(self, context: FunctionInvocationContext, call_next: Callable[[], Awaitable[None]]) -> None:
        name = context.function.name
        server = self.servers.configs[self.offered[name].server]
        call = ToolCall(
            call_id=str(context.metadata.get("call_id") or uuid.uuid4().hex[:12]),
            name=name,
            server=server.name,
            arguments=_arguments_json(context.arguments),
        )
        if server.approve == "deny":
            why = f'tool {name} was not run: MCP server {server.name!r} has approve = "deny"'
            return self._refuse(context, call, why)
        if server.approve == "ask" and name not in self._always:
            decision = await self._ask(call)
            if decision is ApprovalDecision.DENY:
                if self.policy is ApprovalPolicy.DENY:
                    why = f"tool {name} was not run: it needs the operator's approval, and this run gives none"
                else:
                    why = f"tool {name} was not run: the operator denied it"
                return self._refuse(context, call, why)
            if decision is ApprovalDecision.ALWAYS:
                self._always.add(name)
            call.status = ToolCallStatus.RUNNING
        self._report(call)
        await self._call(context, call_next, call, server.tool_timeout)

    async def _call(
        self, context: FunctionInvocationContext, call_next: Callable[[], Awaitable[None]], call: ToolCall,
        timeout: float,
    ) -> None:
        try:
            if self.servers.is_dead(call.server):
                await self.servers.start(call.server)
            async with asyncio.timeout(timeout):
                await call_next()
        except TimeoutError:
            self._end(context, call, ToolCallStatus.TIMED_OUT, f"tool {call.name} timed out after {timeout:g} s")
        except asyncio.CancelledError:
            call.finish(ToolCallStatus.CANCELLED, error="cancelled with its task")
            self._report(call)
            raise
        except McpStartError as exc:
            self._end(context, call, ToolCallStatus.FAILED, f"tool {call.name} was not run: {exc}")
        except Exception as exc:
            if _connection_closed(exc):
                self.servers.mark_dead(call.server)
                why = (f"MCP server {call.server!r} stopped during the call (connection closed); "
                       "it restarts on the next call")
            else:
                why = f"tool {call.name} failed: {_first_line(exc)}"
            self._end(context, call, ToolCallStatus.FAILED, why)
        else:
            call.finish(ToolCallStatus.DONE, result=_result_text(context.result))
            self._report(call)

    async def _ask(self, call: ToolCall) -> ApprovalDecision:
        if self.policy is ApprovalPolicy.APPROVE:
            return ApprovalDecision.ONCE
        if self.policy is ApprovalPolicy.DENY:
            return ApprovalDecision.DENY
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ApprovalDecision] = loop.create_future()

        def reply(decision: ApprovalDecision) -> None:
            def settle() -> None:
                if not answer.done():
                    answer.set_result(decision)

            try:
                loop.call_soon_threadsafe(settle)
            except RuntimeError:
                pass  # the stream loop has closed, and the call with it

        call.status = ToolCallStatus.WAITING
        self.feed.put_tool(ToolEvent(replace(call), reply))
        try:
            return await answer
        except asyncio.CancelledError:
            call.finish(ToolCallStatus.CANCELLED, error="cancelled with its task while waiting for approval")
            self._report(call)
            raise

    def _refuse(self, context: FunctionInvocationContext, call: ToolCall, why: str) -> None:
        self._end(context, call, ToolCallStatus.DENIED, why)

    def _end(self, context: FunctionInvocationContext, call: ToolCall, status: ToolCallStatus, why: str) -> None:
        """The call ends without a result: the model is told `why` as the call's result."""
        call.finish(status, error=why)
        context.result = f"Error: {why}"
        self._report(call)

    def _report(self, call: ToolCall) -> None:
        self.feed.put_tool(ToolEvent(replace(call)))


def _arguments_json(arguments: Any) -> str:
    if hasattr(arguments, "model_dump"):
        arguments = arguments.model_dump(mode="json")
    try:
        return json.dumps(arguments, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        return json.dumps(str(arguments), ensure_ascii=False)


def _result_text(result: Any) -> str:
    """What the model was given, as text: MCP results arrive as a list of contents."""
    if isinstance(result, str):
        return result
    if isinstance(result, list | tuple):
        return "\n".join(_result_text(item) for item in result)
    text = getattr(result, "text", None)
    if isinstance(text, str):
        return text
    return "" if result is None else str(result)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _connection_closed(exc: BaseException) -> bool:
    from anyio import BrokenResourceError, ClosedResourceError

    for item in _chain(exc):
        if isinstance(item, ClosedResourceError | BrokenResourceError):
            return True
        error = getattr(item, "error", None)
        if getattr(error, "code", None) == CONNECTION_CLOSED:
            return True
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return (text.splitlines() or [type(exc).__name__])[0][:300]
