"""Resident memory growth per MB of output held by 50 finished tasks.

In a fresh process: the engine with a session store attached (as the app runs
it) first streams and removes a round of 50 tiny tasks, so imports, clients
and connection pools exist; then RSS is read, 50 tasks stream their answers
(12-character chunks, as from the demo server and real providers) to the end,
and RSS is read again with the tasks (and their text) still held. Growth ÷ MB
of text held is the figure (text is ASCII, so characters = bytes). Each
repetition is a separate process.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

from bench.common import (
    PROVIDER,
    bench_config,
    child_main,
    demo_server,
    isolated_home,
    median,
    prompt,
    rss_mb,
    run_child,
)

TASKS = 50
CHUNK = 12


async def _round(engine: Any, length: int, tag: int) -> list[Any]:
    from tui.engine import TaskStatus

    tasks = [engine.add_task(prompt(tag * 1000 + i, length=length, chunk=CHUNK), provider=PROVIDER)
             for i in range(TASKS)]
    await asyncio.gather(*(engine.start(t) for t in tasks))
    bad = [t for t in tasks if t.status is not TaskStatus.DONE]
    if bad:
        raise RuntimeError(f"task {bad[0].id} ended {bad[0].status}: {bad[0].error}")
    return tasks


async def _one_process(length: int) -> dict[str, float]:
    from tui.engine import Engine
    from tui.store import SessionStore

    with demo_server() as url:
        engine = Engine(bench_config(url, concurrency=TASKS))
        store = SessionStore.open("bench-memory")
        store.attach(engine)
        try:
            for task in await _round(engine, 240, 1):
                engine.remove(task.id)
            store.flush()
            gc.collect()
            before = rss_mb()
            tasks = await _round(engine, length, 3)
            store.flush()
            gc.collect()
            after = rss_mb()
            held_mb = sum(t.chars for t in tasks) / 1e6
            return {"growth_mb": after - before, "held_mb": held_mb, "rss_mb": after}
        finally:
            await engine.aclose()
            await store.aclose()


def _child(quick: bool) -> dict[str, Any]:
    length = 1_200 if quick else 9_600
    with isolated_home():
        return asyncio.run(_one_process(length))


def measure(quick: bool) -> dict[str, Any]:
    reps = 2 if quick else 3
    args = ["--one"] + (["--quick"] if quick else [])
    with demo_server():
        runs = [run_child("memory", args) for _ in range(reps)]
    ratios = [r["growth_mb"] / r["held_mb"] for r in runs]
    return {
        "rss_mb_per_output_mb": round(median(ratios), 3),
        "memory_output_mb": round(runs[0]["held_mb"], 1),
        "memory_rss_growth_mb": round(median([r["growth_mb"] for r in runs]), 1),
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
