"""What the UI process and its stream worker say to each other over two pipes.

Both ends are agentdeck, so messages are pickled dataclasses, framed by
`multiprocessing.connection.Connection` (a length prefix per message). The
provider config, and so the key the worker reads from its environment, only
ever crosses the pipe in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from tui.engine.feed import RunState
from tui.engine.tool_calls import ApprovalDecision, ToolCall

if TYPE_CHECKING:
    from tui.config import ProviderConfig
    from tui.config_mcp import McpServerConfig
    from tui.engine.run_request import RunRequest
    from tui.engine.worker_errors import ErrorData


# -- UI process -> worker ----------------------------------------------------


@dataclass(frozen=True)
class StartRun:
    run_id: int
    spec: ProviderConfig
    """With `base_url` resolved: the UI process starts the local demo server itself."""
    request: RunRequest
    mcp: Mapping[str, McpServerConfig] | None = None
    """The MCP servers' configs, sent with runs that offer tools."""


@dataclass(frozen=True)
class CancelRun:
    run_id: int


@dataclass(frozen=True)
class Approve:
    run_id: int
    call_id: str
    decision: ApprovalDecision


@dataclass(frozen=True)
class CancelBackground:
    request_id: int
    spec: ProviderConfig
    response_id: str


@dataclass(frozen=True)
class Close:
    """Stop every run, close the SDK clients and MCP servers, and exit."""


# -- worker -> UI process ----------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """The worker has imported the SDKs and reads commands."""


@dataclass(frozen=True)
class ToolNews:
    call: ToolCall
    asks: bool
    """The call waits for an answer (`Approve`)."""


@dataclass
class RunNews:
    """What one run did since the last message: text and tool events in order, its state, its end."""

    run_id: int
    items: list[str | ToolNews] = field(default_factory=list)
    state: RunState = field(default_factory=RunState)
    output: bool = False
    ended: bool = False
    done: bool = False
    """The run's coroutine has returned: `outcome`, `error`, or neither (it was cancelled)."""
    outcome: Any = None
    """The run's `Outcome` once it returned."""
    error: ErrorData | None = None
    """Or the exception it raised, as data."""


@dataclass(frozen=True)
class Batch:
    """Everything every run did during one interval, sent as one message."""

    runs: list[RunNews]


@dataclass(frozen=True)
class Reply:
    request_id: int
    value: Any = None
    error: ErrorData | None = None


class Channel:
    """One direction of pickled messages over a pipe's file descriptor; `send` may be called from any thread."""

    def __init__(self, fd: int, *, writable: bool) -> None:
        self._connection = Connection(fd, readable=not writable, writable=writable)
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        with self._lock:
            self._connection.send(message)

    def receive(self) -> object:
        """The next message; EOFError once the other end has closed (or died)."""
        return self._connection.recv()

    def close(self) -> None:
        self._connection.close()
