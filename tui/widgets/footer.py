"""The key footer, tighter on a narrow terminal so more keys fit before it is cut."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widgets import Footer

COMPACT_BELOW = 100
"""Columns under which keys lose the extra space between them (about two more keys fit at 80)."""

ShownKeys = tuple[tuple[str, str, str, bool, str], ...]


class DeckFooter(Footer):
    """Recomposes only when the keys it shows change, not at every bindings refresh.

    Moving the table's cursor refreshes the bindings at every row; rebuilding
    and restyling some twenty keys each time cost ~20 ms a row on a 10,000-task
    session (figures in docs/performance.md).
    """

    DEFAULT_CSS = """
    DeckFooter.-compact FooterKey.-command-palette {
        /* Compact keys get a right margin; on the docked palette key it let a cut key show in the last column. */
        margin-right: 0;
        padding-right: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.shown_keys: ShownKeys | None = None
        """The keys, descriptions, states and tooltips of the last composition, None before the first."""

    def bindings_changed(self, screen: Screen) -> None:
        keys = shown_keys(screen)
        if keys == self.shown_keys:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.shown_keys = keys  # Footer recomposes only in these conditions
        super().bindings_changed(screen)

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


def shown_keys(screen: Screen) -> ShownKeys:
    """What a footer on `screen` shows now."""
    return tuple(
        (key, binding.action, binding.description, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show or key == screen.app.COMMAND_PALETTE_BINDING
    )
