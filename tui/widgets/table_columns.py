"""The task table's columns and how they give way when the terminal is narrow.

What a user needs to follow a task (its status, prompt, size and times) stays
longest; the provider/model, the same for most tasks and repeated in the pane's
subtitle, shrinks and then goes first, then the token count (the cost says
what matters of it), the rate and the time to first output (`first`). The
tools column is there once a task has called a tool; it shrinks before the
prompt does, and goes after the prompt has shrunk; the cost goes just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from tui.engine import TaskStatus
from tui.widgets.status import ICONS


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    """Natural width; the prompt's is the width it keeps before anything but the model gives way."""
    right: bool = False
    min_width: int = 0
    """How far a column shrinks before it is dropped (0: it never shrinks)."""


STATUS_WIDTH = max(cell_len(f"{ICONS[status]} {status.word}") for status in TaskStatus)
COLUMNS: tuple[Column, ...] = (
    Column("id", "#", 1, right=True),
    Column("status", "status", STATUS_WIDTH),
    Column("model", "provider/model", 20, min_width=12),
    Column("prompt", "prompt", 20, min_width=8),
    Column("tools", "tools", 26, min_width=12),
    Column("chars", "chars", 7, right=True),
    Column("rate", "chars/s", 7, right=True),
    Column("tokens", "tokens", 8, right=True),
    Column("cost", "cost", 8, right=True),
    Column("first", "first", 5, right=True),
    Column("elapsed", "elapsed", 7, right=True),
    Column("left", "left", 6, right=True),
)
BY_KEY = {column.key: column for column in COLUMNS}
CELL_PADDING = 1

GIVE_WAY: tuple[tuple[Literal["shrink", "drop"], str], ...] = (
    ("shrink", "model"),
    ("drop", "model"),
    ("drop", "tokens"),
    ("drop", "rate"),
    ("drop", "first"),
    ("shrink", "tools"),
    ("shrink", "prompt"),
    ("drop", "cost"),
    ("drop", "tools"),
    ("drop", "left"),
    ("drop", "elapsed"),
    ("drop", "chars"),
)
"""Applied in order until the row fits; the id and status always stay."""

Layout = tuple[tuple[Column, int], ...]


def fit_columns(width: int, id_width: int, *, tools: bool = False) -> Layout:
    """The columns shown in `width` cells and each one's width; the prompt takes whatever is left.

    `tools`: some task has called a tool, so the tools column is wanted.
    """
    widths = {column.key: column.width for column in COLUMNS}
    widths["id"] = max(id_width, cell_len(BY_KEY["id"].label))
    shown = [column.key for column in COLUMNS if tools or column.key != "tools"]

    def excess() -> int:
        return sum(widths[key] + 2 * CELL_PADDING for key in shown) - width

    for step, key in GIVE_WAY:
        over = excess()
        if over <= 0:
            break
        if key not in shown:
            continue
        if step == "shrink":
            widths[key] = max(BY_KEY[key].min_width, widths[key] - over)
        else:
            shown.remove(key)
    widths["prompt"] += max(0, -excess())
    return tuple((column, widths[column.key]) for column in COLUMNS if column.key in shown)


def cell_segments(cells: list[tuple[str, Column, int, Style]]) -> list[Segment]:
    """Each cell padded on both sides and cut or filled to its column's width."""
    pad = " " * CELL_PADDING
    segments = []
    for text, column, width, style in cells:
        if column.right and cell_len(text) < width:
            text = " " * (width - cell_len(text)) + text
        segments.append(Segment(pad + set_cell_size(text, width) + pad, style))
    return segments
