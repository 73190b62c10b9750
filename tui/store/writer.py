"""The writer thread: the event loop hands over changes under a lock and never waits for the disk.

Changes are coalesced per task (text deltas joined, the latest state kept), so
memory stays bounded by what arrives between two flushes, however slow the
disk. A flush starts at most every `interval` seconds (counted from the start
of the previous one) while text streams in, and at once after a status change.
With the 0.3 s default, the engine's 0.1 s progress coalescing and the commit
itself, text that arrived more than 0.5 s before a crash is on disk. A failed
flush (disk full, read-only file) keeps its changes in front of newer ones and
is retried; what is already saved is never touched by a failure, since each
flush is one transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tui.store.batch import Batch, Pending, merge, write_batch
from tui.store.errors import StoreError, describe
from tui.store.restore import FileGuard

log = logging.getLogger("agentdeck.store")

Report = Callable[[str | None], None]
"""Called (from the writer thread) with a problem message, or None when saving works again."""


@dataclass
class WriteStats:
    """What has been saved, for the write-amplification measurement and diagnostics."""

    transactions: int = 0
    text_chars: int = 0
    text_bytes: int = 0
    stored_bytes: int = 0
    """Text bytes as stored in the file (compressed chunks count their compressed size)."""


class Writer:
    def __init__(
        self,
        conn: sqlite3.Connection,
        label: str,
        chars: dict[int, int],
        rev: int,
        report: Report,
        *,
        interval: float = 0.3,
        retry_after: float = 2.0,
        guard: FileGuard | None = None,
    ) -> None:
        self.stats = WriteStats()
        self.problem: str | None = None
        self._conn = conn
        self._label = label
        self._chars = chars
        self._tails: dict[int, bytes] = {}
        """The end of each running task's saved text, which its next chunk is packed against."""
        self._rev = rev
        self._report = report
        self._interval = interval
        self._retry_after = retry_after
        self._guard = guard
        self._cond = threading.Condition()
        self._pending: Batch = {}
        self._urgent = False
        self._closing = False
        self._paused = False
        self._saving = False
        self._submitted = 0
        self._written = 0
        self._failures = 0
        self._last_flush = 0.0
        self._retry_at = 0.0
        self._thread = threading.Thread(target=self._run, name=f"agentdeck-store-{label}", daemon=True)
        self._thread.start()

    def submit(self, task_id: int, change: Pending, *, urgent: bool) -> None:
        """Queue a change (called on the event loop; only takes a short lock)."""
        with self._cond:
            merge(self._pending, {task_id: change})
            self._submitted += 1
            self._urgent = self._urgent or urgent
            self._cond.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Save everything submitted so far now (retrying at once after a failure); False if it fails."""
        with self._cond:
            target, failures = self._submitted, self._failures
            self._urgent = True
            self._retry_at = 0.0
            self._cond.notify()
            self._cond.wait_for(lambda: self._written >= target or self._failures > failures, timeout)
            return self._written >= target

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No save runs inside this block (one under way ends first); changes keep queueing meanwhile.

        The caller may then replace `connection`, e.g. to follow the session file to a new name.
        """
        with self._cond:
            self._paused = True
            self._cond.wait_for(lambda: not self._saving)
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    @connection.setter
    def connection(self, conn: sqlite3.Connection) -> None:
        """Only while `paused`: the thread saves through the new connection from then on."""
        self._conn = conn

    def relabel(self, label: str) -> None:
        self._label = label

    def close(self, timeout: float = 10.0) -> bool:
        """Save what is pending, stop the thread; True when everything submitted is on disk."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        with self._cond:
            return not self._thread.is_alive() and self._written >= self._submitted

    # -- the thread ------------------------------------------------------

    def _due(self) -> bool:
        if self._paused:
            return False
        if self._closing:
            return True
        if not self._pending:
            return False
        now = time.monotonic()
        if self.problem is not None:
            return now >= self._retry_at
        return self._urgent or now >= self._last_flush + self._interval

    def _wait_time(self) -> float | None:
        if not self._pending or self._paused:
            return None
        target = self._retry_at if self.problem is not None else self._last_flush + self._interval
        return max(0.0, target - time.monotonic())

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._due():
                        self._cond.wait(self._wait_time())
                    batch, self._pending = self._pending, {}
                    upto, closing = self._submitted, self._closing
                    self._urgent = False
                    self._saving = True
                    if batch:  # the next flush is due `interval` after this one starts, not ends
                        self._last_flush = time.monotonic()
                try:
                    failure = self._save(batch, upto)
                finally:
                    with self._cond:
                        self._saving = False
                        self._cond.notify_all()
                if closing and failure:
                    self._report_problem(
                        f"cannot save session {self._label!r}: {failure}; its latest changes are lost "
                        f"({_lost(self._pending)})"
                    )
                    return
                if closing and not self._pending:
                    return
        finally:
            self._conn.close()

    def _save(self, batch: Batch, upto: int) -> str | None:
        """Write one batch; on failure put it back and return why."""
        if batch:
            try:
                if self._guard is not None:  # the file deleted under us: written back first
                    self._conn = self._guard.check(self._conn)
                written = write_batch(self._conn, batch, self._chars, self._rev + 1, self._tails)
            except Exception as exc:
                if not isinstance(exc, sqlite3.Error | OSError | StoreError):
                    log.exception("saving session %s failed", self._label)
                with self._cond:
                    self._pending = merge(batch, self._pending)
                    self._failures += 1
                    self._retry_at = time.monotonic() + self._retry_after
                    self._cond.notify_all()
                reason = describe(exc)
                self._report_problem(
                    f"cannot save session {self._label!r}: {reason}; tasks keep running, saving will be retried"
                )
                return reason
            self._rev += 1
            self.stats.transactions += 1
            self.stats.text_chars += written.chars
            self.stats.text_bytes += written.text_bytes
            self.stats.stored_bytes += written.stored_bytes
        with self._cond:
            self._written = max(self._written, upto)
            self._cond.notify_all()
        if self.problem is not None:
            self._report_problem(None)
        return None

    def _report_problem(self, message: str | None) -> None:
        with self._cond:
            changed = message != self.problem
            self.problem = message
            self._cond.notify_all()
        if changed:
            if message:
                # A report someone hears is the user-facing message; the log is then only a trace
                # (at WARNING, Python's last-resort handler would print it a second time).
                heard = getattr(self._report, "heard", False)
                log.log(logging.INFO if heard else logging.WARNING, "%s", message)
            self._report(message)


def _lost(batch: Batch) -> str:
    """What a failed last save leaves out, e.g. `tasks 1, 2: 1,200 characters of text and their last state`."""
    ids = ", ".join(str(task_id) for task_id in sorted(batch))
    chars = sum(len(piece) for pending in batch.values() for piece in pending.text)
    text = f"{chars:,} characters of text and " if chars else ""
    return f"task{'s' if len(batch) != 1 else ''} {ids}: {text}their last state"
