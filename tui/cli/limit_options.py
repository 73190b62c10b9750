"""`--idle-timeout`, `--max-output-tokens` and `--budget-usd`, for `agentdeck run` and the app.

A flag applies to every task of the command: it wins over the config's
top-level and per-provider values alike.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tui.config import Config
from tui.config_limits import MAX_OUTPUT_TOKENS, parse_budget


def _echo(text: str) -> str:
    return repr(text if len(text) <= 32 else text[:31] + "…")


def output_tokens_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of tokens, got {_echo(text)}") from None
    if not 1 <= value <= MAX_OUTPUT_TOKENS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_OUTPUT_TOKENS}, got {_echo(text)}")
    return value


def budget_value(text: str) -> float:
    try:
        return parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {_echo(text)}") from None


def add_limit_options(add: Callable[..., Any], seconds: Callable[[str], float], unset: dict[str, Any]) -> None:
    add("--idle-timeout", type=seconds, metavar="S",
        help="end a task that gets no output for S seconds (default 120); 0 = never", **unset)
    add("--max-output-tokens", type=output_tokens_value, metavar="N",
        help="most tokens a model may write per request (sent to the API)", **unset)
    add("--budget-usd", type=budget_value, metavar="USD",
        help="no task starts, and running ones stop, once the session has spent this much", **unset)


def apply_limit_options(config: Config, args: argparse.Namespace) -> Config:
    idle = getattr(args, "idle_timeout", None)
    tokens = getattr(args, "max_output_tokens", None)
    budget = getattr(args, "budget_usd", None)
    changes: dict[str, Any] = {}
    if idle is not None or tokens is not None:
        provider_changes = {"idle_timeout": None} if idle is not None else {}
        if tokens is not None:
            provider_changes["max_output_tokens"] = tokens
        changes["providers"] = {name: replace(p, **provider_changes) for name, p in config.providers.items()}
    if idle is not None:
        changes["idle_timeout"] = idle
    if budget is not None:
        changes["budget_usd"] = budget
    return config.with_overrides(**changes) if changes else config
