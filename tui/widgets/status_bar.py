"""The top line: how many tasks run, wait, finished and failed, whether this is the demo or a watch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from tui.engine import TaskStatus
from tui.engine.pricing import UsageTotal
from tui.engine.task import STATUS_ORDER
from tui.safety import visible_controls
from tui.widgets.formatting import UNKNOWN_COST, count, money
from tui.widgets.status import ICONS, THEME_COLOURS


def counts_line(counts: Counter[TaskStatus]) -> str:
    """Plain counts for the terminal title: `2 running · 1 queued · 3 done · 1 failed` (waiting ones first, if any)."""
    failed = sum(counts[s] for s in (TaskStatus.FAILED, TaskStatus.TIMED_OUT))
    waiting = f"{counts[TaskStatus.WAITING]} waiting · " if counts[TaskStatus.WAITING] else ""
    return (
        f"{waiting}{counts[TaskStatus.RUNNING]} running · {counts[TaskStatus.QUEUED]} queued · "
        f"{counts[TaskStatus.DONE]} done · {failed} failed"
    )


def total_text(total: UsageTotal) -> str:
    """`~12,345 tokens · ~$0.0421`: the session's tokens and cost, `~` when part is estimated, `–` with no price."""
    mark = "~" if total.estimated else ""
    cost = UNKNOWN_COST if total.cost_usd is None else mark + money(total.cost_usd)
    return f"{mark}{count(total.tokens)} tokens · {cost}"


HEADER_ORDER = tuple(status for status in STATUS_ORDER if status is not TaskStatus.TIMED_OUT)
"""Timed-out tasks count as failed here; interrupted (resumable with R) and cancelled (the user's choice) differ."""
ALWAYS_SHOWN = frozenset({TaskStatus.RUNNING, TaskStatus.QUEUED, TaskStatus.DONE, TaskStatus.FAILED})


_NARROWER = (
    (True, True, True, True, True),
    (False, True, True, True, True),
    (False, True, True, False, True),
    (False, True, False, True, True),
    (False, True, False, False, True),
    (False, False, False, False, True),
    (False, False, False, False, False),
)
"""(app name, session name, count labels, view settings, session total): each line shown only if the wider ones
do not fit."""


@dataclass(frozen=True)
class _Shown:
    counts: Counter[TaskStatus]
    view: str
    concurrency: int
    total: UsageTotal
    throttled: tuple[str, ...] = ()
    """Providers running below their configured limit after 429s, as `deepseek 2 of 8 at once`."""


class StatusBar(Static):
    """Counts in status colours, the demo notice, and the table's view settings.

    On a narrow terminal the line sheds words rather than counts: first the
    app's name, then the view settings, then the count labels (the icons
    stay; the view settings come back if that makes room), then the
    session's name, and last the session's tokens and cost.
    """

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(
        self, *, demo: bool, session: str | None = None, read_only: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._demo = demo
        self.session = session
        """The session's name: what `agentdeck open NAME` takes to come back to this work."""
        self._read_only = read_only
        self._values: _Shown | None = None
        self._content: Content | None = None

    def show(
        self,
        counts: Counter[TaskStatus],
        *,
        view: str,
        concurrency: int,
        total: UsageTotal | None = None,
        throttled: tuple[str, ...] = (),
    ) -> None:
        self._values = _Shown(counts, view, concurrency, total or UsageTotal(), throttled)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self._values is None:
            return
        room = self.content_region.width
        content = Content()
        for brand, session, labels, view, total in _NARROWER:
            content = self._line(self._values, brand=brand, session=session, labels=labels, view=view, total=total)
            if content.cell_length <= room:
                break
        if content != self._content:
            # One line whatever the text: skip the layout pass a Static update does by default.
            self._content = content
            self.update(content, layout=False)

    def _line(self, shown: _Shown, *, brand: bool, session: bool, labels: bool, view: bool, total: bool) -> Content:
        counts = dict(shown.counts)
        counts[TaskStatus.FAILED] = counts.get(TaskStatus.FAILED, 0) + counts.get(TaskStatus.TIMED_OUT, 0)
        parts: list[str | tuple[str, str]] = []
        if brand:
            parts.append(("agentdeck " if self.session else "agentdeck  ", "bold"))
        if session and self.session:
            parts.append((f"{visible_controls(self.session)}  ", "$text-accent bold"))  # a file's name
        if self._demo:
            parts.append(("DEMO (no key)  " if labels else "DEMO  ", "$text-warning bold"))
        if self._read_only:
            parts.append(("READ-ONLY (watching)  " if labels else "READ-ONLY  ", "$text-warning bold"))
        for status in HEADER_ORDER:
            number = counts.get(status, 0)
            if number or status in ALWAYS_SHOWN:
                style = f"${THEME_COLOURS[status]} bold" if number else "$foreground-muted"
                parts += [(f"{ICONS[status]} {number}" + (f" {status.word}" if labels else ""), style), "  "]
        parts.pop()
        if total and shown.total.tasks:
            parts.append((f"  │ {total_text(shown.total)}", "$foreground"))
        if view:
            parts.append((f"  │ {shown.view} · {shown.concurrency} at once", "$foreground-muted"))
        if shown.throttled:
            parts.append((f"  │ rate limited: {', '.join(shown.throttled)}", "$text-warning"))
        return Content.assemble(*parts)
