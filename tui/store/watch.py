"""Watch mode: a read-only, live view of a session that another process is writing.

It offers what an `Engine` offers a UI (a `tasks` dict of `Task`s and
`TaskEvent`s to subscribers), so the app can show a watched session with the
same widgets. It never writes: it polls the file (`PRAGMA data_version` makes
an idle poll one cheap query) and reads only rows and text that changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.engine import EventKind, Observer, Task, TaskEvent, TaskStatus, ToolCall
from tui.store import files
from tui.store.reader import SessionReader, TaskRow, ToolChanges, stitch
from tui.store.records import WINDOW, StoredOutput, mark_interrupted

POLL_INTERVAL_S = 0.3


@dataclass
class _Changes:
    """What one poll found; read in a worker thread, applied on the loop."""

    writer_pid: int | None
    version: int
    seq: int = 0
    rows: list[TaskRow] = field(default_factory=list)
    ids: set[int] | None = None
    added: dict[int, Task] = field(default_factory=dict)
    states: dict[int, dict[str, Any]] = field(default_factory=dict)
    texts: dict[int, tuple[int, str]] = field(default_factory=dict)
    tools: ToolChanges = field(default_factory=ToolChanges)


class SessionWatcher:
    """Follows a session file read-only. Run `await watcher.run()` (e.g. in a worker) and subscribe.

    Polls must not overlap: use `run`, or call `refresh`/`poll` from one place at a time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = files.name_of(path)
        self._reader = SessionReader(path)
        self._observers: list[Observer] = []
        self._version = self._reader.data_version()
        self.writer_pid = files.writer_pid(path)
        """Pid of the process writing the session (0 if unknown), None when nobody writes it."""
        rows, tools = self._reader.snapshot()
        self.tasks: dict[int, Task] = {row.id: self._reader.task(row, tools.get(row.id)) for row in rows}
        self._rev = max((row.rev for row in rows), default=0)
        self._seq = self._reader.chunks_after(0, {})[1]
        self._chars = {row.id: row.chars for row in rows}
        self._saved_at = {row.id: row.updated_at for row in rows}
        self._marks: dict[int, tuple[float, int]] = {}
        if self.writer_pid is None:
            for task in self.tasks.values():
                mark_interrupted(task, self._saved_at[task.id])

    @classmethod
    def open(cls, ref: str | Path) -> SessionWatcher:
        """Watch a session by name or path; raises `StoreError` subclasses with a clear message."""
        return cls(files.resolve(ref))

    @property
    def writer_alive(self) -> bool:
        return self.writer_pid is not None

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def close(self) -> None:
        self._reader.close()

    async def run(self, interval: float = POLL_INTERVAL_S) -> None:
        """Poll until cancelled; new text and status changes reach subscribers within `interval`."""
        while True:
            await self.refresh()
            await asyncio.sleep(interval)

    async def refresh(self) -> list[TaskEvent]:
        """One poll: read in a worker thread, then update `tasks` and notify on this loop."""
        wanted, known = self._wanted(), set(self.tasks)
        return self._apply(await asyncio.to_thread(self._read, wanted, known))

    def poll(self) -> list[TaskEvent]:
        """The same as `refresh`, blocking, for callers without an event loop."""
        return self._apply(self._read(self._wanted(), set(self.tasks)))

    # -- reading (worker thread: touches no live Task) --------------------

    def _wanted(self) -> dict[int, tuple[int, str]]:
        """Lengths of the texts already loaded (only those are kept up to date) and, for running tasks,
        their ends, which the next chunk of each may be packed against (a task that starts again
        meanwhile has its new text read whole once)."""
        return {
            task_id: (len(task.output), task.output.since(len(task.output) - WINDOW) if task.status.is_active else "")
            for task_id, task in self.tasks.items()
            if not isinstance(task.output, StoredOutput) or task.output.loaded
        }

    def _read(self, wanted: dict[int, tuple[int, str]], known: set[int]) -> _Changes:
        pid = files.writer_pid(self.path)
        version = self._reader.data_version()
        changes = _Changes(pid, version, self._seq)
        behind = any(self._chars.get(task_id, 0) > offset for task_id, (offset, _) in wanted.items())
        if version == self._version and not behind:
            return changes
        changes.rows, changes.ids, changes.tools = self._reader.changed_since(self._rev, known)
        chars = dict(self._chars)
        for row in changes.rows:
            chars[row.id] = row.chars
            if row.id in known:
                changes.states[row.id] = self._reader.state(row)
            else:
                task = changes.added[row.id] = self._reader.task(row)
                task.tools = changes.tools.servers.get(row.id, ())
                task.group = changes.tools.groups.get(row.id)
        chunks, changes.seq = self._reader.chunks_after(self._seq, wanted)
        pieces: dict[int, list[tuple[int, str]]] = {}
        for task_id, start, text in chunks:
            pieces.setdefault(task_id, []).append((start, text))
        for task_id, (offset, _) in wanted.items():
            target = chars.get(task_id, 0)
            if target > offset:
                stitched = stitch(pieces.get(task_id, ()), offset, target)
                if stitched is None:  # loaded since the last poll: read what came in between
                    stitched = self._reader.read_text(task_id, offset, target)
                changes.texts[task_id] = (offset, stitched)
        return changes

    # -- applying (event loop) -------------------------------------------

    def _apply(self, changes: _Changes) -> list[TaskEvent]:
        events: list[TaskEvent] = []
        writer_left = self.writer_pid is not None and changes.writer_pid is None
        self.writer_pid = changes.writer_pid
        self._version = changes.version
        self._seq = changes.seq
        for task_id, (start, text) in changes.texts.items():
            task = self.tasks.get(task_id)
            if task is not None and len(task.output) == start and text:
                task.output.append(text)
                self._progress(task)
                events.append(TaskEvent(EventKind.PROGRESS, task))
        for row in changes.rows:
            self._rev = max(self._rev, row.rev)
            self._chars[row.id] = row.chars
            self._saved_at[row.id] = row.updated_at
            events.extend(self._update(row, changes))
        if changes.ids is not None:
            for task_id in [i for i in self.tasks if i not in changes.ids]:
                for positions in (self._chars, self._saved_at, self._marks):  # a long watch must not grow
                    positions.pop(task_id, None)
                events.append(TaskEvent(EventKind.REMOVED, self.tasks.pop(task_id)))
        if self.writer_pid is None:
            changed = [self.tasks[r.id] for r in changes.rows if r.id in self.tasks]
            targets = self.tasks.values() if writer_left else changed
            for task in targets:
                unfinished = [call for call in task.tool_calls if not call.status.is_final]
                if mark_interrupted(task, self._saved_at[task.id]):
                    task.rate = 0.0
                    events.extend(TaskEvent(EventKind.TOOL, task, call) for call in unfinished)
                    events.append(TaskEvent(EventKind.STATUS, task))
        for event in events:
            for observer in list(self._observers):
                observer(event)
        return events

    def _update(self, row: TaskRow, changes: _Changes) -> list[TaskEvent]:
        task = self.tasks.get(row.id)
        if task is None:
            task = self.tasks[row.id] = changes.added[row.id]
            _apply_calls(task, changes.tools.calls.get(row.id, ()))
            return [TaskEvent(EventKind.ADDED, task)]
        changed_calls = _apply_calls(task, changes.tools.calls.get(row.id, ()))
        events = [TaskEvent(EventKind.TOOL, task, call) for call in changed_calls]
        if isinstance(task.output, StoredOutput) and not task.output.loaded and row.chars > len(task.output):
            task.output.saved_grew(row.chars)
            self._progress(task)
            events.append(TaskEvent(EventKind.PROGRESS, task))
        state = changes.states.get(row.id)
        if state is not None:  # set as read: decoding it may need the task's text, loaded only when used
            task.session_state = state.pop("session_state")
        if state is not None and any(getattr(task, name) != value for name, value in state.items()):
            for name, value in state.items():
                setattr(task, name, value)
            if task.status is not TaskStatus.RUNNING:
                task.rate = 0.0
            events.append(TaskEvent(EventKind.STATUS, task))
        return events

    def _progress(self, task: Task) -> None:
        """Characters per second between polls, smoothed like the engine's."""
        now = time.monotonic()
        previous = self._marks.get(task.id)
        self._marks[task.id] = (now, task.chars)
        if previous is not None and now > previous[0] and task.status is TaskStatus.RUNNING:
            instant = (task.chars - previous[1]) / (now - previous[0])
            task.rate = instant if task.rate == 0 else 0.6 * instant + 0.4 * task.rate


def _apply_calls(task: Task, saved: Iterable[tuple[int, ToolCall]]) -> list[ToolCall]:
    """Put calls read from the file in their places; a call already shown is updated in place
    (views may hold it). Returns the calls that are new or changed."""
    changed = []
    for position, call in saved:
        if position < len(task.tool_calls):
            shown = task.tool_calls[position]
            if shown == call:
                continue
            vars(shown).update(vars(call))
            changed.append(shown)
        elif position == len(task.tool_calls):
            task.tool_calls.append(call)
            changed.append(call)
    return changed
