"""Two answers side by side with the words only one of them has highlighted, scrolled together."""

from __future__ import annotations

from collections import defaultdict

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from tui.engine import Task
from tui.safety import visible_controls
from tui.widgets.raw_body import RawBody
from tui.word_diff import Change, Piece, WordDiff

MARK_CLASSES = {Change.REMOVED: "marked-body--removed", Change.ADDED: "marked-body--added"}
LEGEND_STYLES = {
    Change.REMOVED: "bold $text-error on $error-muted",
    Change.ADDED: "bold $text-success on $success-muted",
}
"""The marks' styles, for the legend over each side (the same theme variables as the CSS below)."""
Mark = tuple[int, int, Change]
"""Where on a logical line a changed run starts and ends, and which change it is."""


def lines_and_marks(pieces: tuple[Piece, ...]) -> tuple[str, dict[int, list[Mark]]]:
    """One side's literal text (control characters made visible, tabs as spaces) and its marks by line."""
    parts: list[str] = []
    marks: dict[int, list[Mark]] = defaultdict(list)
    line, column = 0, 0
    for piece in pieces:
        text = visible_controls(piece.text).replace("\t", "    ")
        parts.append(text)
        for index, part in enumerate(text.split("\n")):
            if index:
                line, column = line + 1, 0
            if part and piece.change is not Change.SAME:
                marks[line].append((column, column + len(part), piece.change))
            column += len(part)
    return "".join(parts), dict(marks)


class MarkedBody(RawBody):
    """Raw text whose changed words are drawn in their change's style; it moves its partner as it scrolls.

    Drawing only the rows on screen keeps a diff of two 50 KB answers as quick to
    scroll as one answer; a Static would lay out every span of both at each move.
    The partner goes to the same share of its length, so sides of any length keep level.
    """

    DEFAULT_CSS = """
    MarkedBody {
        scrollbar-gutter: stable;
        & > .marked-body--removed { color: $text-error; background: $error-muted; text-style: bold; }
        & > .marked-body--added { color: $text-success; background: $success-muted; text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {*MARK_CLASSES.values()}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.auto_scroll = False  # a diff is read from its start; a new diff keeps the reader's place
        self.partner: MarkedBody | None = None
        self._marks: dict[int, list[Mark]] = {}
        self._led = False
        """Set while the partner moves this one, so the move is not echoed back."""
        self._mark_styles: dict[Change, Style] = {}
        """The marks' styles from the CSS, looked up once per theme (a lookup per row and mark was slow)."""

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._mark_styles = {}

    def _mark_style(self, change: Change) -> Style:
        if change not in self._mark_styles:
            self._mark_styles[change] = self.get_component_rich_style(MARK_CLASSES[change])
        return self._mark_styles[change]

    async def show(self, pieces: tuple[Piece, ...]) -> None:
        text, self._marks = lines_and_marks(pieces)
        await self.load(text, at_end=False)

    def marked(self, change: Change) -> list[str]:
        """The runs of text shown in `change`'s style, in order (a run across lines counts once per line)."""
        lines = self.text.split("\n")
        return [
            lines[line][start:end]
            for line, marks in sorted(self._marks.items())
            for start, end, kind in marks
            if kind is change
        ]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        partner = self.partner
        if partner is None or self._led:
            return
        share = new_value / self.max_scroll_y if self.max_scroll_y > 0 else 0.0
        partner._led = True
        try:
            partner.scroll_to(y=round(share * partner.max_scroll_y), animate=False, immediate=True)
        finally:
            partner._led = False

    def _segments(self, line: str, index: int, start: int, end: int, style: Style) -> list[Segment]:
        marks = self._marks.get(index)
        if not marks:
            return super()._segments(line, index, start, end, style)
        segments, done = [], start
        for mark_start, mark_end, change in marks:
            first, last = max(mark_start, start), min(mark_end, end)
            if first >= last:
                continue
            if first > done:
                segments.append(Segment(line[done:first], style))
            segments.append(Segment(line[first:last], style + self._mark_style(change)))
            done = last
        if done < end:
            segments.append(Segment(line[done:end], style))
        return segments


class DiffView(Vertical):
    """The similarity line over the two marked sides; `show` replaces everything at once."""

    def compose(self) -> ComposeResult:
        yield Static("Comparing…", id="similarity", markup=False)
        with Horizontal(id="diff-sides"):
            for side in ("left", "right"):
                with Vertical(classes="diff-side"):
                    yield Static(id=f"diff-{side}-who", classes="diff-who", markup=False)
                    yield MarkedBody(id=f"diff-{side}")

    def on_mount(self) -> None:
        left, right = self.side("left"), self.side("right")
        left.partner, right.partner = right, left

    def side(self, name: str) -> MarkedBody:
        return self.query_one(f"#diff-{name}", MarkedBody)

    def focus_text(self) -> None:
        self.side("left").focus()

    async def show(self, left: Task, right: Task, diff: WordDiff, *, streaming: bool) -> None:
        line = diff.summary + (" · updating while answers stream" if streaming else "")
        self.query_one("#similarity", Static).update(line)
        for side, task, pieces, change in (
            ("left", left, diff.left, Change.REMOVED),
            ("right", right, diff.right, Change.ADDED),
        ):
            body = self.side(side)
            legend = Content.styled(f" only in #{task.id} ", LEGEND_STYLES[change])
            who = Content.assemble(legend, " ", Content.styled(f"#{task.id} {task.provider} · {task.model}", "bold"))
            self.query_one(f"#diff-{side}-who", Static).update(who)
            await body.show(pieces)
