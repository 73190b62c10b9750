"""A task is one agent query: its prompt, where it runs, its state and its text."""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tui.engine.tool_calls import ToolCall, ToolCallStatus

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scalar_text(text: str) -> str:
    """Text that can be encoded as UTF-8: JSON may carry lone surrogates, which files and terminals cannot."""
    if text.isascii():  # most chunks: no regex pass
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    """Paused until the operator answers a tool call's approval (`Engine.answer_approval`); holds no place
    under the concurrency limit meanwhile (once answered, it may wait for one, still `waiting`)."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"

    @property
    def is_active(self) -> bool:
        return self in (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.WAITING)

    @property
    def is_final(self) -> bool:
        return not self.is_active

    @property
    def word(self) -> str:
        """How people read it: `timed out`, not `timed_out`; the app, exit lines and reports all say it so."""
        return self.value.replace("_", " ")


RESUMABLE = frozenset({TaskStatus.INTERRUPTED, TaskStatus.TIMED_OUT, TaskStatus.CANCELLED, TaskStatus.FAILED})

STATUS_ORDER = (
    TaskStatus.WAITING,
    TaskStatus.RUNNING,
    TaskStatus.QUEUED,
    TaskStatus.DONE,
    TaskStatus.FAILED,
    TaskStatus.TIMED_OUT,
    TaskStatus.INTERRUPTED,
    TaskStatus.CANCELLED,
)
"""The order counts are listed in, in the header and the exit line alike (waiting first: it needs the operator)."""


def count_statuses(tasks: Iterable[Task]) -> Counter[TaskStatus]:
    return Counter(task.status for task in tasks)


StatusListener = Callable[["Task", "TaskStatus | None"], None]
"""Told of a task's status change, with the status before: a task's `status_listener` attribute, set by the engine
that holds it (not a field: never saved or compared)."""


class _StatusSetter:
    """`Task.status` as written: the task's `status_listener` (its engine's index) hears of every change, whoever
    makes it (the engine, a tool's approval, a watched session's reader).

    It has no `__get__`, so reading `task.status` stays a plain attribute read (tables and filters read it often).
    """

    def __set__(self, task: Task, status: TaskStatus) -> None:
        values = task.__dict__
        before = values.get("status")
        values["status"] = status
        listener: StatusListener | None = values.get("status_listener")
        if listener is not None and before is not status:
            listener(task, before)


class TaskOutput:
    """Append-only text that stays compact in memory and can be read from any offset.

    Chunks arrive a dozen characters at a time; keeping them as separate strings
    would cost several times the text in object overhead, and joining the whole
    text per update would cost time. Small chunks gather in a tail that is
    folded into one block every few KB; readers ask for text after an offset.
    """

    TAIL_CHARS = 4096

    def __init__(self, text: str = "") -> None:
        self._blocks: list[str] = [text] if text else []
        self._block_ends: list[int] = [len(text)] if text else []
        self._tail: list[str] = []
        self._tail_chars = 0
        self._length = len(text)

    def __len__(self) -> int:
        return self._length

    def append(self, text: str) -> None:
        if not text:
            return
        self._tail.append(text)
        self._tail_chars += len(text)
        self._length += len(text)
        if self._tail_chars >= self.TAIL_CHARS:
            self._fold_tail()

    def _fold_tail(self) -> None:
        if self._tail:
            self._blocks.append("".join(self._tail))
            self._block_ends.append(self._length)
            self._tail.clear()
            self._tail_chars = 0

    def since(self, offset: int) -> str:
        """Text after `offset` characters, costing only the size of the answer."""
        if offset >= self._length:
            return ""
        offset = max(offset, 0)
        blocks_end = self._block_ends[-1] if self._block_ends else 0
        if offset >= blocks_end:
            tail = "".join(self._tail)
            return tail[offset - blocks_end :]
        index = bisect_right(self._block_ends, offset)
        start = self._block_ends[index - 1] if index else 0
        parts = [self._blocks[index][offset - start :], *self._blocks[index + 1 :], *self._tail]
        return "".join(parts)

    def text(self) -> str:
        self._fold_tail()
        if len(self._blocks) > 1:
            joined = "".join(self._blocks)
            self._blocks = [joined]
            self._block_ends = [len(joined)]
        return self._blocks[0] if self._blocks else ""


TOKEN_KINDS = ("input_tokens", "output_tokens", "total_tokens", "cached_input_tokens", "reasoning_tokens")
"""Usage's counts, as saved and printed; cached input is part of input, reasoning part of output."""


