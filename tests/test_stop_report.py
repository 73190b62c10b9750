"""The lines agentdeck ends with: counts, the way back, and never a raw control from a file's name."""

from __future__ import annotations

from tui.engine import Task, TaskStatus
from tui.stop_report import UnexpectedStop, crash_report, exit_line

HOSTILE_NAME = "night\x1b]2;owned\x07ly"


def _task(task_id: int, status: TaskStatus) -> Task:
    return Task(task_id, "p", "demo", "demo-chat", "chat", status=status)


def test_the_exit_line_counts_by_status_and_offers_resume_only_when_something_is_interrupted() -> None:
    tasks = [_task(1, TaskStatus.DONE), _task(2, TaskStatus.DONE), _task(3, TaskStatus.FAILED)]
    assert exit_line("n", tasks, saved=True) == "agentdeck: session n: 2 done · 1 failed · reopen: agentdeck open n"
    tasks.append(_task(4, TaskStatus.INTERRUPTED))
    assert exit_line("n", tasks, saved=True).endswith("· resume: agentdeck resume n (or R in the app)")
    assert exit_line(None, [], saved=False) == "agentdeck: no tasks; this session was NOT saved"


def test_a_session_name_reaches_the_terminal_with_its_controls_made_visible() -> None:
    stop = UnexpectedStop("received SIGHUP", exit_code=129)
    for line in (exit_line(HOSTILE_NAME, [], saved=True), crash_report(stop, HOSTILE_NAME, saved=True)):
        assert "\x1b" not in line and "\x07" not in line and "␛]2;owned␇ly" in line
