"""The key footer, tighter on a narrow terminal so more keys fit before it is cut."""

from __future__ import annotations

from textual import events
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

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
