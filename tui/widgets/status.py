"""How a task status looks: an icon, a word and a theme colour, shared by the table, panes and status bar."""

from __future__ import annotations

from rich.style import Style
from textual.app import App
from textual.color import Color, ColorParseError

from tui.engine import TaskStatus
from tui.widgets.formatting import duration

ICONS: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "◌",
    TaskStatus.RUNNING: "▶",
    TaskStatus.WAITING: "⏸",
    TaskStatus.DONE: "✓",
    TaskStatus.FAILED: "✗",
    TaskStatus.CANCELLED: "⊘",
    TaskStatus.TIMED_OUT: "⏱",
    TaskStatus.INTERRUPTED: "⏸",
}

THEME_COLOURS: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "foreground-muted",
    TaskStatus.RUNNING: "accent",
    TaskStatus.WAITING: "warning",
    TaskStatus.DONE: "success",
    TaskStatus.FAILED: "error",
    TaskStatus.CANCELLED: "warning",
    TaskStatus.TIMED_OUT: "error",
    TaskStatus.INTERRUPTED: "warning",
}
"""Theme variable names, so every Textual theme (and the palette's theme switcher) colours statuses."""


def status_style(app: App[object], status: TaskStatus) -> Style:
    """A Rich style from the current theme; Rich renderables cannot read `$variables` themselves."""
    bold = status in (TaskStatus.RUNNING, TaskStatus.WAITING)
    return Style(color=theme_colour(app, THEME_COLOURS[status]), bold=bold)


QUIET_COLOURS = ("text-warning", "warning-muted")
"""A running task quiet for long is a badge, text on a tinted ground: it stands out from the running
ones even in themes whose `accent` (running) is their `warning` colour."""


def quiet_style(app: App[object]) -> Style:
    text, ground = QUIET_COLOURS
    return Style(color=theme_colour(app, text), bgcolor=theme_colour(app, ground), bold=True)


def quiet_label(seconds: float) -> str:
    """`quiet 23s`, `quiet 2m05s`: in the status column, as wide as the longest status word at most."""
    return f"quiet {seconds:.0f}s" if seconds < 60 else f"quiet {duration(seconds)}"


def theme_colour(app: App[object], name: str) -> str | None:
    """A theme variable as an opaque colour (muted variables carry alpha, which Rich cannot show)."""
    variables = app.theme_variables
    try:
        colour = Color.parse(variables[name])
        background = Color.parse(variables.get("background", "#000000"))
    except (KeyError, ColorParseError):
        return None
    return (background + colour).hex
