"""Where output panes live: the selected task's pane, or a grid of up to four."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Container
from textual.widget import Widget

from tui.engine import Task
from tui.widgets.output_pane import OutputPane, remove_whole

GRID_MAX = 4


class OutputArea(Container):
    """Reuses a pane while it shows the same task, so switching layouts never reloads a stream."""

    DEFAULT_CSS = """
    OutputArea {
        height: 1fr;
        layout: grid;
        grid-size: 1 1;
        grid-gutter: 0 1;
        &.-panes-2 { grid-size: 2 1; }
        &.-panes-3, &.-panes-4 { grid-size: 2 2; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.raw = False
        """Set by the screen's reactive `raw`; applied to the panes at the next `display`."""
        self.grid = False
        """Several panes side by side (the screen's reactive `grid`); which tasks they show is the screen's choice."""
        self._lock = asyncio.Lock()
        """Layout changes come from keys, row moves and timers; they must not interleave."""

    def compose(self) -> ComposeResult:
        yield OutputPane()

    @property
    def panes(self) -> list[OutputPane]:
        return list(self.query_children(OutputPane))

    @property
    def shown_ids(self) -> list[int]:
        return [pane.task_id for pane in self.panes if pane.task_id is not None]

    def expect_change(self, expected: bool) -> None:
        """The screen is about to show other tasks here (it waits for the cursor to rest): the panes are busy."""
        for pane in self.panes:
            pane.awaited = expected

    def open_find(self, focused: Widget | None) -> None:
        """Ctrl+F: the find bar of the focused pane (in a grid), else of the selected task's."""
        panes = self.panes
        pane = next((p for p in panes if focused is not None and p in focused.ancestors_with_self), panes[0])
        if pane.task_id is not None:
            pane.open_find_bar()

    async def display(self, tasks: Sequence[Task | None], *, preview: bool = False) -> None:
        """Show these tasks, one pane each (at least one pane, at most four); `preview` opens new ones raw."""
        async with self._lock:
            await self._display(tasks, preview)

    async def _display(self, tasks: Sequence[Task | None], preview: bool) -> None:
        wanted = list(tasks[:GRID_MAX]) or [None]
        panes = self.panes
        keep = {t.id for t in wanted if t is not None}
        free = [p for p in panes if p.task_id not in keep]
        by_task = {p.task_id: p for p in panes if p.task_id in keep}
        ordered: list[OutputPane] = []
        for task in wanted:
            pane = by_task.pop(task.id, None) if task is not None else None
            if pane is None:
                pane = free.pop(0) if free else OutputPane(raw=self.raw)
            ordered.append(pane)
        for pane in free:
            await remove_whole(pane)
        for pane in ordered:
            if pane.parent is None:
                await self.mount(pane)
        for index, pane in enumerate(ordered):
            if self.panes.index(pane) != index:
                self.move_child(pane, before=index)
        for pane, task in zip(ordered, wanted):
            pane.raw = self.raw
            await (pane.preview(task) if preview else pane.settle(task))
        for count in range(1, GRID_MAX + 1):
            self.set_class(len(ordered) == count, f"-panes-{count}")

    async def sync(self, ids: set[int], tasks: Mapping[int, Task]) -> None:
        """Append new text to the panes that show one of these tasks."""
        async with self._lock:
            for pane in self.panes:
                if pane.task_id in ids:
                    await pane.show(tasks.get(pane.task_id))
