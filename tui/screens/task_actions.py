"""What the main screen's keys and palette commands do to tasks: a collaborator the screen owns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.app import App

from tui.config import MAX_CONCURRENCY
from tui.engine import RESUMABLE, AttachmentError, Engine, EngineError, Task, TaskStatus
from tui.engine.attachments import Attachment, read_attachment
from tui.timeouts import timeout_answer
from tui.widgets.formatting import duration, one_line, plural, timeout_label
from tui.widgets.next_task_bar import NextTaskBar
from tui.widgets.task_table import Clock, TaskTable

if TYPE_CHECKING:
    from tui.screens.deck import Deck


def _left(task: Task, elapsed: float) -> str:
    if task.timeout is None:
        return ""
    return f", {duration(max(0.0, task.timeout - elapsed))} left"


READ_ONLY_ACTIONS = frozenset({
    "copy", "grid", "raw", "filter", "sort", "help", "tool_calls", "compare", "find", "search",
})
"""What a watcher may do to another process's session: look, never change."""

Availability = Callable[[Task | None, Engine], bool]
"""Whether an action applies, given the selected task (if any) and the engine."""

AVAILABLE: dict[str, Availability] = {
    "cancel": lambda task, _: task is not None and task.status.is_active,
    "cancel_all": lambda _, engine: bool(engine.active),
    "timeout": lambda task, _: task is not None and (task.status.is_active or task.status in RESUMABLE),
    "follow_up": lambda task, _: task is not None and task.status is TaskStatus.DONE and task.session_state is not None,
    "retry": lambda task, _: task is not None and task.status.is_final,
    "continue": lambda task, _: task is not None and task.status in RESUMABLE,
    "resume_all": lambda _, engine: bool(engine.by_status(TaskStatus.INTERRUPTED)),
    "copy": lambda task, _: task is not None and task.chars > 0,
    "delete": lambda task, _: task is not None and task.status.is_final,
    "compare": lambda task, _: task is not None and task.group is not None,
}
"""Actions that depend on the tasks; any other (views, help, attach) always applies."""


class ActionHost(Protocol):
    """What the actions need of the screen that owns them."""

    @property
    def app(self) -> App[object]: ...

    @property
    def table(self) -> TaskTable: ...

    @property
    def next_task(self) -> NextTaskBar: ...

    def show_counts(self) -> None: ...


