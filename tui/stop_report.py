"""What agentdeck says when it ends: where the work is and how to get back to it.

Shared by the app and `agentdeck run`; no Textual here, so a crash of the
UI can still be reported by the code that started it.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui import paths
from tui.engine import Task, TaskStatus
from tui.engine.redact import Redactor
from tui.safety import visible_controls

STATUS_ORDER = (
    TaskStatus.RUNNING,
    TaskStatus.WAITING,
    TaskStatus.QUEUED,
    TaskStatus.DONE,
    TaskStatus.FAILED,
    TaskStatus.TIMED_OUT,
    TaskStatus.INTERRUPTED,
    TaskStatus.CANCELLED,
)


@dataclass(frozen=True)
class UnexpectedStop:
    """An end the user did not ask for: a bug in agentdeck, or a signal such as a lost terminal."""

    what: str
    exit_code: int
    log: Path | None = None


def tasks_by_status(tasks: Iterable[Task]) -> str:
    """`3 done · 2 interrupted`, in a fixed order, only the statuses present; `no tasks` when empty."""
    counts = Counter(task.status for task in tasks)
    parts = [f"{counts[status]} {str(status).replace('_', ' ')}" for status in STATUS_ORDER if counts[status]]
    return " · ".join(parts) or "no tasks"


def exit_line(name: str | None, tasks: Iterable[Task], *, saved: bool) -> str:
    """The one line printed when the app or a run ends: what is where and the command to get back."""
    tasks = list(tasks)
    counts = tasks_by_status(tasks)
    name = visible_controls(name) if name is not None else None
    if not saved or name is None:
        return f"agentdeck: {counts}; this session was NOT saved"
    line = f"agentdeck: session {name}: {counts} · reopen: agentdeck open {name}"
    if any(task.status is TaskStatus.INTERRUPTED for task in tasks):
        line += f" · resume: agentdeck resume {name} (or R in the app)"
    return line


def crash_report(stop: UnexpectedStop, name: str | None, *, saved: bool, watching: bool = False) -> str:
    """A few lines for stderr after an unexpected stop: what happened, where the details are, how to reopen."""
    lines = [f"agentdeck stopped unexpectedly: {visible_controls(stop.what)}"]
    name = visible_controls(name) if name is not None else None
    if watching:
        lines.append(f"Only the watch ended; the tasks of session {name} run on in the process that writes it.")
    elif saved and name is not None:
        lines.append(f"Running tasks were saved as interrupted in session {name}.")
        lines.append(f"Reopen it with `agentdeck open {name}` and press R, or run `agentdeck resume {name}`.")
    else:
        lines.append("This session was not being saved.")
    if stop.log is not None:
        lines.append(f"Details: {stop.log}")
    return "\n".join(lines)


def write_crash_log(error: BaseException, redactor: Redactor) -> Path | None:
    """The traceback in a file under the data folder, keys hidden and no local variables; None if unwritable."""
    text = redactor.hide("".join(traceback.format_exception(error))) or ""
    folder = paths.logs_dir()
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(visible_controls(text), encoding="utf-8")
        path.chmod(0o600)
    except OSError:
        return None
    return path
