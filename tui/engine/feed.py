"""Hands what a stream read on the stream loop to the engine's loop, coalesced.

The stream side appends under a lock; a `Handoff` shared by all feeds of one
engine loop wakes that loop at most every `HANDOFF_INTERVAL_S`, and the engine
takes everything that arrived since its last look as one piece of text per
task. Waking the engine's loop costs a GIL hand-over between the threads, so
waking it per chunk cost a third of the throughput.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tui.engine.tool_calls import ApprovalDecision, ToolCall

HANDOFF_INTERVAL_S = 0.02
"""How often, at most, the engine's loop is woken for new text (the UI shows it at 10 Hz)."""


class Handoff:
    """Wakes one engine loop for many feeds, at most once per interval."""

    def __init__(self, home: asyncio.AbstractEventLoop, interval: float = HANDOFF_INTERVAL_S) -> None:
        self._home = home
        self._interval = interval
        self._lock = threading.Lock()
        self._ready: list[asyncio.Event] = []
        self._scheduled = False
        self._last = 0.0

    def notify(self, ready: asyncio.Event) -> None:
        """From the stream loop: `ready` is to be set on the engine's loop soon."""
        with self._lock:
            self._ready.append(ready)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._home.call_soon_threadsafe(self._arm)
        except RuntimeError:
            pass  # the engine's loop has closed; nobody is reading any more

    def _arm(self) -> None:
        delay = self._last + self._interval - time.monotonic()
        if delay > 0:
            self._home.call_later(delay, self._deliver)
        else:
            self._deliver()

    def _deliver(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
            self._scheduled = False
            self._last = time.monotonic()
        for event in ready:
            event.set()


@dataclass
class RunState:
    """What a Responses stream learns besides text: its handle and the last event applied."""

    continuation_token: dict[str, Any] | None = None
    last_sequence: int | None = None

    def copy(self) -> RunState:
        return RunState(self.continuation_token, self.last_sequence)


@dataclass(frozen=True, slots=True)
class ToolEvent:
    """A copy of a tool call as the stream loop saw it start, wait or end; `reply` answers a waiting one."""

    call: ToolCall
    reply: Callable[[ApprovalDecision], None] | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    items: list[str | ToolEvent]
    """Text and tool events in the order they happened."""
    state: RunState
    ended: bool
    output: bool = False
    """Whether model output (text, reasoning, tool activity) arrived since the last look (see `stalls`)."""

    @property
    def text(self) -> str:
        return "".join(item for item in self.items if isinstance(item, str))


class StreamSide(Protocol):
    """What the coroutine reading a stream calls: a `StreamFeed`, or the stream worker's stand-in for one."""

    def bind(self) -> None: ...

    def put(self, text: str, state: RunState, *, output: bool = False) -> None: ...

    def put_tool(self, event: ToolEvent) -> None: ...

    def end(self) -> None: ...


class StreamFeed:
    def __init__(self, state: RunState, handoff: Handoff) -> None:
        self._handoff = handoff
        self._ready = asyncio.Event()
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._items: list[str | ToolEvent] = []
        self._state = state.copy()
        self._ended = False
        self._output = False
        self._signalled = False
        self._cancelled = False
        self._reader: asyncio.Task[Any] | None = None
        self._remote_cancel: Callable[[], None] | None = None

    # -- the stream loop's side -------------------------------------------

    def bind(self) -> None:
        """Called first by the coroutine reading the stream, so `cancel` can reach it."""
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._reader = asyncio.current_task()

    def put(self, text: str, state: RunState, *, output: bool = False) -> None:
        """`output`: the update carried model output even when it added no text (reasoning)."""
        with self._lock:
            if text:
                self._parts.append(text)
            self._output = self._output or output or bool(text)
            self._state.continuation_token = state.continuation_token
            self._state.last_sequence = state.last_sequence
            self._wake()

    def put_tool(self, event: ToolEvent) -> None:
        with self._lock:
            self._fold_text()
            self._items.append(event)
            self._output = True
            self._wake()

    def _fold_text(self) -> None:
        if self._parts:
            self._items.append("".join(self._parts))
            self._parts.clear()

    def end(self) -> None:
        with self._lock:
            self._ended = True
            self._wake()

    def _wake(self) -> None:
        if not self._signalled:
            self._signalled = True
            self._handoff.notify(self._ready)

    # -- the engine loop's side -------------------------------------------

    async def next(self) -> Delivery:
        """Everything put since the last call, once there is something."""
        await self._ready.wait()
        self._ready.clear()
        with self._lock:
            self._signalled = False
            self._fold_text()
            items, self._items = self._items, []
            output, self._output = self._output, False
            state = self._state.copy()
            return Delivery(items, state, self._ended, output)

    def read_elsewhere(self, cancel: Callable[[], None]) -> None:
        """The stream is read in another process: `cancel` asks it to stop there."""
        with self._lock:
            self._remote_cancel = cancel
            cancelled = self._cancelled
        if cancelled:
            cancel()

    def cancel(self) -> None:
        """Stop the reading coroutine, even one that has not started yet."""
        with self._lock:
            self._cancelled = True
            reader, remote = self._reader, self._remote_cancel
        if remote is not None:
            remote()
        if reader is not None:
            try:
                reader.get_loop().call_soon_threadsafe(reader.cancel)
            except RuntimeError:
                pass  # the stream loop has closed, and the reader with it

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) until the stream side has closed its stream, dropping what it still sends."""
        try:
            async with asyncio.timeout(timeout):
                while not self._ended and not (await self.next()).ended:
                    pass
        except TimeoutError:
            pass
