"""Tool calls in the app, against the demo server and real MCP servers over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from tests.app_helpers import (
    SIZE,
    SharedDemoServer,
    cell,
    demo_engine,
    finished,
    has_status,
    main_screen,
    screen_lines,
    select,
    submit,
    tools_engine,
    wait_for,
)
from tests.mcp_helpers import DEMO_TOOLS
from tui.app.app import AgentDeckApp
from tui.engine import Engine, Task, TaskStatus
from tui.engine.tool_calls import ToolCallStatus
from tui.screens.approve import ApproveScreen
from tui.screens.tool_calls import ToolCallsScreen
from tui.widgets.raw_body import RawBody
from tui.widgets.tool_call_view import ToolCallView

QUICK = "[[len:200]][[delay:1]]"
NOW_UTC = '[[tool:get_current_time {"timezone": "UTC"}]]'


@asynccontextmanager
async def tools_app(demo_url: str, *, approve: str = "auto") -> AsyncIterator[tuple[AgentDeckApp, Pilot[int]]]:
    app = AgentDeckApp(tools_engine(demo_url, approve=approve), demo_notice=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        try:
            yield app, pilot
        finally:
            await app.shutdown()


async def submit_with_tools(app: AgentDeckApp, pilot: Pilot[int], prompt: str, tools: str) -> Task:
    main_screen(app).query_one("#tools").value = tools  # type: ignore[attr-defined]
    return await submit(app, pilot, prompt)


def shown(app: AgentDeckApp, text: str) -> bool:
    return any(text in line for line in screen_lines(app))


async def test_a_tool_call_shows_in_the_pane_and_the_table(demo_url: str) -> None:
    """The built-in demo MCP server's word_count, as a newcomer with `--demo` would see it."""
    async with tools_app(demo_url) as (app, pilot):
        prompt = f'count these [[tool:word_count {{"text": "one two three"}}]] {QUICK}'
        task = await submit_with_tools(app, pilot, prompt, "demo")
        assert task.tools == ("demo",)
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE, timeout=60)
        await select(app, pilot, task)
        await wait_for(pilot, lambda: shown(app, "⚙ word_count (demo) · ✓ done"))  # after the ended answer's parse
        await wait_for(pilot, lambda: cell(app, task, "tools") == "1")  # the column comes with the table's next tick
        assert shown(app, '{"text": "one two three"}')
        assert shown(app, "→ 3 words")  # the result's first line, as the model got it
        assert shown(app, "1 tool call")
        await pilot.press("m")  # the raw body shows the same call among the text
        await wait_for(pilot, lambda: main_screen(app).output.panes[0].showing_raw)
        await wait_for(pilot, lambda: shown(app, "⚙ word_count (demo) · ✓ done"))
        body = main_screen(app).query_one(RawBody)
        assert "⚙ word_count (demo) · ✓ done" in body.text
        assert body.text.index("⚙ word_count") < body.text.index("Tool word_count returned")
        assert shown(app, "⚙ word_count (demo) · ✓ done")


async def test_a_result_is_shown_literally_and_in_full_on_demand(demo_url: str) -> None:
    async with tools_app(demo_url) as (app, pilot):
        task = await submit_with_tools(app, pilot, f'lines [[tool:lines {{"count": 9}}]] {QUICK}', "slow")
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE, timeout=60)
        await select(app, pilot, task)
        await wait_for(pilot, lambda: shown(app, "→ line 1 ␛[31mred␛[0m"))  # the escape is shown, never obeyed
        assert shown(app, "… 6 more lines")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ToolCallsScreen) and shown(app, "line 9"))
        lines = screen_lines(app)
        result = next(index for index, line in enumerate(lines) if "result:" in line)
        assert "line 1 ␛[31mred␛[0m" in lines[result + 1]
        assert "line 9" in lines[result + 9]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ToolCallsScreen))
        await pilot.click(ToolCallView)  # a click on the call in the pane shows it in full too
        await wait_for(pilot, lambda: isinstance(app.screen, ToolCallsScreen))


async def _answered(app: AgentDeckApp, pilot: Pilot[int], prompt: str, key: str) -> Task:
    """A task offered the time server, its waiting call answered with `key` from the approval screen, run to the end."""
    task = await submit_with_tools(app, pilot, prompt, "time")
    await wait_for(pilot, lambda: task.status is TaskStatus.WAITING, timeout=60)
    await pilot.press("escape", "p")
    await wait_for(pilot, lambda: isinstance(app.screen, ApproveScreen))
    await pilot.press(key)
    await wait_for(pilot, lambda: task.status is TaskStatus.DONE, timeout=60)
    return task


