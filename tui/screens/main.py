"""The main screen: the prompt, the live task table and the output panes."""

from __future__ import annotations

from typing import NamedTuple

from textual import events, on
from textual.app import ComposeResult
from textual.reactive import var
from textual.timer import Timer

from tui.config import ConfigError
from tui.engine import AttachmentError, Engine, EngineError, Task, TaskEvent, TaskStatus
from tui.screens.bindings import TASK_BINDINGS
from tui.screens.main_keys import MainScreenKeys
from tui.screens.task_actions import TaskActions
from tui.screens.tool_actions import ToolActions
from tui.widgets.footer import DeckFooter
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.output_area import GRID_MAX, OutputArea
from tui.widgets.prompt_box import PromptBox
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_rows import TaskFilter, TaskSort
from tui.widgets.task_table import Clock, TaskTable
from tui.widgets.tool_call_view import ToolCallView

TABLE_INTERVAL_S = 0.25
"""The table, counts and footer refresh at 4 Hz whatever the number of chunks."""
PANE_INTERVAL_S = 0.1
"""Visible panes append new text at 10 Hz, smooth enough to read as streaming."""
PANE_PREVIEW_S = 0.1
"""How long the cursor rests on a task before the pane previews it as raw text: a held arrow key previews no row."""
PANE_SETTLE_S = 0.3
"""How long the cursor rests on a task before its previewed (raw) pane renders as Markdown."""
TICKING = (TaskStatus.RUNNING, TaskStatus.WAITING)
"""Tasks whose times change every tick; a task waiting for an approval also keeps its place in the grid."""


class Highlight(NamedTuple):
    """The task under the table's cursor and its status: what the footer's keys apply to."""

    task_id: int | None
    status: TaskStatus | None


