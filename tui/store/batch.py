"""What is waiting to be saved, coalesced per task, and how one batch becomes one transaction.

Text deltas are appended as new `output_chunks` rows (zlib-compressed when
that is smaller, against the task's text before them when the writer holds
it); the task row gets its latest small state. Nothing already
saved is ever rewritten, so the bytes written grow with the new text only.
A tool call's row is the exception: it is rewritten as the call starts, waits
and ends (a few times per call, never per text chunk).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from tui.engine.task import TaskStatus, scalar_text
from tui.store.records import INPUT_FIELDS, STATE_FIELDS, WINDOW, encode, pack_text, slide
from tui.store.tool_records import CALL_COLUMNS, CALL_FIELDS, CallSnapshot, call_values


@dataclass
class Pending:
    """Unsaved changes of one task since the last successful flush."""

    inputs: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    text: list[str] = field(default_factory=list)
    session_state: dict[str, Any] | None = None
    servers: tuple[str, ...] | None = None
    """The MCP servers the task is offered (written once, with its inputs, when it has any)."""
    calls: dict[int, CallSnapshot] = field(default_factory=dict)
    """Tool calls that started or changed, by position; the latest snapshot of each."""
    removed: bool = False

    def absorb(self, newer: Pending) -> None:
        """Fold later changes in (used when a failed batch is put back in front of newer ones)."""
        if newer.removed:
            self.inputs = self.state = self.session_state = self.servers = None
            self.text = []
            self.calls = {}
            self.removed = True
            return
        self.inputs = newer.inputs or self.inputs
        self.state = newer.state or self.state
        self.text.extend(newer.text)
        self.session_state = newer.session_state or self.session_state
        self.servers = newer.servers or self.servers
        self.calls.update(newer.calls)


Batch = dict[int, Pending]

_STATE_SET = ", ".join(f"{name} = ?" for name in STATE_FIELDS)
_POSITION_SET = "chars = ?, first_seq = coalesce(first_seq, ?), rev = ?, updated_at = ?"
_INPUT_COLUMNS = ", ".join(("task_id", *INPUT_FIELDS))
_INPUT_MARKS = ", ".join("?" for _ in range(len(INPUT_FIELDS) + 1))
_CALL_UPSERT = (
    f"INSERT INTO tool_calls (task_id, position, rev, {CALL_COLUMNS}) "
    f"VALUES (?, ?, ?, {', '.join('?' for _ in CALL_FIELDS)}) ON CONFLICT (task_id, position) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in ("rev", *CALL_FIELDS))
)


def merge(older: Batch, newer: Batch) -> Batch:
    for task_id, pending in newer.items():
        if task_id in older:
            older[task_id].absorb(pending)
        else:
            older[task_id] = pending
    return older


@dataclass(frozen=True)
class Written:
    """Text one committed batch added: characters, UTF-8 bytes, and bytes as stored (compressed)."""

    chars: int = 0
    text_bytes: int = 0
    stored_bytes: int = 0


def write_batch(conn: sqlite3.Connection, batch: Batch, chars: dict[int, int], rev: int,
                tails: dict[int, bytes] | None = None) -> Written:
    """Apply a batch in one transaction; returns how much text it added.

    `chars` (saved characters per task) is updated only when the commit succeeds,
    and so is `tails`: the `window_of` each task's saved text, for the tasks whose
    saved text the caller has seen from its start (or a chunk of `WINDOW` bytes
    of). A chunk is packed against it, other chunks alone (all when None).
    """
    now = time.time()
    saved = dict(chars)
    known = dict(tails) if tails is not None else None
    new_chars = new_bytes = stored_bytes = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for task_id, pending in batch.items():
            if pending.removed:
                conn.execute("DELETE FROM output_chunks WHERE seq >= (SELECT first_seq FROM tasks WHERE id = ?) "
                             "AND task_id = ?", (task_id, task_id))
                for table, column in (("tasks", "id"), ("task_inputs", "task_id"), ("task_results", "task_id"),
                                      ("task_tools", "task_id"), ("tool_calls", "task_id"),
                                      ("task_groups", "task_id")):
                    conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (task_id,))
                saved.pop(task_id, None)
                if known is not None:
                    known.pop(task_id, None)
                continue
            if pending.inputs is not None:
                values = [encode(name, pending.inputs[name]) for name in INPUT_FIELDS]
                conn.execute(f"INSERT OR REPLACE INTO task_inputs ({_INPUT_COLUMNS}) VALUES ({_INPUT_MARKS})",
                             (task_id, *values))
                conn.execute("INSERT OR IGNORE INTO tasks (id, rev, status, updated_at) VALUES (?, ?, 'queued', ?)",
                             (task_id, rev, now))
                if pending.inputs.get("group"):
                    conn.execute("INSERT OR REPLACE INTO task_groups VALUES (?, ?)",
                                 (task_id, scalar_text(pending.inputs["group"])))
            start = saved.get(task_id, 0)
            seq = None
            if pending.text:
                text = scalar_text("".join(pending.text))
                data = text.encode("utf-8")
                before = _before(known, task_id, start)
                stored = pack_text(text, before or b"")
                if known is not None and (before is not None or len(data) >= WINDOW):
                    known[task_id] = slide(before or b"", data)
                seq = conn.execute("INSERT INTO output_chunks (task_id, start, text) VALUES (?, ?, ?)",
                                   (task_id, start, stored)).lastrowid
                saved[task_id] = start + len(text)
                size = len(data)
                new_chars += len(text)
                new_bytes += size
                stored_bytes += len(stored) if isinstance(stored, bytes) else size
            position = (saved.get(task_id, 0), seq, rev, now, task_id)
            if pending.state is not None:
                values = [encode(name, pending.state[name]) for name in STATE_FIELDS]
                conn.execute(f"UPDATE tasks SET {_STATE_SET}, {_POSITION_SET} WHERE id = ?", (*values, *position))
            elif pending.text:
                conn.execute(f"UPDATE tasks SET {_POSITION_SET} WHERE id = ?", position)
            tail = known.get(task_id, b"") if known is not None else b""
            if known is not None and pending.state is not None and TaskStatus(pending.state["status"]).is_final:
                known.pop(task_id, None)  # a finished task is rarely continued: keep memory to the running ones
            session_state = encode("session_state", pending.session_state, tail)
            if session_state is not None:
                conn.execute("INSERT OR REPLACE INTO task_results VALUES (?, ?)", (task_id, session_state))
            _write_tools(conn, task_id, pending, rev)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    chars.clear()
    chars.update(saved)
    if tails is not None and known is not None:
        tails.clear()
        tails.update(known)
    return Written(new_chars, new_bytes, stored_bytes)


def _before(known: dict[int, bytes] | None, task_id: int, start: int) -> bytes | None:
    """The window of a task's text before character `start`, or None when it is not known here."""
    if known is None:
        return None
    if start == 0:
        return b""
    return known.get(task_id)


def _write_tools(conn: sqlite3.Connection, task_id: int, pending: Pending, rev: int) -> None:
    """The task's MCP servers and its changed tool calls; a task without tools touches neither table."""
    if pending.servers:
        servers = json.dumps([scalar_text(name) for name in pending.servers], ensure_ascii=False)
        conn.execute("INSERT OR REPLACE INTO task_tools VALUES (?, ?)", (task_id, servers))
    for position, snapshot in sorted(pending.calls.items()):
        conn.execute(_CALL_UPSERT, (task_id, position, rev, *call_values(snapshot)))