@dataclass
class Usage:
    """Tokens as the provider reported them; `estimated` when some of them were guessed from the text."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    estimated: bool = False
    cost_usd: float | None = None
    """What these tokens cost at the prices when they were counted; None when the model has no price."""

    @property
    def is_known(self) -> bool:
        return any(getattr(self, name) is not None for name in TOKEN_KINDS)

    @property
    def tokens(self) -> int:
        """All tokens, input and output."""
        if self.total_tokens is not None:
            return self.total_tokens
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def add(self, other: Usage) -> None:
        for name in TOKEN_KINDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, (mine or 0) + theirs)
        self.estimated = self.estimated or other.estimated

    def subtract(self, other: Usage) -> None:
        """Take back counts added before (an estimate the provider's own numbers replace)."""
        for name in TOKEN_KINDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None and mine is not None:
                setattr(self, name, max(0, mine - theirs))

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in TOKEN_KINDS if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        """As saved: the known counts, `estimated` only when true and the cost when known (older files have neither)."""
        saved: dict[str, Any] = self.counts()
        if self.estimated and saved:
            saved["estimated"] = True
        if self.cost_usd is not None:
            saved["cost_usd"] = self.cost_usd
        return saved

    def summary(self) -> dict[str, Any] | None:
        """The `usage` of `--json` and exports: the counts and whether they are estimated; None when unknown."""
        return {**self.counts(), "estimated": self.estimated} if self.is_known else None


@dataclass
class Task:
    """Everything agentdeck knows about one query; persistence stores exactly this."""

    id: int
    prompt: str
    provider: str
    model: str
    api: str
    status: TaskStatus = TaskStatus.QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    first_output_at: float | None = None
    """When the current run's first output (text, reasoning or tool activity) arrived."""
    last_output_at: float | None = None
    """When the current run's latest output arrived; a running task quiet for long is stalled."""
    prior_elapsed: float = 0.0
    """Seconds spent in earlier runs of this task (before a continue)."""
    timeout: float | None = None
    error: str | None = None
    notice: str | None = None
    """A non-error remark, e.g. that a resume fell back to the session."""
    usage: Usage = field(default_factory=Usage)
    system: str | None = None
    attachments: list[str] = field(default_factory=list)
    """Paths of attached files, for display; their text is already in `request_text`."""
    request_text: str = ""
    """The exact user message sent: the prompt plus delimited attachments."""
    parent_id: int | None = None
    group: str | None = None
    """Short id shared by the tasks of one fan-out: one prompt asked of several models."""
    base_session: dict[str, Any] | None = None
    """AgentSession state before this task's turn (a follow-up's parent state)."""
    session_state: dict[str, Any] | None = None
    """AgentSession state after the turn completed; a follow-up starts from it."""
    continuation_token: dict[str, Any] | None = None
    """Native background run handle ({"response_id": ...}) on the Responses API."""
    last_sequence: int | None = None
    """Sequence number of the last Responses event applied, to skip replays."""
    output: TaskOutput = field(default_factory=TaskOutput, repr=False)
    rate: float = 0.0
    """Recent characters per second."""
    tools: tuple[str, ...] = ()
    """MCP servers (`[mcp.NAME]`) whose tools the model is offered."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Every tool call of this task, in the order the model made them; `output` holds only the model's text."""

    @property
    def chars(self) -> int:
        return len(self.output)

    @property
    def text(self) -> str:
        return self.output.text()

    def tool_call(self, call_id: str) -> ToolCall | None:
        return next((call for call in self.tool_calls if call.call_id == call_id), None)

    @property
    def waiting_calls(self) -> list[ToolCall]:
        """Calls waiting for the operator's approval (the task is `waiting` while there are any)."""
        return [call for call in self.tool_calls if call.status is ToolCallStatus.WAITING]

    def elapsed(self, now: float | None = None) -> float:
        if self.started_at is None:
            return self.prior_elapsed
        end = self.finished_at if self.finished_at is not None else (now or time.time())
        return self.prior_elapsed + max(0.0, end - self.started_at)

    @property
    def time_to_first_output(self) -> float | None:
        if self.first_output_at is None or self.started_at is None:
            return None
        return max(0.0, self.first_output_at - self.started_at)

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds before the timeout fires, for a running task with a timeout.

        A timeout bounds a task's running time over all its runs (`elapsed`), so
        a continued task has what its earlier runs left of it.
        """
        if self.timeout is None or self.status not in (TaskStatus.RUNNING, TaskStatus.WAITING):
            return None
        return max(0.0, self.timeout - self.elapsed(now))

    @property
    def is_native_background(self) -> bool:
        return self.continuation_token is not None

    def summary(self) -> dict[str, Any]:
        """The JSON shape shared by `agentdeck run --json` and exports."""
        return {
            "id": self.id,
            "prompt": self.prompt,
            "status": str(self.status),
            "provider": self.provider,
            "model": self.model,
            "api": self.api,
            "chars": self.chars,
            "elapsed_s": round(self.elapsed(), 3),
            "first_output_s": None if (first := self.time_to_first_output) is None else round(first, 3),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "timeout": self.timeout,
            "error": self.error,
            "notice": self.notice,
            "usage": self.usage.summary(),
            "cost_usd": self.usage.cost_usd,
            "attachments": list(self.attachments),
            "parent_id": self.parent_id,
            "group": self.group,
            "tool_calls": [call.summary() for call in self.tool_calls],
            "output": self.text,
        }


Task.status = _StatusSetter()  # type: ignore[assignment]  # after @dataclass took the default from the class
