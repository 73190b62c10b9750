"""The key footer, tighter on a narrow terminal so more keys fit before it is cut."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.reactive import Reactive
from textual.widgets import Footer

COMPACT_BELOW = 100
"""Columns under which keys lose the extra space between them (about two more keys fit at 80)."""


class DeckFooter(Footer):
    DEFAULT_CSS = """
    DeckFooter.-compact FooterKey.-command-palette {
        /* Compact keys get a right margin; on the docked palette key it let a cut key show in the last column. */
        margin-right: 0;
        padding-right: 1;
    }
    """

    def compose(self) -> ComposeResult:
        """No keys until the app's first frame is out (see `AgentDeckApp.first_frame_shown`), then all at once.

        Keys start as compact as the footer: Textual's start compact and follow it once mounted, styled twice.
        """
        if not getattr(self.app, "first_frame_shown", True):
            return
        for widget in super().compose():
            # A key has a `compact` reactive (FooterKey is not public); the palette key always stays compact.
            follows = getattr(type(widget), "compact", None)
            if isinstance(follows, Reactive) and not widget.has_class("-command-palette"):
                widget.set_reactive(follows, self.compact)
            yield widget

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
