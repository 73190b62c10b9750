"""Smaller things a new user tripped over: wrapping, status words, counts, toasts, attachments, wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Static
from textual.widgets._toast import Toast

from tests.app_helpers import finished, main_screen, running_app, screen_lines, select, submit, wait_for
from tui.app.commands import DeckCommands
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.screens import main as main_module
from tui.screens.confirm import ConfirmScreen
from tui.screens.sessions import SessionsScreen
from tui.store import SessionStore
from tui.widgets.formatting import plural
from tui.widgets.raw_body import RawBody, row_starts
from tui.widgets.task_rows import TaskFilter

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


async def test_raw_view_wraps_at_word_boundaries(demo_url: str) -> None:
    async with running_app(demo_url, size=(80, 24)) as (app, pilot):
        prompt = "wrap me [[len:1500]][[delay:0]]"
        task = await submit(app, pilot, prompt)
        await wait_for(pilot, finished(task))
        await select(app, pilot, task)
        await pilot.press("m", "enter", "home")  # raw text, focused, from its top
        body = main_screen(app).output.panes[0].query_one(RawBody)
        await pilot.pause()
        region = body.scrollable_content_region
        rows = [line[region.x : region.right].rstrip() for line in screen_lines(app)[region.y : region.bottom]]
        answer_words = set(expected_answer(prompt).split())
        shown_words = [word for row in rows for word in row.split()]
        assert len(shown_words) > 40
        assert [word for word in shown_words if word not in answer_words] == [], "no word is cut in two"


def test_only_words_longer_than_the_width_are_cut() -> None:
    line = "short words then " + "x" * 25 + " end"
    starts = row_starts(line, 10)
    rows = [line[a:b].rstrip() for a, b in zip(starts, [*starts[1:], len(line)])]
    assert rows == ["short", "words then", "x" * 10, "x" * 10, "xxxxx end"]
    wide = "漢字 " * 8
    wide_starts = row_starts(wide, 10)
    assert all(wide[a:b].strip() in ("漢字 漢字", "漢字") for a, b in zip(wide_starts, [*wide_starts[1:], len(wide)]))


async def test_statuses_are_whole_and_interrupted_and_cancelled_are_counted_apart(demo_url: str) -> None:
    async with running_app(demo_url, size=(140, 36)) as (app, pilot):
        silent = "[[silent:600]][[silent_after:2]]"
        cancelled, interrupted = [await submit(app, pilot, f"long study {n} {silent}") for n in (1, 2)]
        await wait_for(pilot, lambda: cancelled.chars > 0 and interrupted.chars > 0)
        await select(app, pilot, cancelled)
        await pilot.press("c")
        await wait_for(pilot, lambda: cancelled.status is TaskStatus.CANCELLED)
        app.engine.interrupt_all()
        await wait_for(pilot, lambda: interrupted.status is TaskStatus.INTERRUPTED)
        await pilot.pause(0.5)
        lines = screen_lines(app)
        assert "⏸ interrupted" in "\n".join(lines) and "⊘ cancelled" in "\n".join(lines)
        header = lines[0]
        assert re.search(r"⏸ 1 interrupted\s+⊘ 1 cancelled", header), header
        assert "stopped" not in header


async def test_toasts_never_cover_the_prompt_or_the_next_task_bar(demo_url: str) -> None:
    async with running_app(demo_url, size=(80, 24), toasts=True) as (app, pilot):
        screen = main_screen(app)
        tasks = [await submit(app, pilot, f"quick {n} [[len:40]][[delay:0]]") for n in range(4)]
        await wait_for(pilot, finished(*tasks))
        screen.prompt.focus()
        await pilot.press(*"draft", "ctrl+j", *"second line", "ctrl+j", *"third")
        for n in range(6):
            app.notify(f"note {n}", title="Heads up")
        await pilot.pause(0.5)
        shown = [screen.find_widget(toast) for toast in screen.query(Toast)]
        visible = [toast.region.intersection(toast.clip) for toast in shown]
        visible = [region for region in visible if region.area]
        assert visible, "toasts are shown"
        kept_clear = screen.prompt.region.union(screen.next_task.region)
        for region in visible:
            assert not region.overlaps(kept_clear), f"a toast at {region} covers {kept_clear}"
        assert any("third" in line for line in screen_lines(app))


async def test_attached_files_are_removed_by_a_click_or_one_by_one_from_the_palette(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"file {name}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        bar = screen.next_task
        for name in ("a.md", "b.md"):
            await pilot.press("ctrl+o", *name, "enter")
            await wait_for(pilot, lambda: str(tmp_path / name) in bar.attachments)
        commands = {name: run for name, run, _ in DeckCommands(screen)._commands()}
        commands["next task: Remove attachment a.md"]()
        assert bar.attachments == [str(tmp_path / "b.md")]
        await pilot.pause()
        assert "b.md" in str(bar.query_one("#attachments", Static).content)
        await pilot.press("ctrl+o", *"c.md", "enter")
        await wait_for(pilot, lambda: len(bar.attachments) == 2)
        await pilot.click("#attachments")
        assert bar.attachments == []
        task = await submit(app, pilot, "no files now [[len:40]]")
        assert task.attachments == []


def test_counts_read_as_english() -> None:
    assert [plural(n, "task") for n in (0, 1, 2, 1500)] == ["0 tasks", "1 task", "2 tasks", "1,500 tasks"]
    assert [task_filter.label for task_filter in TaskFilter] == [
        "all tasks", "active tasks", "done tasks", "tasks with problems", "stalled tasks"
    ]


async def test_the_palette_and_dialogs_say_one_task_and_tasks_with_problems(demo_url: str) -> None:
    SessionStore.open("solo").close()
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        names = [name for name, _, _ in DeckCommands(screen)._commands()]
        assert "view: Show tasks with problems" in names and "view: Show problems tasks" not in names
        task = await submit(app, pilot, "the only one [[silent:600]][[silent_after:2]]")
        await wait_for(pilot, lambda: task.chars > 0)
        await select(app, pilot, task)
        await pilot.press("C")
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#question", Static).content)
        assert question.startswith("Cancel the 1 queued or running task?")
        await pilot.press("n", "f2")
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        await wait_for(pilot, lambda: sessions.listed)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "and its 0 tasks?" in str(app.screen.query_one("#question", Static).content)


async def test_moving_the_cursor_shows_each_task_at_once_and_markdown_when_it_rests(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_module, "PANE_SETTLE_S", 2.0)  # a loaded machine must not settle between key presses
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        screen.submit([f"a few pages on topic {n} [[len:6000]][[delay:0]]" for n in range(6)])
        tasks = list(app.engine.tasks.values())
        await wait_for(pilot, finished(*tasks), timeout=30)
        await pilot.press("escape", "home")
        pane = screen.output.panes[0]
        await wait_for(pilot, lambda: pane.task_id == tasks[0].id and str(pane.border_subtitle).endswith("· markdown"))
        for task in tasks[1:]:
            await pilot.press("down")
            await wait_for(pilot, lambda: pane.task_id == task.id and pane.query(RawBody), timeout=5)
            assert pane.query_one(RawBody).text == expected_answer(task.prompt)
            assert pane.previewing and str(pane.border_subtitle).endswith("· raw preview"), "no Markdown per row"
        await wait_for(pilot, lambda: str(pane.border_subtitle).endswith("· markdown"), timeout=10)
        assert not pane.showing_raw and pane.task_id == tasks[-1].id
