"""Launch a Textual app and stop it right after its first frame reaches the terminal.

`python -m bench.first_frame OUT agentdeck [ARGS...]` runs the real `agentdeck`
entry point; `python -m bench.first_frame OUT bare` runs a minimal Textual app.
When the app first writes a frame to its driver, the wall-clock time
(`time.time()`) goes to the file OUT and the process exits at once, so only
start-up is measured, never shutdown. With COMPLETE_ENV set, the frame that
counts is the first one with everything the first frame leaves for later
(agentdeck's footer keys and provider list), so what was deferred is measured
too. Nothing in agentdeck is changed for this:
the launcher wraps Textual's `App._display` (both apps import `textual.app`
anyway, so importing it first costs neither side anything extra).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.app import App
    from textual.screen import Screen

COMPLETE_ENV = "AGENTDECK_BENCH_COMPLETE"
"""When set, wait for the first frame of the complete screen (`_complete`), not merely the first frame."""
PROFILE_ENV = "AGENTDECK_BENCH_PROFILE"
"""When set, cProfile the launch and write the stats to this path (for finding start-up costs)."""
_PROFILER: Any = None


def _complete(app: App[Any]) -> bool:
    """Whether what agentdeck adds after its first frame is there: every widget mounted, footer keys included."""
    if not getattr(app, "first_frame_shown", True):
        return False
    widgets = list(app.screen.walk_children())
    footers = [w for w in widgets if type(w).__name__ == "DeckFooter"]
    return all(w.is_mounted for w in widgets) and all(footer.children for footer in footers)


def _install(out: str) -> None:
    from textual.app import App

    original = App._display
    wait_for_complete = bool(os.environ.get(COMPLETE_ENV))

    def display(self: App[Any], screen: Screen[Any], renderable: RenderableType | None) -> None:
        original(self, screen, renderable)
        drawn = renderable is not None and self._running and not self._batch_count and self._driver is not None
        if drawn and (not wait_for_complete or _complete(self)):
            with open(out, "w") as f:
                f.write(repr(time.time()))
            if _PROFILER is not None:
                _PROFILER.disable()
                _PROFILER.dump_stats(os.environ[PROFILE_ENV])
            os._exit(0)

    App._display = display  # type: ignore[method-assign]


def _bare() -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("Hello from a minimal Textual app.")

    Bare().run()
    return 0


def main(argv: list[str]) -> int:
    global _PROFILER
    out, which, *rest = argv
    if os.environ.get(PROFILE_ENV):
        import cProfile

        _PROFILER = cProfile.Profile()
        _PROFILER.enable()
    _install(out)
    if which == "bare":
        return _bare()
    from tui.cli import main as agentdeck

    return agentdeck(rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
