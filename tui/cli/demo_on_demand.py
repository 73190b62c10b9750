"""The demo server as the engine's local server (for the providers with no `base_url`).

Nothing of the demo is imported until a demo task first runs (start-up does
not pay for `tui.demo`); then the server starts on its own thread, so its work
never competes with the caller's event loop. The engine stops it when it closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.demo.server import DemoServerThread


class DemoServerOnDemand:
    """Starts the demo server on a free 127.0.0.1 port when asked, and stops it."""

    def __init__(self) -> None:
        self._thread: DemoServerThread | None = None

    def start(self) -> str:
        from tui.demo.server import DemoServerThread

        self._thread = DemoServerThread()
        return self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
