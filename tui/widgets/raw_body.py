"""A task's output as literal text, word-wrapped, appended in time proportional to the new text."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from rich._wrap import divide_line
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.focus_follow import KeysFollowFocus


def row_starts(line: str, width: int, first: int = 0) -> list[int]:
    """Where each visual row of `line` begins, from `first` (itself a row start) on.

    Rows break after a space; only a word longer than `width` is cut. ASCII
    text (nearly every answer) takes a fast path, ~50 times quicker than
    Rich's cell-aware `divide_line`, which wraps everything else the same way.
    """
    if not line.isascii():
        return [first, *(first + offset for offset in divide_line(line[first:], width))]
    starts, start, end = [first], first, len(line)
    while end - start > width:
        space = line.rfind(" ", start + 1, start + width + 1)
        start = space + 1 if space != -1 else start + width
        starts.append(start)
    return starts


class RawBody(KeysFollowFocus, ScrollView, can_focus=True):
    """Keeps logical lines, the first visual row of each, and where long lines wrap; draws only the rows on screen.

    A TextArea or Markdown view of a 1 MB answer takes seconds to lay out;
    here loading costs one wrapping pass, an append re-wraps only the last
    row of the last line, and a frame renders only the visible rows.
    """

    COMPONENT_CLASSES = {"raw-body--block"}
    DEFAULT_CSS = """
    RawBody {
        height: 1fr;
        background: $surface;
        color: $foreground;
        padding: 0 1;
        & > .raw-body--block { color: $text-accent; background: $boost; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[str] = [""]
        self._starts: list[int] = [0]
        """Visual row where each logical line begins."""
        self._wraps: dict[int, list[int]] = {}
        """For each line that wraps (by index): where its rows begin."""
        self._width = 0
        self._following = True
        self._block_keys: list[str] = []
        self._block_starts: list[int] = []
        """Logical line where each block (a tool call's lines, drawn apart from the text) begins, in order."""
        self._block_sizes: list[int] = []

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
        return self._starts[-1] + len(self._wraps.get(len(self._lines) - 1, (0,)))

    def _wrap(self, index: int, *, grown: bool = False) -> int:
        """Wrap line `index` (only its last row when it `grown` at the end); returns its number of rows."""
        line = self._lines[index]
        if self._width <= 0 or (line.isascii() and len(line) <= self._width):
            self._wraps.pop(index, None)
            return 1
        earlier = self._wraps.get(index, [0]) if grown else [0]
        starts = earlier[:-1] + row_starts(line, self._width, earlier[-1])
        if len(starts) > 1:
            self._wraps[index] = starts
        else:
            self._wraps.pop(index, None)
        return len(starts)

    async def load(self, text: str) -> None:
        self._lines = text.replace("\t", "    ").split("\n")
        self._block_keys, self._block_starts, self._block_sizes = [], [], []
        self._rewrap()
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    async def append(self, text: str) -> None:
        follow = self.following
        first, *rest = text.replace("\t", "    ").split("\n")
        last = len(self._lines) - 1
        self._lines[-1] += first
        rows = self._wrap(last, grown=True)
        for line in rest:
            self._starts.append(self._starts[-1] + rows)
            self._lines.append(line)
            rows = self._wrap(len(self._lines) - 1)
        self._resize_virtual()
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def add_block(self, key: str, lines: Sequence[str]) -> None:
        """Lines set apart from the text (a tool call) after what is there; later text goes on below them."""
        follow = self.following
        first = len(self._lines) - 1 if not self._lines[-1] else len(self._lines)
        self._lines[first:] = [*lines, ""]
        self._block_keys.append(key)
        self._block_starts.append(first)
        self._block_sizes.append(len(lines))
        self._rewrap(first)
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def update_block(self, key: str, lines: Sequence[str]) -> None:
        """Redraw block `key` with new lines; what comes after it moves with it."""
        if key not in self._block_keys:
            return
        index = self._block_keys.index(key)
        start, size = self._block_starts[index], self._block_sizes[index]
        follow = self.following
        self._lines[start : start + size] = lines
        shift = len(lines) - size
        self._block_sizes[index] = len(lines)
        for later in range(index + 1, len(self._block_starts)):
            self._block_starts[later] += shift
        self._rewrap(start)
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def _in_block(self, line: int) -> bool:
        index = bisect_right(self._block_starts, line) - 1
        return index >= 0 and line < self._block_starts[index] + self._block_sizes[index]

    def _rewrap(self, first: int = 0) -> None:
        """Wrap lines from `first` on again; the rows of the lines before it stay as they are."""
        starts, row = self._starts[:first], 0
        if first:
            row = self._starts[first - 1] + len(self._wraps.get(first - 1, (0,)))
            self._wraps = {index: wraps for index, wraps in self._wraps.items() if index < first}
        else:
            self._wraps = {}
        for index in range(first, len(self._lines)):
            starts.append(row)
            row += self._wrap(index)
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
        starts = self._wraps.get(index, [0])
        if part >= len(starts):
            return Strip.blank(width, style)
        piece = line[starts[part] : starts[part + 1] if part + 1 < len(starts) else len(line)]
        if self._block_starts and self._in_block(index):
            style += self.get_component_rich_style("raw-body--block")
        return Strip([Segment(piece, style)]).crop_extend(0, width, style)  # a row may end in the space it broke at
