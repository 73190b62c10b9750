"""Model output and prompts are untrusted: shown literally, never as markup, never as terminal controls."""

from __future__ import annotations

import pytest
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from tests.app_helpers import (
    cell,
    finished,
    main_screen,
    panes_settled,
    running_app,
    select,
    submit,
    submit_and_open,
    wait_for,
    wait_still,
)
from tui.app.app import AgentDeckApp
from tui.widgets.markdown_body import MarkdownBody
from tui.widgets.output_pane import OutputPane
from tui.widgets.raw_body import RawBody

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test

HOSTILE_PROMPT = "[[hostile]] [[len:700]]"


def screen_text(svg: str) -> str:
    return svg.replace("&#160;", " ").replace("&amp;", "&")


async def test_hostile_output_is_literal_in_markdown_and_raw(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, HOSTILE_PROMPT)
        await wait_for(pilot, finished(task))
        assert task.status == "done", task.error
        await select(app, pilot, task)
        await wait_still(pilot)
        shown = screen_text(app.export_screenshot())
        assert "[bold red]markup[/]" in shown, "Rich markup must not be interpreted"
        assert "[@click=app.quit]quit[/]" in shown
        assert "␛[31mred" in shown and "␛]52;c;ZWNobyBwd25lZA==␇" in shown
        assert not any(c in shown for c in "\x1b\x07\x9b\x9d\x00"), "no raw control reaches the terminal"
        await pilot.press("m")
        await pilot.pause(0.3)
        raw = main_screen(app).query_one(OutputPane).query_one(RawBody)
        assert "␛]0;pwned title␇" in raw.text and "\\x9b31m" in raw.text
        assert not any(c in raw.text for c in "\x1b\x07\x9b\x9d\x00")
        shown = screen_text(app.export_screenshot())
        assert "[link=https://example.invalid]link[/link]" in shown
        assert app.is_running, "clicking or rendering [@click=app.quit] must not quit"


async def test_hostile_prompt_is_literal_in_table_and_pane_title(demo_url: str) -> None:
    async with running_app(demo_url, size=(160, 36)) as (app, pilot):  # room in the prompt column for all of it
        task = await submit(app, pilot, "[bold]x[/] [@click=app.quit] \x1b]52;c;cHduZWQ=\x07 \x1b[31m [[len:40]]")
        await wait_for(pilot, finished(task))
        await wait_for(pilot, lambda: cell(app, task, "prompt").startswith("[bold]x[/] [@click=app.quit] ␛]52;c;"))
        title = "[bold]x[/] [@click=app.quit] ␛]52;c;cHduZWQ=␇ ␛[31m"
        await wait_for(pilot, lambda: title in screen_text(app.export_screenshot()))  # the pane's title
        shown = screen_text(app.export_screenshot())
        assert "\x1b" not in shown and "\x07" not in shown


async def test_link_in_output_is_reported_not_opened(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        await submit_and_open(app, pilot, "[[len:40]]")
        await pilot.pause(0.3)
        markdown = main_screen(app).query_one(OutputPane).query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "https://example.invalid/\x1b[31m"))
        await pilot.pause(0.2)
        shown = [n for n in app._notifications if n.title == "Link in the output (not opened)"]
        assert [n.message for n in shown] == ["https://example.invalid/␛[31m"]


def _blocks(app: AgentDeckApp) -> list[str]:
    """What the shown Markdown answer was parsed into: each block's kind and its text."""
    body = main_screen(app).output.query_one(MarkdownBody)
    return [f"{type(block).__name__}: {block.source}" for block in body.query(MarkdownBlock)]


async def test_an_answer_watched_while_it_streams_ends_as_it_opens_later(demo_url: str) -> None:
    """Fragments cut lists and code fences in two; the ended answer is parsed whole, as reopening it would."""
    async with running_app(demo_url) as (app, pilot):
        other = await submit(app, pilot, "A short note [[len:200]][[delay:0]]")
        await wait_for(pilot, finished(other))
        task = await submit(app, pilot, "Explain back-pressure [[len:8000]][[chunk:7]][[delay:8]]")
        await select(app, pilot, task)
        assert not task.status.is_final, "the answer must be watched while it streams"
        await wait_for(pilot, finished(task), timeout=60)
        await wait_for(pilot, lambda: panes_settled(app))
        await wait_still(pilot)
        watched = _blocks(app)
        await select(app, pilot, other)
        await select(app, pilot, task)
        await wait_still(pilot)
        assert watched == _blocks(app)
