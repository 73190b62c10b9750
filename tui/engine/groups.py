"""Groups: one prompt asked of several providers/models at once, kept together as one thing.

A group is only a short id (`g1`, `g2`, ...) shared by its tasks; each member is an
ordinary task (its own session, limits and timeouts), so everything else about tasks
applies to members unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tui.config import Config, ConfigError
from tui.engine.task import Task

Target = tuple[str, str | None]
"""(provider, model or None for the provider's default model)."""

_GROUP_ID = re.compile(r"g(\d+)")


class GroupError(ValueError):
    """A group request that cannot be acted on; the engine re-raises it as its EngineError."""


def parse_targets(text: str) -> list[Target]:
    """`deepseek,openai:gpt-5-mini` -> [("deepseek", None), ("openai", "gpt-5-mini")].

    Only the first `:` separates provider from model, so a model id may itself hold `:`
    (`local:llama3:8b` asks provider `local` for model `llama3:8b`).
    """
    targets: list[Target] = []
    for item in text.split(","):
        name, colon, model = item.strip().partition(":")
        name, model = name.strip(), model.strip()
        if not name:
            raise GroupError(f"needs NAME or NAME:MODEL items separated by commas, got {text!r}")
        if colon and not model:
            raise GroupError(f"{item.strip()!r} names no model after ':' (write {name!r} for its default model)")
        targets.append((name, model or None))
    return targets


def check_targets(config: Config, targets: Sequence[Target]) -> list[Target]:
    """Every target names a known provider, checked before any member is created (no half-made groups)."""
    if not targets:
        raise GroupError("a group needs at least one provider")
    for provider, model in targets:
        try:
            config.provider(provider)
        except ConfigError as exc:
            raise GroupError(str(exc)) from None
        if model is not None and not model.strip():
            raise GroupError(f"provider {provider!r}: the model name is empty")
    return list(targets)


def new_group_id(tasks: Iterable[Task]) -> str:
    """`g` and one more than the highest number in use, so ids stay unique within a session (and short)."""
    numbers = [int(match.group(1)) for task in tasks if task.group and (match := _GROUP_ID.fullmatch(task.group))]
    return f"g{max(numbers, default=0) + 1}"


def members(tasks: Mapping[int, Task], group_id: str) -> list[Task]:
    """The group's tasks in creation order (ids grow with creation)."""
    found = [task for task in tasks.values() if task.group == group_id]
    if not found:
        raise GroupError(f"no group {group_id!r}")
    return sorted(found, key=lambda task: task.id)


def latest_per_target(tasks: Sequence[Task]) -> list[Task]:
    """Each provider/model's newest member, in creation order: a member retried alone is superseded by its retry."""
    latest: dict[tuple[str, str], Task] = {}
    for task in tasks:
        key = (task.provider, task.model)
        if key not in latest or task.id > latest[key].id:
            latest[key] = task
    return sorted(latest.values(), key=lambda task: task.id)
