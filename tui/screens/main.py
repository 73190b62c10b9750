"""The main screen: the prompt, the live task table and the output panes."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.timer import Timer

from tui.screens.bindings import TASK_BINDINGS
from tui.config import ConfigError
from tui.engine import AttachmentError, Engine, EngineError, Task, TaskEvent, TaskStatus
from tui.screens.confirm import ConfirmScreen
from tui.screens.task_actions import READ_ONLY_ACTIONS
from tui.screens.tool_actions import TOOL_ACTIONS, ToolActions
from tui.widgets.footer import DeckFooter
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.output_area import OutputArea
from tui.widgets.prompt_box import PromptBox
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_table import Clock, TaskTable

TABLE_INTERVAL_S = 0.25
"""The table, counts and footer refresh at 4 Hz whatever the number of chunks."""
PANE_INTERVAL_S = 0.1
"""Visible panes append new text at 10 Hz, smooth enough to read as streaming."""
PANE_SETTLE_S = 0.3
"""How long the cursor rests on a task before its previewed (raw) pane renders as Markdown."""
TASK_ACTIONS = frozenset(binding.action for binding in TASK_BINDINGS)
_TICKING = (TaskStatus.RUNNING, TaskStatus.WAITING)
"""Tasks whose times change every tick."""
WRITING_KEYS = {
    key.strip(): binding.description
    for binding in TASK_BINDINGS
    if binding.action not in READ_ONLY_ACTIONS
    for key in binding.key.split(",")
}
"""Keys that change the session: hidden in watch mode, and explained when pressed there."""


class MainScreen(ToolActions):
    """Engine events only mark tasks dirty here; two timers turn marks into cell and pane updates.

    That keeps the cost of a busy stream bounded by the refresh rate, not by
    the number of chunks, so keys stay responsive with fifty tasks streaming.
    """

    CSS_PATH = "main.tcss"
    BINDINGS = TASK_BINDINGS

    def __init__(
        self, engine: Engine, *, demo: bool, clock: Clock, model: str | None = None, system: str | None = None
    ) -> None:
        super().__init__(engine, clock=clock)
        self._demo = demo
        self._model = model
        self._system = system
        self._table_dirty: set[int] = set()
        self._pane_dirty: set[int] = set()
        self._selected_status: TaskStatus | None = None
        self._settle_timer: Timer | None = None
        self._unsubscribe = lambda: None

    def compose(self) -> ComposeResult:
        yield StatusBar(demo=self._demo, session=self.deck.session_name, read_only=self.deck.read_only, id="status")
        yield TaskTable(self.engine.tasks, clock=self._clock, id="tasks")
        yield OutputArea(id="output")
        yield NextTaskBar(self.engine.config, model=self._model, id="next")
        yield PromptBox(id="prompt")
        yield DeckFooter()

    def on_mount(self) -> None:
        self._unsubscribe = self.engine.subscribe(self._on_engine_event)
        self.set_interval(TABLE_INTERVAL_S, self._tick_table)
        self.set_interval(PANE_INTERVAL_S, self._tick_panes)
        if self.deck.read_only:  # nothing can be run from here: no prompt to type into
            self.prompt.display = False
            self.next_task.display = False
            self.table.focus()
        else:
            self.prompt.focus()
        self.show_counts()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _on_engine_event(self, event: TaskEvent) -> None:
        """Runs inside the engine for every event: record, never render."""
        self._table_dirty.add(event.task.id)
        self._pane_dirty.add(event.task.id)
        self.note_tool_event(event)

    # -- refresh ---------------------------------------------------------

    def _tick_table(self) -> None:
        dirty, self._table_dirty = self._table_dirty, set()
        dirty.update(task.id for task in self.engine.tasks.values() if task.status in _TICKING)
        self.table.sync(dirty)
        self.show_counts()
        self.announce_questions()
        selected = self.selected
        status = selected.status if selected else None
        if status is not self._selected_status:
            self._selected_status = status
            self.refresh_bindings()
        if self.pane_ids() != self.output.shown_ids and not self._layout_running:
            self.layout_panes()  # a task started or ended (grid), or the shown one was deleted

    async def _tick_panes(self) -> None:
        dirty, self._pane_dirty = self._pane_dirty, set()
        for task_id in self.output.shown_ids:  # a call's running time counts up with no event
            task = self.engine.tasks.get(task_id)
            if task is not None and any(not call.status.is_final for call in task.tool_calls):
                dirty.add(task_id)
        shown = dirty.intersection(self.output.shown_ids)
        if shown:
            await self.output.sync(shown, self.engine.tasks)

    @on(TaskTable.Highlighted)
    def _row_highlighted(self) -> None:
        selected = self.selected
        self._selected_status = selected.status if selected else None
        self.refresh_bindings()
        self.layout_panes(preview=True)
        if self._settle_timer is not None:
            self._settle_timer.stop()
        self._settle_timer = self.set_timer(PANE_SETTLE_S, self.layout_panes)

    @on(TaskTable.Selected)
    def _row_selected(self) -> None:
        self.output.panes[0].focus_text()

    # -- submitting ------------------------------------------------------

    @on(PromptBox.Submitted)
    def _submitted(self, event: PromptBox.Submitted) -> None:
        if self.submit([event.text]):
            self.prompt.clear()

    @on(PromptBox.MultiLinePaste)
    def _multi_line_paste(self, event: PromptBox.MultiLinePaste) -> None:
        count = len(event.lines)

        def answer(split: bool | None) -> None:
            if split:
                self.submit(event.lines)
            else:
                self.prompt.paste_text(event.text)

        question = f"You pasted {count} lines. Run them as {count} separate tasks, one per line?"
        self.app.push_screen(ConfirmScreen(question, yes=f"Run {count} tasks", no="Paste as one prompt"), answer)

    @on(PromptBox.AttachRequested)
    def _attach_requested(self) -> None:
        self.action_attach()

    def on_resize(self) -> None:
        self.call_after_refresh(self._place_toasts)  # once the bars have their new places

    @on(PromptBox.Resized)
    def _place_toasts(self) -> None:
        """Toasts stack up from just above the next-task bar: never over the prompt being typed."""
        shown = [bar.region.y for bar in (self.next_task, self.prompt) if bar.display]
        top_of_bars = min(shown, default=self.size.height - 1)  # watch mode hides both: above the footer
        for rack in self.query_children("#textual-toastrack"):  # absent when notifications are off
            rack.styles.margin = (0, 0, self.size.height - top_of_bars, 0)
            rack.styles.max_height = max(1, top_of_bars - 1)

    @on(PromptBox.LeaveRequested)
    def _leave_requested(self) -> None:
        self.set_focus(self.table)

    def submit(self, prompts: list[str]) -> bool:
        """Add and start one task per prompt with the next-task settings; False if none started."""
        if self.deck.read_only:
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
        for prompt in prompts:
            try:
                task = self.engine.add_task(
                    prompt,
                    provider=bar.provider.name,
                    model=bar.model,
                    timeout=timeout,
                    attachments=bar.attachments,
                    system=self._system,
                    tools=tools,
                )
            except (AttachmentError, EngineError, ConfigError) as exc:
                self.notify(str(exc), title="Not started", severity="error", markup=False)
                break
            self.deck.start_task(task)
            started.append(task)
        if not started:
            return False
        bar.clear_attachments()
        self.table.sync(task.id for task in started)
        self.table.select(started[0].id)
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Task keys are hidden while typing (the prompt gets the letters) and dimmed when they do not apply.

        In watch mode the keys that would change the session are hidden: they can never apply here.
        """
        if action not in TASK_ACTIONS:
            return True
        if isinstance(self.focused, PromptBox) or (self.deck.read_only and action not in READ_ONLY_ACTIONS):
            return False
        if action in TOOL_ACTIONS:
            return self.can(action)
        return True if self.can(action) else None

    def on_key(self, event: events.Key) -> None:
        """A hidden key pressed in watch mode says why it does nothing, rather than nothing at all."""
        watcher = self.deck.watcher
        if watcher is None or event.key not in WRITING_KEYS or isinstance(self.focused, PromptBox):
            return
        if watcher.writer_alive:
            writer = f"process {watcher.writer_pid}" if watcher.writer_pid else "another process"
            where = f"its tasks belong to {writer}; act on them there."
        else:
            where = f"its writer has stopped: quit and `agentdeck open {watcher.name}` to act on its tasks."
        self.notify(
            f"{WRITING_KEYS[event.key]}: not in watch mode, which is read-only; {where}",
            title="Read-only", severity="warning", markup=False,
        )
