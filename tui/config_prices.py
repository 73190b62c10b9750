"""Token prices of a provider (USD per million tokens), optionally per model, checked like the rest of the config.

```toml
[providers.deepseek]
price_input = 0.27
price_output = 1.10
price_cached_input = 0.07                        # optional; cached input costs price_input without it
[providers.deepseek.prices."deepseek-reasoner"]  # optional; keys it leaves out come from the provider
price_input = 0.55
price_output = 2.19
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

PRICE_KEYS = ("price_input", "price_output", "price_cached_input")
MAX_PRICE_USD = 1_000_000.0
"""Per million tokens; anything above is a typo, not a price."""


class _Checker(Protocol):
    """What tui.config's checker offers (this module sits below tui.config, which imports it)."""

    def fail(self, key: str, problem: str) -> Exception: ...

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None: ...

    def number(self, table: Mapping[str, Any], key: str, prefix: str, low: float, high: float) -> float | None: ...


@dataclass(frozen=True)
class Prices:
    """What one model's tokens cost, in USD per million; cached input costs `input` when not priced apart."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class PriceList:
    """A provider's prices: its own, and overrides for some of its models."""

    default: Prices | None = None
    by_model: Mapping[str, Prices] = field(default_factory=dict)

    def for_model(self, model: str) -> Prices | None:
        """The model's prices, or None when its cost is unknown."""
        return self.by_model.get(model, self.default)

    @property
    def is_empty(self) -> bool:
        return self.default is None and not self.by_model


def _read_prices(check: _Checker, table: Mapping[str, Any], prefix: str) -> dict[str, float]:
    found = {}
    for key in PRICE_KEYS:
        value = check.number(table, key, prefix, 0.0, MAX_PRICE_USD)
        if value is not None:
            found[key] = value
    return found


def _complete(check: _Checker, found: Mapping[str, float], where: str) -> Prices:
    missing = [key for key in ("price_input", "price_output") if key not in found]
    if missing:
        raise check.fail(where, f"sets a price but not {missing[0]} (a price list needs both input and output)")
    return Prices(found["price_input"], found["price_output"], found.get("price_cached_input"))


def parse_price_list(check: _Checker, raw: Mapping[str, Any], prefix: str) -> PriceList:
    """The price keys of a `[providers.NAME]` table and its `prices."MODEL"` tables."""
    own = _read_prices(check, raw, prefix)
    default = _complete(check, own, f"{prefix}{sorted(own)[0]}") if own else None
    tables = raw.get("prices", {})
    if not isinstance(tables, dict):
        raise check.fail(f"{prefix}prices", 'must hold tables like [providers.NAME.prices."MODEL"]')
    by_model = {}
    for model, table in tables.items():
        where = f'{prefix}prices."{model}"'
        if not isinstance(table, dict):
            raise check.fail(where, "must be a table of price_input, price_output and price_cached_input")
        check.unknown_keys(table, set(PRICE_KEYS), f"{where}.")
        by_model[model] = _complete(check, {**own, **_read_prices(check, table, f"{where}.")}, where)
    return PriceList(default, by_model)


def describe_price_list(prices: PriceList) -> dict[str, Any]:
    """The price keys as they would be written in the config (for `agentdeck config`)."""
    def keys(p: Prices) -> dict[str, float]:
        entry = {"price_input": p.input, "price_output": p.output}
        if p.cached_input is not None:
            entry["price_cached_input"] = p.cached_input
        return entry

    described: dict[str, Any] = keys(prices.default) if prices.default else {}
    if prices.by_model:
        described["prices"] = {model: keys(p) for model, p in prices.by_model.items()}
    return described
