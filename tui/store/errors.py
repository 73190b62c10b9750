"""Storage failures as one line a person can act on; never a traceback."""

from __future__ import annotations

import errno
import sqlite3

from tui.safety import one_line


class StoreError(Exception):
    """A session cannot be created, opened, read or written; the text is shown as is."""


class SessionNotFound(StoreError):
    pass


class SessionUnreadable(StoreError):
    """Corrupt, truncated, not SQLite, not agentdeck's, or from a newer agentdeck."""


class StorageUnavailable(StoreError):
    """The disk refuses (read-only, full, no permission, I/O error); nothing saved was changed.

    Work can go on without saving: `agentdeck run` does, and says so.
    """


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
    ("could not decode to utf-8", "the file is damaged (text that is not UTF-8)"),
    ("disk i/o error", "a disk I/O error occurred"),
    ("locked", "the database is busy (another program holds it)"),
)


# SQLite primary result codes that mean the disk or the file system refused, not a bad file.
_STORAGE_CODES = frozenset({3, 8, 10, 13, 14})  # PERM, READONLY, IOERR, FULL, CANTOPEN


def is_storage_failure(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _STORAGE_CODES


_QUOTED_CHARS = 160
"""A message quoted from a library may hold a damaged file's bytes: one short line, controls visible."""


def describe(exc: BaseException) -> str:
    """Short reason for an sqlite3 or OS error, e.g. 'the disk is full'."""
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        for needle, hint in _SQLITE_HINTS:
            if needle in text:
                return hint
        return one_line(str(exc), _QUOTED_CHARS)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "the disk is full"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"{exc.strerror or 'permission denied'} (read-only or not yours)"
        return exc.strerror or one_line(str(exc), _QUOTED_CHARS)
    return one_line(str(exc), _QUOTED_CHARS) or type(exc).__name__
