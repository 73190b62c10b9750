"""The rules an imported value must meet: the command line's and the store's, so an import cannot poison a session.

A crafted export may hold anything JSON or TOML can say: integers past 64
bits (SQLite refuses them on every later save), `inf`/`NaN` (which JSON
exports would write as invalid `Infinity`), negative times, formats from the
future, nesting deeper than the encoder recurses. Each is refused here, before
anything is written, with a message naming the task and the key.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tui.engine import TaskStatus, ToolCall, ToolCallStatus, Usage
from tui.engine.task import TOKEN_KINDS
from tui.store.errors import StoreError
from tui.timeouts import check_timeout, timeout_or_none

INT64_MAX = 2**63 - 1
"""The largest integer SQLite stores."""
MAX_TASK_ID = 2**53 - 1
"""Task ids stay exact in every JSON reader, and new tasks (numbered after the largest) fit in SQLite."""
MAX_DEPTH = 64
"""Nesting allowed inside an agent session state (Agent Framework's are about ten deep)."""
KNOWN_VERSIONS = frozenset({1})
STATUSES = frozenset(s.value for s in TaskStatus)
CALL_STATUSES = frozenset(s.value for s in ToolCallStatus)
MAX_TOOL_CALLS = 100_000
"""Tool calls of one task (`max_tool_rounds` is at most 1,000 per run; a continued task adds runs)."""
MAX_NAME_CHARS = 1024
"""A call's id, tool name and server name, and each name in `tools`."""
MAX_TOOL_TEXT_CHARS = 64 * 2**20
"""A call's arguments, result or error (the whole export is at most 512 MiB anyway)."""
MAX_SERVERS = 1000


def show(value: Any) -> str:
    """A wrong value in a message: its type and the start of its text (never thousands of digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:39] + "…"


def whole_number(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def finite_seconds(value: Any) -> float | None:
    """A finite, non-negative number of seconds as a float; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def plain_data_problem(value: Any) -> str | None:
    """Why a JSON value cannot be stored and exported as it is (too deep, non-finite, too large), or None."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep"
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds a number that is not finite"
        elif isinstance(item, int) and not isinstance(item, bool) and not -INT64_MAX - 1 <= item <= INT64_MAX:
            return "holds an integer beyond 64 bits"
    return None


def check_session_header(session: Any, source: str, fmt: str) -> dict[str, Any]:
    """The `session` table: ours (`format`), a version this agentdeck reads, a sane creation time."""
    if session is None:
        return {}
    if not isinstance(session, dict) or session.get("format", fmt) != fmt:
        raise StoreError(f"{source}: not an agentdeck export ('session.format' is not {fmt!r})")
    version = session.get("version")
    if version is not None and not (whole_number(version, 0, INT64_MAX) and version in KNOWN_VERSIONS):
        known = ", ".join(str(v) for v in sorted(KNOWN_VERSIONS))
        raise StoreError(f"{source}: export format version {show(version)} is not one this agentdeck reads "
                         f"({known}); update agentdeck to import it")
    created = session.get("created_at")
    if created is not None and finite_seconds(created) is None:
        raise StoreError(f"{source}: 'session.created_at' must be a time in seconds, got {show(created)}")
    return session


class TaskFields:
    """Typed, checked access to one task of the document; each mistake names the task and the key."""

    def __init__(self, source: str, index: int, raw: Any, where: str | None = None) -> None:
        """`where` names something inside a task (one of its tool calls) instead of the task."""
        if not isinstance(raw, dict):
            raise StoreError(f"{where or f'{source}: tasks[{index}]'} must be an object/table")
        self.raw = raw
        task_id = raw.get("id")
        self.where = where or f"{source}: " + (f"task {task_id}" if whole_number(task_id, 1, MAX_TASK_ID) else
                                               f"tasks[{index}]")

    def fail(self, key: str, problem: str) -> StoreError:
        return StoreError(f"{self.where}: '{key}' {problem}")

    def get(self, key: str, kinds: type | tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        if key not in self.raw or self.raw[key] is None:
            if required:
                raise self.fail(key, "is missing")
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise self.fail(key, f"has the wrong type ({type(value).__name__})")
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False, blank: bool = True) -> Any:
        value = self.get(key, str, default, required=required)
        if not blank and value is not None and not value.strip():
            raise self.fail(key, "is empty")
        return value

    def choice(self, key: str, choices: frozenset[str] | tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default, required=default is None)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(sorted(choices))}, got {show(value)}")
        return value

    def whole(self, key: str, low: int, high: int) -> int | None:
        value = self.get(key, int)
        if value is not None and not whole_number(value, low, high):
            raise self.fail(key, f"must be a whole number from {low} to {high}, got {show(value)}")
        return value

    def seconds(self, key: str) -> float | None:
        """A time or duration: a finite number, not negative."""
        value = self.raw.get(key)
        if value is None:
            return None
        number = finite_seconds(value)
        if number is None:
            raise self.fail(key, f"must be a finite number of seconds, not negative; got {show(value)}")
        return number

    def timeout(self) -> float | None:
        """As on the command line: 0 means none, at most MAX_TIMEOUT_S."""
        number = self.seconds("timeout")
        try:
            return timeout_or_none(None if number is None else check_timeout(number))
        except ValueError as exc:
            raise self.fail("timeout", f"{exc}, got {show(number)}") from None

    def usage(self) -> Usage:
        """`usage` (token counts and `estimated`) with the task's `cost_usd` beside it."""
        usage = dict(self.get("usage", dict, {}))
        estimated = usage.pop("estimated", False)
        counts_ok = all(whole_number(v, 0, INT64_MAX) for v in usage.values())
        if set(usage) - set(TOKEN_KINDS) or not counts_ok or not isinstance(estimated, bool):
            raise self.fail("usage", f"must hold {'/'.join(TOKEN_KINDS)} as whole numbers from 0 to {INT64_MAX} "
                                     "and estimated as true or false")
        cost = self.raw.get("cost_usd")
        if cost is not None and finite_seconds(cost) is None:
            raise self.fail("cost_usd", f"must be a number of dollars, 0 or more, got {show(cost)}")
        return Usage(**usage, estimated=estimated, cost_usd=None if cost is None else float(cost))

    def paths(self, key: str) -> list[str]:
        value = self.get(key, list, [])
        if not all(isinstance(item, str) for item in value):
            raise self.fail(key, "must be a list of paths")
        return value

    def session_dict(self, key: str) -> dict[str, Any] | None:
        """An agent session state: an object, or (in TOML) the JSON text of one."""
        value = self.get(key, (dict, str))
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except RecursionError:
                raise self.fail(key, f"is nested more than {MAX_DEPTH} levels deep") from None
            except ValueError:
                raise self.fail(key, "is not valid JSON") from None
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "must be an object")
        problem = plain_data_problem(value)
        if problem:
            raise self.fail(key, problem)
        return value


