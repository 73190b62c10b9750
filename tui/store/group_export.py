"""Export of one group (one prompt asked of several models) as a comparison: figures first, then each answer.

Markdown is a table of each answer's figures (provider/model, status, time to first
output, characters per second, total time, tokens, cost) followed by every answer under
its own heading; JSON and TOML hold the group's tasks as a session export does, so
they import back like one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.engine import Task
from tui.store import files
from tui.store.errors import StoreError
from tui.store.export import FORMATS, render, session_header, task_document
from tui.store.markdown_nesting import open_fence
from tui.store.markdown_tools import answer_with_calls
from tui.store.reader import SessionReader
from tui.store.records import mark_interrupted
from tui.wording import UNKNOWN_COST, money

MISSING = UNKNOWN_COST
"""A figure not known (yet): no output arrived, no usage reported, no price for the model."""
FIGURES = ("provider/model", "status", "first output", "chars/s", "total time", "tokens", "cost")


def group_export(ref: str | Path, group_id: str, fmt: str) -> str:
    """The group's comparison (`md`) or its tasks (`json`, `toml`); StoreError when the group is not there."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    path = files.resolve(ref)
    reader = SessionReader(path)
    try:
        header = session_header(path, reader.summary())
        members = list(_members(path, reader, group_id))
    finally:
        reader.close()
    if not members:
        raise StoreError(f"session {header['name']!r} has no group {group_id!r}")
    if fmt != "md":
        return render({"session": header, "tasks": [task_document(task) for task in members]}, fmt)
    return "".join(_comparison(header["name"], group_id, members))


def _members(path: Path, reader: SessionReader, group_id: str) -> Iterator[Task]:
    """The group's tasks as saved (a dead writer's running ones shown `interrupted`), in creation order."""
    writer = files.writer_pid(path)
    for row, task in reader.each_task():
        if task.group == group_id:
            if writer is None:
                mark_interrupted(task, row.updated_at)
            yield task


def figures(task: Task) -> list[str]:
    """One table row: what tells answers apart besides their text."""
    elapsed = task.elapsed()
    first = task.time_to_first_output
    return [
        f"{task.provider}/{task.model}",
        task.status.word,
        MISSING if first is None else f"{first:.2f} s",
        f"{task.chars / elapsed:,.0f}" if elapsed > 0 and task.chars else MISSING,
        f"{elapsed:.1f} s" if task.started_at is not None else MISSING,
        MISSING if task.usage.total_tokens is None else f"{task.usage.total_tokens:,}",
        money(task.usage.cost_usd),
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _comparison(session: str, group_id: str, members: list[Task]) -> Iterator[str]:
    prompt = members[0].prompt
    yield f"# Group {group_id} of session {session}\n\n"
    yield "".join(f"> {line}\n" for line in prompt.splitlines() or [""]) + "\n"
    yield "| # | " + " | ".join(FIGURES) + " |\n"
    yield "|---|" + "---|" * len(FIGURES) + "\n"
    for number, task in enumerate(members, start=1):
        yield f"| {number} | " + " | ".join(_cell(value) for value in figures(task)) + " |\n"
    for number, task in enumerate(members, start=1):
        document: dict[str, Any] = task_document(task)
        yield f"\n## {number}. {task.provider}/{task.model} · task {task.id} · {task.status.word}\n\n"
        if task.error:
            yield f"- error: {task.error}\n\n"
        answer = answer_with_calls(document["output"], document["tool_calls"]).rstrip("\n") + "\n"
        fence = open_fence(answer)  # an answer cut inside code must not swallow the next heading
        yield answer + (f"{fence}\n" if fence else "")
