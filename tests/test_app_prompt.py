"""The prompt box and the next-task settings: keys, pastes, attachments, provider and timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Static

from tests.app_helpers import finished, main_screen, running_app, submit, submit_and_open, wait_for
from tui.app.commands import DeckCommands
from tui.screens.ask import AskScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.next_task_bar import NextTaskBar


@pytest.mark.slow
async def test_enter_submits_and_ctrl_j_or_shift_enter_insert_newlines(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = main_screen(app).prompt
        assert prompt.has_focus
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert prompt.text == "a\nb\nc"
        await pilot.press("enter")
        (task,) = app.engine.tasks.values()
        assert task.prompt == "a\nb\nc"
        assert prompt.text == ""
        await pilot.press("enter")
        assert len(app.engine.tasks) == 1, "an empty prompt starts nothing"


@pytest.mark.slow
async def test_pasting_lines_asks_then_runs_one_task_per_line(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = main_screen(app).prompt
        prompt.post_message(events.Paste("first [[len:50]]\n\nsecond [[len:50]]\nthird [[len:50]]\n"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        prompts = [t.prompt for t in app.engine.tasks.values()]
        assert prompts == ["first [[len:50]]", "second [[len:50]]", "third [[len:50]]"]
        await wait_for(pilot, finished(*app.engine.tasks.values()))


async def test_declining_the_split_pastes_the_text_as_one_prompt(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = main_screen(app).prompt
        prompt.post_message(events.Paste("line one\nline two"))
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert prompt.text == "line one\nline two"
        assert not app.engine.tasks


@pytest.mark.slow
async def test_attached_file_goes_with_the_next_prompt_only(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("remember the milk", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    async with running_app(demo_url) as (app, pilot):
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, AskScreen)
        await pilot.press(*"notes.md", "enter")
        bar = main_screen(app).query_one(NextTaskBar)
        await wait_for(pilot, lambda: bar.attachments == [str(notes)])
        task = await submit(app, pilot, "summarise [[len:80]]")
        assert task.attachments == [str(notes)]
        assert "remember the milk" in task.request_text
        assert bar.attachments == []
        second = await submit(app, pilot, "no file [[len:80]]")
        assert second.attachments == []


async def test_a_bad_attachment_path_is_explained_in_the_dialog_and_can_be_corrected(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "notes.md").write_text("remember the milk", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    async with running_app(demo_url) as (app, pilot):
        await pilot.press("ctrl+o")
        dialog = app.screen
        assert isinstance(dialog, AskScreen)
        for path, problem in (("missing.txt", "no such file"), ("blob.bin", "binary")):
            answer = dialog.query_one("#answer", Input)
            answer.value = path
            await pilot.press("enter")
            error = dialog.query_one("#error", Static)
            await wait_for(pilot, lambda: problem in str(error.content))
            assert app.screen is dialog, "the dialog stays open"
            assert answer.value == path, "the path is kept, to be corrected"
        answer.value = "notes.md"
        await pilot.press("enter")
        bar = main_screen(app).query_one(NextTaskBar)
        await wait_for(pilot, lambda: bar.attachments == [str(tmp_path / "notes.md")])
        assert app.screen is not dialog


async def test_next_task_provider_and_timeout_come_from_the_bar(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        bar = main_screen(app).query_one(NextTaskBar)
        bar.choose_provider("demo-responses")
        await pilot.pause()
        task = await submit(app, pilot, "responses api [[len:120]]", timeout="0")
        assert (task.provider, task.api, task.timeout) == ("demo-responses", "responses", None)
        await wait_for(pilot, finished(task))
        assert task.status == "done", task.error
        bar.query_one("#timeout", Input).value = "-5"
        main_screen(app).prompt.load_text("never starts")
        await pilot.press("enter")
        assert len(app.engine.tasks) == 1
        assert any("must be 0 (no timeout) or a positive number" in n.message for n in app._notifications)


async def test_task_keys_hide_while_typing_and_show_in_the_table(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        typing = {binding.key for _, binding, _, _ in screen.active_bindings.values() if binding.show}
        assert "c" not in typing and "enter" in typing and "ctrl+q" in typing
        await pilot.press("escape")
        assert screen.table.has_focus
        keys = {key: enabled for key, (_, binding, enabled, _) in screen.active_bindings.items() if binding.show}
        assert keys["c"] is False, "dimmed: no task to cancel"
        assert keys["g"] is True and keys["ctrl+q"] is True


@pytest.mark.slow
async def test_palette_offers_what_applies_to_the_selected_task(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        await submit_and_open(app, pilot, "palette [[len:100]]")
        provider = DeckCommands(main_screen(app))
        names = [name for name, _, _ in provider._commands()]
        assert any(name.startswith("task: Ask a follow-up") for name in names)
        assert any(name.startswith("task: Run the selected task's prompt again") for name in names)
        assert not any(name.startswith("task: Cancel the selected task") for name in names)
        assert "next task: Use provider demo-responses" in names
        assert "view: Show active tasks" in names
        hits = [hit async for hit in provider.search("follow")]
        assert hits and "follow" in str(hits[0].match_display).lower()
