"""`SessionStore`: the one writer of a session file, fed by the engine's events.

The engine's observers run on its event loop and must be cheap, so an event
only copies the new text (`output.since(offset)`) and a few small fields,
then hands them to the writer thread. Reading and recovering happen in
`open`, which does blocking I/O: in the app, call it from a thread worker.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.engine import Engine, EventKind, Task, TaskEvent, TaskStatus
from tui.store import files
from tui.store.batch import Pending
from tui.store.errors import SessionUnreadable, StorageUnavailable, StoreError, describe, is_storage_failure
from tui.store.reader import SessionReader
from tui.store.records import capture_inputs, capture_state, mark_interrupted
from tui.store.restore import FileGuard
from tui.store.schema import connect_writer, fold_log, migrate
from tui.store.tool_records import CallTracker, capture_call
from tui.store.writer import Report, Writer, WriteStats


class SessionStore:
    """Saves everything an `Engine` does to one session file, continuously and crash-safely.

    Use: `store = SessionStore.open(name)`, then `store.attach(engine)` on the
    event loop before adding tasks, and `store.close()` at the end. A second
    writer of the same session gets `SessionLocked`.
    """

    def __init__(self, guard: FileGuard, reader: SessionReader, writer: Writer, tasks: list[Task]) -> None:
        self.tasks = tasks
        """The saved tasks as loaded (texts lazy); running/queued ones are now `interrupted`."""
        self._guard = guard
        self._reader = reader
        self._writer = writer
        self._offsets: dict[int, int] = {}
        self._statuses: dict[int, TaskStatus] = {}
        self._calls = CallTracker()
        self._unsubscribe: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        atexit.register(self.close)

    @classmethod
    def open(cls, ref: str | Path, *, create: bool = True, on_problem: Report | None = None,
             flush_interval: float = 0.3) -> SessionStore:
        """Open (or create) a session for writing; raises `StoreError` subclasses with a clear message.

        `on_problem(message | None)` hears about save failures and recoveries; after
        `attach` it is called on the event loop, before that in the writer thread.
        """
        path = files.resolve(ref, must_exist=not create)
        created = not os.path.lexists(path)
        if created:
            if not path.name.endswith(files.SUFFIX):
                raise StoreError(f"{path}: a new session file must end in {files.SUFFIX}")
            files.ensure_dir(path.parent)
            files.create_file(path)
        files.check_regular(path)
        lock = files.WriterLock(path)
        lock.acquire()
        relay = _Relay(on_problem)
        try:
            conn = _prepare(path)
            reader = None
            try:
                reader = SessionReader(path)
                rows, tools = reader.snapshot()
                tasks = [reader.task(row, tools.get(row.id)) for row in rows]
                chars, rev = _saved_positions(conn, path)
                guard = FileGuard(path, lock, reader, relay)
                writer = Writer(conn, files.name_of(path), chars, rev, relay, interval=flush_interval, guard=guard)
            except BaseException:
                if reader is not None:
                    reader.close()
                conn.close()
                raise
        except BaseException:
            if created:
                files.remove_session(path)
            lock.release()
            raise
        store = cls(guard, reader, writer, tasks)
        relay.store = store
        store._recover({row.id: row.updated_at for row in rows})
        return store

    # -- state -----------------------------------------------------------

    @property
    def path(self) -> Path:
        """The session file; another one if this one was deleted while being written (see `FileGuard`)."""
        return self._guard.path

    @property
    def name(self) -> str:
        return files.name_of(self.path)

    @property
    def problem(self) -> str | None:
        """The current save failure, or None when everything is being saved."""
        return self._writer.problem

    @property
    def stats(self) -> WriteStats:
        return self._writer.stats

    def interrupted(self) -> list[Task]:
        """Tasks to resume: `engine.prepare_continue(t.id)` then `engine.run_task(t)` for each."""
        return [t for t in self.tasks if t.status is TaskStatus.INTERRUPTED]

    # -- wiring ----------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        """Give the engine this session's tasks and save all it does from now on (call on its loop)."""
        if self._unsubscribe is not None:
            raise StoreError(f"session {self.name!r} is already attached to an engine")
        if engine.tasks:
            raise StoreError("attach the session store before adding tasks to the engine")
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        engine.adopt(self.tasks)
        self._offsets = {task.id: task.chars for task in self.tasks}
        self._statuses = {task.id: task.status for task in self.tasks}
        for task in self.tasks:
            self._calls.saved(task)
        self._unsubscribe = engine.subscribe(self._on_event)

    def rename(self, new_name: str) -> None:
        """Give the open session a new name; it goes on saving under it. Blocking: call from a thread.

        Saving pauses (changes queue meanwhile) while the log is folded into the
        file and the file, with the held lock, takes the new name. Refused with
        nothing changed when the name is taken or another program is reading
        the file at that moment. A watcher of the old name sees its writer stop.
        """
        new = files.path_for(new_name, self.path.parent)
        if new == self.path:
            return
        if self._closed:
            raise StoreError(f"session {self.name!r} is closed")
        if os.path.lexists(new):
            raise StoreError(f"a session named {new_name!r} already exists")
        with self._reader.closed(), self._writer.paused():
            conn = self._writer.connection
            try:
                fold_log(conn, self.path)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {describe(exc)}") from None
            conn.close()
            try:
                files.move_session(self.path, new)
                self._guard.path = self._reader.path = self._guard.lock.path = new
                self._writer.relabel(self.name)
            finally:  # on the new name, or on the old one if the move was refused
                self._writer.connection = _prepare(self.path)

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until all changes seen so far are on disk (tests, shutdown); False on failure."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop observing, save what is pending, release the lock; True if everything was saved."""
        if self._closed:
            return True
        self._closed = True
        atexit.unregister(self.close)
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._reader.close()  # first, so the writer's connection is the last one and folds the WAL in
        try:
            return self._writer.close(timeout)
        finally:
            self._guard.lock.release()

    async def aclose(self, timeout: float = 10.0) -> bool:
        return await asyncio.to_thread(self.close, timeout)

    # -- events (on the engine's loop: copy, hand over, return) -----------

    def _on_event(self, event: TaskEvent) -> None:
        task = event.task
        if event.kind is EventKind.REMOVED:
            self._offsets.pop(task.id, None)
            self._statuses.pop(task.id, None)
            self._calls.forget(task.id)
            self._writer.submit(task.id, Pending(removed=True), urgent=True)
            return
        change = Pending(state=capture_state(task))
        if event.kind is EventKind.ADDED:
            change.inputs = capture_inputs(task)
            change.servers = task.tools or None
            self._offsets[task.id] = 0
            if self._loop is not None:  # engine.retry sets request fields just after ADDED
                self._loop.call_soon(self._recheck_inputs, task, change.inputs)
        offset = self._offsets.get(task.id, 0)
        text = task.output.since(offset)
        if text:
            change.text.append(text)
            self._offsets[task.id] = offset + len(text)
        if event.kind is not EventKind.PROGRESS:  # a call starts, waits or ends with a TOOL or STATUS event
            change.calls = self._calls.changed(task)
        if task.status is not self._statuses.get(task.id):
            if task.status is TaskStatus.DONE:  # the engine sets session_state just before DONE
                change.session_state = task.session_state
            self._statuses[task.id] = task.status
        self._writer.submit(task.id, change, urgent=event.kind is not EventKind.PROGRESS)

    def _recheck_inputs(self, task: Task, inputs: dict[str, Any]) -> None:
        if task.id in self._offsets and not self._closed:
            current = capture_inputs(task)
            if current != inputs:
                self._writer.submit(task.id, Pending(inputs=current), urgent=True)

    def _recover(self, saved_at: dict[int, float]) -> None:
        """Tasks a previous writer left running were cut off with it: save them as `interrupted`."""
        for task in self.tasks:
            unfinished = [position for position, call in enumerate(task.tool_calls) if not call.status.is_final]
            if mark_interrupted(task, saved_at[task.id]):
                calls = {position: capture_call(task.tool_calls[position]) for position in unfinished}
                self._writer.submit(task.id, Pending(state=capture_state(task), calls=calls), urgent=True)
        self._writer.flush()


