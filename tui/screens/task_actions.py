"""What the main screen's keys and palette commands do to tasks and views."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import cast

from textual.screen import Screen

from tui.config import MAX_CONCURRENCY, MAX_TIMEOUT_S
from tui.engine import RESUMABLE, AttachmentError, Engine, EngineError, Task, TaskStatus
from tui.engine.attachments import Attachment, read_attachment
from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.deck import Deck
from tui.screens.help import HelpScreen
from tui.widgets.formatting import duration, one_line, plural, timeout_label
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.output_area import GRID_MAX, OutputArea
from tui.widgets.prompt_box import PromptBox
from tui.widgets.status_bar import StatusBar, count_statuses
from tui.widgets.task_table import Clock, TaskFilter, TaskSort, TaskTable


def parse_timeout(text: str, *, current: float | None, elapsed: float) -> float | None:
    """The timeout dialog's answer, as a limit on the task's running time over all its runs.

    `90` allows 90 s in all, `+60` a minute more than it has left (from now when
    none is left), empty or `0` removes the timeout.
    """
    if not text:
        return None
    extend = text.startswith("+")
    seconds = float(text[1:] if extend else text)
    if extend:
        seconds += elapsed if current is None else max(current, elapsed)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TIMEOUT_S:
        raise ValueError(f"a timeout must be between 0 and {MAX_TIMEOUT_S} seconds")
    return seconds or None


def _left(task: Task, elapsed: float) -> str:
    if task.timeout is None:
        return ""
    return f", {duration(max(0.0, task.timeout - elapsed))} left"


def timeout_problem(text: str) -> str | None:
    try:
        parse_timeout(text, current=None, elapsed=0)
    except ValueError:
        return "Type a number of seconds, +N to extend, or leave empty for no timeout."
    return None


_IN_GRID = (TaskStatus.RUNNING, TaskStatus.WAITING)
"""A task waiting for an approval keeps its place in the grid."""
READ_ONLY_ACTIONS = frozenset({"copy", "grid", "raw", "filter", "sort", "help", "tool_calls"})
"""What a watcher may do to another process's session: look, never change."""


def _next(values: list[str], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)]


