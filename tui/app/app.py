"""The Textual app: runs each task in a worker, reports finished tasks, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from tui.app.commands import DeckCommands
from tui.engine import Engine, Task, TaskEvent, TaskStatus
from tui.engine.redact import Redactor
from tui.safety import visible_controls
from tui.screens.bindings import APP_BINDINGS
from tui.screens.main import MainScreen
from tui.stop_report import UnexpectedStop, write_crash_log
from tui.textual_private import drop_error_report, write_to_terminal
from tui.widgets.footer import DeckFooter
from tui.widgets.formatting import one_line
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.status_bar import StatusBar, counts_line

if TYPE_CHECKING:
    from tui.screens.search import SearchChoice
    from tui.store import SessionStore, SessionWatcher

NOTIFY_INTERVAL_S = 0.25
SHUTDOWN_WAIT_S = 5.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Stops nobody asked for in the app (SIGHUP: the terminal went away); Ctrl+C is a key here, not a signal."""


@dataclass(frozen=True)
class SessionSwitch:
    """What the app returns when the user opens another session; None means a new one."""

    ref: str | None
    reveal: tuple[int, str] | None = None
    """A search hit to show once the session is open: task id and query."""


_SEVERITY: dict[TaskStatus, SeverityLevel] = {
    TaskStatus.DONE: "information",
    TaskStatus.FAILED: "error",
    TaskStatus.TIMED_OUT: "error",
    TaskStatus.INTERRUPTED: "warning",
}
"""Final statuses worth a toast; a cancel is the user's own doing and gets none."""