def _call(f: TaskFields, index: int, raw: Any, chars: int, after: int, default_start: float) -> ToolCall:
    call = TaskFields("", index, raw, where=f"{f.where}: tool_calls[{index}]")
    texts = {name: call.text(name, required=True, blank=False) for name in ("call_id", "name", "server")}
    for name, value in texts.items():
        if len(value) > MAX_NAME_CHARS:
            raise call.fail(name, f"is longer than {MAX_NAME_CHARS:,} characters")
    bodies = {name: call.text(name) for name in ("arguments", "result", "error")}
    for name, value in bodies.items():
        if value is not None and len(value) > MAX_TOOL_TEXT_CHARS:
            raise call.fail(name, f"is longer than {MAX_TOOL_TEXT_CHARS:,} characters")
    offset = call.whole("offset", 0, chars)
    offset = after if offset is None else offset
    if offset < after:
        raise call.fail("offset", f"must not be before the previous call's ({after}), got {offset}")
    started_at = call.seconds("started_at")
    finished_at = call.seconds("finished_at")
    return ToolCall(
        call_id=texts["call_id"], name=texts["name"], server=texts["server"], arguments=bodies["arguments"] or "{}",
        status=ToolCallStatus(call.choice("status", CALL_STATUSES)), result=bodies["result"],
        error=bodies["error"], offset=offset, finished_at=finished_at,
        started_at=min(default_start, finished_at or default_start) if started_at is None else started_at,
    )


def tool_calls(f: TaskFields, chars: int, default_start: float) -> list[ToolCall]:
    """`tool_calls`: objects in call order, ids unique in the task, each `offset` within the text and in order;
    a call without `started_at` started at `default_start` (its task's start)."""
    raw = f.get("tool_calls", list, [])
    if len(raw) > MAX_TOOL_CALLS:
        raise f.fail("tool_calls", f"holds more than {MAX_TOOL_CALLS:,} calls")
    calls: list[ToolCall] = []
    for index, item in enumerate(raw):
        calls.append(_call(f, index, item, chars, calls[-1].offset if calls else 0, default_start))
    ids = [call.call_id for call in calls]
    if len(set(ids)) != len(ids):
        raise f.fail("tool_calls", "holds two calls with the same 'call_id'")
    return calls


def servers(f: TaskFields) -> tuple[str, ...]:
    """`tools`: the MCP servers the task is offered, as names."""
    names = f.get("tools", list, [])
    if len(names) > MAX_SERVERS or not all(isinstance(n, str) and n and len(n) <= MAX_NAME_CHARS for n in names):
        raise f.fail("tools", f"must be a list of at most {MAX_SERVERS} MCP server names")
    return tuple(dict.fromkeys(names))
