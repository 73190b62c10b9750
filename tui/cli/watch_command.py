"""Watch mode: another process's session, live and read-only, in the app."""

from __future__ import annotations

import argparse

from tui.config import Config
from tui.store import SessionWatcher


def watch_command(args: argparse.Namespace, config: Config) -> int:
    """Mirror the watched tasks into an engine that never runs anything, so the app shows them as usual."""
    from tui.app.app import AgentDeckApp
    from tui.engine import Engine

    watcher = SessionWatcher.open(args.session)
    engine = Engine(config)
    engine.adopt(watcher.tasks.values())
    app = AgentDeckApp(engine, session_name=watcher.name, watcher=watcher)
    try:
        return app.run() or 0
    finally:
        watcher.close()
