"""A task's output as literal text, word-wrapped, appended in time proportional to the new text."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Offset, Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from tui.textual_private import grow_scrolled_content
from tui.widgets.focus_follow import KeysFollowFocus
from tui.widgets.text_find import LineMatches, Match

_WORD = re.compile(r" *[^ ]+ *| +")
"""A word with the spaces after it (and, at a line's start, before it)."""


def row_starts(line: str, width: int, first: int = 0) -> list[int]:
    """Where each visual row of `line` begins, from `first` (itself a row start) on.

    Rows break after a space; only a word longer than `width` is cut; a
    row's trailing spaces may hang past the edge. ASCII text (nearly every
    answer) takes a fast path, ~50 times quicker than measuring cells word by word.
    """
    if not line.isascii():
        return _cell_row_starts(line, width, first)
    starts, start, end = [first], first, len(line)
    while end - start > width:
        space = line.rfind(" ", start + 1, start + width + 1)
        start = space + 1 if space != -1 else start + width
        starts.append(start)
    return starts


def _cell_row_starts(line: str, width: int, first: int) -> list[int]:
    """`row_starts` for text with wide (CJK, emoji) or combining characters: words are measured in cells."""
    starts, cells = [first], 0
    for match in _WORD.finditer(line, first):
        start, word = match.start(), match.group()
        size = cell_len(word.rstrip(" "))
        if cells + size <= width:
            cells += cell_len(word)
            continue
        if cells:  # the word starts the next row
            starts.append(start)
            cells = 0
        if size <= width:
            cells = cell_len(word)
            continue
        for char in word:  # longer than a row: cut where each row is full
            char_cells = get_character_cell_size(char)
            if cells and cells + char_cells > width and char != " ":
                starts.append(start)
                cells = 0
            cells += char_cells
            start += 1
    return starts


class RawBody(KeysFollowFocus, ScrollView, can_focus=True):
    """Keeps logical lines, the first visual row of each, and where long lines wrap; draws only the rows on screen.

    A TextArea or Markdown view of a 1 MB answer takes seconds to lay out;
    here loading costs one wrapping pass, an append re-wraps only the last
    row of the last line and redraws only the rows it changed, and a frame
    renders only the visible rows. Text can be selected with the mouse, as in
    Textual's `Log`; a selection across wrapped rows copies the lines unbroken.
    """

    ALLOW_SELECT = True
    COMPONENT_CLASSES = {"raw-body--block", "raw-body--match", "raw-body--match-current"}
    DEFAULT_CSS = """
    RawBody {
        height: 1fr;
        background: $surface;
        color: $foreground;
        padding: 0 1;
        & > .raw-body--block { color: $text-accent; background: $boost; }
        & > .raw-body--match { color: $foreground; background: $warning 40%; }
        & > .raw-body--match-current { color: $background; background: $warning; text-style: bold; }
    }
    """

    auto_scroll: var[bool] = var(True)
    """Scroll to new text as it arrives while the reader is at the end (as Textual's `Log`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[str] = [""]
        self._starts: list[int] = [0]
        """Visual row where each logical line begins."""
        self._wraps: dict[int, list[int]] = {}
        """For each line that wraps (by index): where its rows begin."""
        self._width = 0
        self._at_end = True
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        """Drawn rows by row number (as Textual's `Log` keeps them): a frame redraws only rows not drawn before."""
        self._block_keys: list[str] = []
        self._block_starts: list[int] = []
        """Logical line where each block (a tool call's lines, drawn apart from the text) begins, in order."""
        self._block_sizes: list[int] = []
        self._found: LineMatches | None = None
        """A find's matches, highlighted; kept current as text arrives."""

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    @property
    def lines(self) -> list[str]:
        """The logical lines shown (controls made visible, tabs as spaces): what a find looks in."""
        return self._lines

    @property
    def following(self) -> bool:
        """Whether new text scrolls into view.

        Sticky: growing text (or a new width) moves the end away before the
        scroll catches up, and does not unstick it; only the reader scrolling
        away from the end does.
        """
        return self.auto_scroll and self._at_end

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = new_value >= self.max_scroll_y - 1

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

    async def load(self, text: str, *, at_end: bool = True) -> None:
        """Show `text` instead, scrolled to its end (or, not `at_end`, where the reader was)."""
        self._lines = text.replace("\t", "    ").split("\n")
        self._block_keys, self._block_starts, self._block_sizes = [], [], []
        self._rewrap()
        self._refind(0)
        if at_end and (self._found is None or not self._found.matches):
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    async def append(self, text: str) -> None:
        follow = self.following and not self.is_vertical_scrollbar_grabbed
        first, *rest = text.replace("\t", "    ").split("\n")
        last = len(self._lines) - 1
        changed_from = self._total_rows - 1  # the last row grows; rows after it are new
        self._lines[-1] += first
        rows = self._wrap(last, grown=True)
        for line in rest:
            self._starts.append(self._starts[-1] + rows)
            self._lines.append(line)
            rows = self._wrap(len(self._lines) - 1)
        self._resize_virtual()
        self._refind(last)
        for row in range(changed_from, self._total_rows):
            self._strips.discard(row)
        self.refresh_lines(changed_from, self._total_rows - changed_from)
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def add_block(self, key: str, lines: Sequence[str]) -> None:
        """Lines set apart from the text (a tool call) after what is there; later text goes on below them."""
        follow = self.following
        first = len(self._lines) - 1 if not self._lines[-1] else len(self._lines)
        self._lines[first:] = [*lines, ""]
        self._block_keys.append(key)
        self._block_starts.append(first)
        self._block_sizes.append(len(lines))
        self._rewrap(first)
        self._refind(first)
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

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
        self._refind(start)
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

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
        self._strips.clear()
        self._resize_virtual()
        self.refresh()

    def _resize_virtual(self) -> None:
        grow_scrolled_content(self, Size(self._width, self._total_rows))

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width and width > 0:
            follow = self.following
            self._width = width
            self._rewrap()
            if follow:
                self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    # -- finding -------------------------------------------------------------

    @property
    def found(self) -> LineMatches | None:
        return self._found

    def set_found(self, found: LineMatches | None) -> None:
        """Highlight these matches (found in this body's lines), or none."""
        self._found = found
        self._refind(0)
        self._strips.clear()
        self.refresh()

    def _refind(self, first_line: int) -> None:
        if self._found is not None:
            self._found.rescan_from(self._lines, first_line)

    def step_match(self, forward: bool) -> Match | None:
        """Make the next (or previous) match current and scroll it into view, a third of the way down."""
        if self._found is None or (match := self._found.step(forward)) is None:
            return None
        self._strips.clear()
        self.refresh()
        self.scroll_to_match(match)
        return match

    def scroll_to_match(self, match: Match) -> None:
        """After the next refresh: a body just mounted has no width yet, so its rows are not known."""
        self.auto_scroll = False
        self.call_after_refresh(self._scroll_to_match, match)

    def _scroll_to_match(self, match: Match) -> None:
        line, start, _ = match
        if line >= len(self._lines):
            return
        row = self._starts[line] + bisect_right(self._wraps.get(line, [0]), start) - 1
        self.auto_scroll = row >= self._total_rows - self.scrollable_content_region.height
        self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 3), animate=False, immediate=True)

    # -- selection -----------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, by logical line and character (what `render_line` puts in each cell's offset)."""
        lines = self._lines
        start = selection.start or Offset(0, 0)
        end = selection.end or Offset(len(lines[-1]), len(lines) - 1)
        if end.y >= len(lines):
            end = Offset(len(lines[-1]), len(lines) - 1)
        if start.y == end.y:
            return lines[start.y][start.x : end.x], "\n"
        return "\n".join([lines[start.y][start.x :], *lines[start.y + 1 : end.y], lines[end.y][: end.x]]), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        """Theme and focus changes restyle the drawn rows."""
        super().notify_style_update()
        self._strips.clear()

    # -- drawing -------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_offset.y) + y
        if (strip := self._strips.get(row)) is not None:
            return strip
        width = self.scrollable_content_region.width
        style = self.rich_style
        if row >= self._total_rows or self._width <= 0:
            return Strip.blank(width, style)
        index = bisect_right(self._starts, row) - 1
        line, part = self._lines[index], row - self._starts[index]
        starts = self._wraps.get(index, [0])
        if part >= len(starts):
            return Strip.blank(width, style)
        start = starts[part]
        end = starts[part + 1] if part + 1 < len(starts) else len(line)
        # A row may end in the space it broke at; each cell carries (character, line) for selecting.
        if self._block_starts and self._in_block(index):
            style += self.get_component_rich_style("raw-body--block")
        segments = self._segments(line, index, start, end, style)
        strip = self._strips[row] = Strip(segments).crop_extend(0, width, style).apply_offsets(start, index)
        return strip

    def _segments(self, line: str, index: int, start: int, end: int, style: Style) -> list[Segment]:
        """The row's text, with the selected part of it in the selection's style (else its matches highlighted)."""
        selection = self.text_selection
        span = selection.get_span(index) if selection is not None else None
        if span is None:
            return self._match_segments(line, index, start, end, style)
        first, last = span
        first, last = max(first, start), min(end if last == -1 else last, end)
        if first >= last:
            return [Segment(line[start:end], style)]
        selected = style + self.screen.get_component_rich_style("screen--selection")
        return [Segment(line[start:first], style), Segment(line[first:last], selected), Segment(line[last:end], style)]

    def _match_segments(self, line: str, index: int, start: int, end: int, style: Style) -> list[Segment]:
        spans = self._found.spans(index) if self._found is not None else []
        segments, at = [], start
        for first, last, current in spans:
            first, last = max(first, at), min(last, end)
            if first >= last:
                continue
            marked = style + self.get_component_rich_style(
                "raw-body--match-current" if current else "raw-body--match"
            )
            segments += [Segment(line[at:first], style), Segment(line[first:last], marked)]
            at = last
        segments.append(Segment(line[at:end], style))
        return segments
