"""Tool calls as rows: captured on the event loop, saved with their task, read back as `ToolCall`s.

A call's row is keyed by its task and position (the order the model made the
calls) and rewritten each time the call starts, waits or ends. What the
engine changes in place is found by `CallTracker`, so a call is saved
whichever event reports it. A call left running or waiting by a writer that is
gone is saved as `cancelled`, saying why (`records.mark_interrupted`): on
continue the model is told it did not finish, and completed calls are never
run again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from tui.engine.task import Task, scalar_text
from tui.engine.tool_calls import ToolCall, ToolCallStatus
from tui.store.records import pack_text, unpack_text

CALL_FIELDS = ("status", "offset", "started_at", "finished_at", "call_id", "name", "server", "error", "arguments",
               "result")
"""In table order: small columns first, so a scan stops before the large ones of rows it skips."""
PACKED_FIELDS = frozenset({"arguments", "result"})
CALL_COLUMNS = ", ".join(CALL_FIELDS)

CallSnapshot = dict[str, Any]


def capture_call(call: ToolCall) -> CallSnapshot:
    """A call's fields as plain values (on the loop: the writer thread never touches a live call)."""
    return {name: getattr(call, name) for name in CALL_FIELDS} | {"status": str(call.status)}


def call_values(snapshot: CallSnapshot) -> list[Any]:
    """Column values in `CALL_FIELDS` order: text made UTF-8-safe, large arguments and results compressed."""
    values = []
    for name in CALL_FIELDS:
        value = snapshot[name]
        if isinstance(value, str):
            value = scalar_text(value)
            if name in PACKED_FIELDS:
                value = pack_text(value)
        values.append(value)
    return values


def _checked(name: str, value: Any, kinds: type | tuple[type, ...], optional: bool = False) -> Any:
    if (value is None and optional) or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    raise ValueError(f"tool call column '{name}' holds {type(value).__name__}")


def call_from_row(values: tuple[Any, ...]) -> ToolCall:
    """A `ToolCall` from column values in `CALL_FIELDS` order; ValueError (or zlib.error) if damaged."""
    row = dict(zip(CALL_FIELDS, values, strict=True))
    number = (int, float)
    for name in ("call_id", "name", "server"):
        _checked(name, row[name], str)
    _checked("error", row["error"], str, optional=True)
    _checked("offset", row["offset"], int)
    _checked("started_at", row["started_at"], number)
    _checked("finished_at", row["finished_at"], number, optional=True)
    arguments = unpack_text(_checked("arguments", row["arguments"], (str, bytes)))
    result = row["result"]
    return ToolCall(
        call_id=row["call_id"], name=row["name"], server=row["server"], arguments=arguments,
        status=ToolCallStatus(row["status"]),
        result=None if result is None else unpack_text(_checked("result", result, (str, bytes))),
        error=row["error"], offset=max(0, row["offset"]), started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def servers_from_column(value: Any) -> tuple[str, ...]:
    """`task_tools.servers`: the JSON list of MCP server names; ValueError if damaged."""
    servers = json.loads(_checked("servers", value, str))
    if not isinstance(servers, list) or not all(isinstance(name, str) for name in servers):
        raise ValueError("'servers' holds something else than names")
    return tuple(servers)


@dataclass
class TaskTools:
    """What is saved beside a task's row: its MCP servers, its tool calls (in call order) and its group."""

    servers: tuple[str, ...] = ()
    calls: list[ToolCall] = field(default_factory=list)
    group: str | None = None


def has_tool_tables(conn: sqlite3.Connection) -> bool:
    """Files from before version 3 have no tool tables (they are read as they are, never changed by a reader)."""
    return _has_table(conn, "tool_calls")


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def read_tools(conn: sqlite3.Connection, task_id: int | None = None) -> dict[int, TaskTools]:
    """Servers and calls of one task, or of every task that has any; call this inside a read transaction."""
    where, args = ("WHERE task_id = ?", (task_id,)) if task_id is not None else ("", ())
    found: dict[int, TaskTools] = {}
    for owner, servers in conn.execute(f"SELECT task_id, servers FROM task_tools {where}", args):
        found.setdefault(owner, TaskTools()).servers = servers_from_column(servers)
    query = f"SELECT task_id, {CALL_COLUMNS} FROM tool_calls {where} ORDER BY task_id, position"
    for owner, *values in conn.execute(query, args):
        found.setdefault(owner, TaskTools()).calls.append(call_from_row(tuple(values)))
    if _has_table(conn, "task_groups"):  # since version 4
        for owner, group in conn.execute(f"SELECT task_id, group_id FROM task_groups {where}", args):
            found.setdefault(owner, TaskTools()).group = _checked("group_id", group, str)
    return found


def read_changed_calls(conn: sqlite3.Connection, task_id: int, rev: int) -> list[tuple[int, ToolCall]]:
    """(position, call) of a task's calls saved after revision `rev`, in call order."""
    query = f"SELECT position, {CALL_COLUMNS} FROM tool_calls WHERE task_id = ? AND rev > ? ORDER BY position"
    return [(position, call_from_row(tuple(values))) for position, *values in conn.execute(query, (task_id, rev))]


def _mark(call: ToolCall) -> tuple[Any, ...]:
    """What changes when a call starts, waits or ends (its request never changes)."""
    return call.status, call.finished_at, call.error, call.result


class CallTracker:
    """Which calls of each task changed since they were last handed to the writer."""

    def __init__(self) -> None:
        self._marks: dict[int, list[tuple[Any, ...]]] = {}
        self._settled: dict[int, int] = {}
        """Per task, how many leading calls are final and saved: they are not looked at again."""

    def saved(self, task: Task) -> None:
        """The task's calls as they are now are on disk (or about to be)."""
        self._marks[task.id] = [_mark(call) for call in task.tool_calls]
        self._settled[task.id] = 0
        self._advance(task)

    def forget(self, task_id: int) -> None:
        self._marks.pop(task_id, None)
        self._settled.pop(task_id, None)

    def changed(self, task: Task) -> dict[int, CallSnapshot]:
        """Snapshots of the calls that are new or changed, by position."""
        calls = task.tool_calls
        marks = self._marks.setdefault(task.id, [])
        start = self._settled.get(task.id, 0)
        if start >= len(calls):
            return {}
        changes: dict[int, CallSnapshot] = {}
        for position in range(start, len(calls)):
            mark = _mark(calls[position])
            if position >= len(marks):
                marks.append(mark)
            elif marks[position] == mark:
                continue
            else:
                marks[position] = mark
            changes[position] = capture_call(calls[position])
        self._advance(task)
        return changes

    def _advance(self, task: Task) -> None:
        settled = self._settled.get(task.id, 0)
        while settled < len(task.tool_calls) and task.tool_calls[settled].status.is_final:
            settled += 1
        self._settled[task.id] = settled
