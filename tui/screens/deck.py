"""What the screens need of the app that hosts them, so they never import it (the app imports them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.worker import Worker

    from tui.engine import Task
    from tui.store import SessionWatcher


class Deck(Protocol):
    """The app's side of the main screen: its session, and running or stopping tasks in its workers."""

    session_name: str | None
    watcher: SessionWatcher | None

    @property
    def read_only(self) -> bool:
        """Watching a session another process writes: nothing may change it."""
        ...

    def start_task(self, task: Task) -> Worker[Task]: ...

    def cancel_task(self, task_id: int) -> bool: ...

    def cancel_all(self) -> int: ...

    def resume_all(self) -> int: ...
