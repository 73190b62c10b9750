"""Start-up: what the first frame leaves for later must not lose a key or change what settles on screen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Select

from tests.app_helpers import SIZE, demo_engine, main_screen, wait_for
from tui.app.app import AgentDeckApp
from tui.widgets.footer import DeckFooter

LATER = (
    "tui.store.search_index", "tui.screens.search", "tui.store.importer", "tui.store.group_export", "tui.store.watch",
    "tui.cli.run_command", "tui.cli.resume_command", "tui.cli.search_command", "tui.cli.session_commands",
    "tui.cli.usage_command", "tui.cli.mcp_command",
    "tui.engine.worker_proxy", "tui.engine.worker_protocol", "tui.engine.worker_errors", "multiprocessing.connection",
    "tui.engine.mcp_servers", "tui.engine.rate_limits", "email.utils", "tui.engine.runs", "tui.engine.stream_loop",
    "tui.engine.tool_recorder", "tui.screens.ask", "tui.screens.confirm", "tui.screens.help", "tui.screens.approve",
    "tui.screens.tool_calls", "tui.screens.group_actions",
)
"""Modules only another subcommand, a key or a running task needs (search, import, a group's export, watch mode;
the stream worker, MCP servers, refusals; each dialog)."""

BEFORE_THE_APP_RUNS = f"""
import sys
from pathlib import Path
import tui.cli.main, tui.cli.app_command, tui.app.app, tui.cli.demo_on_demand
from tui.config import parse_config
from tui.engine import Engine
Engine(parse_config({{}}, Path("config.toml"), environ={{}}))
print(sorted(m for m in {LATER!r} if m in sys.modules))
"""


def test_agentdeck_imports_only_what_its_first_screen_needs() -> None:
    """What `agentdeck` imports before `App.run` delays its first frame; search, import and watch wait until asked."""
    result = subprocess.run([sys.executable, "-c", BEFORE_THE_APP_RUNS], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


COUNT_COLLECTIONS = """
import gc, sys
count = [0]
gc.callbacks.append(lambda phase, info: phase == "stop" and count.__setitem__(0, count[0] + 1))
from tui.cli import main
main(["config", "path"])
print(count[0], file=sys.stderr)
"""


def test_the_start_sets_off_almost_no_garbage_collection(tmp_path: Path) -> None:
    """Importing the command line made ~50 collections (~20 ms with the app's modules), each walking only modules."""
    env = {**os.environ, "AGENTDECK_CONFIG": str(tmp_path / "config.toml")}
    result = subprocess.run(
        [sys.executable, "-c", COUNT_COLLECTIONS], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stderr.strip()) < 10


@pytest.mark.slow
async def test_a_prompt_typed_right_after_start_runs_whole(demo_url: str) -> None:
    app = AgentDeckApp(demo_engine(demo_url), demo_notice=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello [[len:20]]", "enter")
        await wait_for(pilot, lambda: len(app.engine.tasks) == 1)
        (task,) = app.engine.tasks.values()
        assert task.prompt == "hello [[len:20]]"
        assert main_screen(app).prompt.text == ""
        await app.shutdown()


@pytest.mark.slow
async def test_the_footer_keys_follow_the_first_frame(demo_url: str) -> None:
    """The first frame goes out with an empty footer; its keys come a frame later, at full width (not compact)."""
    app = AgentDeckApp(demo_engine(demo_url), demo_notice=True)
    async with app.run_test(size=SIZE) as pilot:
        footer = main_screen(app).query_one(DeckFooter)

        def keys_mounted() -> bool:
            return app.first_frame_shown and bool(footer.children) and all(key.is_mounted for key in footer.children)

        await wait_for(pilot, keys_mounted)
        keys = {getattr(key, "description", ""): key for key in footer.children}
        assert {"Quit", "Help", "palette"} <= set(keys)
        assert not keys["Quit"].has_class("-compact") and keys["palette"].has_class("-compact")
        await app.shutdown()


@pytest.mark.slow
async def test_a_provider_chosen_at_once_is_the_one_the_provider_list_shows(demo_url: str) -> None:
    app = AgentDeckApp(demo_engine(demo_url), demo_notice=True)
    async with app.run_test(size=SIZE) as pilot:
        bar = main_screen(app).next_task
        bar.choose_provider("demo-responses")
        assert bar.provider.name == "demo-responses"
        await wait_for(pilot, lambda: [s.value for s in bar.query("#provider").results(Select)] == ["demo-responses"])
        assert bar.provider.name == "demo-responses" and not bar.query("#provider-pending")
        await pilot.press("enter")  # the prompt is empty: nothing runs, nothing breaks
        await app.shutdown()
