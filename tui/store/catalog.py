"""The sessions folder: list (skipping bad files with a reason), rename, delete, pick a new name."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui import paths
from tui.engine import TaskStatus
from tui.store import files
from tui.store.errors import StoreError, describe
from tui.store.reader import SessionReader
from tui.store.schema import file_version, fold_log
from tui.store.usage_totals import UsageRow, UsageSum, total

_ACTIVE = (str(TaskStatus.RUNNING), str(TaskStatus.WAITING), str(TaskStatus.QUEUED))


@dataclass(frozen=True)
class SessionInfo:
    name: str
    path: Path
    created_at: float
    updated_at: float
    counts: dict[str, int]
    """Tasks by status; with no live writer, `running`/`queued` are counted as `interrupted`."""
    size: int
    """Bytes on disk (database and write-ahead log)."""
    writer_pid: int | None
    """Pid of the process writing it now (0 if unknown), None when nobody does."""
    tool_calls: int = 0
    """Tool calls made by all its tasks."""
    usage: tuple[UsageRow, ...] = ()
    """Tokens and cost by provider, model and day."""

    @property
    def used(self) -> UsageSum:
        return total(self.usage)

    @property
    def task_count(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path), "created_at": self.created_at,
            "updated_at": self.updated_at, "tasks": self.task_count, "by_status": dict(self.counts),
            "size": self.size, "writer_pid": self.writer_pid, "tool_calls": self.tool_calls,
            "cost_usd": self.used.known_cost, "usage": self.used.to_dict(),
        }


@dataclass(frozen=True)
class SessionProblem:
    """A file in the sessions folder that could not be read, and why; it is skipped, never changed."""

    path: Path
    message: str


@dataclass(frozen=True)
class Listing:
    sessions: list[SessionInfo]
    """Most recently updated first."""
    problems: list[SessionProblem]


def session_info(path: Path) -> SessionInfo:
    """Summary of one session file; raises `StoreError` when it cannot be read."""
    files.check_regular(path)
    reader = SessionReader(path)
    try:
        summary = reader.summary()
    finally:
        reader.close()
    pid = files.writer_pid(path)
    counts = dict(summary.counts)
    if pid is None:
        stranded = sum(counts.pop(status, 0) for status in _ACTIVE)
        if stranded:
            counts[str(TaskStatus.INTERRUPTED)] = counts.get(str(TaskStatus.INTERRUPTED), 0) + stranded
    return SessionInfo(files.name_of(path), path, summary.created_at, summary.updated_at, counts,
                       files.file_size(path), pid, summary.tool_calls, tuple(summary.usage))


def list_sessions(directory: Path | None = None) -> Listing:
    directory = directory or paths.sessions_dir()
    sessions: list[SessionInfo] = []
    problems: list[SessionProblem] = []
    for path in files.session_files(directory):
        try:
            sessions.append(session_info(path))
        except StoreError as exc:
            problems.append(SessionProblem(path, str(exc)))
    sessions.sort(key=lambda info: info.updated_at, reverse=True)
    return Listing(sessions, problems)


def new_session_name(directory: Path | None = None) -> str:
    """A fresh name like `session-20250101-120000` (with `-2`, `-3`... if taken)."""
    directory = directory or paths.sessions_dir()
    base = time.strftime("session-%Y%m%d-%H%M%S")
    name, n = base, 1
    while os.path.lexists(files.path_for(name, directory)):
        n += 1
        name = f"{base}-{n}"
    return name


def _fold_wal(path: Path) -> None:
    """Move everything from the write-ahead log into the file, so it is one file to move."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {describe(exc)}") from None
    try:
        file_version(conn, path)
        fold_log(conn, path)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {describe(exc)}") from None
    finally:
        conn.close()


def rename_session(ref: str | Path, new_name: str) -> Path:
    """Rename a session that nobody is writing; never replaces an existing one."""
    old = files.resolve(ref)
    new = files.path_for(new_name, old.parent)
    if os.path.lexists(new):
        raise StoreError(f"a session named {new_name!r} already exists")
    files.check_regular(old)
    lock = files.WriterLock(old)
    lock.acquire()
    try:
        _fold_wal(old)
        files.move_session(old, new)
    finally:
        lock.release()
    return new


def delete_session(ref: str | Path) -> None:
    """Delete a session and its companion files; refused while another process writes it."""
    path = files.resolve(ref)
    files.check_regular(path)
    lock = files.WriterLock(path)
    lock.acquire()
    try:
        files.remove_session(path)
    finally:
        lock.release()
