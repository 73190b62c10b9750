"""The app with tasks that call MCP tools: a task waiting for approval shows as `waiting`, and goes on when answered.

The approval dialog and the pane's tool calls are the UI's; this checks the app
keeps working on the engine's new status and events.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.app_helpers import SharedDemoServer, cell, demo_engine, finished, has_status, screen_lines, submit, wait_for
from tests.mcp_helpers import DEMO_TOOLS
from tui.app.app import AgentDeckApp
from tui.engine import Engine, TaskStatus, ToolCallStatus

pytestmark = pytest.mark.slow


async def test_a_waiting_task_shows_as_waiting_and_runs_once_approved(demo_url: str) -> None:
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
            await pilot.pause(0.4)
            assert cell(app, task, "status") == "? waiting"
            assert "1 waiting" in screen_lines(app)[0], screen_lines(app)[0]
            engine.answer_approval(task.id, task.waiting_calls[0].call_id, "once")
            await wait_for(pilot, finished(task), timeout=30)
            assert task.status is TaskStatus.DONE, task.error
            assert [c.status for c in task.tool_calls] == [ToolCallStatus.DONE]
            await pilot.pause(0.4)
            assert cell(app, task, "status") == "✓ done"
        finally:
            await app.shutdown()