class MainScreen(MainScreenKeys):
    """Engine events only mark tasks dirty here; two timers turn marks into cell and pane updates.

    That keeps the cost of a busy stream bounded by the refresh rate, not by
    the number of chunks, so keys stay responsive with fifty tasks streaming.
    What task keys do lives in `TaskActions`, which this screen owns and delegates to.
    """

    CSS_PATH = "main.tcss"
    BINDINGS = TASK_BINDINGS

    highlight: var[Highlight] = var(Highlight(None, None), init=False, bindings=True)
    """Followed on the table's tick too (a task that ends changes which keys apply); the footer dims the others."""

    def __init__(
        self, engine: Engine, *, demo: bool, clock: Clock, model: str | None = None, system: str | None = None
    ) -> None:
        super().__init__()
        self.engine = engine
        self.actions = TaskActions(self, engine, clock=clock)
        self.tools = ToolActions(self, self.actions)
        self._clock = clock
        self._demo = demo
        self._model = model
        self._system = system
        self._table_dirty: set[int] = set()
        self._pane_dirty: set[int] = set()
        self._preview_timer: Timer | None = None
        self._settle_timer: Timer | None = None
        self._unsubscribe = lambda: None
        self._layout_wanted = False
        self._layout_preview = False
        self._layout_running = False
        self._styled = False
        """False until first shown: each widget was styled as it mounted, so that first resume need not restyle them."""

    def compose(self) -> ComposeResult:
        deck = self.actions.deck
        yield StatusBar(demo=self._demo, session=deck.session_name, read_only=deck.read_only, id="status")
        yield TaskTable(self.engine.tasks, clock=self._clock, id="tasks")
        yield OutputArea(id="output")
        yield NextTaskBar(self.engine.config, model=self._model, id="next")
        yield PromptBox(id="prompt")
        yield DeckFooter()

    def on_mount(self) -> None:
        self._unsubscribe = self.engine.subscribe(self._on_engine_event)
        self.set_interval(TABLE_INTERVAL_S, self._tick_table)
        self.set_interval(PANE_INTERVAL_S, self._tick_panes)
        if self.actions.deck.read_only:  # nothing can be run from here: no prompt to type into
            self.prompt.display = False
            self.next_task.display = False
            self.table.focus()
        else:
            self.prompt.focus()
        self.show_counts()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Runs before Textual's own handler, which would style every widget a second time before the first frame."""
        event.refresh_styles = event.refresh_styles and self._styled
        self._styled = True

    def _on_engine_event(self, event: TaskEvent) -> None:
        """Runs inside the engine for every event: record, never render."""
        self._table_dirty.add(event.task.id)
        self._pane_dirty.add(event.task.id)
        self.tools.note_tool_event(event)

    # -- refresh ---------------------------------------------------------

    def show_counts(self) -> None:
        view = f"{self.table.task_filter} · by {self.table.task_sort}"
        throttled = tuple(lanes.describe_throttle() for lanes in self.engine.scheduler.throttled())
        self.query_one(StatusBar).show(
            self.engine.counts(), view=view, concurrency=self.engine.concurrency,
            total=self.engine.usage_total(), throttled=throttled,
        )

    def pane_ids(self) -> list[int]:
        """The selected task, then (in grid mode) the other running tasks, up to four."""
        selected = self.table.selected_id
        ids = [] if selected is None else [selected]
        if self.output.grid:
            running = [t.id for t in self.engine.by_status(*TICKING)]
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
                tasks = [self.engine.find(task_id) for task_id in self.pane_ids()]
                await self.output.display([task for task in tasks if task is not None], preview=self._layout_preview)
        finally:
            self._layout_running = False
            if self._preview_timer is None:
                self.output.expect_change(False)

    def _tick_table(self) -> None:
        dirty, self._table_dirty = self._table_dirty, set()
        dirty.update(task.id for task in self.engine.by_status(*TICKING))
        self.table.sync(dirty)
        self.show_counts()
        self.tools.announce_questions()
        # The table's row, not the last Highlighted message's: a tick between a cursor move and its message
        # would otherwise show that row at once (a held key's first row, in full).
        self.highlight = self._highlight_now(self.table.selected_id)
        if self.pane_ids() != self.output.shown_ids and not self._layout_running and self._preview_timer is None:
            # a task started or ended (grid), the shown one was deleted, or the cursor moved (a preview then)
            self.layout_panes(preview=self._settle_timer is not None)

    async def _tick_panes(self) -> None:
        dirty, self._pane_dirty = self._pane_dirty, set()
        for task_id in self.output.shown_ids:  # a call's running time counts up with no event
            task = self.engine.find(task_id)
            if task is not None and any(not call.status.is_final for call in task.tool_calls):
                dirty.add(task_id)
        shown = dirty.intersection(self.output.shown_ids)
        if shown:
            await self.output.sync(shown, self.engine.tasks)

    @on(TaskTable.Highlighted, "#tasks")
    def _row_highlighted(self, event: TaskTable.Highlighted) -> None:
        self.highlight = self._highlight_now(event.task_id)

    def _highlight_now(self, task_id: int | None) -> Highlight:
        task = self.engine.find(task_id)
        return Highlight(task_id, task.status if task else None)

    def watch_highlight(self, old: Highlight, new: Highlight) -> None:
        """Preview a newly highlighted task as soon as the cursor pauses; render it properly once it rests.

        Showing every row the cursor passes cost a pane load, a layout and a
        redraw of the pane per row, which slowed scrolling a long table.
        """
        if new.task_id == old.task_id:
            return
        self.output.expect_change(True)
        for timer in (self._preview_timer, self._settle_timer):
            if timer is not None:
                timer.stop()
        if old.task_id is None:  # nothing was highlighted: no cursor on its way anywhere
            self._preview_timer = None
            self.layout_panes(preview=True)
        else:
            self._preview_timer = self.set_timer(PANE_PREVIEW_S, self._preview_panes)
        self._settle_timer = self.set_timer(PANE_SETTLE_S, self._settle_panes)

    def _preview_panes(self) -> None:
        self._preview_timer = None
        self.layout_panes(preview=True)

    def _settle_panes(self) -> None:
        """The cursor rests: render the previewed panes as they should look (a preview still due is not needed)."""
        self._settle_timer = None
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        self.layout_panes()

    @on(TaskTable.Selected, "#tasks")
    def _row_selected(self) -> None:
        self.output.panes[0].focus_text()

    # -- view settings ---------------------------------------------------

    def watch_grid(self, grid: bool) -> None:
        self.output.grid = grid
        self.layout_panes()

    def watch_raw(self, raw: bool) -> None:
        self.output.raw = raw
        self.layout_panes()

    def watch_task_filter(self, task_filter: TaskFilter) -> None:
        self.table.task_filter = task_filter
        self.show_counts()

    def watch_task_sort(self, task_sort: TaskSort) -> None:
        self.table.task_sort = task_sort
        self.show_counts()

    # -- submitting ------------------------------------------------------

    @on(PromptBox.Submitted, "#prompt")
    def _submitted(self, event: PromptBox.Submitted) -> None:
        if self.submit([event.text]):
            self.prompt.clear()

    @on(PromptBox.MultiLinePaste, "#prompt")
    def _multi_line_paste(self, event: PromptBox.MultiLinePaste) -> None:
        count = len(event.lines)

        def answer(split: bool | None) -> None:
            if split:
                self.submit(event.lines)
            else:
                self.prompt.paste_text(event.text)

        from tui.screens.confirm import ConfirmScreen  # dialogs' modules wait until one opens

        question = f"You pasted {count} lines. Run them as {count} separate tasks, one per line?"
        self.app.push_screen(ConfirmScreen(question, yes=f"Run {count} tasks", no="Paste as one prompt"), answer)

    @on(PromptBox.AttachRequested, "#prompt")
    def _attach_requested(self) -> None:
        self.action_attach()

    def on_resize(self) -> None:
        self.call_after_refresh(self._place_toasts)  # once the bars have their new places

    @on(PromptBox.Resized, "#prompt")
    def _place_toasts(self) -> None:
        """Toasts stack up from just above the next-task bar: never over the prompt being typed."""
        shown = [bar.region.y for bar in (self.next_task, self.prompt) if bar.display]
        top_of_bars = min(shown, default=self.size.height - 1)  # watch mode hides both: above the footer
        for rack in self.query_children("#textual-toastrack"):  # absent when notifications are off
            rack.styles.margin = (0, 0, self.size.height - top_of_bars, 0)
            rack.styles.max_height = max(1, top_of_bars - 1)

    @on(PromptBox.LeaveRequested, "#prompt")
    def _leave_requested(self) -> None:
        self.set_focus(self.table)

    def submit(self, prompts: list[str]) -> bool:
        """Add and start one task per prompt with the next-task settings; False if none started."""
        if self.actions.deck.read_only:
            self.notify("Watch mode is read-only: run new tasks in the process that writes this session.",
                        severity="warning", markup=False)
            return False
        bar = self.query_one(NextTaskBar)
        try:
            timeout = bar.timeout
        except ValueError as exc:
            self.notify(f"Timeout: {exc}", severity="error", markup=False)
            return False
        try:
            tools = bar.tools
        except ValueError as exc:
            self.notify(f"Tools: {exc}", severity="error", markup=False)
            return False
        started: list[Task] = []
        options = {"timeout": timeout, "attachments": bar.attachments, "system": self._system, "tools": tools}
        for prompt in prompts:
            try:
                if bar.group_targets:
                    tasks = self.engine.add_group(prompt, bar.group_targets, **options)
                else:
                    tasks = [self.engine.add_task(prompt, provider=bar.provider.name, model=bar.model, **options)]
            except (AttachmentError, EngineError, ConfigError) as exc:
                self.notify(str(exc), title="Not started", severity="error", markup=False)
                break
            for task in tasks:
                self.actions.deck.start_task(task)
            started += tasks
        if not started:
            return False
        bar.clear_attachments()
        self.table.sync(task.id for task in started)
        self.table.select(started[0].id)
        return True

    @on(ToolCallView.Clicked)
    def _call_clicked(self, event: ToolCallView.Clicked) -> None:
        self.tools.show_calls(event.task_id, event.call_id)
