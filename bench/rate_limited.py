"""A batch against a strict provider: 4 streams at once, 429 (Retry-After: 1) beyond.

`rate_limited_batch_ratio` = the batch's wall time ÷ the ideal: tasks ÷ 4 lanes × one
task's time, where one task's time is measured in the same run as 4 tasks streaming at
once without any refusal. Each batch's engine starts its stream worker and runs one short
task before the clock starts, as a session's engine has, or the ideal would count a worker
start and a first connection per 4 tasks.
The engine is not told the provider's limit (global concurrency 16, no per-provider
`concurrency`): its lanes must learn it from the 429s.
Every task must end `done`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from dataclasses import replace
from typing import Any

from bench.common import PROVIDER, ServerProcess, bench_config, child_main, isolated_home, median, prompt

LANES = 4
LENGTH = 600
DELAY_MS = 10.0
"""50 chunks of 12 characters, 10 ms apart: about half a second per task."""


def _config(base_url: str, concurrency: int) -> Any:
    config = bench_config(base_url, concurrency=concurrency)
    providers = dict(config.providers)
    providers[PROVIDER] = replace(providers[PROVIDER], max_retries=10)
    return config.with_overrides(providers=providers)


async def _batch(base_url: str, count: int, concurrency: int, first: int) -> float:
    """Wall time of `count` tasks run together; raises unless every one ends done."""
    from tui.engine import Engine, TaskStatus

    engine = Engine(_config(base_url, concurrency))
    try:
        await engine.clients.sdk_client(engine.config.provider(PROVIDER))
        await asyncio.to_thread(engine.prepare)
        await engine.run_task(engine.add_task(prompt(first + count, length=12), provider=PROVIDER))
        tasks = [
            engine.add_task(prompt(first + i, length=LENGTH, delay_ms=DELAY_MS), provider=PROVIDER)
            for i in range(count)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(engine.start(task) for task in tasks))
        elapsed = time.perf_counter() - started
        bad = [task for task in tasks if task.status is not TaskStatus.DONE]
        if bad:
            raise RuntimeError(f"{len(bad)} tasks not done; task {bad[0].id} ended {bad[0].status}: {bad[0].error}")
        return elapsed
    finally:
        await engine.aclose()


def _stats(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_demo/stats", timeout=10) as answer:
        return dict(json.load(answer))


def measure(quick: bool) -> dict[str, Any]:
    count = 40 if quick else 200
    with isolated_home(), ServerProcess("--max-streams-per-model", str(LANES)) as url:
        asyncio.run(_batch(url, LANES, LANES, 0))  # warm-up: imports, first connections
        one_task = median([asyncio.run(_batch(url, LANES, LANES, 100 * (rep + 1))) for rep in range(3)])
        before = _stats(url)
        wall = asyncio.run(_batch(url, count, 16, 10_000))
        after = _stats(url)
    refused = after["rate_limited_by_model"].get("demo-chat", 0) - before["rate_limited_by_model"].get("demo-chat", 0)
    ideal = count / LANES * one_task
    print(f"{count} tasks in {wall:.2f} s; ideal {ideal:.2f} s; {refused} refused with 429", file=sys.stderr)
    return {
        "rate_limited_batch_ratio": round(wall / ideal, 3),
        "rate_limited_tasks": count,
        "rate_limited_429s": refused,
        "rate_limited_task_s": round(one_task, 3),
    }


if __name__ == "__main__":
    child_main(measure)
