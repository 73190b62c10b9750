"""Every use of Textual's private API in agentdeck, each with the reason no public API does the job.

Checked against Textual 8.2.8. `tests/test_textual_private.py` fails (never
skips) when one of these names disappears or changes kind, so an upgrade
breaks there, loudly, rather than in a user's terminal. Nothing else in `tui/`
touches a private Textual or Rich name; that test checks it too.
"""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.geometry import Size
from textual.widget import Widget

CHECKED_AGAINST = "8.2.8"

OVERRIDDEN_HOOKS: dict[str, str] = {
    "App._handle_exception": (
        "The only place an unhandled exception passes before Textual prints its own report (a traceback "
        "with local variables, which may hold keys): AgentDeckApp logs it redacted and drops that report."
    ),
}
"""Private methods the app overrides (an override cannot be wrapped here); the test checks each still exists."""


def write_to_terminal(app: App[object], sequence: str) -> bool:
    """Write an escape sequence to the terminal; False when there is none (headless, not started, ended).

    Textual has no API for the window title (OSC 2) or the title stack
    (XTWINOPS 22/23); only the driver, `App._driver`, writes to the terminal.
    """
    driver = app._driver
    if driver is None or app.is_headless:
        return False
    driver.write(sequence)
    return True


def drop_error_report(app: App[object]) -> None:
    """Forget the report Textual prints when the app stops on an error (`App._exit_renderables`).

    No public setting turns it off, and it shows a traceback's local
    variables; the command prints a short, redacted report instead.
    """
    app._exit_renderables.clear()


def hand_key_to(target: Widget, key: events.Key) -> None:
    """Deliver a copy of `key` to `target` as Textual delivers keys to the focused widget (`_forward_event`).

    A key posted publicly (`post_message`) is not marked forwarded: when it
    bubbles up to the app, the app takes it for a new key from the terminal
    and delivers it a second time. Posting it to the app instead would queue it
    behind keys read later, out of the order they were typed.
    """
    target._forward_event(events.Key(key.key, key.character))


def grow_scrolled_content(view: Widget, virtual_size: Size) -> None:
    """Give a scrolling view a new virtual size without laying out the whole screen again.

    Setting `Widget.virtual_size` asks for a layout of the screen (~15 ms at 160
    columns with the task table and a pane), though a view whose own size is
    fixed by its container moves nothing else when its text grows. Its
    scrollbars and scroll bounds still change (`Widget._scroll_update`, which
    asks for a layout itself when a scrollbar appears or goes).
    """
    if virtual_size == view.virtual_size:
        return
    view.set_reactive(Widget.virtual_size, virtual_size)
    view._scroll_update(virtual_size)
    view.refresh()
