"""Finding in the app: Ctrl+F in one pane (finished and streaming answers) and `/` across every saved session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app_helpers import demo_engine, main_screen, running_app, select, submit, wait_for
from tui.app.app import AgentDeckApp, SessionSwitch
from tui.demo.script import expected_answer
from tui.engine import TaskStatus
from tui.screens.search import SearchScreen
from tui.store import SessionStore
from tui.widgets.output_pane import OutputPane
from tui.widgets.raw_body import RawBody

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


def shown_marks(body: RawBody) -> list[tuple[str, bool]]:
    """The highlighted pieces of text on screen in `body`, and whether each is the current match."""
    match = body.get_component_rich_style("raw-body--match").bgcolor
    current = body.get_component_rich_style("raw-body--match-current").bgcolor
    marks = []
    for y in range(body.scrollable_content_region.height):
        for segment in body.render_line(y):
            if segment.style is not None and segment.style.bgcolor in (match, current):
                marks.append((segment.text, segment.style.bgcolor == current))
    return marks


def pane(app: AgentDeckApp) -> OutputPane:
    return main_screen(app).output.panes[0]


def count_of(pilot: Pilot[int]) -> str:
    bar = pane(pilot.app).find_bar  # type: ignore[arg-type]
    counts = bar.query("#find-count") if bar is not None else []
    return str(counts.first().render()) if counts else ""


async def test_ctrl_f_finds_highlights_and_steps_through_a_finished_answer(demo_url: str) -> None:
    prompt = "a finished answer [[len:3000]][[delay:0]]"
    words = len(re.findall("items", expected_answer(prompt).lower()))
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, prompt)
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE)
        await select(app, pilot, task)
        await pilot.press("enter", "ctrl+f")
        await wait_for(pilot, lambda: pane(app).find_bar is not None and app.focused is pane(app).find_bar.input)
        await pilot.press(*"ITEMS")
        await wait_for(pilot, lambda: count_of(pilot) == f"1/{words}")
        body = pane(app).raw_body
        assert body is not None and "raw while finding" in str(pane(app).border_subtitle)
        assert ("items", True) in shown_marks(body)
        await pilot.press("enter", "enter")
        assert count_of(pilot) == f"3/{words}"
        await pilot.press("shift+enter")
        assert count_of(pilot) == f"2/{words}"
        second = pane(app).found.matches[1]  # type: ignore[union-attr]
        await pilot.press("escape")  # the bar closes; the place and the highlights stay
        await pilot.pause()
        assert pane(app).find_bar is None and app.focused is body
        assert pane(app).found.matches[pane(app).found.current] == second  # type: ignore[union-attr]
        assert ("items", True) in shown_marks(body)
        await pilot.press("n", "n")
        assert pane(app).found.current == 3  # type: ignore[union-attr]
        await pilot.press("N")
        assert pane(app).found.current == 2  # type: ignore[union-attr]
        assert ("items", True) in shown_marks(body)
        await pilot.press("escape")  # the highlights go; the place and the raw view stay; `n` is New again
        await pilot.pause()
        assert not shown_marks(body) and "raw after find" in str(pane(app).border_subtitle)
        await pilot.press("m")  # Markdown again, not a second raw toggle
        await wait_for(pilot, lambda: not pane(app).showing_raw)
        assert not main_screen(app).raw and "markdown" in str(pane(app).border_subtitle)
        await pilot.press("n")
        assert app.focused is main_screen(app).prompt


async def test_ctrl_f_counts_new_matches_while_the_answer_streams(demo_url: str) -> None:
    prompt = "a streaming answer [[len:6000]][[delay:1]][[silent_after:100]][[silent:4]]"
    answer = expected_answer(prompt)
    first_part = answer[:1200]  # 100 chunks of 12 characters, then four seconds of silence

    def found_in(text: str) -> int:
        return sum(len(re.findall("the", line.lower())) for line in text.split("\n"))

    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, prompt)
        main_screen(app).table.focus()
        await wait_for(pilot, lambda: pane(app).task_id == task.id and task.chars == 1200)
        await pilot.press("ctrl+f", "t", "h", "e")
        await wait_for(pilot, lambda: count_of(pilot) == f"1/{found_in(first_part)}")
        assert task.status is TaskStatus.RUNNING
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE, 30)
        await wait_for(pilot, lambda: count_of(pilot) == f"1/{found_in(answer)}")
        assert ("the", True) in [(text.lower(), current) for text, current in shown_marks(pane(app).raw_body)]


async def saved_session(demo_url: str, name: str, prompts: list[str]) -> Path:
    """A session on disk whose tasks all ran to the end."""
    store = SessionStore.open(name)
    engine = demo_engine(demo_url)
    store.attach(engine)
    for prompt in prompts:
        await engine.start(engine.add_task(prompt))
    await engine.aclose()
    assert store.close()
    return store.path


async def test_search_opens_the_other_session_at_the_task_with_the_match_highlighted(demo_url: str) -> None:
    needle = "zanzibar retry storm [[len:2000]][[delay:0]]"
    path = await saved_session(demo_url, "nightly", ["unrelated first [[len:500]]", needle])
    current = SessionStore.open("current")
    engine = demo_engine(demo_url)
    current.attach(engine)
    app = AgentDeckApp(engine, session_name=current.name, store=current)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("escape", "slash")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"zanzib*")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(pilot, lambda: len(screen.shown) == 1)
        assert screen.shown[0].session == "nightly" and screen.shown[0].task_id == 2
        assert "nightly" in str(screen.results.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await pilot.pause()
        await app.shutdown()
    current.close()
    assert app.return_value == SessionSwitch(str(path), (2, "zanzib*"))

    # What `agentdeck` does with that answer: open the session and show the hit.
    reopened = SessionStore.open(str(path))
    engine = demo_engine(demo_url)
    reopened.attach(engine)
    app = AgentDeckApp(engine, session_name=reopened.name, store=reopened, reveal=(2, "zanzib*"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: pane(app).found is not None and pane(app).found.current == 0)
        assert main_screen(app).table.selected_id == 2 and pane(app).task_id == 2
        body = pane(app).raw_body
        assert body is not None and app.focused is body
        await wait_for(pilot, lambda: shown_marks(body) != [])
        assert shown_marks(body)[0] == ("zanzibar", True)  # the answer's heading repeats the prompt
        await app.shutdown()
    reopened.close()


async def test_search_shows_a_hit_of_this_session_in_place(demo_url: str) -> None:
    prompt = "quokka habitats [[len:3000]][[delay:0]]"
    async with running_app(demo_url, session_name=None) as (app, pilot):
        store = SessionStore.open("here")
        store.attach(app.engine)
        app.session_name = "here"
        first = await submit(app, pilot, "something else [[len:300]][[delay:0]]")
        task = await submit(app, pilot, prompt)
        await wait_for(pilot, lambda: first.status.is_final and task.status is TaskStatus.DONE)
        await select(app, pilot, first)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"quokka")
        await wait_for(pilot, lambda: len(getattr(app.screen, "shown", [])) == 1, 15)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane(app).task_id == task.id and pane(app).found is not None)
        await wait_for(pilot, lambda: shown_marks(pane(app).raw_body) != [])  # type: ignore[arg-type]
        assert shown_marks(pane(app).raw_body)[0] == ("quokka", True)  # type: ignore[arg-type]
        assert main_screen(app).table.selected_id == task.id
        await app.shutdown()
        store.close()


async def test_a_bad_query_says_what_is_wrong_in_the_screen(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        await pilot.press("escape", "ctrl+p", *"Search all sessions")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*'"retry storm')
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(pilot, lambda: "not closed" in screen.message)
        assert screen.message == 'a " is not closed: end the phrase with another "'
        assert screen.query_one("#search-message").has_class("-error")
        await pilot.press("escape")
        assert not isinstance(app.screen, SearchScreen) and app.unexpected_stop is None

