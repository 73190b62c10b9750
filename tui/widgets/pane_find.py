"""Finding in one output pane: the find bar (Ctrl+F) and the matches a search opened the pane at.

While a find is on, the pane shows its raw text: every character of it is on
screen where the text has it, so a match can be highlighted exactly and
scrolled to (a rendered Markdown answer moves, drops and re-wraps characters).
Closing the bar keeps the matches, the view and the place; Escape in the pane
then clears the highlights, and the pane goes back to Markdown when it shows
another task or `m` is pressed.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widget import Widget

from tui.widgets.find_bar import FindBar
from tui.widgets.raw_body import RawBody
from tui.widgets.text_find import Finder, LineMatches, text_finder

PANE_FIND_BINDINGS: list[Binding] = [
    Binding("ctrl+f", "open_find", "Find", id="find.open", tooltip="Find text in this pane's output"),
    Binding("n", "find_step(True)", "Next", id="find.pane_next", tooltip="Go to the next match of the find"),
    Binding("N", "find_step(False)", "Previous", id="find.pane_previous",
            tooltip="Go to the previous match of the find"),
    Binding("escape", "find_clear", "Clear", id="find.clear", tooltip="Clear the find's highlights"),
]
"""Ctrl+F always (and in the footer while the pane has focus); the others only while a find has matches
highlighted, otherwise `n` and Esc do what they always do."""


class PaneFind(Widget):
    """The find half of `OutputPane`: holds the finder; the raw body holds and draws the matches."""

    BINDINGS = PANE_FIND_BINDINGS

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.task_id: int | None = None
        """The task shown (set by `OutputPane`)."""
        self.finder: Finder | None = None
        self.raw_for_find = False
        """Raw text since a find started, kept after it is cleared so the reader stays where they were."""

    @property
    def raw_body(self) -> RawBody | None:
        body = getattr(self, "_body", None)
        return body if isinstance(body, RawBody) else None

    @property
    def find_bar(self) -> FindBar | None:
        """The bar while it is open."""
        bars = self.query_children(FindBar)
        return bars.first() if bars and bars.first().is_open else None

    @property
    def found(self) -> LineMatches | None:
        body = self.raw_body
        return body.found if body is not None else None

    async def refresh_view(self) -> None:
        """Show the pane's task again (switching to raw text for a find); `OutputPane` provides it."""
        raise NotImplementedError

    def open_find_bar(self) -> None:
        """Ctrl+F: the bar, focused; text left in it from before is found again."""
        bar = self.query_one(FindBar)
        bar.open()
        if bar.text.strip() and self.finder is None:
            bar.post_message(FindBar.Changed(bar.text))

    async def find(self, finder: Finder | None, *, go_to_first: bool = False) -> None:
        """Highlight the matches `finder` finds (None: none); `go_to_first` scrolls to the first."""
        self.finder = finder
        if finder is not None:
            self.raw_for_find = True
        await self.refresh_view()
        body = self.raw_body
        if body is None:
            return
        body.set_found(LineMatches.scan(finder, body.lines) if finder is not None else None)
        if go_to_first:
            body.step_match(True)
        self.show_find_count()

    def reapply_find(self) -> None:
        """A new raw body (the pane reopened its task): its lines get the find's matches."""
        body = self.raw_body
        if body is not None and self.finder is not None and body.found is None:
            body.set_found(LineMatches.scan(self.finder, body.lines))

    def release_find(self) -> bool:
        """`m`: the pane may render Markdown again, without the find; True if a find held it raw."""
        held = self.raw_for_find
        self.forget_find()
        return held

    def forget_find(self) -> None:
        """Another task is shown: its text was not what was looked for."""
        self.finder = None
        self.raw_for_find = False
        for bar in self.query_children(FindBar):
            bar.close()
            bar.input.value = ""

    def show_find_count(self) -> None:
        bar, found = self.find_bar, self.found
        if bar is not None:
            bar.show_count(found.counted() if found is not None else "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("find_step", "find_clear"):
            return self.finder is not None
        if action == "open_find":
            return self.task_id is not None
        return True

    def action_open_find(self) -> None:
        if self.task_id is not None:
            self.open_find_bar()

    def action_find_step(self, forward: bool) -> None:
        body = self.raw_body
        if body is not None:
            body.step_match(forward)
            self.show_find_count()

    async def action_find_clear(self) -> None:
        if (bar := self.find_bar) is not None:
            bar.close()
        await self.find(None)
        if (body := self.raw_body) is not None:
            body.auto_scroll = True
        self.refresh_bindings()

    @on(FindBar.Changed)
    async def _find_text(self, event: FindBar.Changed) -> None:
        event.stop()
        await self.find(text_finder(event.text), go_to_first=True)
        self.refresh_bindings()

    @on(FindBar.Step)
    def _step(self, event: FindBar.Step) -> None:
        event.stop()
        self.action_find_step(event.forward)

    @on(FindBar.Closed)
    async def _close_bar(self, event: FindBar.Closed) -> None:
        """Escape in the bar: the pane keeps the matches and its place; `n`/`N` go on from there."""
        event.stop()
        if (bar := self.find_bar) is not None:
            bar.close()
        if self.finder is None:
            await self.find(None)
        if (body := self.raw_body) is not None:
            self.screen.set_focus(body)
        self.refresh_bindings()
