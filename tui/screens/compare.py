"""The compare view: a group's answers side by side as they stream, and a word diff of two of them."""

from __future__ import annotations

import asyncio
import time

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static

from tui.engine import Engine, Task
from tui.screens.bindings import COMPARE_BINDINGS
from tui.widgets.answer_column import AnswerColumn
from tui.widgets.diff_view import DiffView
from tui.widgets.footer import DeckFooter
from tui.widgets.formatting import one_line, plural
from tui.widgets.task_table import Clock
from tui.word_diff import word_diff

SYNC_INTERVAL_S = 0.1
"""Columns append new text at 10 Hz, as the output panes do: never a render per chunk."""
MIN_COLUMN_WIDTH = 34
"""Narrower than this, a column's figures wrap badly: fewer columns show, and ← → bring the others."""
DIFF_PAUSE_S = 0.5
"""At least this long between two diffs of streaming answers (50 KB answers take about 0.3 s to diff)."""


def not_in_group(task: Task | None) -> str:
    """What `=` says on a task that has nothing to be compared with."""
    if task is None:
        return "No task selected: select a task of a group to compare its answers."
    return f"Task #{task.id} is not in a group: only the answers of one prompt asked of several models compare."


class CompareScreen(Screen[None]):
    """One column per answer, each with its figures; `d` swaps the columns for a diff of two answers.

    A timer, not the engine's events, drives the updates, so a fast stream costs
    ten small appends a second; the diff runs in a thread, one at a time, and
    again only once the answers have grown and a pause has passed.
    """

    CSS_PATH = "compare.tcss"
    BINDINGS = COMPARE_BINDINGS

    diffing: var[bool] = var(False, init=False)

    def __init__(self, engine: Engine, group: str, *, clock: Clock, focus_id: int | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.group = group
        self._clock = clock
        self.members = engine.group(group)
        """Fixed when the view opens (a retried member is a new task, in the table)."""
        ids = [task.id for task in self.members]
        self.focus_index = ids.index(focus_id) if focus_id in ids else 0
        self._first_shown = 0
        self.pair = (0, min(1, len(self.members) - 1))
        """Indexes of the two answers diffed: the focused one and the next."""
        self._diffed: tuple[int, int, int, int, bool] | None = None
        """Ids, lengths and streaming of the pair as last diffed: a diff is due when they change.

        Streaming counts: a diff made when the last text was in but the tasks had not ended yet
        still says it is updating, and is shown again once they have."""
        self._diff_running = False
        self._next_diff_at = 0.0

    @property
    def columns(self) -> list[AnswerColumn]:
        return list(self.query(AnswerColumn))

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title", markup=False)
        with Horizontal(id="answers"):
            for task in self.members:
                yield AnswerColumn(task, id=f"answer-{task.id}")
        yield DiffView(id="diff")
        yield DeckFooter()

    async def on_mount(self) -> None:
        self.query_one(DiffView).display = False
        self._fit_columns()  # before any text: each column wraps it once, at its own width
        self.set_interval(SYNC_INTERVAL_S, self._sync)
        await self._sync()
        if self.columns:
            self.columns[self.focus_index].body.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Tab or a click moved to another column: it becomes the focused answer (and stays in view)."""
        for index, column in enumerate(self.columns):
            if event.widget in column.walk_children():
                self.focus_index = index
                self._fit_columns()

    def _fit_columns(self) -> None:
        """Show as many columns as fit at a readable width, keeping the focused one among them."""
        columns = self.columns
        shown = max(1, min(len(columns), self.size.width // MIN_COLUMN_WIDTH))
        first = min(max(self._first_shown, self.focus_index - shown + 1), self.focus_index)
        self._first_shown = first
        for index, column in enumerate(columns):
            column.display = first <= index < first + shown
        prompt = one_line(self.members[0].prompt, 200) if self.members else ""
        where = "" if shown >= len(columns) else f" · {first + 1}–{first + shown} shown, ← → for the others"
        title = f"Group {self.group} · {plural(len(columns), 'answer')}{where} · {prompt}"
        self.query_one("#compare-title", Static).update(title)

    async def _sync(self) -> None:
        now = self._clock()
        for column, task in zip(self.columns, self.members):
            await column.sync(task, now=now, cost=self.engine.cost_of(task))
        if self.diffing:
            self._diff_if_due()

    # -- diff --------------------------------------------------------------

    def watch_diffing(self, diffing: bool) -> None:
        self.query_one("#answers").display = not diffing
        diff_view = self.query_one(DiffView)
        diff_view.display = diffing
        if diffing:
            self._diffed = None
            self._next_diff_at = 0.0
            self._diff_if_due()
            diff_view.focus_text()
        elif self.columns:
            self.columns[self.focus_index].body.focus()

    def _diff_if_due(self) -> None:
        left, right = (self.members[index] for index in self.pair)
        wanted = (left.id, right.id, left.chars, right.chars, left.status.is_active or right.status.is_active)
        if wanted == self._diffed or self._diff_running or time.monotonic() < self._next_diff_at:
            return
        self._diff_running = True
        self.run_worker(self._diff(left, right, wanted), group="diff")

    async def _diff(self, left: Task, right: Task, wanted: tuple[int, int, int, int, bool]) -> None:
        try:
            diff = await asyncio.to_thread(word_diff, left.text, right.text)
        finally:
            self._diff_running = False
            self._next_diff_at = time.monotonic() + DIFF_PAUSE_S
        pair = tuple(self.members[index].id for index in self.pair)
        if self.diffing and pair == wanted[:2]:  # still the pair asked for
            self._diffed = wanted
            streaming = left.status.is_active or right.status.is_active
            await self.query_one(DiffView).show(left, right, diff, streaming=streaming)

    # -- keys --------------------------------------------------------------

    def action_move(self, step: int) -> None:
        """Focus the answer `step` away; in a diff, move the pair along (wrapping round)."""
        count = len(self.members)
        if self.diffing:
            if count > 2:
                first = (self.pair[0] + step) % count
                self.pair = (first, (first + 1) % count)
                self._diff_if_due()
            return
        if not count:
            return
        self.focus_index = min(max(self.focus_index + step, 0), count - 1)
        self._fit_columns()
        self.columns[self.focus_index].body.focus()

    def action_diff(self) -> None:
        if len(self.members) < 2:
            self.notify("A diff needs two answers; this group has one.", severity="warning", markup=False)
            return
        if not self.diffing:
            first = min(self.focus_index, len(self.members) - 2)
            self.pair = (first, first + 1)
        self.diffing = not self.diffing

    def action_close(self) -> None:
        self.dismiss()
