"""Hands what a stream read on the stream loop to the engine's loop, coalesced.

The stream side appends under a lock and wakes the engine's loop at most once
until it has taken what is there, so a busy engine loop gets everything that
arrived since its last look as one piece of text, not thousands of callbacks.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class RunState:
    """What a Responses stream learns besides text: its handle and the last event applied."""

    continuation_token: dict[str, Any] | None = None
    last_sequence: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    text: str
    state: RunState
    ended: bool


class StreamFeed:
    def __init__(self, state: RunState) -> None:
        self._home = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._state = RunState(state.continuation_token, state.last_sequence)
        self._ended = False
        self._signalled = False
        self._cancelled = False
        self._reader: asyncio.Task[Any] | None = None

    # -- the stream loop's side -------------------------------------------

    def bind(self) -> None:
        """Called first by the coroutine reading the stream, so `cancel` can reach it."""
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._reader = asyncio.current_task()

    def put(self, text: str, state: RunState) -> None:
        with self._lock:
            if text:
                self._parts.append(text)
            self._state.continuation_token = state.continuation_token
            self._state.last_sequence = state.last_sequence
            self._wake()

    def end(self) -> None:
        with self._lock:
            self._ended = True
            self._wake()

    def _wake(self) -> None:
        if self._signalled:
            return
        self._signalled = True
        try:
            self._home.call_soon_threadsafe(self._ready.set)
        except RuntimeError:
            pass  # the engine's loop has closed; nobody is reading any more

    # -- the engine loop's side -------------------------------------------

    async def next(self) -> Delivery:
        """Everything put since the last call, once there is something."""
        await self._ready.wait()
        self._ready.clear()
        with self._lock:
            self._signalled = False
            text = "".join(self._parts)
            self._parts.clear()
            state = RunState(self._state.continuation_token, self._state.last_sequence)
            return Delivery(text, state, self._ended)

    def cancel(self) -> None:
        """Stop the reading coroutine, even one that has not started yet."""
        with self._lock:
            self._cancelled = True
            reader = self._reader
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
