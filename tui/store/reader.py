"""Read-only access to one session file, safe to share between the loop and worker threads."""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tui.engine import Task, TaskOutput, ToolCall
from tui.store.errors import SessionUnreadable, describe
from tui.store.records import (
    NO_OUTPUT_TIMES,
    OUTPUT_TIMES,
    TASK_COLUMNS,
    TASK_TABLES,
    StoredOutput,
    needs_before,
    slide,
    state_from_row,
    task_from_row,
    unpack_data,
    window_of,
)
from tui.store.schema import connect_reader, has_task_column
from tui.store.tool_records import TaskTools, has_tool_tables, read_changed_calls, read_tools
from tui.store.usage_totals import UsageRow, read_usage

T = TypeVar("T")
_FIRST_WINDOW = 8
"""Rows of `output_chunks` read first for a task's text (a short answer is one or two chunks)."""


@dataclass(frozen=True)
class Summary:
    created_at: float
    updated_at: float
    counts: dict[str, int]
    """Tasks by saved status (a dead writer's `running` is still `running` here)."""
    tool_calls: int = 0
    """Tool calls of all tasks."""
    usage: list[UsageRow] = field(default_factory=list)
    """Tokens and cost by provider, model and day."""


@dataclass
class ToolChanges:
    """What a watcher's poll found about tools: servers of the changed tasks, and their changed calls."""

    servers: dict[int, tuple[str, ...]] = field(default_factory=dict)
    calls: dict[int, list[tuple[int, ToolCall]]] = field(default_factory=dict)
    """Per task, (position, call) of each call saved since the revision asked about."""
    groups: dict[int, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskRow:
    """A task row that changed since a revision: what a watcher needs to update its view."""

    row: tuple[Any, ...]

    @property
    def id(self) -> int:
        return int(self.row[0])

    @property
    def chars(self) -> int:
        return int(self.row[2])

    @property
    def updated_at(self) -> float:
        return float(self.row[12])

    @property
    def rev(self) -> int:
        return int(self.row[13])

    @classmethod
    def checked(cls, raw: tuple[Any, ...]) -> TaskRow:
        """A row whose key numbers are numbers (a damaged file may hold anything); raises ValueError."""
        row = cls(tuple(raw))
        if row.id < 1 or row.chars < 0 or row.rev < 0 or row.updated_at != row.updated_at:
            raise ValueError(f"task {raw[0]!r} has impossible numbers")
        return row


class SessionReader:
    """One read-only connection behind a lock; every failure becomes `SessionUnreadable`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect_reader(path)
        self._lock = threading.Lock()
        self._tools_seen = False
        """Whether the file has the tool tables (version 3); once true it stays so."""
        self._times_seen = False
        """Whether the file's tasks have their output times; once true it stays so."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def swap(self, move: Callable[[], Path]) -> None:
        """Reopen on the file `move` puts in place (returning its path); reads wait meanwhile."""
        with self._lock:
            self._conn.close()
            self.path = move()
            self._conn = connect_reader(self.path)

    @contextmanager
    def closed(self) -> Iterator[None]:
        """The connection is closed inside this block (reads wait), so the file can be renamed meanwhile.

        It reopens at `path` after, which the block sets to the new name.
        """
        with self._lock:
            self._conn.close()
            try:
                yield
            finally:
                self._conn = connect_reader(self.path)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One consistent snapshot: a read transaction, so a concurrent commit is never half seen."""
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise SessionUnreadable(f"{self.path}: {describe(exc)}") from None

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._reading() as conn:
            try:
                return work(conn)
            except (ValueError, TypeError, OverflowError, zlib.error) as exc:  # a value that cannot be right
                raise SessionUnreadable(f"{self.path}: the file is damaged ({describe(exc)})") from None

    def data_version(self) -> int:
        """Changes whenever another connection commits; a cheap 'anything new?' check."""
        return self._run(lambda conn: int(conn.execute("PRAGMA data_version").fetchone()[0]))

    def summary(self) -> Summary:
        def work(conn: sqlite3.Connection) -> Summary:
            created = conn.execute("SELECT value FROM session_info WHERE key = 'created_at'").fetchone()
            created_at = float(created[0]) if created else 0.0
            updated = conn.execute("SELECT max(updated_at) FROM tasks").fetchone()[0]
            counts = dict(conn.execute("SELECT status, count(*) FROM tasks GROUP BY status").fetchall())
            calls = conn.execute("SELECT count(*) FROM tool_calls").fetchone()[0] if self._has_tools(conn) else 0
            return Summary(created_at, max(created_at, updated or 0.0), counts, int(calls), read_usage(conn))

        return self._run(work)

    def _has_tools(self, conn: sqlite3.Connection) -> bool:
        """A file written by an older agentdeck has no tool tables; a writer may add them while it is watched."""
        self._tools_seen = self._tools_seen or has_tool_tables(conn)
        return self._tools_seen

    def _columns(self, conn: sqlite3.Connection) -> str:
        """The task columns to select: a file saved by an older agentdeck has no output times."""
        self._times_seen = self._times_seen or has_task_column(conn, "last_output_at")
        return f"{TASK_COLUMNS}, {OUTPUT_TIMES if self._times_seen else NO_OUTPUT_TIMES}"

    def _query(self, conn: sqlite3.Connection, where: str = "", *args: Any) -> list[TaskRow]:
        query = f"SELECT {self._columns(conn)} FROM {TASK_TABLES} {where} ORDER BY t.id"
        return [TaskRow.checked(row) for row in conn.execute(query, args)]

    def rows(self) -> list[TaskRow]:
        return self._run(self._query)

    def snapshot(self) -> tuple[list[TaskRow], dict[int, TaskTools]]:
        """Every task row, and the servers and tool calls of those that have any, from one snapshot."""

        def work(conn: sqlite3.Connection) -> tuple[list[TaskRow], dict[int, TaskTools]]:
            rows = self._query(conn)
            return rows, read_tools(conn) if self._has_tools(conn) else {}

        return self._run(work)

    def load_tasks(self) -> list[Task]:
        """Every task with its metadata and tool calls; each text stays on disk until first asked for."""
        rows, tools = self.snapshot()
        return [self.task(row, tools.get(row.id)) for row in rows]

    def task(self, row: TaskRow, tools: TaskTools | None = None) -> Task:
        """A `Task` whose text is read from this file when first used."""
        task_id = row.id
        output = StoredOutput(row.chars, lambda upto: self.read_text(task_id, 0, upto))
        task = self._decoded(row, lambda: task_from_row(row.row, output, f"{self.path}: task {task_id}"))
        if tools is not None:
            task.tools, task.tool_calls, task.group = tools.servers, tools.calls, tools.group
        return task

    def state(self, row: TaskRow) -> dict[str, Any]:
        """Only the changing fields of a row (what a watcher copies onto a task it shows)."""
        return self._decoded(row, lambda: state_from_row(row.row))

    def _decoded(self, row: TaskRow, decode: Callable[[], T]) -> T:
        try:
            return decode()
        except (ValueError, TypeError, zlib.error) as exc:
            raise SessionUnreadable(f"{self.path}: task {row.id} is damaged ({exc})") from None

    def changed_since(self, rev: int, known: set[int] = frozenset()) -> tuple[list[TaskRow], set[int], ToolChanges]:
        """Rows written after revision `rev`, the ids of every task still in the file, and their tool changes:
        every call and the servers of a task not in `known`, the calls saved after `rev` of the others (a call
        is saved with its task's row, so only changed tasks are looked at, each through the table's key)."""

        def work(conn: sqlite3.Connection) -> tuple[list[TaskRow], set[int], ToolChanges]:
            rows = self._query(conn, "WHERE t.rev > ?", rev)
            ids = {row[0] for row in conn.execute("SELECT id FROM tasks")}
            tools = ToolChanges()
            if self._has_tools(conn):
                for row in rows:
                    if row.id in known:
                        calls = read_changed_calls(conn, row.id, rev)
                    else:
                        saved = read_tools(conn, row.id).get(row.id, TaskTools())
                        tools.servers[row.id], calls = saved.servers, list(enumerate(saved.calls))
                        tools.groups[row.id] = saved.group
                    if calls:
                        tools.calls[row.id] = calls
            return rows, ids, tools

        return self._run(work)

    def read_text(self, task_id: int, start: int, upto: int) -> str:
        """Saved text of a task from character `start` up to `upto`, found by scanning from its first chunk."""
        return self._run(lambda conn: self._text(conn, task_id, start, upto))

    def _text(self, conn: sqlite3.Connection, task_id: int, start: int, upto: int,
              span: tuple[Any, Any] | None = None) -> str:
        """`span`: the task's first chunk and the file's last, when the caller has read them already."""
        if upto <= start:
            return ""
        if span is None:
            first = conn.execute("SELECT first_seq FROM tasks WHERE id = ?", (task_id,)).fetchone()
            span = (first[0] if first else None, conn.execute("SELECT max(seq) FROM output_chunks").fetchone()[0])
        text = stitch(_unpacked(_chunks_of(conn, task_id, *span)), start, upto)
        if text is None:
            raise SessionUnreadable(f"{self.path}: the saved text of task {task_id} is incomplete")
        return text

    def each_task(self) -> Iterator[tuple[TaskRow, Task]]:
        """Every task with its whole text, in id order, from one consistent snapshot.

        One task's text is in memory at a time (an export writes each task as it is
        read), and each text is read from its first chunk to its last only.
        """
        with self._reading() as conn:
            try:
                last = conn.execute("SELECT max(seq) FROM output_chunks").fetchone()[0]
                has_tools = self._has_tools(conn)
                for raw in conn.execute(f"SELECT {self._columns(conn)}, t.first_seq FROM {TASK_TABLES} ORDER BY t.id"):
                    row = TaskRow.checked(raw[:-1])
                    output = TaskOutput(self._text(conn, row.id, 0, row.chars, (raw[-1], last)))
                    where = f"{self.path}: task {row.id}"
                    task = self._decoded(row, lambda: task_from_row(row.row, output, where))
                    tools = read_tools(conn, row.id).get(row.id) if has_tools else None
                    if tools is not None:
                        task.tools, task.tool_calls, task.group = tools.servers, tools.calls, tools.group
                    yield row, task
            except (ValueError, TypeError, OverflowError, zlib.error) as exc:
                raise SessionUnreadable(f"{self.path}: the file is damaged ({describe(exc)})") from None

    def chunks_after(self, seq: int, ends: dict[int, tuple[int, str]]) -> tuple[list[tuple[int, int, str]], int]:
        """New text of some tasks, as (task id, start, text) in saved order, and the last seq seen.

        `ends`: per task, how many characters the caller has and the last of them (at least
        `WINDOW` characters, when it has that many), which a chunk starting there may be packed
        against. A chunk that cannot be read so is left out (`stitch` then finds the gap and
        the caller reads the task's text whole).
        """

        def work(conn: sqlite3.Connection) -> tuple[list[tuple[int, int, str]], int]:
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM output_chunks").fetchone()[0]
            if not ends or last <= seq:
                return [], max(seq, last)
            query = "SELECT task_id, start, text FROM output_chunks WHERE seq > ? AND seq <= ? ORDER BY seq"
            positions = {task_id: at for task_id, (at, _) in ends.items()}
            windows: dict[int, bytes] = {}
            chunks = []
            for task_id, start, stored in conn.execute(query, (seq, last)).fetchall():
                if task_id not in positions:
                    continue
                follows = start == positions[task_id]
                if follows and task_id not in windows:
                    windows[task_id] = window_of(ends[task_id][1])
                try:
                    data = unpack_data(stored, windows[task_id] if follows else b"")
                    text = data.decode("utf-8")
                except (ValueError, TypeError, zlib.error):
                    continue
                if follows:
                    positions[task_id], windows[task_id] = start + len(text), slide(windows[task_id], data)
                chunks.append((task_id, start, text))
            return chunks, last

        return self._run(work)


def saved_text(conn: sqlite3.Connection, task_id: int, first_seq: Any, last_seq: Any, chars: int) -> str | None:
    """A task's first `chars` characters, read inside the caller's transaction (the search index reads many
    tasks in one); None if some are missing."""
    return stitch(_unpacked(_chunks_of(conn, task_id, first_seq, last_seq)), 0, chars) if chars > 0 else ""


def _chunks_of(conn: sqlite3.Connection, task_id: int, first: Any, last: Any) -> Iterator[tuple[int, str | bytes]]:
    """A task's (start, stored text) chunks in order, from its `first` chunk, read in windows of rows
    that double in size. One query to the end would, after the task's last chunk, scan every later chunk
    of the file (the cursor always looks for one more row), which made reading every task quadratic;
    the windows stop within twice the rows the task spans."""
    if first is None or last is None:
        return
    low, width = int(first), _FIRST_WINDOW
    while low <= last:
        query = "SELECT start, text FROM output_chunks WHERE seq >= ? AND seq < ? AND task_id = ? ORDER BY seq"
        # not `yield from`: closing this generator later would close a cursor of a closed database
        for chunk in conn.execute(query, (low, low + width, task_id)):  # noqa: UP028
            yield chunk
        low, width = low + width, width * 2


def _unpacked(chunks: Iterable[tuple[int, str | bytes]]) -> Iterator[tuple[int, str]]:
    """A task's chunks from its first as text, decompressed one by one as `stitch` reaches them (it stops
    at the last one it needs); each is unpacked with the text before it, which it may be packed against."""
    window, at = b"", 0
    for start, stored in chunks:
        chained = needs_before(stored)
        if start != at and chained:
            return  # packed against text that is missing here: `stitch` reports the gap
        data = unpack_data(stored, window if chained else b"")
        text = data.decode("utf-8")
        if start == at:
            window, at = slide(window, data), start + len(text)
        yield start, text


def stitch(chunks: Iterable[tuple[int, str]], start: int, upto: int) -> str | None:
    """Characters `start`..`upto` from (offset, text) chunks in order; None if some are missing.

    Stops reading at `upto`, so a scan over a big file ends at the task's last chunk.
    """
    parts: list[str] = []
    at = start
    for chunk_start, text in chunks:
        if at >= upto:
            break
        end = chunk_start + len(text)
        if end <= at:
            continue
        if chunk_start > at:
            return None
        parts.append(text[at - chunk_start :])
        at = end
        if at >= upto:  # fetching one more row would scan every later chunk of the file for this task
            break
    return "".join(parts)[: upto - start] if at >= upto else None
