"""Groups in the app: choosing several providers/models for the next prompt, follow-up and retry of a group.

A group is one prompt asked of several models (`Engine.add_group`); its members are ordinary tasks, so only
choosing the targets and acting on all members at once needs anything of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from tui.engine import Engine, EngineError, Task
from tui.engine.groups import GroupError, check_targets, latest_per_target, parse_targets
from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.formatting import one_line, plural
from tui.widgets.next_task_bar import NextTaskBar

Start = Callable[[Callable[[], list[Task]]], None]
"""Starts the tasks a callable makes and selects the first; engine refusals become notifications."""


def ask_several_models(app: App[object], engine: Engine, bar: NextTaskBar) -> None:
    """'Ask several models…': the next prompt goes to every provider/model named, as one group."""

    def problem(text: str) -> str | None:
        if not text.strip():
            return None
        try:
            check_targets(engine.config, parse_targets(text))
        except GroupError as exc:
            return f"Providers: {exc}."
        return None

    def answered(text: str | None) -> None:
        if text is None:
            return
        bar.set_group_targets(check_targets(engine.config, parse_targets(text)) if text.strip() else None)
        if text.strip():
            app.notify(f"The next prompt goes to {plural(len(bar.group_targets or []), 'model')} as one group.")

    hint = (
        "Providers for the next prompt, comma-separated: NAME or NAME:MODEL (only the first ':' splits). "
        f"Known: {', '.join(sorted(engine.config.providers))}. Empty: back to one task."
    )
    value = ",".join(p if m is None else f"{p}:{m}" for p, m in bar.group_targets or [])
    ask = AskScreen("Ask several models", hint, value=value, placeholder="demo,demo-responses", check=problem)
    app.push_screen(ask, answered)


def follow_up_group(app: App[object], engine: Engine, task: Task, start: Start) -> None:
    """`f` on a member: every finished member is asked the same follow-up in its own session."""
    assert task.group is not None
    group = task.group

    def answered(answer: str | None) -> None:
        if answer:
            start(lambda: engine.follow_up_group(group, answer))

    members = engine.group(group)
    hint = (f"Asked of each of the {plural(len(members), 'answer')} of group {group}, each in its own "
            f"conversation: {one_line(task.prompt, 50)}")
    app.push_screen(AskScreen(f"Follow-up to group {group}", hint, placeholder="Your next question"), answered)


def retry_group_or_member(app: App[object], engine: Engine, task: Task, start: Start) -> None:
    """`r` on a member asks which: the whole group again (a new group), or only this member (it stays in)."""
    assert task.group is not None
    group = task.group

    def answered(whole: bool | None) -> None:
        if whole:
            start(lambda: engine.retry_group(group))
        else:
            start(lambda: [engine.retry(task.id)])

    try:
        size = len(latest_per_target(engine.group(group)))
    except EngineError:
        size = 1
    question = f"Retry all {plural(size, 'model')} of group {group} as a new group, or only task #{task.id}?"
    app.push_screen(ConfirmScreen(question, yes="Whole group", no=f"Only #{task.id}"), answered)