class AgentDeckApp(App[int]):
    """Owns the engine's task workers; screens own what is drawn.

    The engine is built outside (from the config and command line) and passed
    in, so a saved session can be adopted into it, or a store subscribed to it,
    before the app starts. Tasks run as Textual workers in one group per
    session; cancelling a task cancels its worker.
    """

    CSS_PATH = "app.tcss"
    TITLE = "agentdeck"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {DeckCommands}

    def __init__(
        self,
        engine: Engine,
        *,
        demo_notice: bool = False,
        session_name: str | None = None,
        model: str | None = None,
        system: str | None = None,
        startup_warning: str | None = None,
        clock: Callable[[], float] = time.time,
        watcher: SessionWatcher | None = None,
        store: SessionStore | None = None,
        reveal: tuple[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.watcher = watcher
        """Set in watch mode: the session is another process's, shown live and read-only."""
        self.store = store
        """The session this app writes (None in watch mode or when nothing can be saved)."""
        self.demo_notice = demo_notice
        self.session_name = session_name
        self.worker_group = f"tasks:{session_name or 'default'}"
        """Fixed at start: a rename of the session must not orphan running task workers."""
        self.clock = clock
        """Wall-clock source for elapsed/time-left cells; tests freeze it for snapshots."""
        self._model = model
        self._system = system
        self._startup_warning = startup_warning
        self._reveal = reveal
        self._task_workers: dict[int, Worker[Task]] = {}
        self._seen: dict[int, TaskStatus] = {task.id: task.status for task in engine.tasks.values()}
        self._status_dirty: set[int] = set()
        self._engine_closed = False
        self._quitting = False
        self._title_pushed = False
        self._terminal_title = ""
        self.unexpected_stop: UnexpectedStop | None = None
        """Set when the app ends by a crash or a signal: the command reports it and exits non-zero."""
        self.first_frame_shown = False
        """Until then the footer shows no keys: composing them was a fifth of the time to the first frame."""

    @property
    def read_only(self) -> bool:
        return self.watcher is not None

    def on_mount(self) -> None:
        # Pushed rather than returned from get_default_screen, which skips a screen's CSS_PATH.
        self.push_screen(
            MainScreen(self.engine, demo=self.demo_notice, clock=self.clock, model=self._model, system=self._system)
        )
        self.engine.subscribe(self._on_engine_event)
        self.set_interval(NOTIFY_INTERVAL_S, self._report_statuses)
        self._catch_stop_signals()
        self._show_title()
        if self.demo_notice:
            self.notify(
                "Answers come from the built-in demo server: no API key is used. "
                "Configure a provider with `agentdeck config init`.\n"
                "To watch a tool call: Shift+Tab to tools:, type demo, Tab back and ask "
                '[[tool:clock {"timezone": "UTC"}]] what time is it?',
                title="Demo mode",
                markup=False,
                timeout=15,
            )
        if self._startup_warning:
            self.notify(self._startup_warning, severity="warning", markup=False, timeout=10)
        if self.watcher is not None:
            self.watcher.subscribe(self.engine.publish)
            self.run_worker(self.watcher.run(), group="watch", exit_on_error=False)
            self.notify(
                "Watch mode: this session is written by another process; it is shown live and read-only.",
                title="Watching", markup=False, timeout=8,
            )
        else:
            self._resume_on_open()
        if self._reveal is not None:
            from tui.screens.search import SearchChoice

            self.call_after_refresh(self._reveal_hit, SearchChoice(self.session_name or "", "", *self._reveal))

    def on_ready(self) -> None:
        """Warm up once the first screen is painted: the import thread holds the GIL and would delay that frame."""
        self.call_after_refresh(self._warm_up)
        self.call_after_refresh(self._complete_first_screen)

    def _complete_first_screen(self) -> None:
        """Add what the first frame went without, a frame later: the footer's keys and the provider list."""
        self.first_frame_shown = True
        for screen in self.screen_stack:
            for footer in screen.query(DeckFooter):
                footer.refresh(recompose=True)
            for bar in screen.query(NextTaskBar):
                bar.add_provider_list()

    def _resume_on_open(self) -> None:
        """Native background runs re-attach by themselves; other unfinished tasks wait for `R`."""
        unfinished = self.engine.by_status(TaskStatus.INTERRUPTED)
        for task in unfinished:
            if task.is_native_background:
                self.start_task(self.engine.prepare_continue(task.id))
        waiting = sum(not t.is_native_background for t in unfinished)
        if waiting:
            # The prompt has focus at start, where R is a letter: say how to reach the key.
            self.notify(
                f"{waiting} interrupted task{'s' if waiting != 1 else ''} in this session: "
                "press Esc, then R, to resume (or Ctrl+P, Resume all).",
                title="Unfinished work", markup=False, timeout=10,
            )

    def resume_all(self) -> int:
        """Continue every interrupted task (after a crash, a quit or a dropped connection)."""
        tasks = self.engine.by_status(TaskStatus.INTERRUPTED)
        for task in tasks:
            self.start_task(self.engine.prepare_continue(task.id))
        return len(tasks)
    # -- running tasks ---------------------------------------------------

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """Start the stream worker (or import the SDKs) in a thread now: done by the first task, it would freeze
        the screen.

        Then freeze what start-up built, so full garbage collections while tasks
        stream walk only objects made since (figures in docs/performance.md).
        """
        self.engine.prepare()

        gc.collect()
        gc.freeze()

    def start_task(self, task: Task) -> Worker[Task]:
        """Run `task` to its end in a worker; the engine's concurrency limit keeps it queued until a slot frees."""
        worker = self.run_worker(
            self.engine.run_task(task),
            name=f"task-{task.id}",
            group=self.worker_group,
            description=one_line(task.prompt, 60),
            exit_on_error=False,
        )
        self._task_workers[task.id] = worker
        return worker

    def cancel_task(self, task_id: int) -> bool:
        if self.engine.cancel(task_id):
            return True
        worker = self._task_workers.get(task_id)
        if worker is None or worker.is_finished:
            return False
        # The worker exists but its coroutine has not reached the engine yet: cancel once it has.
        self.call_after_refresh(self.engine.cancel, task_id)
        return True

    def cancel_all(self) -> int:
        return self.engine.cancel_all()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures surface: a task's own errors are on the task, this is for bugs."""
        worker = event.worker
        if not worker.is_finished:
            return
        if worker.group == self.worker_group:
            task_id = next((tid for tid, w in self._task_workers.items() if w is worker), None)
            if task_id is not None:
                del self._task_workers[task_id]
        if event.state is WorkerState.ERROR:
            self.notify(
                Redactor(self.engine.config.secret_env_names).hide(f"{worker.name}: {worker.error!r}") or "",
                title="Internal error", severity="error", markup=False,
            )

    # -- reporting -------------------------------------------------------

    def _on_engine_event(self, event: TaskEvent) -> None:
        self._status_dirty.add(event.task.id)

    def _report_statuses(self) -> None:
        dirty, self._status_dirty = self._status_dirty, set()
        if not dirty:
            return
        for task_id in sorted(dirty):
            task = self.engine.find(task_id)
            if task is None:
                self._seen.pop(task_id, None)
                continue
            before = self._seen.get(task_id)
            self._seen[task_id] = task.status
            if before is not None and before is not task.status and task.status in _SEVERITY:
                self._announce(task)
        self._show_title()

    def _announce(self, task: Task) -> None:
        message = f"#{task.id} {one_line(task.prompt, 50)}"
        if task.error:
            message += f"\n{one_line(task.error, 120)}"
        else:
            message += f"\n{task.chars:,} characters"
        title = f"Task {task.status.word}"
        self.notify(message, title=title, severity=_SEVERITY[task.status], markup=False)
        if self.engine.config.bell:
            self.bell()

    def _show_title(self) -> None:
        """Counts in the header and the terminal title; in watch mode they say so for as long as it lasts."""
        counts = counts_line(self.engine.counts())
        if self.read_only:
            counts = f"watching, read-only · {counts}"
        name = f" {visible_controls(self.session_name)}" if self.session_name else ""  # a file's name: anyone's text
        title = f"agentdeck{name}: {counts}"
        if title != self._terminal_title:
            self.sub_title = counts
            self._terminal_title = title
            self._set_terminal_title(title)

    def _set_terminal_title(self, title: str) -> None:
        """OSC 2; Textual has no API for the window title. The text is ours (counts, a session name made visible).

        The first time, the terminal's own title is pushed on its title stack
        (XTWINOPS 22), so quitting can restore it (23).
        """
        if not self._title_pushed:
            self._title_pushed = write_to_terminal(self, "\x1b[22;2t")
        write_to_terminal(self, f"\x1b]2;{title}\x07")

    # -- unexpected stops --------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """The last resort for a bug: log it, then let Textual stop the app; tasks end `interrupted` on unmount.

        A private hook (see `tui.textual_private.OVERRIDDEN_HOOKS`).

        Textual's own report (a traceback with local variables, which may hold
        keys) is dropped: the command prints a short report naming the log.
        """
        if self.unexpected_stop is None:
            redactor = Redactor(self.engine.config.secret_env_names)
            log = write_crash_log(error, redactor)
            what = redactor.hide(f"{type(error).__name__}: {error}") or ""
            self.unexpected_stop = UnexpectedStop(what, exit_code=1, log=log)
        super()._handle_exception(error)
        drop_error_report(self)

    def _catch_stop_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, self._stop_on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                return

    def _stop_on_signal(self, signum: int) -> None:
        if self.unexpected_stop is None:
            name = signal.Signals(signum).name
            self.unexpected_stop = UnexpectedStop(f"received {name}", exit_code=128 + signum)
        leave = self._leave_without_terminal if signum == signal.SIGHUP else self._exit_after_shutdown
        self.call_later(leave, 128 + signum)

    async def _exit_after_shutdown(self, code: int) -> None:
        await self.shutdown()
        self.exit(return_code=code)

    async def _leave_without_terminal(self, code: int) -> None:
        """The terminal went away: save everything, then leave at once.

        Textual's own exit restores the terminal by writing to it, and with nobody
        reading the other side that write waits for ever (the app lived on, unseen).
        """
        await self.shutdown()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
        os._exit(code)

    # -- help and quitting ----------------------------------------------

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen  # dialogs' modules wait until one opens

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_sessions(self) -> None:
        """Another session replaces this one: the app exits with its path and the command reopens."""
        from tui.screens.sessions import SessionsScreen  # with Textual's DataTable: not needed for the first frame

        if self.read_only:
            self.notify("Close watch mode (Ctrl+Q) to open another session.", markup=False)
            return

        async def chosen(ref: str | None) -> None:
            if ref is not None:
                await self._open_session(ref)

        rename = self.rename_session if self.store is not None else None
        self.push_screen(SessionsScreen(self.session_name, rename_current=rename), chosen)

    def action_search(self) -> None:
        """`/`: a hit in this session is shown here; one in another opens it, as F2 does."""
        from tui.screens.search import SearchScreen  # with the search index: not needed for the first frame

        if isinstance(self.screen, SearchScreen):
            return

        async def chosen(choice: SearchChoice | None) -> None:
            if choice is None:
                return
            if choice.session == self.session_name:
                self._reveal_hit(choice)
            elif self.read_only:
                self.notify("Close watch mode (Ctrl+Q) to open another session.", markup=False)
            else:
                await self._open_session(choice.path, (choice.task_id, choice.query))

        self.push_screen(SearchScreen(), chosen)

    def _reveal_hit(self, choice: SearchChoice) -> None:
        from tui.screens.search_reveal import reveal

        screen = next(s for s in self.screen_stack if isinstance(s, MainScreen))
        screen.run_worker(reveal(screen, choice.task_id, choice.query), group="reveal", exit_on_error=False)

    async def rename_session(self, name: str) -> None:
        """Rename the session this app writes (off the event loop); it goes on saving under the new name."""
        assert self.store is not None
        await asyncio.to_thread(self.store.rename, name)
        self.session_name = self.store.name
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.session = self.session_name
        self._show_title()

    async def _open_session(self, ref: str, reveal: tuple[int, str] | None = None) -> None:
        """Leave this session for another (asking first if tasks are active); `reveal` a search hit there."""
        active = self._active_here()
        if active:
            question = f"Stop {active} active task{'s' if active != 1 else ''} (resumable) and switch session?"
            from tui.screens.confirm import ConfirmScreen

            self.push_screen(ConfirmScreen(question, yes="Switch", no="Stay"), partial(self._switch, ref, reveal))
        else:
            await self._switch(ref, reveal, True)

    async def _switch(self, ref: str, reveal: tuple[int, str] | None, confirmed: bool | None) -> None:
        if confirmed:
            await self.shutdown()
            self.exit(SessionSwitch(ref or None, reveal))

    def _active_here(self) -> int:
        """Active tasks this process runs: a watcher runs none, and never stops the writer's."""
        if self.read_only:
            return 0
        return len(self.engine.active)

    async def action_quit(self) -> None:
        """Ask first when tasks are active; a second Ctrl+Q quits at once."""
        active = self._active_here()
        if not active or self._quitting:
            await self.shutdown()
            self.exit(0)
            return
        self._quitting = True

        async def answer(quit_now: bool | None) -> None:
            self._quitting = False
            if quit_now:
                await self.shutdown()
                self.exit(0)

        if active == 1:
            question = "1 task is still active. Stop it and quit?"
        else:
            question = f"{active} tasks are still active. Stop them and quit?"
        from tui.screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answer)

    async def on_unmount(self) -> None:
        """Whatever way the app ends, the engine's clients (and the demo server) are closed."""
        if self._title_pushed:
            write_to_terminal(self, "\x1b[23;2t")
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        await self.shutdown()

    async def shutdown(self) -> None:
        """Running tasks end `interrupted` (resumable), then clients and the demo server close."""
        if self._engine_closed:
            return
        self._engine_closed = True
        self.engine.interrupt_all()
        pending = [worker for worker in self._task_workers.values() if not worker.is_finished]
        if pending:
            # Workers end cancelled (that is how the engine interrupts them): collect, do not raise.
            waiting = asyncio.gather(*(worker.wait() for worker in pending), return_exceptions=True)
            try:
                await asyncio.wait_for(waiting, SHUTDOWN_WAIT_S)
            except TimeoutError:
                pass
        await self.engine.aclose()
