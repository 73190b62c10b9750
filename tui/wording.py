"""Counts in words, shared by the command line and the app so both say `1 task`, `3 tasks`."""

from __future__ import annotations


def plural(number: int, noun: str) -> str:
    """`1 task`, `3 tasks`, `0 tasks`: every count agentdeck prints goes through here."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"