class TaskActions(Screen[None]):
    """The main screen's actions, kept apart from its layout and refresh code.

    Every failure the engine reports becomes a notification, never a crash.
    """

    def __init__(self, engine: Engine, *, clock: Clock) -> None:
        super().__init__()
        self.engine = engine
        self._clock = clock
        self._layout_wanted = False
        self._layout_preview = False
        self._layout_running = False

    @property
    def deck(self) -> Deck:
        return cast(Deck, self.app)

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def output(self) -> OutputArea:
        return self.query_one(OutputArea)

    @property
    def prompt(self) -> PromptBox:
        return self.query_one(PromptBox)

    @property
    def next_task(self) -> NextTaskBar:
        return self.query_one(NextTaskBar)

    @property
    def selected(self) -> Task | None:
        task_id = self.table.selected_id
        return None if task_id is None else self.engine.tasks.get(task_id)

    def can(self, action: str) -> bool:
        """Whether `action` makes sense for the selected task now (dims footer keys, filters the palette)."""
        if self.deck.read_only and action not in READ_ONLY_ACTIONS:
            return False
        task = self.selected
        status = task.status if task else None
        if action == "cancel":
            return status is not None and status.is_active
        if action == "timeout":
            return status is not None and (status.is_active or status in RESUMABLE)
        if action == "cancel_all":
            return any(t.status.is_active for t in self.engine.tasks.values())
        if action in ("retry", "delete"):
            return status is not None and status.is_final
        if action == "follow_up":
            return task is not None and status is TaskStatus.DONE and task.session_state is not None
        if action == "continue":
            return status in RESUMABLE
        if action == "resume_all":
            return any(t.status is TaskStatus.INTERRUPTED for t in self.engine.tasks.values())
        if action == "copy":
            return task is not None and task.chars > 0
        return True

    def show_counts(self) -> None:
        view = f"{self.table.task_filter} · by {self.table.task_sort}"
        self.query_one(StatusBar).show(
            count_statuses(self.engine.tasks.values()), view=view, concurrency=self.engine.concurrency
        )

    def pane_ids(self) -> list[int]:
        """The selected task, then (in grid mode) the other running tasks, up to four."""
        selected = self.table.selected_id
        ids = [] if selected is None else [selected]
        if self.output.grid:
            running = [t.id for t in self.engine.tasks.values() if t.status in _IN_GRID]
            ids += [task_id for task_id in running if task_id != selected][: GRID_MAX - len(ids)]
        return ids

    def layout_panes(self, *, preview: bool = False) -> None:
        """Ask for the panes to match the selection and grid mode; the latest request wins.

        Opening a task renders its whole text once, which can take a second for
        long Markdown; doing it in a worker keeps the message pump (and keys) free.
        A `preview` shows newly opened tasks as raw text at once instead.
        """
        self._layout_wanted = True
        self._layout_preview = preview
        if not self._layout_running:
            self._layout_running = True
            self.run_worker(self._layout_until_current(), group="panes", exit_on_error=False)

    async def _layout_until_current(self) -> None:
        try:
            while self._layout_wanted:
                self._layout_wanted = False
                tasks = [self.engine.tasks.get(task_id) for task_id in self.pane_ids()]
                await self.output.display([task for task in tasks if task is not None], preview=self._layout_preview)
        finally:
            self._layout_running = False

    def _fail(self, exc: Exception) -> None:
        self.notify(str(exc), title="Not possible", severity="error", markup=False)

    def _start(self, task: Task) -> None:
        self.deck.start_task(task)
        self.table.sync([task.id])
        self.table.select(task.id)

    def action_focus_prompt(self) -> None:
        # At once, not on the next loop turn as `focus()` does: keys typed fast after `n` belong to the prompt.
        self.set_focus(self.prompt)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_cancel(self) -> None:
        task = self.selected
        if task is not None and task.status.is_active:
            self.deck.cancel_task(task.id)

    def action_cancel_all(self) -> None:
        active = sum(task.status.is_active for task in self.engine.tasks.values())
        if not active:
            self.notify("No task is queued or running.")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                cancelled = self.deck.cancel_all()
                self.notify(f"Cancelled {plural(cancelled, 'task')}.")

        which = "the" if active == 1 else "all"
        question = f"Cancel {which} {plural(active, 'queued or running task')}? Their text so far is kept."
        self.app.push_screen(ConfirmScreen(question, yes="Cancel them", no="Keep running"), answered)

    def action_timeout(self) -> None:
        task = self.selected
        if task is None or not self.can("timeout"):
            return
        elapsed = task.elapsed(self._clock())
        hint = (
            f"Task #{task.id} has run {duration(elapsed)}{_left(task, elapsed)}; {timeout_label(task.timeout)}.\n"
            "Seconds of running time in all (every run counts), +N for N more, empty or 0 for none."
        )
        value = "" if task.timeout is None else f"{task.timeout:g}"

        def answered(answer: str | None) -> None:
            if answer is None:
                return
            try:
                seconds = parse_timeout(answer, current=task.timeout, elapsed=elapsed)
                self.engine.set_timeout(task.id, seconds)
            except (ValueError, EngineError) as exc:
                self._fail(exc)
                return
            self.notify(f"Task #{task.id}: {timeout_label(task.timeout)}.")

        self.app.push_screen(
            AskScreen(f"Timeout of task #{task.id}", hint, value=value, placeholder="e.g. 300 or +60", check=timeout_problem),
            answered,
        )

    def action_follow_up(self) -> None:
        task = self.selected
        if task is None or not self.can("follow_up"):
            return

        def answered(answer: str | None) -> None:
            if not answer:
                return
            try:
                self._start(self.engine.follow_up(task.id, answer))
            except EngineError as exc:
                self._fail(exc)

        hint = f"Asked in the same conversation, after #{task.id}: {one_line(task.prompt, 50)}"
        self.app.push_screen(AskScreen(f"Follow-up to task #{task.id}", hint, placeholder="Your next question"), answered)

    def action_retry(self) -> None:
        task = self.selected
        if task is None:
            return
        try:
            self._start(self.engine.retry(task.id))
        except EngineError as exc:
            self._fail(exc)

    def action_continue(self) -> None:
        task = self.selected
        if task is None:
            return
        if task.timeout is not None and task.elapsed(self._clock()) >= task.timeout:
            self.notify(
                f"Task #{task.id} has used all of its {timeout_label(task.timeout)}: "
                "give it more time first (t, then e.g. +60).",
                title="No time left", severity="warning", markup=False,
            )
            return
        try:
            self._start(self.engine.prepare_continue(task.id))
        except EngineError as exc:
            self._fail(exc)

    def action_resume_all(self) -> None:
        count = self.deck.resume_all()
        self.table.sync(self.engine.tasks)
        self.notify(f"Resuming {plural(count, 'interrupted task')}.", markup=False)

    def action_copy(self) -> None:
        task = self.selected
        if task is None or not task.chars:
            return
        self.app.copy_to_clipboard(task.text)
        self.notify(f"Copied {task.chars:,} characters of task #{task.id}.")

    def action_delete(self) -> None:
        task = self.selected
        if task is None or task.status.is_active:
            return

        def answered(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                self.engine.remove(task.id)
            except EngineError as exc:
                self._fail(exc)

        question = f"Delete task #{task.id} ({one_line(task.prompt, 40)}) and its output?"
        self.app.push_screen(ConfirmScreen(question, yes="Delete", no="Keep"), answered)

    def action_grid(self) -> None:
        self.output.grid = not self.output.grid
        self.layout_panes()

    def action_raw(self) -> None:
        self.output.raw = not self.output.raw
        self.layout_panes()

    def action_filter(self) -> None:
        self.set_filter(TaskFilter(_next(list(TaskFilter), self.table.task_filter)))

    def action_sort(self) -> None:
        self.set_sort(TaskSort(_next(list(TaskSort), self.table.task_sort)))

    def set_filter(self, task_filter: TaskFilter) -> None:
        self.table.set_view(task_filter=task_filter)
        self.show_counts()

    def set_sort(self, task_sort: TaskSort) -> None:
        self.table.set_view(task_sort=task_sort)
        self.show_counts()

    def action_attach(self) -> None:
        """The file is read while the dialog is open: a bad path is explained there, ready to be corrected."""
        limit = self.engine.config.max_attachment_bytes
        hint = (
            f"Path of a UTF-8 text file (up to {limit:,} bytes), sent with the next prompt. "
            "Click the 📎 label to remove attached files."
        )
        read: list[Attachment] = []

        async def problem(path: str) -> str | None:
            if not path:
                return None
            try:
                # Off the event loop: the file may be large or on a slow disk.
                read.append(await asyncio.to_thread(read_attachment, Path(path).expanduser().absolute(), limit))
            except AttachmentError as exc:
                return str(exc)
            return None

        def attached(path: str | None) -> None:
            if path and read:
                self.next_task.add_attachment(str(read[-1].path))
                self.notify(f"Attached {read[-1].path.name} to the next prompt.", markup=False)

        self.app.push_screen(AskScreen("Attach a file", hint, placeholder="~/notes/report.md", check=problem), attached)

    def action_concurrency(self) -> None:
        def problem(text: str) -> str | None:
            if text.isdigit() and 1 <= int(text) <= MAX_CONCURRENCY:
                return None
            return f"A whole number from 1 to {MAX_CONCURRENCY}."

        def answered(answer: str | None) -> None:
            if answer:
                self.engine.set_concurrency(int(answer))
                self.show_counts()

        self.app.push_screen(
            AskScreen(
                "Tasks streaming at once",
                "More tasks wait as queued; raising the limit starts them at once.",
                value=str(self.engine.concurrency),
                check=problem,
            ),
            answered,
        )
