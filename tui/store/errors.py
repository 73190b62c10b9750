"""Storage failures as one line a person can act on; never a traceback."""

from __future__ import annotations

import errno
import sqlite3


class StoreError(Exception):
    """A session cannot be created, opened, read or written; the text is shown as is."""


class SessionNotFound(StoreError):
    pass


class SessionUnreadable(StoreError):
    """Corrupt, truncated, not SQLite, not agentdeck's, or from a newer agentdeck."""


class SessionLocked(StoreError):
    """Another process is writing this session; it can still be opened read-only (watch)."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


_SQLITE_HINTS = (
    ("disk is full", "the disk is full"),
    ("readonly database", "the session file or its folder is read-only"),
    ("unable to open database", "the session file cannot be opened (missing folder or no permission)"),
    ("not a database", "not an agentdeck session file (not SQLite)"),
    ("malformed", "the file is damaged (corrupt or truncated)"),
    ("disk i/o error", "a disk I/O error occurred"),
    ("locked", "the database is busy (another program holds it)"),
)


def describe(exc: BaseException) -> str:
    """Short reason for an sqlite3 or OS error, e.g. 'the disk is full'."""
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        for needle, hint in _SQLITE_HINTS:
            if needle in text:
                return hint
        return str(exc)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "the disk is full"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"{exc.strerror or 'permission denied'} (read-only or not yours)"
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__
