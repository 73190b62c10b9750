"""The monkey test: thousands of random keys in random states must never break the app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.monkey import COMPARE_KEYS, PROMPTS, SIZES, TOOL_PROMPTS, VIEW_KEYS, Monkey, app_in_state

STATES = ["empty", "busy", "ended", "watch", "tools", "group"]


async def _drive(seed: int, state: str, steps: int, demo_url: str, tmp_path: Path) -> None:
    monkey = Monkey(seed)
    if state == "tools":
        monkey.prompts = TOOL_PROMPTS * 2 + PROMPTS
    if state == "group":
        monkey.view_keys = VIEW_KEYS + COMPARE_KEYS
    size = monkey.rng.choice(SIZES)
    try:
        async with app_in_state(state, demo_url, tmp_path, size) as (app, pilot):
            await monkey.run(app, pilot, steps)
    except AssertionError:
        raise
    except Exception as exc:  # run_test re-raises what broke the app when it closes
        raise AssertionError(monkey.failure(app, exc)) from exc


@pytest.mark.slow
@pytest.mark.parametrize("state", STATES)
async def test_a_short_monkey_run_breaks_nothing(state: str, demo_url: str, tmp_path: Path) -> None:
    await _drive(seed=STATES.index(state) + 1, state=state, steps=100, demo_url=demo_url, tmp_path=tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", range(100, 104))
async def test_a_long_monkey_run_breaks_nothing(seed: int, demo_url: str, tmp_path: Path) -> None:
    steps = int(os.environ.get("AGENTDECK_MONKEY_STEPS", "300"))
    await _drive(seed=seed, state=STATES[seed % len(STATES)], steps=steps, demo_url=demo_url, tmp_path=tmp_path)
