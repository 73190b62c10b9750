"""Two answers side by side with the words only one of them has highlighted, scrolled together."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.engine import Task
from tui.safety import visible_controls
from tui.word_diff import Change, Piece, WordDiff

CHANGE_STYLES = {
    Change.REMOVED: "bold $text-error on $error-muted",
    Change.ADDED: "bold $text-success on $success-muted",
}
"""Theme variables, so every theme shows the marks; bold too, for terminals with few colours."""


def marked_text(pieces: tuple[Piece, ...]) -> Content:
    """One side's text, literal (control characters made visible), with its changed words in their style."""
    return Content.assemble(*[
        (visible_controls(piece.text), CHANGE_STYLES[piece.change]) if piece.change in CHANGE_STYLES
        else visible_controls(piece.text)
        for piece in pieces
    ])


class LockedScroll(VerticalScroll):
    """Moves its partner to the same share of its length: the two sides keep level through answers of any length."""

    def __init__(self, *children: Static, id: str | None = None) -> None:
        super().__init__(*children, id=id, classes="diff-scroll")
        self.partner: LockedScroll | None = None
        self._led = False
        """Set while the partner moves this one, so the move is not echoed back."""

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


class DiffView(Vertical):
    """The similarity line over the two marked sides; `show` replaces everything at once."""

    def compose(self) -> ComposeResult:
        yield Static("Comparing…", id="similarity", markup=False)
        with Horizontal(id="diff-sides"):
            for side in ("left", "right"):
                with Vertical(classes="diff-side"):
                    yield Static(id=f"diff-{side}-who", classes="diff-who", markup=False)
                    yield LockedScroll(Static(id=f"diff-{side}-text", markup=False), id=f"diff-{side}")

    def on_mount(self) -> None:
        left, right = self.query_one("#diff-left", LockedScroll), self.query_one("#diff-right", LockedScroll)
        left.partner, right.partner = right, left

    def focus_text(self) -> None:
        self.query_one("#diff-left", LockedScroll).focus()

    def show(self, left: Task, right: Task, diff: WordDiff, *, streaming: bool) -> None:
        line = diff.summary + (" · updating while answers stream" if streaming else "")
        self.query_one("#similarity", Static).update(line)
        for side, task, pieces, change in (
            ("left", left, diff.left, Change.REMOVED),
            ("right", right, diff.right, Change.ADDED),
        ):
            mark = Content.styled(f" only in #{task.id} ", CHANGE_STYLES[change])  # the legend of this side's marks
            who = Content.assemble(Content.styled(f"#{task.id} {task.provider} · {task.model}", "bold"), "  ", mark)
            self.query_one(f"#diff-{side}-who", Static).update(who)
            self.query_one(f"#diff-{side}-text", Static).update(marked_text(pieces))
