"""Session files as older versions of agentdeck wrote them, and a file's fingerprint to prove it unchanged."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from tui.engine import Task, TaskOutput, TaskStatus
from tui.store.batch import Pending, write_batch
from tui.store.records import capture_inputs, capture_state
from tui.store.schema import MIGRATIONS, connect_writer


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def old_format_session(path: Path, version: int) -> None:
    """A file of format `version` (only its first migrations applied) holding one finished task, 'old'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    for applied, migration in enumerate(MIGRATIONS[:version], start=1):
        migration(conn)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (applied,))
    conn.close()
    conn = connect_writer(path)
    task = Task(1, "an old prompt", "chat", "demo-chat", "chat", status=TaskStatus.DONE, output=TaskOutput("old"))
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task), ["old"])}, {}, 1)
    conn.close()
