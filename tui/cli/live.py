"""Progress of a headless run: a live table on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tui.engine import Engine, EventKind, Task, TaskEvent, TaskStatus
from tui.engine.stalls import is_stalled, quiet_for
from tui.safety import one_line, visible_controls
from tui.wording import money

STATUS_STYLE = {
    TaskStatus.QUEUED: "dim",
    TaskStatus.RUNNING: "cyan",
    TaskStatus.WAITING: "bold yellow",
    TaskStatus.DONE: "green",
    TaskStatus.FAILED: "red",
    TaskStatus.CANCELLED: "yellow",
    TaskStatus.TIMED_OUT: "magenta",
    TaskStatus.INTERRUPTED: "yellow",
}


def _tools_cell(task: Task) -> str:
    """Calls made, and the one running or waiting now: `3 · git_log`."""
    if not task.tool_calls:
        return ""
    current = next((call.name for call in reversed(task.tool_calls) if not call.status.is_final), None)
    return visible_controls(f"{len(task.tool_calls)}" + (f" · {current}" if current else ""))


def _status_cell(task: Task, now: float) -> Text:
    """The status, or how long a running task has been quiet once that is worth saying (`quiet 23s`)."""
    if is_stalled(task, now):
        return Text(f"quiet {quiet_for(task, now) or 0:.0f}s", style="bold yellow")
    return Text(str(task.status), style=STATUS_STYLE[task.status])


def _cost_part(task: Task) -> str:
    """` cost=$0.0042` for a progress line; nothing while the cost is not known."""
    return "" if task.usage.cost_usd is None else f" cost={money(task.usage.cost_usd)}"


class TerminalProgress:
    """A rich Live table on stderr, redrawn a few times a second, never per chunk."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._live = Live(
            get_renderable=self._table,
            console=Console(stderr=True),
            refresh_per_second=4,
            transient=False,
        )

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("id", "status", "chars", "chars/s", "elapsed", "cost", "tools", "prompt"):
            table.add_column(column, justify="right" if column in ("chars", "chars/s", "elapsed", "cost") else "left")
        now = time.time()
        for task in self.engine.tasks.values():
            table.add_row(
                str(task.id),
                _status_cell(task, now),
                f"{task.chars:,}",
                f"{task.rate:,.0f}" if task.status is TaskStatus.RUNNING else "",
                f"{task.elapsed(now):.1f}s",
                money(task.usage.cost_usd) if task.status.is_final else "",
                Text(_tools_cell(task)),
                Text(one_line(task.prompt, 48)),
            )
        return table

    def __enter__(self) -> TerminalProgress:
        self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)


class PlainProgress:
    """One line on stderr per status change and a heartbeat every few seconds."""

    HEARTBEAT_S = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._unsubscribe = lambda: None
        self._last_beat: dict[int, float] = {}

    def _on_event(self, event: TaskEvent) -> None:
        task = event.task
        if event.kind is EventKind.STATUS:
            extra = f" ({task.error})" if task.error else ""
            line = f"task {task.id} {task.status} chars={task.chars} elapsed={task.elapsed():.1f}s{_cost_part(task)}"
            self._line(line + extra)
        elif event.kind is EventKind.TOOL and event.call is not None:
            call = event.call
            took = f" {call.elapsed_s:.1f}s" if call.status.is_final else ""
            extra = f" ({call.error})" if call.error else ""
            self._line(f"task {task.id} tool {call.name} ({call.server}) {call.status}{took}{extra}")
        elif event.kind is EventKind.PROGRESS:
            now = time.monotonic()
            if now - self._last_beat.get(task.id, 0.0) >= self.HEARTBEAT_S:
                self._last_beat[task.id] = now
                self._line(f"task {task.id} running chars={task.chars} chars/s={task.rate:.0f}")

    @staticmethod
    def _line(text: str) -> None:
        print(f"agentdeck: {visible_controls(text)}", file=sys.stderr, flush=True)

    def __enter__(self) -> PlainProgress:
        self._unsubscribe = self.engine.subscribe(self._on_event)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unsubscribe()
