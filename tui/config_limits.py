"""The operator's limits in the config: `idle_timeout`, `max_output_tokens` and `budget_usd`.

`idle_timeout` (top level and per provider) ends a task that gets no output for
that long; `max_output_tokens` (per provider) is sent with every request;
`budget_usd` (top level) stops a session's spending. Checked like the rest of
the config, one message per mistake naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

from tui.timeouts import NOT_A_NUMBER, check_timeout

TOP_LEVEL_LIMIT_KEYS = frozenset({"idle_timeout", "budget_usd"})
PROVIDER_LIMIT_KEYS = frozenset({"idle_timeout", "max_output_tokens"})
MAX_OUTPUT_TOKENS = 10_000_000
MAX_BUDGET_USD = 1_000_000.0


def parse_budget(text: str) -> float:
    """Dollars as typed (`2.50`, `$2.50`), more than 0: a budget of nothing would start nothing."""
    try:
        value = float(text.strip().removeprefix("$"))
    except ValueError:
        raise ValueError("must be an amount in USD like 2.50") from None
    if math.isnan(value) or not 0 < value <= MAX_BUDGET_USD:
        raise ValueError(f"must be more than 0 and at most {MAX_BUDGET_USD:g}")
    return value


class _Checker(Protocol):
    """What tui.config's checker offers (this module sits below tui.config, which imports it)."""

    def fail(self, key: str, problem: str) -> Exception: ...

    def number(self, table: Mapping[str, Any], key: str, prefix: str, low: float, high: float) -> float | None: ...

    def integer(self, table: Mapping[str, Any], key: str, prefix: str, low: int, high: int) -> int | None: ...


def idle_seconds(check: _Checker, table: Mapping[str, Any], prefix: str) -> float | None:
    """`idle_timeout` in seconds, worded as a timeout is; 0 is kept (it means off), None when absent."""
    value = table.get("idle_timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise check.fail(f"{prefix}idle_timeout", f"{NOT_A_NUMBER}, got {type(value).__name__} {value!r:.40}")
    try:
        return check_timeout(float(value))
    except ValueError as exc:
        raise check.fail(f"{prefix}idle_timeout", f"{exc}, got {value}") from None


def provider_limits(check: _Checker, table: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The `ProviderConfig` fields of a `[providers.NAME]` table's limits."""
    return {
        "idle_timeout": idle_seconds(check, table, prefix),
        "max_output_tokens": check.integer(table, "max_output_tokens", prefix, 1, MAX_OUTPUT_TOKENS),
    }


def session_limits(check: _Checker, table: Mapping[str, Any]) -> dict[str, Any]:
    """The `Config` fields of the top-level limits (absent keys keep the defaults)."""
    limits: dict[str, Any] = {}
    idle = idle_seconds(check, table, "")
    if idle is not None:
        limits["idle_timeout"] = idle
    budget = check.number(table, "budget_usd", "", 0, MAX_BUDGET_USD)
    if budget is not None:
        if budget <= 0:
            raise check.fail("budget_usd", f"must be more than 0 (leave it out for no budget), got {budget:g}")
        limits["budget_usd"] = budget
    return limits
