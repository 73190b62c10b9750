"""Watch mode: another process's session, live and read-only, in the app."""

from __future__ import annotations

import argparse
import sys

from tui.config import Config
from tui.stop_report import crash_report, tasks_by_status
from tui.store import SessionWatcher


def watch_command(args: argparse.Namespace, config: Config, reveal: tuple[int, str] | None = None) -> int:
    """Mirror the watched tasks into an engine that never runs anything, so the app shows them as usual.

    `reveal`: a search hit (task id, query) to show once open, when `/` led here."""
    from tui.app.app import AgentDeckApp
    from tui.cli.demo_on_demand import DemoServerOnDemand
    from tui.engine import Engine

    watcher = SessionWatcher.open(args.session)
    engine = Engine(config, local_server=DemoServerOnDemand())
    engine.adopt(watcher.tasks.values())
    app = AgentDeckApp(engine, session_name=watcher.name, watcher=watcher, reveal=reveal)
    try:
        code = app.run() or 0
    finally:
        watcher.close()
    if app.unexpected_stop is not None:
        print(crash_report(app.unexpected_stop, watcher.name, saved=False, watching=True), file=sys.stderr)
        return app.unexpected_stop.exit_code
    print(f"agentdeck: stopped watching session {watcher.name} ({tasks_by_status(engine.tasks.values())}); "
          "its tasks run on in the process that writes it", file=sys.stderr)
    return code
