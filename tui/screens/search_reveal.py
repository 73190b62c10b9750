"""Show a search hit in the main screen: its task selected, the pane at the first match, highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.store.search_index import SearchSyntaxError, match_terms
from tui.widgets.task_rows import TaskFilter
from tui.widgets.text_find import terms_finder

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


async def reveal(screen: MainScreen, task_id: int, query: str) -> None:
    """Select the task (showing every task if a filter hid it) and find the query's words in its pane.

    The pane shows raw text while it holds a find (see `pane_find`); `n`/`N`
    then move between the matches, Esc clears them.
    """
    task = screen.engine.find(task_id)
    if task is None:
        screen.notify(f"Task #{task_id} is no longer in this session.", severity="warning", markup=False)
        return
    if task_id not in screen.table.shown_ids:
        screen.set_filter(TaskFilter.ALL)
        screen.table.rebuild()
    screen.table.select(task_id)
    await screen.output.display([task])
    try:
        finder = terms_finder(match_terms(query))
    except SearchSyntaxError:
        finder = None
    pane = screen.output.panes[0]
    await pane.find(finder, go_to_first=True)
    pane.focus_text()
    if finder is not None and pane.found is not None and not pane.found.matches:
        screen.notify("No match in the output: the words are in the task's prompt or error.", markup=False, timeout=4)
