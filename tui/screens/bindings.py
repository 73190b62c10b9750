"""Every key of the app in one place, so the footer, help screen, palette and docs agree."""

from __future__ import annotations

from textual.binding import Binding

from tui.widgets.find_bar import FIND_BAR_BINDINGS
from tui.widgets.pane_find import PANE_FIND_BINDINGS
from tui.widgets.prompt_box import PromptBox

TASK_BINDINGS: list[Binding] = [
    Binding("n", "focus_prompt", "New", id="prompt.focus", tooltip="Write a new prompt"),
    Binding("c", "cancel", "Cancel", id="task.cancel", tooltip="Cancel the selected task (queued or running)"),
    Binding(
        "C", "cancel_all", "Cancel all", id="task.cancel_all", tooltip="Cancel every queued and running task",
        show=False,
    ),
    Binding("t", "timeout", "Timeout", id="task.timeout", tooltip="Set, extend or remove the selected task's timeout"),
    Binding("f", "follow_up", "Follow-up", id="task.follow_up", tooltip="Ask a follow-up in the task's session"),
    Binding("r", "retry", "Retry", id="task.retry", tooltip="Run the selected task's prompt again as a new task"),
    Binding("o", "continue", "Continue", id="task.continue", tooltip="Continue an unfinished task where it stopped"),
    Binding(
        "R", "resume_all", "Resume all", id="task.resume_all",
        tooltip="Continue every interrupted task (after a crash, a quit or a dropped stream)", show=False,
    ),
    Binding("p", "approve", "Approve", id="task.approve",
            tooltip="Answer a tool call waiting for approval (the selected task's, else the oldest)"),
    Binding("l", "tool_calls", "Tool calls", id="task.tool_calls",
            tooltip="Show the selected task's tool calls in full: arguments and results", show=False),
    Binding("y", "copy", "Copy", id="task.copy", tooltip="Copy the selected task's output to the clipboard"),
    Binding(
        "d,delete", "delete", "Delete", id="task.delete", tooltip="Delete the selected (finished) task", show=False
    ),
    Binding("g", "grid", "Grid", id="view.grid", tooltip="Toggle a grid of up to four running tasks"),
    Binding(
        "equals_sign", "compare", "Compare", key_display="=", id="view.compare",
        tooltip="Compare the group's answers side by side, with a word diff",
    ),
    Binding("m", "raw", "Raw/MD", id="view.raw", tooltip="Toggle raw text / rendered Markdown"),
    Binding("ctrl+f", "find", "Find", id="view.find",
            tooltip="Find text in the selected task's output, also while it streams", show=False),
    Binding("slash", "search", "Search", key_display="/", id="search.all", tooltip="Search all sessions…",
            show=False),
    Binding("v", "filter", "Filter", id="view.filter", tooltip="Show all / active / done / problem / stalled tasks",
            show=False),
    Binding("s", "sort", "Sort", id="view.sort", tooltip="Sort by id / status / chars / elapsed", show=False),
    Binding(
        "a", "attach", "Attach", id="prompt.attach_file", tooltip="Attach a text file to the next prompt", show=False
    ),
    Binding("question_mark", "help", "Help", key_display="?", id="app.help_keys", tooltip="List every key"),
]
"""Single keys for tasks and views; active when the table or a pane has focus, not while typing.

The footer cannot fit them all at 120 columns and still show Quit, so the
rarer ones (show=False) are in the help screen and the palette only; Find
shows in the footer while a pane has focus (`pane_find`).
"""

COMPARE_BINDINGS: list[Binding] = [
    Binding("left", "move(-1)", "Previous", key_display="←", id="compare.previous", priority=True,
            tooltip="Focus the answer to the left (in a diff: diff the pair one to the left)"),
    Binding("right", "move(1)", "Next", key_display="→", id="compare.next", priority=True,
            tooltip="Focus the answer to the right (in a diff: diff the pair one to the right)"),
    Binding("d", "diff", "Diff", id="compare.diff",
            tooltip="Word diff of the focused answer and the next, scrolled together; again for the columns"),
    Binding("escape,equals_sign", "close", "Close", key_display="esc / =", id="compare.close",
            tooltip="Back to the tasks"),
]
"""The compare view's keys (← → take priority over a column's own scrolling: the text wraps, never scrolls sideways)."""

SEARCH_BINDINGS: list[Binding] = [
    Binding("enter", "open", "Open", id="search.open", tooltip="Open the task at its first match"),
    Binding("ctrl+r", "order", "Newest/Best", id="search.order",
            tooltip="Order the results newest first or best match first"),
    Binding("down", "results", "Results", show=False, id="search.results", tooltip="Move to the results"),
    Binding("escape", "close", "Close", id="search.close", tooltip="Back to the tasks"),
]
"""The search screen's keys (here, so the help screen lists them without importing the search index)."""

APP_BINDINGS: list[Binding] = [
    Binding("f1", "help", "Help", id="app.help", tooltip="List every key"),
    Binding("f2", "sessions", "Sessions", id="app.sessions", tooltip="List, open, rename or delete saved sessions"),
    Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Stop running tasks (resumable) and quit", priority=True),
]

HELP_SECTIONS: list[tuple[str, list[Binding]]] = [
    ("Prompt box (focused at start)", PromptBox.BINDINGS),  # type: ignore[list-item]
    ("Tasks and views (table or pane focused; Esc or Tab gets there)", TASK_BINDINGS),
    ("Compare view (= on a task of a group)", COMPARE_BINDINGS),
    ("Output pane (focused; n, N and Esc while a find is highlighted)", PANE_FIND_BINDINGS),
    ("Find bar (Ctrl+F)", FIND_BAR_BINDINGS),
    ("Search screen (/)", SEARCH_BINDINGS),
    ("Everywhere", APP_BINDINGS),
]
EXTRA_KEYS: list[tuple[str, str]] = [
    ("ctrl+p", "Command palette: every action, provider choice, filters, sort, theme"),
    ("tab / shift+tab", "Move between the prompt, the table and the panes"),
    ("↑ ↓ / pgup pgdn", "Select a task in the table, or scroll a pane"),
    ("enter (table)", "Focus the selected task's output pane"),
    ("click a tool call", "Show that call in full (as l)"),
    ("y / a / n", "In the approval dialog: approve once / this tool for the task / deny"),
]
"""Keys Textual provides, listed in the help screen for completeness."""