class TaskActions:
    """What the main screen's keys and palette commands do to tasks; the screen owns one and delegates to it.

    Every failure the engine reports becomes a notification, never a crash.
    """

    def __init__(self, host: ActionHost, engine: Engine, *, clock: Clock) -> None:
        self._host = host
        self.engine = engine
        self._clock = clock

    @property
    def _app(self) -> App[object]:
        """Dialogs, notifications and the clipboard, as any Textual app has them."""
        return self._host.app

    @property
    def deck(self) -> Deck:
        """The app's agentdeck side: its session and its task workers."""
        return cast("Deck", self._host.app)

    def _ask(self, answered: Callable[[str | None], None], title: str, hint: str, **options: Any) -> None:
        """Open an `AskScreen`; dialogs' modules are imported when one first opens, not before the first frame."""
        from tui.screens.ask import AskScreen

        self._app.push_screen(AskScreen(title, hint, **options), answered)

    def _confirm(self, answered: Callable[[bool | None], None], question: str, *, yes: str, no: str) -> None:
        from tui.screens.confirm import ConfirmScreen

        self._app.push_screen(ConfirmScreen(question, yes=yes, no=no), answered)

    @property
    def table(self) -> TaskTable:
        return self._host.table

    @property
    def selected(self) -> Task | None:
        return self.engine.find(self.table.selected_id)

    def can(self, action: str) -> bool:
        """Whether `action` makes sense for the selected task now (dims footer keys, filters the palette)."""
        if self.deck.read_only and action not in READ_ONLY_ACTIONS:
            return False
        available = AVAILABLE.get(action)
        return available is None or available(self.selected, self.engine)

    def fail(self, exc: Exception) -> None:
        self._app.notify(str(exc), title="Not possible", severity="error", markup=False)

    def _start(self, make: Callable[[], Task]) -> None:
        """Start the task `make` returns and select it; what the engine refuses becomes a notification."""
        self._start_all(lambda: [make()])

    def _start_all(self, make: Callable[[], list[Task]]) -> None:
        """Start the tasks `make` returns (a group's) and select the first."""
        try:
            tasks = make()
            for task in tasks:
                self.deck.start_task(task)
            self.table.sync([task.id for task in tasks])
            self.table.select(tasks[0].id)
        except EngineError as exc:
            self.fail(exc)

    def action_ask_several(self) -> None:
        from tui.screens.group_actions import ask_several_models

        ask_several_models(self._app, self.engine, self._host.next_task)

    def action_cancel(self) -> None:
        task = self.selected
        if task is not None and task.status.is_active:
            self.deck.cancel_task(task.id)

    def action_cancel_all(self) -> None:
        active = len(self.engine.active)
        if not active:
            self._app.notify("No task is queued or running.")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                cancelled = self.deck.cancel_all()
                self._app.notify(f"Cancelled {plural(cancelled, 'task')}.")

        which = "the" if active == 1 else "all"
        question = f"Cancel {which} {plural(active, 'queued or running task')}? Their text so far is kept."
        self._confirm(answered, question, yes="Cancel them", no="Keep running")

    def action_timeout(self) -> None:
        task = self.selected
        if task is None or not self.can("timeout"):
            return
        elapsed = task.elapsed(self._clock())
        hint = (
            f"Task #{task.id} has run {duration(elapsed)}{_left(task, elapsed)}; {timeout_label(task.timeout)}.\n"
            "Seconds of running time in all (every run counts), +N for N more, empty or 0 for none."
        )
        value = "" if task.timeout is None else f"{task.timeout:g}"

        def problem(answer: str) -> str | None:
            try:
                timeout_answer(answer, current=task.timeout, elapsed=elapsed)
            except ValueError as exc:
                return f"Timeout: {exc}."
            return None

        def answered(answer: str | None) -> None:
            if answer is None:
                return
            try:
                self.engine.set_timeout(task.id, timeout_answer(answer, current=task.timeout, elapsed=elapsed))
            except (ValueError, EngineError) as exc:
                self.fail(exc)
                return
            self._app.notify(f"Task #{task.id}: {timeout_label(task.timeout)}.")

        title = f"Timeout of task #{task.id}"
        self._ask(answered, title, hint, value=value, placeholder="e.g. 300 or +60", check=problem)

    def action_follow_up(self) -> None:
        task = self.selected
        if task is None or not self.can("follow_up"):
            return
        if task.group is not None:
            from tui.screens.group_actions import follow_up_group

            follow_up_group(self._app, self.engine, task, self._start_all)
            return

        def answered(answer: str | None) -> None:
            if not answer:
                return
            self._start(lambda: self.engine.follow_up(task.id, answer))

        hint = f"Asked in the same conversation, after #{task.id}: {one_line(task.prompt, 50)}"
        self._ask(answered, f"Follow-up to task #{task.id}", hint, placeholder="Your next question")

    def action_retry(self) -> None:
        task = self.selected
        if task is None:
            return
        if task.group is not None:
            from tui.screens.group_actions import retry_group_or_member

            retry_group_or_member(self._app, self.engine, task, self._start_all)
            return
        self._start(lambda: self.engine.retry(task.id))

    def action_continue(self) -> None:
        task = self.selected
        if task is None:
            return
        if task.timeout is not None and task.elapsed(self._clock()) >= task.timeout:
            self._app.notify(
                f"Task #{task.id} has used all of its {timeout_label(task.timeout)}: "
                "give it more time first (t, then e.g. +60).",
                title="No time left", severity="warning", markup=False,
            )
            return
        self._start(lambda: self.engine.prepare_continue(task.id))

    def action_resume_all(self) -> None:
        count = self.deck.resume_all()
        self.table.sync(self.engine.tasks)
        self._app.notify(f"Resuming {plural(count, 'interrupted task')}.", markup=False)

    def action_copy(self) -> None:
        task = self.selected
        if task is None or not task.chars:
            return
        self._app.copy_to_clipboard(task.text)
        self._app.notify(f"Copied {task.chars:,} characters of task #{task.id}.")

    def action_delete(self) -> None:
        task = self.selected
        if task is None or task.status.is_active:
            return

        def answered(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                self.engine.remove(task.id)
            except EngineError as exc:
                self.fail(exc)

        question = f"Delete task #{task.id} ({one_line(task.prompt, 40)}) and its output?"
        self._confirm(answered, question, yes="Delete", no="Keep")

    def action_attach(self) -> None:
        """The file is read while the dialog is open: a bad path is explained there, ready to be corrected."""
        limit = self.engine.config.max_attachment_bytes
        hint = (
            f"Path of a UTF-8 text file (up to {limit:,} bytes), sent with the next prompt. "
            "Click the 📎 label to remove attached files."
        )
        read: list[Attachment] = []

        async def problem(path: str) -> str | None:
            if not path:
                return None
            try:
                # Off the event loop: the file may be large or on a slow disk.
                read.append(await asyncio.to_thread(read_attachment, Path(path).expanduser().absolute(), limit))
            except AttachmentError as exc:
                return str(exc)
            return None

        def attached(path: str | None) -> None:
            if path and read:
                self._host.next_task.add_attachment(str(read[-1].path))
                self._app.notify(f"Attached {read[-1].path.name} to the next prompt.", markup=False)

        self._ask(attached, "Attach a file", hint, placeholder="~/notes/report.md", check=problem)

    def action_concurrency(self) -> None:
        def problem(text: str) -> str | None:
            if text.isdigit() and 1 <= int(text) <= MAX_CONCURRENCY:
                return None
            return f"A whole number from 1 to {MAX_CONCURRENCY}."

        def answered(answer: str | None) -> None:
            if answer:
                self.engine.set_concurrency(int(answer))
                self._host.show_counts()

        self._ask(
            answered,
            "Tasks streaming at once",
            "More tasks wait as queued; raising the limit starts them at once.",
            value=str(self.engine.concurrency),
            check=problem,
        )

    def action_provider_concurrency(self, provider: str) -> None:
        """A provider's own limit under the global one; empty leaves it only the global limit."""
        lanes = self.engine.scheduler.lanes(provider)

        def problem(text: str) -> str | None:
            if not text or (text.isdigit() and 1 <= int(text) <= MAX_CONCURRENCY):
                return None
            return f"A whole number from 1 to {MAX_CONCURRENCY}, or nothing for no limit of its own."

        def answered(answer: str | None) -> None:
            if answer is not None:
                self.engine.scheduler.set_provider_concurrency(provider, int(answer) if answer else None)
                self._host.show_counts()

        self._ask(
            answered,
            f"Tasks of {provider} streaming at once",
            f"Under the global limit ({self.engine.concurrency}); empty: no limit of its own.",
            value=str(lanes.configured or ""),
            check=problem,
        )
