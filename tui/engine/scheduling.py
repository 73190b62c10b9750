"""Scheduling that knows each provider: its own concurrency, adaptive to 429s, and a task's place in it.

A provider that refuses work with 429 has told us how much it takes at once; sending more
only earns more refusals. So each provider has lanes whose number is lowered (halved) on a
429 and raised one step at a time after successes: quickly back to the level last known to
work, then slowly above it, never past the configured `concurrency`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui.config import MAX_CONCURRENCY, Config, ProviderConfig
from tui.engine.limits import ConcurrencyLimit, Slot
from tui.engine.task import Task

CUT_MESSAGE = "the stream ended before the model finished (connection cut)"


class StreamCut(Exception):
    """The stream ended quietly before the model said it was done: a drop, continued like one."""


PROBE_AFTER = 20
"""Successes at the level last known to work before one more lane is tried."""


class ProviderLanes:
    """One provider's concurrency: the configured limit and the effective one, which 429s lower."""

    def __init__(self, name: str, configured: int | None, global_limit: ConcurrencyLimit) -> None:
        self.name = name
        self.configured = configured
        self._global = global_limit
        self.limit = ConcurrencyLimit(self.ceiling)
        self._known_good = self.ceiling
        self._generation = 0
        self._successes = 0

    @property
    def ceiling(self) -> int:
        """The most lanes there may be: the configured limit, and never more than the global one."""
        return min(self.configured or MAX_CONCURRENCY, self._global.limit)

    @property
    def effective(self) -> int:
        return self.limit.limit

    @property
    def generation(self) -> int:
        """Bumped at each lowering: refusals of requests sent before it were already answered by it."""
        return self._generation

    @property
    def full(self) -> bool:
        return self.limit.active >= self.limit.limit

    @property
    def throttled(self) -> bool:
        """Running below the configured limit because the provider refused work."""
        return self.effective < self.ceiling

    def configure(self, configured: int | None) -> None:
        """A new configured limit from the operator, in force at once (adaptation starts over)."""
        self.configured = configured
        self._known_good = self.ceiling
        self._successes = 0
        self.limit.set_limit(self.ceiling)

    def global_changed(self, previous: int) -> None:
        """Follow the global limit, unless 429s have lowered the lanes below it."""
        if self.effective >= min(self.configured or MAX_CONCURRENCY, previous):
            self._known_good = self.ceiling
            self.limit.set_limit(self.ceiling)

    def rate_limited(self, generation: int) -> None:
        """Halve the lanes (not below 1) once per lowering: a burst of refusals counts once."""
        if generation != self._generation:
            return
        level = min(self.effective, self.limit.active)
        self._known_good = max(1, level - 1)
        self._generation += 1
        self._successes = 0
        self.limit.set_limit(max(1, level // 2))

    def succeeded(self) -> None:
        """One more lane after a run of successes: one success below the known-good level, `PROBE_AFTER` above."""
        ceiling = self.ceiling
        if self.effective >= ceiling:
            return
        self._successes += 1
        if self._successes >= (1 if self.effective < self._known_good else PROBE_AFTER):
            self._successes = 0
            self.limit.set_limit(self.effective + 1)
            self._known_good = max(self._known_good, self.effective)

    def describe_throttle(self) -> str:
        """`deepseek 2 of 8 at once`: the lanes 429s left it, of those it may have."""
        return f"{self.name} {self.effective} of {self.ceiling} at once"

    def describe(self) -> str:
        """`deepseek 2/4`: tasks streaming and the lanes there are now."""
        return f"{self.name} {self.limit.active}/{self.effective}"


class Scheduler:
    """Every provider's lanes, under the one global limit."""

    def __init__(self, config: Config, global_limit: ConcurrencyLimit) -> None:
        self.config = config
        self.global_limit = global_limit
        self._lanes: dict[str, ProviderLanes] = {}

    def lanes(self, provider: str) -> ProviderLanes:
        if provider not in self._lanes:
            configured = self.config.providers[provider].concurrency if provider in self.config.providers else None
            self._lanes[provider] = ProviderLanes(provider, configured, self.global_limit)
        return self._lanes[provider]

    def set_concurrency(self, limit: int) -> None:
        """A new global limit, which providers without 429s follow at once."""
        previous = self.global_limit.limit
        self.global_limit.set_limit(limit)
        for lanes in self._lanes.values():
            lanes.global_changed(previous)

    def set_provider_concurrency(self, provider: str, limit: int | None) -> None:
        self.lanes(provider).configure(limit)

    def throttled(self) -> list[ProviderLanes]:
        """Providers whose effective limit is below the configured one (the header names them)."""
        return [lanes for lanes in self._lanes.values() if lanes.throttled]

    def slot(self, task: Task, changed: Callable[[Task], None]) -> TaskSlot:
        return TaskSlot(self.global_limit, self.lanes(task.provider), task, changed)

    def auto_continue(self, spec: ProviderConfig) -> int:
        return self.config.auto_continue if spec.auto_continue is None else spec.auto_continue


class TaskSlot(Slot):
    """A task's place: a lane of its provider, then a place under the global limit.

    Queued, the task says why in its notice: behind its provider's own limit (`waiting: deepseek 2/2`)
    or behind the global one (`waiting: 4/4 running`);
    it also counts the task's waits after refusals and its automatic continues in this run.
    """

    def __init__(
        self, global_limit: ConcurrencyLimit, lanes: ProviderLanes, task: Task, changed: Callable[[Task], None]
    ) -> None:
        super().__init__(global_limit)
        self.global_limit = global_limit
        self.lanes = lanes
        self.generation = lanes.generation
        """The provider's lowering in force when this slot was taken: a 429 older than that is already answered."""
        self.retries = 0
        self.continues = 0
        self._task = task
        self._changed = changed
        self._said: str | None = None

    async def take(self) -> None:
        holder = self._holder()
        if holder is not None:
            self.say(f"waiting: {holder}")
        await self.lanes.limit.acquire()
        try:
            await super().take()
        except BaseException:
            self.lanes.limit.release()
            raise
        self.generation = self.lanes.generation
        self.say(None)

    def _holder(self) -> str | None:
        """The limit that keeps the task from starting now: its provider's own, or the global one."""
        if self.lanes.full and self.lanes.effective < self.global_limit.limit:
            return self.lanes.describe()
        if self.lanes.full or self.global_limit.active >= self.global_limit.limit or self.global_limit.waiting:
            return f"{self.global_limit.active}/{self.global_limit.limit} running"
        return None

    def give_back(self) -> None:
        if self.held:
            super().give_back()
            self.lanes.limit.release()

    def say(self, notice: str | None) -> None:
        """Show why the task is not running; None takes back what was said (other remarks stay)."""
        if notice is None and (self._said is None or self._task.notice != self._said):
            return
        self._task.notice = self._said = notice
        self._changed(self._task)

    async def pause(self, seconds: float, reason: str) -> None:
        """Give the lanes back and wait, counting down on the task (`rate limited, retry in 12 s`)."""
        self.give_back()
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while (left := until - loop.time()) > 0:
            self.say(f"{reason}, retry in {max(1, round(left))} s")
            await asyncio.sleep(min(1.0, left))
        await self.take()
