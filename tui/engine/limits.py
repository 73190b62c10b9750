"""A concurrency limit that can be resized while tasks wait on it."""

from __future__ import annotations

import asyncio
from collections import deque


class ConcurrencyLimit:
    """First come, first served slots; `release` is synchronous so it is safe in `finally`.

    asyncio.Semaphore cannot change its size, and the operator may raise or
    lower the number of tasks streaming at once in the middle of a session.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()
            elif waiter in self._waiters:  # `_wake` drops a cancelled waiter it passes, before this runs
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.active -= 1
        self._wake()

    def set_limit(self, limit: int) -> None:
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        while self.active < self.limit and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)


class Slot:
    """One task's place under the limit; a task waiting for the operator gives it up until answered."""

    def __init__(self, limit: ConcurrencyLimit) -> None:
        self._limit = limit
        self.held = False

    async def take(self) -> None:
        await self._limit.acquire()
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._limit.release()
