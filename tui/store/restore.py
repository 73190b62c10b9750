"""A session file deleted (or replaced) while its writer runs: noticed before each save, written back.

The writer's connection still holds the deleted file with everything saved so
far. SQLite's backup copies it to a new private file, which takes the old
one's place (or `NAME-restored` when a new session was started under the name
meanwhile), and writing goes on there; what was not saved yet is saved there next.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tui.store import files
from tui.store.reader import SessionReader
from tui.store.schema import connect_writer


class FileGuard:
    """Keeps the writer on a file that is still in the sessions folder (used by the writer thread only)."""

    def __init__(self, path: Path, lock: files.WriterLock, reader: SessionReader,
                 notice: Callable[[str], None]) -> None:
        self.path = path
        self.lock = lock
        self._reader = reader
        self._notice = notice

    def check(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """The connection to write with: `conn`, or one on the written-back file if ours was deleted."""
        if self.lock.still_linked():
            return conn
        return self._write_back(conn)

    def _write_back(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        deleted = self.path
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the deleted file alone then holds everything
        files.ensure_dir(deleted.parent)  # the whole folder may have gone
        fd, name = tempfile.mkstemp(prefix=f".{deleted.name}.", suffix=".restoring", dir=deleted.parent)
        os.close(fd)
        temp = Path(name)
        lock = files.WriterLock(temp)
        try:
            lock.acquire()  # on the new file's inode, so it is ours under any name
            copy = sqlite3.connect(temp)
            try:
                conn.backup(copy)
            finally:
                copy.close()
            conn.close()
            self._reader.swap(lambda: self._place(temp))
            lock.path = self._reader.path
        except BaseException:
            lock.release()
            temp.unlink(missing_ok=True)
            raise
        temp.unlink()
        self.lock.release()
        self.lock, self.path = lock, lock.path
        self._notice(f"session file {deleted} was deleted while being written; everything is written back to "
                     f"{self.path}")
        return connect_writer(self.path)

    def _place(self, temp: Path) -> Path:
        """Link the copy at the old name if it is free, else at `NAME-restored[-N]`; never replace a file."""
        for candidate in _names(self.path):
            if os.path.lexists(candidate):
                continue
            for suffix in ("-wal", "-shm"):  # the deleted file's own: SQLite would read them as the copy's
                Path(f"{candidate}{suffix}").unlink(missing_ok=True)
            try:
                os.link(temp, candidate)
            except FileExistsError:
                continue
            return candidate
        raise FileExistsError(f"no free name for a copy of {self.path}")


def _names(path: Path) -> Iterator[Path]:
    yield path
    name = files.name_of(path)
    yield path.with_name(f"{name}-restored{files.SUFFIX}")
    for n in range(2, 100):
        yield path.with_name(f"{name}-restored-{n}{files.SUFFIX}")
