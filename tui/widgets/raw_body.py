"""A task's output as literal text, hard-wrapped like a pager, appended in time proportional to the new text."""

from __future__ import annotations

from bisect import bisect_right

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.focus_follow import KeysFollowFocus


class RawBody(KeysFollowFocus, ScrollView, can_focus=True):
    """Keeps logical lines and the first visual row of each; draws only the rows on screen.

    A TextArea or Markdown view of a 1 MB answer takes seconds to lay out;
    here loading costs one pass over the line lengths, an append touches only
    the last line, and a frame renders only the visible rows. Lines are cut
    at the pane width (not at word boundaries), as `less` does.
    """

    DEFAULT_CSS = """
    RawBody {
        height: 1fr;
        background: $surface;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[str] = [""]
        self._starts: list[int] = [0]
        """Visual row where each logical line begins."""
        self._width = 0
        self._following = True

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    @property
    def following(self) -> bool:
        """Sticky: growing text does not unstick it; only the reader scrolling away from the end does."""
        return self._following

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y - 1

    @property
    def _total_rows(self) -> int:
        return self._starts[-1] + self._rows(self._lines[-1])

    def _rows(self, line: str) -> int:
        if self._width <= 0:
            return 1
        return max(1, -(-(len(line) if line.isascii() else cell_len(line)) // self._width))

    async def load(self, text: str) -> None:
        self._lines = text.replace("\t", "    ").split("\n")
        self._rewrap()
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    async def append(self, text: str) -> None:
        follow = self.following
        first, *rest = text.replace("\t", "    ").split("\n")
        self._lines[-1] += first
        for line in rest:
            self._starts.append(self._starts[-1] + self._rows(self._lines[-1]))
            self._lines.append(line)
        self._resize_virtual()
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def _rewrap(self) -> None:
        starts, row = [], 0
        for line in self._lines:
            starts.append(row)
            row += self._rows(line)
        self._starts = starts
        self._resize_virtual()
        self.refresh()

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._width, self._total_rows)

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width and width > 0:
            follow = self.following
            self._width = width
            self._rewrap()
            if follow:
                self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if row >= self._total_rows or self._width <= 0:
            return Strip.blank(width, style)
        index = bisect_right(self._starts, row) - 1
        line, part = self._lines[index], row - self._starts[index]
        if line.isascii():
            piece = line[part * self._width : (part + 1) * self._width]
        else:
            pieces = chop_cells(line, self._width) or [""]
            piece = pieces[part] if part < len(pieces) else ""
        return Strip([Segment(piece, style)], cell_len(piece)).extend_cell_length(width, style)
