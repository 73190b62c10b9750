"""The main screen's keys: what each does, which apply now, and the view settings they toggle.

A base of `MainScreen`, kept apart so the screen's refresh and submit code reads on its own; most task keys
hand over to `TaskActions` and `ToolActions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual import events
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Input

from tui.engine import Engine, Task
from tui.engine.stalls import is_stalled
from tui.screens.bindings import TASK_BINDINGS
from tui.screens.task_actions import READ_ONLY_ACTIONS, TaskActions
from tui.screens.tool_actions import TOOL_ACTIONS, ToolActions
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.output_area import OutputArea
from tui.widgets.prompt_box import PromptBox
from tui.widgets.task_rows import TaskFilter, TaskSort
from tui.widgets.task_table import Clock, TaskTable

TASK_ACTIONS = frozenset(binding.action for binding in TASK_BINDINGS)
WRITING_KEYS = {
    key.strip(): binding.description
    for binding in TASK_BINDINGS
    if binding.action not in READ_ONLY_ACTIONS
    for key in binding.key.split(",")
}
"""Keys that change the session: hidden in watch mode, and explained when pressed there."""
SHOWN_WHEN_THEY_APPLY = TOOL_ACTIONS | {"compare"}
"""Keys hidden from the footer, not dimmed, while they do not apply (most tasks are in no group)."""

ViewChoice = TypeVar("ViewChoice", TaskFilter, TaskSort)


def _next(current: ViewChoice) -> ViewChoice:
    values = list(type(current))
    return values[(values.index(current) + 1) % len(values)]


class MainScreenKeys(Screen[None]):
    """The keys' actions and the widgets they act on; `MainScreen` sets up the engine, actions and clock."""

    engine: Engine
    actions: TaskActions
    tools: ToolActions
    _clock: Clock
    layout_panes: Callable[..., None]

    grid: var[bool] = var(False, init=False)
    """Panes side by side: the selected task's and up to three other running tasks'."""
    raw: var[bool] = var(False, init=False)
    """Panes show literal text rather than rendered Markdown."""
    task_filter: var[TaskFilter] = var(TaskFilter.ALL, init=False)
    task_sort: var[TaskSort] = var(TaskSort.ID, init=False)

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
        return self.actions.selected

    def can(self, action: str) -> bool:
        """Whether a task key applies now: the palette offers only these (see `TaskActions.can`)."""
        return self.tools.can(action)

    # -- keys --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Task keys are hidden while typing (the prompt gets the letters) and dimmed when they do not apply.

        In watch mode the keys that would change the session are hidden: they can never apply here.
        """
        if action not in TASK_ACTIONS:
            return True
        if isinstance(self.focused, (PromptBox, Input)) or (
                self.actions.deck.read_only and action not in READ_ONLY_ACTIONS):
            return False
        if action in SHOWN_WHEN_THEY_APPLY:
            return self.tools.can(action)
        return True if self.actions.can(action) else None

    def action_focus_prompt(self) -> None:
        # At once, not on the next loop turn as `focus()` does: keys typed fast after `n` belong to the prompt.
        self.set_focus(self.prompt)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen  # dialogs' modules wait until one opens

        self.app.push_screen(HelpScreen())

    def action_grid(self) -> None:
        self.grid = not self.grid

    def action_raw(self) -> None:
        """A pane held raw by a find goes back to Markdown first (the find ends); otherwise raw toggles."""
        released = [pane.release_find() for pane in self.output.panes]
        if any(released) and not self.raw:
            self.layout_panes()
        else:
            self.raw = not self.raw

    def action_find(self) -> None:
        self.output.open_find(self.focused)

    def action_search(self) -> None:
        self.app.action_search()  # type: ignore[attr-defined]

    def action_filter(self) -> None:
        following = _next(self.task_filter)
        if following is TaskFilter.STALLED and not any(is_stalled(t, self._clock()) for t in self.engine.running):
            following = _next(following)  # an empty view of stalled tasks is a step for nothing
        self.task_filter = following

    def action_sort(self) -> None:
        self.task_sort = _next(self.task_sort)

    def set_filter(self, task_filter: TaskFilter) -> None:
        self.task_filter = task_filter

    def set_sort(self, task_sort: TaskSort) -> None:
        self.task_sort = task_sort

    def action_cancel(self) -> None:
        self.actions.action_cancel()

    def action_cancel_all(self) -> None:
        self.actions.action_cancel_all()

    def action_timeout(self) -> None:
        self.actions.action_timeout()

    def action_follow_up(self) -> None:
        self.actions.action_follow_up()

    def action_retry(self) -> None:
        self.actions.action_retry()

    def action_continue(self) -> None:
        self.actions.action_continue()

    def action_resume_all(self) -> None:
        self.actions.action_resume_all()

    def action_copy(self) -> None:
        self.actions.action_copy()

    def action_delete(self) -> None:
        self.actions.action_delete()

    def action_attach(self) -> None:
        self.actions.action_attach()

    def action_concurrency(self) -> None:
        self.actions.action_concurrency()

    def action_approve(self) -> None:
        self.tools.action_approve()

    def action_tool_calls(self, call_id: str | None = None) -> None:
        self.tools.action_tool_calls(call_id)

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen, not_in_group  # its diff code is not needed for the first frame

        task = self.selected
        if task is None or task.group is None:
            self.notify(not_in_group(task), severity="warning", markup=False)
            return
        self.app.push_screen(CompareScreen(self.engine, task.group, clock=self._clock, focus_id=task.id))

    def on_key(self, event: events.Key) -> None:
        """A hidden key pressed in watch mode says why it does nothing, rather than nothing at all."""
        if event.key == "equals_sign" and not isinstance(self.focused, PromptBox) and not self.can("compare"):
            self.action_compare()  # hidden as it does not apply: it says why
            return
        watcher = self.actions.deck.watcher
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
