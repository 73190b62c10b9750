"""The compare view over real HTTP to the demo server: a group's answers side by side, their figures, a diff."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.app_helpers import (
    DEMO_PRICES,
    finished,
    main_screen,
    running_app,
    screen_lines,
    select,
    submit,
    tools_engine,
    wait_for,
)
from tui.app.app import AgentDeckApp
from tui.demo import expected_answer
from tui.engine import Task, TaskStatus
from tui.screens.compare import CompareScreen
from tui.widgets.answer_column import AnswerColumn
from tui.widgets.diff_view import MarkedBody
from tui.word_diff import Change
from tui.wording import money

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


def start_group(app: AgentDeckApp, members: list[tuple[str, str]], group: str = "g1") -> list[Task]:
    """Tasks of one group, each (prompt, provider), started as the app starts any task.

    Members of a real group share one prompt, and the demo's answer depends only on the
    prompt; tests that need answers to differ give each member its own prompt.
    """
    tasks = [app.engine.add_task(prompt, provider=provider, group=group) for prompt, provider in members]
    for task in tasks:
        app.start_task(task)
    main_screen(app).table.sync(task.id for task in tasks)
    return tasks


def marked(app: AgentDeckApp, side: str, change: Change) -> list[str]:
    """The words the diff view shows highlighted on one side."""
    return app.screen.query_one(f"#diff-{side}", MarkedBody).marked(change)


def shown(app: AgentDeckApp) -> str:
    return "\n".join(screen_lines(app))


async def open_compare(app: AgentDeckApp, pilot: Pilot[int], task: Task) -> CompareScreen:
    await select(app, pilot, task)
    await pilot.press("equals_sign")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
    assert isinstance(app.screen, CompareScreen)
    return app.screen


async def test_equals_on_a_group_member_shows_each_answer_with_its_figures(demo_url: str) -> None:
    prompt = "Which queue suits the billing events [[len:3000]][[delay:0]]"
    async with running_app(demo_url, size=(140, 40)) as (app, pilot):
        tasks = app.engine.add_group(prompt, [("demo", None), ("demo-responses", None), ("demo", "demo-mini")])
        for task in tasks:
            app.start_task(task)
        await wait_for(pilot, finished(*tasks), 30)
        screen = await open_compare(app, pilot, tasks[1])
        await wait_for(pilot, lambda: all(c.body.text == expected_answer(prompt) for c in screen.columns))
        text = shown(app)
        assert f"Group {tasks[0].group} · 3 answers · Which queue suits the billing events" in text
        assert f"#{tasks[2].id} demo · demo-mini" in text  # a model of the group's own choosing
        for task in tasks:
            assert f"#{task.id} {task.provider} · {task.model}" in text
        assert text.count("✓ done · first output ") == 3
        assert text.count("3,000 chars · ") == 3
        assert "chars/s" in text and "cost –" in text
        assert screen.focused is screen.columns[1].body  # the member `=` was pressed on
        assert all(column.body.scroll_y == 0 < column.body.max_scroll_y for column in screen.columns)  # from the top
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


async def test_each_answer_shows_what_it_cost_where_its_model_has_a_price(demo_url: str) -> None:
    prompt = "Price this answer [[len:400]][[delay:0]]"
    app = AgentDeckApp(tools_engine(demo_url, providers=DEMO_PRICES), demo_notice=True)  # demo-responses: no price
    async with app.run_test(size=(140, 40)) as pilot:
        try:
            priced, unpriced = start_group(app, [(prompt, "demo"), (prompt, "demo-responses")])
            await wait_for(pilot, finished(priced, unpriced), 30)
            await open_compare(app, pilot, priced)
            cost = app.engine.cost_of(priced)
            assert cost is not None and cost > 0
            await wait_for(pilot, lambda: f"cost {money(cost)}" in shown(app))
            assert shown(app).count("cost –") == 1
        finally:
            await app.shutdown()


async def test_equals_on_a_task_of_no_group_says_so(demo_url: str) -> None:
    async with running_app(demo_url, toasts=True) as (app, pilot):
        task = await submit(app, pilot, "alone [[len:50]]")
        await wait_for(pilot, finished(task))
        await select(app, pilot, task)
        await pilot.press("equals_sign")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, CompareScreen)
        assert any(f"Task #{task.id} is not in a group" in line for line in screen_lines(app))


async def test_diff_marks_the_words_only_one_answer_has_and_says_how_alike_they_are(demo_url: str) -> None:
    """The demo answer to a short prompt is its heading: `## Analysis: <the prompt's words>`."""
    left, right = "keep the old cache layer [[len:37]]", "keep the new cache layer [[len:37]]"
    async with running_app(demo_url) as (app, pilot):
        tasks = start_group(app, [(left, "demo"), (right, "demo-responses")])
        await wait_for(pilot, finished(*tasks), 30)
        await open_compare(app, pilot, tasks[0])
        await pilot.press("d")
        await wait_for(pilot, lambda: "similarity" in shown(app))
        assert "similarity 86 % · 1 words only left · 1 only right" in shown(app)
        assert marked(app, "left", Change.REMOVED) == ["old"]
        assert marked(app, "right", Change.ADDED) == ["new"]
        await pilot.press("d")  # back to the columns
        assert "similarity" not in shown(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


async def test_diff_follows_answers_that_are_still_streaming(demo_url: str) -> None:
    pause = "[[len:3000]][[delay:0]][[silent:8]][[silent_after:20]]"  # both stop a while after 240 characters
    prompts = [f"Review the {name} rollout plan {pause}" for name in ("east", "west")]
    async with running_app(demo_url) as (app, pilot):
        tasks = start_group(app, [(prompts[0], "demo"), (prompts[1], "demo")])
        screen = await open_compare(app, pilot, tasks[0])
        await pilot.press("d")
        await wait_for(pilot, lambda: "updating while answers stream" in shown(app))
        assert all(task.status is TaskStatus.RUNNING for task in tasks)
        await wait_for(pilot, finished(*tasks), 30)
        await wait_for(pilot, lambda: "similarity" in shown(app) and "updating" not in shown(app))
        assert "west" in "".join(marked(app, "right", Change.ADDED))
        assert screen.query_one("#diff-right", MarkedBody).text == expected_answer(prompts[1])


async def test_the_two_sides_of_a_diff_scroll_together(demo_url: str) -> None:
    prompts = [f"Plan the {name} migration [[len:6000]][[delay:0]]" for name in ("db", "queue")]
    async with running_app(demo_url, size=(100, 30)) as (app, pilot):
        tasks = start_group(app, [(prompts[0], "demo"), (prompts[1], "demo")])
        await wait_for(pilot, finished(*tasks), 30)
        screen = await open_compare(app, pilot, tasks[0])
        await pilot.press("d")
        await wait_for(pilot, lambda: "similarity" in shown(app))
        left, right = screen.query_one("#diff-left"), screen.query_one("#diff-right")
        await wait_for(pilot, lambda: left.max_scroll_y > 0 and right.max_scroll_y > 0)
        await pilot.pause(0.3)
        assert left.scroll_y == right.scroll_y == 0  # a diff opens at the start of both answers
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert left.scroll_y > 0
        share = left.scroll_y / left.max_scroll_y
        assert abs(right.scroll_y / right.max_scroll_y - share) < 0.05


async def test_at_80_columns_two_answers_show_and_arrows_bring_the_others(demo_url: str) -> None:
    prompt = "Which cache for sessions [[len:300]][[delay:0]]"
    async with running_app(demo_url, size=(80, 24)) as (app, pilot):
        tasks = start_group(app, [(prompt, "demo"), (prompt, "demo-responses"), (prompt, "demo")])
        await wait_for(pilot, finished(*tasks), 30)
        screen = await open_compare(app, pilot, tasks[0])

        def displayed() -> list[int]:
            return [column.task_id for column in screen.query(AnswerColumn) if column.display]

        assert displayed() == [tasks[0].id, tasks[1].id]
        assert "1–2 shown, ← → for the others" in shown(app)
        await pilot.press("right", "right")
        assert displayed() == [tasks[1].id, tasks[2].id]
        assert screen.focused is screen.columns[2].body
        await pilot.press("d")  # the focused answer and its neighbour
        await wait_for(pilot, lambda: "similarity 100 %" in shown(app))
        assert f"#{tasks[1].id} demo-responses" in shown(app) and f"#{tasks[2].id} demo" in shown(app)


async def test_the_palette_opens_the_compare_view_for_a_selected_group_member_only(demo_url: str) -> None:
    prompt = "Which log store [[len:200]][[delay:0]]"
    async with running_app(demo_url) as (app, pilot):
        alone = await submit(app, pilot, prompt)
        tasks = start_group(app, [(prompt, "demo"), (prompt, "demo-responses")])
        await wait_for(pilot, finished(alone, *tasks), 30)
        await select(app, pilot, alone)
        assert not main_screen(app).can("compare")  # not offered for a task of no group
        await select(app, pilot, tasks[1])
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Compare the group's answers")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert "Group g1 · 2 answers" in shown(app)
