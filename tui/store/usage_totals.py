"""Tokens and cost of a session's tasks, summed by SQLite in one query per file.

Each task's `usage` column holds its counts, whether they were estimated and
what they cost when counted (`cost_usd`, absent when the model had no price).
The query groups by provider, model and day (the local date the task started),
so listing hundreds of sessions reads a few rows from each, never a task's text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

TOKENS = "coalesce(json_extract(u, '$.total_tokens'), " \
    "coalesce(json_extract(u, '$.input_tokens'), 0) + coalesce(json_extract(u, '$.output_tokens'), 0))"
USAGE_QUERY = f"""
SELECT provider, model, day, count(*), count(u),
    total(json_extract(u, '$.input_tokens')), total(json_extract(u, '$.output_tokens')),
    total(json_extract(u, '$.cached_input_tokens')), total(json_extract(u, '$.reasoning_tokens')),
    total({TOKENS}), total(CASE WHEN json_extract(u, '$.estimated') THEN {TOKENS} END),
    total(json_extract(u, '$.cost_usd')), count(json_extract(u, '$.cost_usd'))
FROM (
    SELECT i.provider, i.model,
        date(coalesce(t.started_at, i.created_at), 'unixepoch', 'localtime') AS day,
        CASE WHEN json_valid(t.usage) AND json_type(t.usage) = 'object' THEN t.usage END AS u
    FROM tasks t JOIN task_inputs i ON i.task_id = t.id
)
GROUP BY provider, model, day
"""


@dataclass
class UsageSum:
    """What some tasks used; `cost_usd` sums the priced ones (`priced_tasks`), `None`-free so sums add up."""

    tasks: int = 0
    counted_tasks: int = 0
    """Tasks with tokens counted (reported or estimated)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    tokens: int = 0
    estimated_tokens: int = 0
    cost_usd: float = 0.0
    priced_tasks: int = 0

    def add(self, other: UsageSum) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def known_cost(self) -> float | None:
        """The cost, or None when no task had a price (unknown, never 0)."""
        return self.cost_usd if self.priced_tasks else None

    @property
    def estimated_share(self) -> float:
        return self.estimated_tokens / self.tokens if self.tokens else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens, "reasoning_tokens": self.reasoning_tokens,
            "tokens": self.tokens, "estimated_share": round(self.estimated_share, 4),
            "cost_usd": self.known_cost, "priced_tasks": self.priced_tasks,
        }


@dataclass(frozen=True)
class UsageRow:
    """One provider's model on one day, in one session."""

    provider: str
    model: str
    day: str
    """`YYYY-MM-DD`, local time; `?` when the task has no valid time."""
    used: UsageSum


def read_usage(conn: sqlite3.Connection) -> list[UsageRow]:
    rows = []
    for provider, model, day, *numbers in conn.execute(USAGE_QUERY):
        whole = [int(n) for n in numbers[:-2]]
        used = UsageSum(*whole, cost_usd=float(numbers[-2]), priced_tasks=int(numbers[-1]))
        rows.append(UsageRow(str(provider), str(model), day or "?", used))
    return rows


def total(rows: Iterable[UsageRow]) -> UsageSum:
    summed = UsageSum()
    for row in rows:
        summed.add(row.used)
    return summed
