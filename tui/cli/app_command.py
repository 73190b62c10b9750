"""`agentdeck` with no subcommand: the Textual app on a saved session."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from tui.cli import collections_paused
from tui.cli.options import apply_task_options, check_key
from tui.config import Config, ConfigError
from tui.stop_report import crash_report, exit_line
from tui.store import SessionLocked, SessionStore, StorageUnavailable, new_session_name

if TYPE_CHECKING:
    from tui.app.app import SessionSwitch


class ProblemRelay:
    """Save problems reported by the store's writer thread, shown once the app runs."""

    def __init__(self) -> None:
        self.show: Callable[[str | None], None] | None = None

    def __call__(self, message: str | None) -> None:
        if self.show is not None:
            self.show(message)


def open_store(ref: str | None, relay: ProblemRelay) -> tuple[SessionStore | None, str | None]:
    """The session to save into, or None and a warning when storage is unavailable.

    A damaged file raises StoreError (exit 2, one line); a session another
    process is writing raises SessionLocked, which the caller turns into watch mode.
    """
    try:
        return SessionStore.open(ref or new_session_name(), on_problem=relay), None
    except StorageUnavailable as exc:
        return None, f"{exc}: this session is NOT being saved"


def _open_while_importing(ref: str | None, relay: ProblemRelay) -> tuple[SessionStore | None, str | None]:
    """`open_store`, with the app's modules imported meanwhile.

    Opening the file mostly waits on the disk (SQLite's syncs, /proc/locks) with the GIL
    released, so it overlaps the imports; the app still starts only once the file is open.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentdeck-open") as pool:
        opening = pool.submit(open_store, ref, relay)
        with collections_paused():
            import tui.app.app  # noqa: F401
            import tui.cli.demo_on_demand  # noqa: F401
        if not gc.get_freeze_count():
            # The app's modules are imported by now and live as long as the process: a full
            # collection while the first screen is built would walk them all.
            gc.freeze()
        return opening.result()


def app_command(args: argparse.Namespace, config: Config) -> int:
    """Build the engine from the config and flags, attach the session, run the app.

    With `--demo`, or when nothing but the built-in providers exists and no
    OPENAI_API_KEY is set, the default provider is the demo server, and the
    app says so on screen. A missing API key does not stop the app: it is
    shown as a warning, and the provider can be changed for the next task.
    """
    if getattr(args, "watch", False):
        from tui.cli.watch_command import watch_command

        return watch_command(args, config)
    config = apply_task_options(config, args)
    ref, reveal = args.session, None
    while True:
        outcome = _run_session(args, config, ref, reveal)
        if isinstance(outcome, int):
            return outcome
        ref, reveal = outcome.ref, outcome.reveal


def _run_session(
    args: argparse.Namespace, config: Config, ref: str | None, reveal: tuple[int, str] | None = None
) -> int | SessionSwitch:
    """One session in the app; returns the exit code, or which session to open next (and a search hit to show)."""
    provider = config.provider(None)
    warnings = []
    try:
        check_key(provider)
    except ConfigError as exc:
        warnings.append(f"{exc}. Tasks on {provider.name!r} will fail; pick another provider below.")

    from tui.engine import Engine

    relay = ProblemRelay()
    try:
        store, storage_warning = _open_while_importing(ref, relay)
    except SessionLocked as exc:
        from tui.cli.watch_command import watch_command

        print(f"agentdeck: {exc}; opening it read-only (watch)", file=sys.stderr)
        args.session = ref
        return watch_command(args, config, reveal)
    from tui.app.app import AgentDeckApp, SessionSwitch
    from tui.cli.demo_on_demand import DemoServerOnDemand

    if storage_warning:
        warnings.append(storage_warning)
    engine = Engine(config, local_server=DemoServerOnDemand())
    if store is not None:
        store.attach(engine)
    app = AgentDeckApp(
        engine,
        demo_notice=provider.is_demo,
        session_name=store.name if store else ref,
        model=args.model,
        system=args.system,
        startup_warning=" ".join(warnings) or None,
        store=store,
        reveal=reveal,
    )
    relay.show = lambda message: _notify_from_thread(app, message)
    try:
        outcome = app.run()
    finally:
        if store is not None:
            store.close()
    name = store.name if store else None
    if app.unexpected_stop is not None:
        print(crash_report(app.unexpected_stop, name, saved=store is not None), file=sys.stderr)
        return app.unexpected_stop.exit_code
    if isinstance(outcome, SessionSwitch):
        return outcome
    print(exit_line(name, engine.tasks.values(), saved=store is not None), file=sys.stderr)
    return outcome or app.return_code or 0


def _notify_from_thread(app: object, message: str | None) -> None:
    from tui.app.app import AgentDeckApp

    assert isinstance(app, AgentDeckApp)
    text = message or "saving works again"
    severity = "error" if message else "information"
    try:
        app.call_from_thread(app.notify, text, title="Session", severity=severity, markup=False, timeout=10)
    except RuntimeError:
        pass
