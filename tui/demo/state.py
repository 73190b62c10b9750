"""The demo server's memory: stats, fault counters, background tasks."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from typing import Any

from tui.demo.conversation import Message, Plan, resolve_turn
from tui.demo.script import expected_answer, parse_directives
from tui.demo.streaming import DemoStats


class DemoServer:
    """State shared by all requests of one demo server instance."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.stats = DemoStats()
        self.fault_counts: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()

    def plan(self, history: list[Message], header: str | None, model: str | None = None) -> Plan:
        """Resolve the prompt, its directives and whether its faults are still armed (`fail_times`)."""
        turn = resolve_turn(history)
        directives = parse_directives(turn.prompt, header, pacing_only=turn.continuation)
        if directives.has_faults and directives.fail_times is not None:
            self.fault_counts[turn.prompt] += 1
            if self.fault_counts[turn.prompt] > directives.fail_times:
                directives = directives.without_faults()
        full = expected_answer(turn.prompt, directives.length, model)
        prompt_chars = sum(len(text) for _, text in history)
        return Plan(turn, directives, full[len(turn.answered) :], prompt_chars, model)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run work that must outlive the request that started it (background responses)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self) -> None:
        """Stop work spawned past its request (the Responses API ends its own streams first)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
