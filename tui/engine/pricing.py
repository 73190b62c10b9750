"""What tokens cost: usage times the provider's prices (USD per million tokens).

Reasoning tokens are part of the output tokens and cached input part of the
input (as OpenAI reports them), so each token is priced once: cached input at
`price_cached_input` (or `price_input` when that is not set), the rest of the
input at `price_input`, all output at `price_output`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from tui.config import ProviderConfig
from tui.config_prices import Prices
from tui.engine.task import Task, Usage

PER_TOKENS = 1_000_000


def cost_usd(usage: Usage, prices: Prices | None) -> float | None:
    """The cost of `usage`, or None when it is unknown (no price, or no tokens counted)."""
    if prices is None or not usage.is_known:
        return None
    inputs = usage.input_tokens or 0
    cached = min(usage.cached_input_tokens or 0, inputs)
    cached_price = prices.input if prices.cached_input is None else prices.cached_input
    total = (inputs - cached) * prices.input + cached * cached_price + (usage.output_tokens or 0) * prices.output
    return total / PER_TOKENS


def prices_for(provider: ProviderConfig | None, model: str) -> Prices | None:
    return None if provider is None else provider.prices.for_model(model)


def price_task(task: Task, provider: ProviderConfig | None) -> None:
    """Set the task's cost from its usage now, at the prices configured now."""
    task.usage.cost_usd = cost_usd(task.usage, prices_for(provider, task.model))


@dataclass(frozen=True)
class UsageTotal:
    """Tokens and cost of many tasks: `cost_usd` None when none of them has a price."""

    tokens: int = 0
    cost_usd: float | None = None
    estimated: bool = False
    """Some of the tokens were estimated."""
    tasks: int = 0

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> UsageTotal:
        """One plain pass over every task (`RunningTotal` keeps one up to date instead)."""
        tokens = counted = 0
        costs: list[float] = []
        estimated = False
        for task in tasks:
            usage = task.usage
            if usage.total_tokens is None and usage.input_tokens is None and usage.output_tokens is None:
                continue
            counted += 1
            tokens += usage.tokens
            estimated = estimated or usage.estimated
            if usage.cost_usd is not None:
                costs.append(usage.cost_usd)
        return cls(tokens, math.fsum(costs) if costs else None, estimated, counted)


@dataclass(frozen=True, slots=True)
class _Share:
    """One task's part of a total, as it was when counted."""

    tokens: int
    cost: float | None
    estimated: bool

    @classmethod
    def of(cls, usage: Usage) -> _Share | None:
        """None when the usage has no counts (such a task is not in the total, as in `UsageTotal.of`)."""
        if usage.total_tokens is None and usage.input_tokens is None and usage.output_tokens is None:
            return None
        return cls(usage.tokens, usage.cost_usd, usage.estimated)


@dataclass
class _Sum:
    """Shares added and taken back exactly: the cost, summed as a fraction, never drifts, so the total reads as a
    full sum (`math.fsum`, correctly rounded) of the same tasks would."""

    tokens: int = 0
    cost: Fraction = Fraction(0)
    priced: int = 0
    estimated: int = 0
    tasks: int = 0

    def add(self, share: _Share, sign: int = 1) -> None:
        self.tokens += sign * share.tokens
        self.tasks += sign
        self.estimated += sign * share.estimated
        if share.cost is not None:
            self.cost += sign * Fraction(share.cost)
            self.priced += sign

    def total(self) -> UsageTotal:
        return UsageTotal(self.tokens, float(self.cost) if self.priced else None, self.estimated > 0, self.tasks)


class RunningTotal:
    """The usage of many tasks kept up to date one task at a time, so a total of thousands costs no scan.

    For tasks whose usage seldom changes (final ones): `count` a task again whenever its usage may have
    changed. A task is counted when the total is next read, so loading a big session costs nothing here.
    """

    def __init__(self) -> None:
        self._shares: dict[int, _Share] = {}
        self._pending: dict[int, Task] = {}
        self._sum = _Sum()

    def count(self, task: Task) -> None:
        """Count the task's usage (as it is when the total is next read) in place of what it had before."""
        self._pending[task.id] = task

    def forget(self, task_id: int) -> None:
        self._pending.pop(task_id, None)
        share = self._shares.pop(task_id, None)
        if share is not None:
            self._sum.add(share, -1)

    def with_tasks(self, tasks: Iterable[Task]) -> UsageTotal:
        """This total and that of `tasks` (the running ones, whose usage changes as they run)."""
        pending, self._pending = self._pending, {}
        for task_id, task in pending.items():
            self.forget(task_id)
            share = _Share.of(task.usage)
            if share is not None:
                self._shares[task_id] = share
                self._sum.add(share)
        live = _Sum(self._sum.tokens, self._sum.cost, self._sum.priced, self._sum.estimated, self._sum.tasks)
        for task in tasks:
            share = _Share.of(task.usage)
            if share is not None:
                live.add(share)
        return live.total()
