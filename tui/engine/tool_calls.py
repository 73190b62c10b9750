"""A task's tool calls: what the model asked an MCP server to do, and what came of it.

The engine records each call as it happens (`Task.tool_calls`, in the order the
model made them) and tells observers through `EventKind.TOOL` events carrying
the call. The task's `output` stays the model's own text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ToolCallStatus(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"
    """The server's `approve = "ask"`: the call waits for the operator's answer."""
    DONE = "done"
    FAILED = "failed"
    DENIED = "denied"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self not in (ToolCallStatus.RUNNING, ToolCallStatus.WAITING)


class ApprovalPolicy(StrEnum):
    """What a tool of an `approve = "ask"` server gets when no one may be there to answer."""

    OPERATOR = "operator"
    """Wait for the operator's answer (the app)."""
    DENY = "deny"
    """Deny it, telling the model why (`agentdeck run`)."""
    APPROVE = "approve"
    """Run it (`agentdeck run --approve-all`)."""


class ApprovalDecision(StrEnum):
    """The operator's answer to a waiting call (`Engine.answer_approval`)."""

    ONCE = "once"
    """Run this call."""
    ALWAYS = "always"
    """Run this call and every later call of the same tool in the same task without asking."""
    DENY = "deny"
    """Do not run it; the model is told it was denied."""


@dataclass
class ToolCall:
    """One call of one tool; `result` and `error` are the server's untrusted text, shown literally."""

    call_id: str
    """The model's id for the call, unique within its task."""
    name: str
    """The tool's name, as the MCP server offers it (and the model sees it)."""
    server: str
    """The `[mcp.NAME]` that serves the tool."""
    arguments: str
    """The arguments as JSON text."""
    status: ToolCallStatus = ToolCallStatus.RUNNING
    result: str | None = None
    """What the model was given back (set when the call is done)."""
    error: str | None = None
    """Why the call did not give a result (failed, denied, timed out, cancelled); the model is told this."""
    offset: int = 0
    """Characters of the task's text before the call: where it sits among the text."""
    started_at: float = field(default_factory=time.time)
    """Wall-clock time the model asked for the call (like `Task.started_at`); waiting for approval counts."""
    finished_at: float | None = None

    @property
    def elapsed_s(self) -> float:
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def finish(self, status: ToolCallStatus, *, result: str | None = None, error: str | None = None) -> None:
        self.status = status
        self.result = result
        self.error = error
        self.finished_at = time.time()

    def summary(self) -> dict[str, Any]:
        """The JSON shape of `--json` task objects' `tool_calls` entries."""
        return {
            "name": self.name,
            "server": self.server,
            "arguments": self.arguments,
            "result": self.result,
            "error": self.error,
            "status": str(self.status),
            "elapsed_s": round(self.elapsed_s, 3),
        }
