"""What a run is asked to do and what came of it: plain data, copied to where the stream is read and back.

Both cross the pipe to the stream worker process (`tui.engine.worker_protocol`), so they hold no task,
no client and nothing that cannot be pickled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tui.engine.feed import RunState
from tui.engine.task import Usage
from tui.engine.tool_calls import ApprovalPolicy, ToolCall


class RunMode(StrEnum):
    FRESH = "fresh"
    CONTINUE = "continue"
    """Ask the model, in the task's session, to go on from where the text stops."""
    REATTACH = "reattach"
    """Re-attach to a native background response by its continuation token."""


@dataclass
class Outcome:
    finished: bool = False
    failure: str | None = None
    usage: Usage = field(default_factory=Usage)
    session_state: dict[str, Any] | None = None
    fallback_notice: str | None = None
    notice: str | None = None
    """A remark on a finished run, e.g. that its answer stopped at `max_output_tokens`."""


@dataclass(frozen=True)
class RunRequest:
    """A copy of what the stream loop needs from a task, so that thread never touches the task."""

    mode: RunMode
    api: str
    model: str
    system: str | None
    request_text: str
    text_so_far: str
    base_session: dict[str, Any] | None
    state: RunState
    tools: tuple[str, ...] = ()
    """MCP servers whose tools the model is offered."""
    max_tool_rounds: int = 20
    policy: ApprovalPolicy = ApprovalPolicy.OPERATOR
    calls_so_far: tuple[ToolCall, ...] = ()
    """Finished calls of earlier runs, replayed with the text when continuing."""
    max_output_tokens: int | None = None
    """The provider's `max_output_tokens`, sent as the framework's `max_tokens` option (mapped per API)."""