async def test_approve_once_always_and_deny_in_the_app(demo_url: str) -> None:
    async with tools_app(demo_url, approve="ask") as (app, pilot):
        screen = main_screen(app)
        twice = f'{NOW_UTC} [[tool:get_current_time {{"timezone": "Europe/Paris"}}]]'
        always = await submit_with_tools(app, pilot, f"always {twice} {QUICK}", "time")
        await wait_for(pilot, lambda: always.status is TaskStatus.WAITING, timeout=60)
        await wait_for(pilot, lambda: cell(app, always, "status") == "⏸ waiting")  # with the table's next tick
        assert "approve get_current_time?" in cell(app, always, "tools")
        await wait_for(pilot, lambda: shown(app, "1 waiting"))
        toast = next(n for n in app._notifications if "Approval" in n.title)
        assert "press Esc, then p" in toast.message  # the prompt has focus: p is a letter there
        await pilot.press("escape", "p")
        await wait_for(pilot, lambda: isinstance(app.screen, ApproveScreen))
        assert shown(app, "Europe/Paris") or shown(app, '"timezone": "UTC"')
        await pilot.press("a")
        await wait_for(pilot, lambda: always.status is TaskStatus.DONE, timeout=60)
        assert [c.status for c in always.tool_calls] == [ToolCallStatus.DONE, ToolCallStatus.DONE]

        screen.prompt.focus()
        once = await _answered(app, pilot, f"once {NOW_UTC} {QUICK}", "y")
        assert once.tool_calls[0].status is ToolCallStatus.DONE

        screen.prompt.focus()
        denied = await _answered(app, pilot, f"deny {NOW_UTC} {QUICK}", "n")
        assert denied.tool_calls[0].status is ToolCallStatus.DENIED
        await select(app, pilot, denied)
        await wait_for(pilot, lambda: shown(app, "⚙ get_current_time (time) · ⊘ denied"))  # after the whole parse


async def test_cancel_during_a_call(demo_url: str) -> None:
    async with tools_app(demo_url) as (app, pilot):
        task = await submit_with_tools(app, pilot, f'sleepy [[tool:wait {{"seconds": 30}}]] {QUICK}', "slow")
        await wait_for(pilot, lambda: bool(task.tool_calls), timeout=60)
        await select(app, pilot, task)
        await pilot.pause(1.2)
        assert cell(app, task, "tools") == "1 ▶ wait"
        assert shown(app, "⚙ wait (slow) · ▶ running")
        await pilot.press("c")
        await wait_for(pilot, lambda: task.status is TaskStatus.CANCELLED, timeout=15)
        await pilot.pause(0.3)
        assert task.tool_calls[0].status is ToolCallStatus.CANCELLED
        assert shown(app, "⚙ wait (slow) · ⊘ cancelled")
        assert cell(app, task, "tools") == "1"


async def test_the_approval_dialog_closes_when_its_task_is_cancelled_and_other_tasks_run_on(demo_url: str) -> None:
    async with tools_app(demo_url, approve="ask") as (app, pilot):
        waiting = await submit_with_tools(app, pilot, f"waits {NOW_UTC} {QUICK}", "time")
        await wait_for(pilot, lambda: waiting.status is TaskStatus.WAITING, timeout=60)
        other = await submit_with_tools(app, pilot, f"runs on {QUICK}", "none")
        await pilot.press("escape", "p")
        await wait_for(pilot, lambda: isinstance(app.screen, ApproveScreen))
        await wait_for(pilot, lambda: other.status is TaskStatus.DONE, timeout=60)  # while the question is open
        assert waiting.status is TaskStatus.WAITING
        app.cancel_task(waiting.id)
        await wait_for(pilot, lambda: not isinstance(app.screen, ApproveScreen))
        assert waiting.status is TaskStatus.CANCELLED
        assert waiting.tool_calls[0].status is ToolCallStatus.CANCELLED
        # Textual delivers a notification as a message of its own: it may come after the dialog has gone.
        await wait_for(pilot, lambda: any("no longer waits" in n.message for n in app._notifications))


async def test_the_palette_chooses_the_next_tasks_tools_and_a_bad_name_is_explained(demo_url: str) -> None:
    async with tools_app(demo_url) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"only the tools of MCP server slow")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.next_task.tools == ("slow",))
        screen.query_one("#tools").value = "slow,nosuch"  # type: ignore[attr-defined]
        screen.prompt.focus()
        screen.prompt.load_text("never starts")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert not app.engine.tasks
        assert any("nosuch" in n.message and n.message.startswith("Tools:") for n in app._notifications)


@pytest.mark.slow
async def test_a_waiting_task_shows_as_waiting_and_runs_once_approved(demo_url: str) -> None:
    """The engine's answer path, without the dialog: the row and the header follow it."""
    config = demo_engine(demo_url).config
    asking = replace(DEMO_TOOLS, approve="ask")
    providers = {**config.providers, "demo": replace(config.providers["demo"], tools=("demo",))}
    engine = Engine(
        config.with_overrides(mcp={**config.mcp, "demo": asking}, providers=providers),
        local_server=SharedDemoServer(demo_url),
    )
    app = AgentDeckApp(engine, demo_notice=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        try:
            task = await submit(app, pilot, '[[tool:word_count {"text": "a b"}]] [[len:60]] count')
            await wait_for(pilot, has_status(task, TaskStatus.WAITING), timeout=60)
            await wait_for(pilot, lambda: cell(app, task, "status") == "⏸ waiting")  # with the table's next tick
            await wait_for(pilot, lambda: "1 waiting" in screen_lines(app)[0])
            engine.answer_approval(task.id, task.waiting_calls[0].call_id, "once")
            await wait_for(pilot, finished(task), timeout=30)
            assert task.status is TaskStatus.DONE, task.error
            assert [c.status for c in task.tool_calls] == [ToolCallStatus.DONE]
            await wait_for(pilot, lambda: cell(app, task, "status") == "✓ done")
        finally:
            await app.shutdown()
