"""`agentdeck` that also logs when each task's text arrived: `python -m tests.reliability.traced_cli ARGS`.

Every time text is appended to a task, one line `MONOTONIC_TIME TASK_ID CHARS`
is written with os.write to the file named by `AGENTDECK_TEST_TRACE`: it is in
the kernel at once, so it survives a kill -9 of this process, and tells a test
which text the process had received (not only what the server had sent)
before it died.
"""

from __future__ import annotations

import os
import time

from tui.engine import Task
from tui.engine.events import ProgressThrottle

_FD = os.open(os.environ["AGENTDECK_TEST_TRACE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
_touch = ProgressThrottle.touch


def _traced_touch(self: ProgressThrottle, task: Task) -> None:
    os.write(_FD, f"{time.monotonic():.6f} {task.id} {task.chars}\n".encode())
    _touch(self, task)


ProgressThrottle.touch = _traced_touch  # type: ignore[method-assign]

if __name__ == "__main__":
    from tui.cli import main

    raise SystemExit(main())
