"""What tokens cost: usage times the provider's prices (USD per million tokens).

Reasoning tokens are part of the output tokens and cached input part of the
input (as OpenAI reports them), so each token is priced once: cached input at
`price_cached_input` (or `price_input` when that is not set), the rest of the
input at `price_input`, all output at `price_output`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
        """One plain pass (the app's header sums every task four times a second)."""
        tokens = counted = priced = 0
        cost = 0.0
        estimated = False
        for task in tasks:
            usage = task.usage
            if usage.total_tokens is None and usage.input_tokens is None and usage.output_tokens is None:
                continue
            counted += 1
            tokens += usage.tokens
            estimated = estimated or usage.estimated
            if usage.cost_usd is not None:
                cost += usage.cost_usd
                priced += 1
        return cls(tokens, cost if priced else None, estimated, counted)
