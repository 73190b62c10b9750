"""Budgets over real HTTP: once the session has spent `budget_usd`, no task starts and running ones stop;
raising the budget lets queued tasks go."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import Input

from tests.app_helpers import SIZE, SharedDemoServer, submit, wait_for
from tests.conftest import config_for
from tests.test_cli_run import agentdeck
from tui.app.app import AgentDeckApp
from tui.config import parse_config
from tui.config_prices import PriceList, Prices
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus
from tui.screens.ask import AskScreen

DOLLAR_A_TOKEN = PriceList(Prices(input=0.0, output=1_000_000.0))
"""$1 per output token (the demo counts about four characters a token): budgets are reached in a few words."""


def priced_engine(demo_url: str, budget: float, *, concurrency: int = 1) -> Engine:
    config = config_for(demo_url, concurrency=concurrency, timeout=60)
    providers = {name: replace(p, prices=DOLLAR_A_TOKEN) for name, p in config.providers.items()}
    return Engine(config.with_overrides(providers=providers, budget_usd=budget))


async def test_a_spent_budget_keeps_the_next_task_queued_with_the_reason(demo_url: str) -> None:
    engine = priced_engine(demo_url, budget=50)
    engine.wait_for_budget = False
    first = engine.add_task("spend it [[len:400]][[delay:0]]")
    second = engine.add_task("too late [[len:400]][[delay:0]]")
    await asyncio.gather(engine.start(first), engine.start(second))
    await engine.aclose()
    assert first.status is TaskStatus.DONE and engine.cost_of(first) == 100
    assert second.status is TaskStatus.QUEUED and second.chars == 0 and second.started_at is None
    assert (second.notice or "").startswith("budget reached: $100.0000 spent of $50")


async def test_a_running_task_is_cancelled_once_its_estimate_reaches_the_budget(demo_url: str) -> None:
    engine = priced_engine(demo_url, budget=50)
    prompt = "long and costly [[len:3000]][[delay:20]]"
    task = engine.add_task(prompt)
    await asyncio.gather(engine.start(task), return_exceptions=True)
    await engine.aclose()
    assert task.status is TaskStatus.CANCELLED
    assert (task.error or "").startswith("budget reached")
    assert 200 <= task.chars < 3000 and task.text == expected_answer(prompt)[: task.chars]


async def test_raising_the_budget_lets_a_held_task_start(demo_url: str) -> None:
    engine = priced_engine(demo_url, budget=50)
    first = engine.add_task("spend it [[len:400]][[delay:0]]")
    await engine.run_task(first)
    held = engine.add_task("waits for money [[len:40]][[delay:0]]")
    runner = engine.start(held)
    await until(lambda: (held.notice or "").startswith("budget reached"))
    assert held.status is TaskStatus.QUEUED and not runner.done()
    engine.set_budget(500)
    await asyncio.wait_for(runner, 30)
    await engine.aclose()
    assert held.status is TaskStatus.DONE and held.notice is None
    assert held.text == expected_answer("waits for money [[len:40]][[delay:0]]")


async def test_a_task_back_from_a_rate_limit_wait_is_held_once_the_budget_is_spent(demo_url: str) -> None:
    engine = priced_engine(demo_url, budget=500, concurrency=2)
    first = engine.add_task("spend it [[len:400]][[delay:0]]")
    await engine.run_task(first)
    refused = engine.add_task("refused once [[fault:429]][[fail_times:1]][[retry_after:1]][[len:40]][[delay:0]]")
    runner = engine.start(refused)
    await until(lambda: "rate limited" in (refused.notice or ""))
    engine.set_budget(50)  # spent while it waited out the refusal
    await until(lambda: (refused.notice or "").startswith("budget reached"))
    await asyncio.sleep(1.5)
    assert refused.status is TaskStatus.QUEUED and refused.chars == 0 and not runner.done()
    engine.set_budget(None)
    await asyncio.wait_for(runner, 30)
    await engine.aclose()
    assert refused.status is TaskStatus.DONE


async def until(condition: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def test_budget_flag_ends_a_run_with_the_held_task_queued(tmp_path: Any) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[providers.demo]\nprice_input = 0\nprice_output = 1000000\n', encoding="utf-8")
    result = agentdeck("run", "--provider", "demo", "--concurrency", "1", "--budget-usd", "20",
                       "first [[len:200]][[delay:0]]", "second [[len:200]][[delay:0]]", "--json")
    assert result.returncode == 1, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    # The first overspends: it ends done, or `cancelled` by the budget's watch if it still runs a second after it began.
    assert first["status"] == "done" or (first["status"], first["error"][:14]) == ("cancelled", "budget reached")
    assert second["status"] == "queued"
    assert second["notice"].startswith("budget reached") and second["output"] == ""


async def test_set_budget_in_the_palette_lets_held_tasks_go(demo_url: str) -> None:
    raw = {"budget_usd": 50, "providers": {"demo": {"price_input": 0, "price_output": 1_000_000}}}
    config = parse_config(raw, Path("test-config.toml"), environ={})
    engine = Engine(config.with_overrides(default_provider="demo", concurrency=1),
                    local_server=SharedDemoServer(demo_url))
    app = AgentDeckApp(engine, demo_notice=True)
    async with app.run_test(size=SIZE) as pilot:
        first = await submit(app, pilot, "spend it [[len:400]][[delay:0]]")
        await wait_for(pilot, lambda: first.status is TaskStatus.DONE)
        held = await submit(app, pilot, "waits for money [[len:40]][[delay:0]]")
        await wait_for(pilot, lambda: (held.notice or "").startswith("budget reached"))
        assert held.status is TaskStatus.QUEUED
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Set budget")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*"1x", "enter")
        assert isinstance(app.screen, AskScreen) and held.status is TaskStatus.QUEUED  # explained, not taken
        app.screen.query_one(Input).value = "500"
        await pilot.press("enter")
        await wait_for(pilot, lambda: held.status is TaskStatus.DONE)
        assert engine.budget_usd == 500 and held.notice is None
        await app.shutdown()