class _Relay:
    """Delivers writer-thread problem reports on the event loop once the store is attached."""

    def __init__(self, callback: Report | None) -> None:
        self.callback = callback
        self.store: SessionStore | None = None

    @property
    def heard(self) -> bool:
        return self.callback is not None

    def __call__(self, message: str | None) -> None:
        if self.callback is None:
            return
        loop = self.store._loop if self.store is not None else None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.callback, message)
        else:
            self.callback(message)


def _prepare(path: Path) -> sqlite3.Connection:
    """Open for writing and bring the format up to date; a bad file becomes a clear error."""
    try:
        conn = connect_writer(path)
    except sqlite3.Error as exc:
        raise _open_failure(path, exc) from None
    try:
        migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _open_failure(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _open_failure(path: Path, exc: sqlite3.Error) -> StoreError:
    """A full or read-only disk is not a damaged file: callers may go on without saving."""
    kind = StorageUnavailable if is_storage_failure(exc) else SessionUnreadable
    return kind(f"{path}: {describe(exc)}")


def _saved_positions(conn: sqlite3.Connection, path: Path) -> tuple[dict[int, int], int]:
    try:
        chars = dict(conn.execute("SELECT id, chars FROM tasks").fetchall())
        rev = int(conn.execute("SELECT coalesce(max(rev), 0) FROM tasks").fetchone()[0])
    except sqlite3.Error as exc:
        raise _open_failure(path, exc) from None
    except (TypeError, ValueError):
        raise SessionUnreadable(f"{path}: the file is damaged (task positions are unreadable)") from None
    return chars, rev

