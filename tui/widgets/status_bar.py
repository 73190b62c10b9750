"""The top line: how many tasks run, wait, finished and failed, and whether this is the demo."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from tui.engine import Task, TaskStatus
from tui.widgets.status import ICONS, THEME_COLOURS


def count_statuses(tasks: Iterable[Task]) -> Counter[TaskStatus]:
    return Counter(task.status for task in tasks)


def counts_line(counts: Counter[TaskStatus]) -> str:
    """Plain counts for the terminal title: `2 running · 1 queued · 3 done · 1 failed`."""
    failed = sum(counts[s] for s in (TaskStatus.FAILED, TaskStatus.TIMED_OUT))
    return (
        f"{counts[TaskStatus.RUNNING]} running · {counts[TaskStatus.QUEUED]} queued · "
        f"{counts[TaskStatus.DONE]} done · {failed} failed"
    )


class StatusBar(Static):
    """Counts in status colours, the demo notice, and the table's view settings."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, demo: bool, session: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._demo = demo
        self.session = session
        """The session's name: what `agentdeck open NAME` takes to come back to this work."""
        self._shown: Content | None = None

    def show(self, counts: Counter[TaskStatus], *, view: str, concurrency: int) -> None:
        def part(status: TaskStatus, label: str, number: int) -> tuple[str, str]:
            style = f"${THEME_COLOURS[status]} bold" if number else "$foreground-muted"
            return (f"{ICONS[status]} {number} {label}", style)

        failed = sum(counts[s] for s in (TaskStatus.FAILED, TaskStatus.TIMED_OUT))
        other = counts[TaskStatus.CANCELLED] + counts[TaskStatus.INTERRUPTED]
        parts: list[str | tuple[str, str]] = [("agentdeck  ", "bold")]
        if self.session:
            parts = [("agentdeck ", "bold"), (f"{self.session}  ", "$text-accent bold")]
        if self._demo:
            parts.append(("DEMO (no key)  ", "$text-warning bold"))
        parts += [
            part(TaskStatus.RUNNING, "running", counts[TaskStatus.RUNNING]),
            "  ",
            part(TaskStatus.QUEUED, "queued", counts[TaskStatus.QUEUED]),
            "  ",
            part(TaskStatus.DONE, "done", counts[TaskStatus.DONE]),
            "  ",
            part(TaskStatus.FAILED, "failed", failed),
        ]
        if other:
            parts += ["  ", part(TaskStatus.CANCELLED, "stopped", other)]
        parts.append((f"  │ {view} · {concurrency} at once", "$foreground-muted"))
        content = Content.assemble(*parts)
        if content != self._shown:
            # One line whatever the text: skip the layout pass a Static update does by default.
            self._shown = content
            self.update(content, layout=False)
