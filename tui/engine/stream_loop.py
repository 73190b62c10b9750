"""A second event loop, on its own thread, where provider streams are read.

Parsing a chunk through the `openai` SDK and Agent Framework costs a few
hundred microseconds, so fifty fast streams on the caller's loop would keep it
busy all the time, and the caller is usually a UI. Here the streams share the
GIL with the caller, which gets it back within the interpreter's switch
interval however busy they are. By default streams are read in a worker
process instead (`tui.engine.worker`); this loop serves `streams = "thread"`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

from tui.engine.feed import Handoff

T = TypeVar("T")

STOP_TIMEOUT_S = 5.0


class StreamLoop:
    """Starts its thread on first use; `close` cancels what still runs there and stops it."""

    def __init__(self, name: str = "agentdeck-streams") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._handoffs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Handoff] = weakref.WeakKeyDictionary()

    @property
    def started(self) -> bool:
        return self._loop is not None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the stream loop; cancelling the returned future cancels it there."""
        return asyncio.run_coroutine_threadsafe(coro, self._running_loop())

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` run on the stream loop, from any other loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def handoff(self) -> Handoff:
        """The hand-off that wakes the caller's loop for every stream it reads here."""
        home = asyncio.get_running_loop()
        handoff = self._handoffs.get(home)
        if handoff is None:
            handoff = self._handoffs[home] = Handoff(home)
        return handoff

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(target=_serve, args=(loop, started), name=self._name, daemon=True)
                thread.start()
                started.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    async def close(self) -> None:
        with self._start_lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(_cancel_all_and_stop(), loop)
        await asyncio.to_thread(thread.join, STOP_TIMEOUT_S)


def _serve(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(started.set)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _cancel_all_and_stop() -> None:
    me = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not me]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    asyncio.get_running_loop().stop()
