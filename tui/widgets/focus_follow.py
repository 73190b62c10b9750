"""Keys that arrive while focus moves go where the user aimed them.

Textual queues each key on the widget focused when the key is read, and runs
its binding only after the key has bubbled up to the app. A key that moves
focus (`n`, Esc) therefore took effect after the keys typed right behind it
had been queued on the old widget: a fast typist's `n` and sentence ran the
sentence's letters as table commands. Widgets that can give focus away run a
key's binding as soon as they read the key, and hand later keys on to the
widget focused by then.
"""

from __future__ import annotations

from typing import cast

from textual import events
from textual.widget import Widget

from tui.textual_private import hand_key_to


def hand_on_straggler(widget: Widget, event: events.Key) -> bool:
    """Forward `event` to whatever has focus now if that is no longer `widget`; True when handed on."""
    app = widget.app
    target = app.focused or app.screen
    if target is widget:
        return False
    event.stop()
    event.prevent_default()
    hand_key_to(target, event)
    return True


async def run_binding_now(widget: Widget, event: events.Key) -> bool:
    """Run the key's binding at once, in key order, instead of after it bubbles; True if one ran."""
    active = widget.screen.active_bindings.get(event.key)
    if active is None or not active.enabled or active.binding.priority:
        return False
    event.stop()
    event.prevent_default()
    await widget.app.run_action(active.binding.action, active.node)
    return True


class KeysFollowFocus:
    """Mixin, listed before the widget class, for a focusable widget without text entry whose keys may move focus.

    Not a `Widget` itself, so it adds no CSS type; Textual calls each class's
    key handler in turn (this one before the widget's own), so this one only
    needs to stop the key when it dealt with it.
    """

    async def on_key(self, event: events.Key) -> None:
        widget = cast(Widget, self)
        if not hand_on_straggler(widget, event):
            await run_binding_now(widget, event)
