"""What the search index reads from one session file: the tasks changed since it last looked.

A task's row gets a new `rev` whenever anything of it is saved (text, status, a
tool call), so asking for `rev > last indexed` finds exactly what changed; the
text of a task is read again only when its length changed. Everything comes
from one read transaction, so a writer's commit is never half seen.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.tool_calls import ToolCall
from tui.store.errors import SessionUnreadable, StoreError, describe
from tui.store.reader import saved_text
from tui.store.schema import connect_reader
from tui.store.tool_records import has_tool_tables, read_tools

_CHANGED = (
    "SELECT t.id, t.rev, t.status, t.chars, t.error, t.first_seq, i.prompt, i.provider, i.model, i.created_at, "
    "i.parent_id FROM tasks t JOIN task_inputs i ON i.task_id = t.id WHERE t.rev > ? ORDER BY t.id"
)


@dataclass(frozen=True)
class TaskTexts:
    """One changed task: what a hit shows, and its searchable texts by field."""

    task_id: int
    rev: int
    status: str
    provider: str
    model: str
    prompt: str
    created_at: float
    chars: int
    texts: dict[str, str]
    """Field name to text; `output` is missing when its length did not change since it was indexed."""


@dataclass(frozen=True)
class SessionChanges:
    task_ids: set[int]
    """Every task in the file now (the others were deleted)."""
    created: str | None
    """The session's creation stamp: another value than the index knew means another file took the path."""
    since_rev: int
    """The revision the changes start after (-1, everything, when the file is not the one indexed before)."""
    restarted: bool
    """Everything the index held of this path is stale: `changed` holds every task."""
    changed: list[TaskTexts] = field(default_factory=list)


def _tool_texts(calls: Sequence[ToolCall]) -> dict[str, str]:
    asked = "\n".join(f"{call.name} {call.server} {call.arguments}" for call in calls)
    answered = "\n".join(text for call in calls for text in (call.result, call.error) if text)
    return {"tool_call": asked, "tool_result": answered}


def read_changes(path: Path, since_rev: int, indexed_chars: dict[int, int], created: str | None) -> SessionChanges:
    """Tasks saved after revision `since_rev` of the session created at `created`; every task when the file
    is another session (a path reused after a delete). Raises `StoreError` for a file that cannot be read."""
    conn = connect_reader(path)
    try:
        conn.execute("BEGIN")
        try:
            return _read(conn, path, since_rev, indexed_chars, created)
        finally:
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise SessionUnreadable(f"{path}: {describe(exc)}") from None
    except (ValueError, TypeError, OverflowError, zlib.error) as exc:
        raise SessionUnreadable(f"{path}: the file is damaged ({describe(exc)})") from None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, path: Path, since_rev: int, indexed_chars: dict[int, int],
          created: str | None) -> SessionChanges:
    stamp = conn.execute("SELECT value FROM session_info WHERE key = 'created_at'").fetchone()
    now_created = str(stamp[0]) if stamp else None
    newest = conn.execute("SELECT coalesce(max(rev), -1) FROM tasks").fetchone()[0]
    # another session at this path, or an older copy of this one put back: what was indexed may be gone
    restarted = since_rev < 0 or now_created != created or int(newest) < since_rev
    if restarted:
        since_rev, indexed_chars = -1, {}
    task_ids = {int(row[0]) for row in conn.execute("SELECT id FROM tasks")}
    changes = SessionChanges(task_ids, now_created, since_rev, restarted)
    rows = conn.execute(_CHANGED, (since_rev,)).fetchall()
    if not rows:
        return changes
    last_seq = conn.execute("SELECT max(seq) FROM output_chunks").fetchone()[0]
    tools = has_tool_tables(conn)
    for task_id, rev, status, chars, error, first_seq, prompt, provider, model, created_at, parent_id in rows:
        texts = {"follow_up" if parent_id is not None else "prompt": str(prompt), "error": str(error or "")}
        if indexed_chars.get(task_id) != chars:
            output = saved_text(conn, task_id, first_seq, last_seq, int(chars))
            if output is None:
                raise StoreError(f"{path}: the saved text of task {task_id} is incomplete")
            texts["output"] = output
        if tools:
            saved = read_tools(conn, task_id).get(task_id)
            texts.update(_tool_texts(saved.calls if saved else []))
        changes.changed.append(TaskTexts(
            int(task_id), int(rev), str(status), str(provider), str(model), " ".join(str(prompt).split()),
            float(created_at), int(chars), texts,
        ))
    return changes

