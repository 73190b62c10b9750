"""Counts and sums in words, shared by the command line and the app so both say `1 task`, `3 tasks`, `$0.0042`."""

from __future__ import annotations


def plural(number: int, noun: str) -> str:
    """`1 task`, `3 tasks`, `0 tasks`: every count agentdeck prints goes through here."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


UNKNOWN_COST = "–"
"""A cost that is not known (no price): never shown as 0."""


def money(usd: float | None) -> str:
    """`$0.0042`, `$1.23`, `$1,234`: small sums keep their digits, large ones lose their cents; `–` when unknown."""
    if usd is None:
        return UNKNOWN_COST
    if usd < 1:
        return f"${usd:.4f}" if usd else "$0"
    return f"${usd:,.2f}" if usd < 1000 else f"${usd:,.0f}"
