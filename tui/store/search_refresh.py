"""The search index's layout, and how a refresh brings it up to date with the sessions folder.

A session file whose size and modification time (of the file and of its
write-ahead log) are those seen last time is not opened; in one that changed,
only the tasks saved since then are read (`search_source`). A file that moved
(same device and inode under a new name) keeps its entries; one that is gone
loses them; one that cannot be read loses them and yields a warning line.
Each session is indexed in its own transaction, so another process refreshing
at the same time waits rather than reading half of it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tui.store import files
from tui.store.errors import StoreError, describe
from tui.store.search_snippet import clean_text
from tui.store.search_source import SessionChanges, read_changes

INDEX_VERSION = 2
"""Bump when the layout changes: an index of another version is rebuilt from the sessions."""
FIELDS = ("output", "prompt", "follow_up", "tool_call", "tool_result", "error")
"""The searchable texts of a task, one FTS5 column each; a snippet comes from the one with most matches,
the first in this order on a tie (the answer before the prompt, which a hit shows anyway)."""
SCHEMA = f"""
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    device INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    signature TEXT NOT NULL,
    created TEXT,
    rev INTEGER NOT NULL,
    problem TEXT
);
CREATE INDEX sessions_by_folder ON sessions (folder);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    created_at REAL NOT NULL,
    chars INTEGER NOT NULL,
    UNIQUE (session_id, task_id)
);
CREATE VIRTUAL TABLE texts USING fts5({", ".join(FIELDS)}, tokenize = 'porter unicode61 remove_diacritics 2');
"""
"""One row of `texts` per task (rowid = `tasks.id`), one column per field: `retry AND storm` finds a task whose
prompt says retry and whose answer says storm."""
_INSERT_TEXTS = f"INSERT INTO texts (rowid, {', '.join(FIELDS)}) VALUES (?{', ?' * len(FIELDS)})"


def create_schema(conn: sqlite3.Connection) -> None:
    """Make an empty index of this version, dropping what an index of another version held."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION:  # another process just made it
            conn.execute("COMMIT")
            return
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            if not name.startswith(("texts_", "sqlite_")):  # FTS5's own tables go with `texts`
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class FileState:
    path: str
    signature: str
    """Size and modification time of the file and of its write-ahead log: changes with every commit."""
    device: int
    inode: int


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def scan(folder: Path) -> tuple[dict[str, FileState], list[str]]:
    """Path -> state of every session file in the folder (the files `files.session_files` lists), and a
    warning for each that is not a regular file: like the store, search never follows a symbolic link.
    Two `lstat` calls a file and no `Path` objects: a refresh that finds nothing new stays cheap."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        raise StoreError(f"{folder}: cannot list sessions: {describe(exc)}") from None
    states: dict[str, FileState] = {}
    warnings: list[str] = []
    for entry in entries:
        if not entry.name.endswith(files.SUFFIX) or entry.name.startswith("."):
            continue
        try:
            info, log = entry.stat(follow_symlinks=False), _lstat(f"{entry.path}-wal")
        except FileNotFoundError:
            continue  # deleted while we looked
        except OSError as exc:
            warnings.append(f"skipped {entry.name}: {entry.path}: {describe(exc)}")
            continue
        if not stat.S_ISREG(info.st_mode) or (log is not None and not stat.S_ISREG(log.st_mode)):
            odd = entry.path if not stat.S_ISREG(info.st_mode) else f"{entry.path}-wal"
            warnings.append(f"skipped {entry.name}: {odd}: is not a regular file")
            continue
        # an empty log holds nothing (a reader, ours too, creates one); a commit makes it grow or changes the file
        wal = f"{log.st_size}:{log.st_mtime_ns}" if log is not None and log.st_size else "-"
        states[entry.path] = FileState(entry.path, f"{info.st_size}:{info.st_mtime_ns}:{wal}", info.st_dev,
                                       info.st_ino)
    return states, warnings


class Refresh:
    """One pass over the sessions folder: forget what is gone, index what changed."""

    def __init__(self, conn: sqlite3.Connection, sessions_dir: Path) -> None:
        self.conn = conn
        self.folder = sessions_dir
        self.warnings: list[str] = []

    def _known(self) -> dict[str, tuple[int, int, int, str, str | None]]:
        """Path -> (id, device, inode, signature, problem) of each session of this folder in the index."""
        query = "SELECT path, id, device, inode, signature, problem FROM sessions WHERE folder = ?"
        return {row[0]: row[1:] for row in self.conn.execute(query, (str(self.folder),))}

    def run(self) -> list[str]:
        present, self.warnings = scan(self.folder)
        known = self._known()
        if not known.keys() <= present.keys():
            self._forget_gone(known, present)
            known = self._known()
        for key, state in present.items():
            row = known.get(key)
            if row is not None and row[3] == state.signature:
                if row[4]:
                    self.warnings.append(row[4])
                continue
            self._index(state)
        return self.warnings

    def _forget_gone(self, known: dict[str, tuple[int, int, int, str, str | None]],
                     present: dict[str, FileState]) -> None:
        """A session whose file moved keeps its entries under the new name; one that is gone loses them."""
        arrived = {(state.device, state.inode): key for key, state in present.items() if key not in known}
        for key, (session_id, device, inode, _, _) in known.items():
            if key in present:
                continue
            moved_to = arrived.pop((device, inode), None)
            with _transaction(self.conn):
                if moved_to is not None:
                    self.conn.execute("UPDATE sessions SET path = ?, name = ? WHERE id = ?",
                                      (moved_to, files.name_of(Path(moved_to)), session_id))
                else:
                    forget(self.conn, session_id)
                    self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def _index(self, state: FileState) -> None:
        conn, path = self.conn, Path(state.path)
        with _transaction(conn):
            query = "SELECT id, rev, created, device, inode FROM sessions WHERE path = ?"
            row = conn.execute(query, (state.path,)).fetchone()
            if row is None:
                session_id = conn.execute(
                    "INSERT INTO sessions (path, folder, name, device, inode, signature, rev) "
                    "VALUES (?, ?, ?, 0, 0, '', -1)", (state.path, str(self.folder), files.name_of(path)),
                ).lastrowid
                rev, created = -1, None
            else:
                session_id, rev, created, device, inode = row
                if (device, inode) != (state.device, state.inode):  # another file took the path: read it all
                    rev = -1
            chars = dict(conn.execute("SELECT task_id, chars FROM tasks WHERE session_id = ?", (session_id,)))
            update = "UPDATE sessions SET signature = ?, device = ?, inode = ?, rev = ?, created = ?, problem = ? "
            try:
                changes = read_changes(path, rev, chars, created)
            except StoreError as exc:
                problem = f"skipped {path.name}: {exc}"
                forget(conn, session_id)
                conn.execute(f"{update} WHERE id = ?",
                             (state.signature, state.device, state.inode, -1, None, problem, session_id))
                self.warnings.append(problem)
                return
            apply_changes(conn, session_id, changes)
            top = max([changes.since_rev, *(task.rev for task in changes.changed)])
            conn.execute(f"{update} WHERE id = ?",
                         (state.signature, state.device, state.inode, top, changes.created, None, session_id))


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any failure."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def forget(conn: sqlite3.Connection, session_id: int, task_id: int | None = None) -> None:
    """Remove a session's tasks (or one task) from the index, inside the caller's transaction."""
    where, args = ("session_id = ?", (session_id,)) if task_id is None else (
        "session_id = ? AND task_id = ?", (session_id, task_id))
    conn.execute(f"DELETE FROM texts WHERE rowid IN (SELECT id FROM tasks WHERE {where})", args)
    conn.execute(f"DELETE FROM tasks WHERE {where}", args)


def apply_changes(conn: sqlite3.Connection, session_id: int, changes: SessionChanges) -> None:
    """Write one session's changes into the index, inside the caller's transaction."""
    if changes.restarted:
        forget(conn, session_id)
    indexed = {row[0] for row in conn.execute("SELECT task_id FROM tasks WHERE session_id = ?", (session_id,))}
    for task_id in indexed - changes.task_ids:
        forget(conn, session_id, task_id)
    for task in changes.changed:
        texts = {field: clean_text(text) for field, text in task.texts.items()}
        details = (task.status, task.provider, task.model, task.prompt, task.created_at, task.chars)
        row = conn.execute("SELECT id FROM tasks WHERE session_id = ? AND task_id = ?",
                           (session_id, task.task_id)).fetchone()
        if row is None:
            doc_id = conn.execute(
                "INSERT INTO tasks (session_id, task_id, status, provider, model, prompt, created_at, chars) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (session_id, task.task_id, *details)).lastrowid
        else:
            doc_id = row[0]
            if "output" not in texts:  # its text did not change: keep what the index holds
                kept = conn.execute("SELECT output FROM texts WHERE rowid = ?", (doc_id,)).fetchone()
                texts["output"] = kept[0] if kept else ""
            conn.execute("DELETE FROM texts WHERE rowid = ?", (doc_id,))
            conn.execute("UPDATE tasks SET status = ?, provider = ?, model = ?, prompt = ?, created_at = ?, "
                         "chars = ? WHERE id = ?", (*details, doc_id))
        conn.execute(_INSERT_TEXTS, (doc_id, *(texts.get(field, "") for field in FIELDS)))
