"""Resident memory: growth per MB of long answers held, and per finished task held.

Two figures, each measured in fresh processes with the engine and a session
store attached (as the app runs them), after a warm-up round of 50 tiny tasks
(streamed and removed) so imports, clients and connection pools exist:

- `rss_mb_per_output_mb`: 50 tasks stream 200 KB answers each (10 MB held;
  20 KB each with `--quick`) in 12-character chunks, as from the demo server
  and real providers, and stay held. RSS growth ÷ MB of text held (ASCII, so
  characters = bytes). Long answers: what the text itself costs.
- `rss_kb_per_task`: 2,000 short tasks (240 characters; 400 with `--quick`)
  run to the end in one session and stay held, as after weeks of use. RSS
  growth ÷ tasks: the fixed cost of a finished task.

Streams are read in the stream worker process (the default `streams =
"process"`): `worker_rss_mb_per_output_mb` and `worker_rss_kb_per_task` are the
same figures for its RSS (from /proc/PID/status), the SDK's side of the work.
Both readings are taken once the worker has been idle for `SETTLED_S`: an idle
worker hands its free heap back to the system (`release_free_heap`), so what
is read is what it holds, not the high-water mark of the streams just ended.
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
    interleaved_children,
    isolated_home,
    median,
    prompt,
    rss_mb,
)

CONCURRENCY = 50
SETTLED_S = 0.5
CHUNK = 12
SHORT = 240


async def _round(engine: Any, count: int, length: int, tag: int) -> list[Any]:
    """Run `count` tasks of `length` characters to the end, `CONCURRENCY` at a time."""
    from tui.engine import TaskStatus

    tasks = [engine.add_task(prompt(tag * 100_000 + i, length=length, chunk=CHUNK), provider=PROVIDER)
             for i in range(count)]
    for start in range(0, count, CONCURRENCY):
        batch = tasks[start:start + CONCURRENCY]
        await asyncio.gather(*(engine.start(t) for t in batch))
    bad = [t for t in tasks if t.status is not TaskStatus.DONE]
    if bad:
        raise RuntimeError(f"task {bad[0].id} ended {bad[0].status}: {bad[0].error}")
    return tasks


async def _one_process(count: int, length: int) -> dict[str, float]:
    from tui.engine import Engine
    from tui.store import SessionStore

    with demo_server() as url:
        engine = Engine(bench_config(url, concurrency=CONCURRENCY))
        store = SessionStore.open("bench-memory")
        store.attach(engine)
        try:
            for task in await _round(engine, CONCURRENCY, SHORT, 1):
                engine.remove(task.id)
            store.flush()
            gc.collect()
            await asyncio.sleep(SETTLED_S)
            worker = engine.clients.worker.pid if engine.clients.worker else None  # the default: streams read there
            before, worker_before = rss_mb(), _rss_mb_of(worker)
            tasks = await _round(engine, count, length, 3)
            store.flush()
            gc.collect()
            await asyncio.sleep(SETTLED_S)
            after, worker_after = rss_mb(), _rss_mb_of(worker)
            held_mb = sum(t.chars for t in tasks) / 1e6
            return {
                "growth_mb": after - before, "held_mb": held_mb, "tasks": len(tasks), "rss_mb": after,
                "worker_growth_mb": worker_after - worker_before,
            }
        finally:
            await engine.aclose()
            await store.aclose()


def _rss_mb_of(pid: int | None) -> float:
    """Resident set size of another process (the stream worker) in MB; 0 without one."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/status") as status:
        kilobytes = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kilobytes / 1000


def _child(quick: bool) -> dict[str, Any]:
    kind = sys.argv[sys.argv.index("--one") + 1]
    if kind == "long":
        count, length = CONCURRENCY, (20_000 if quick else 200_000)
    else:
        count, length = (400 if quick else 2_000), SHORT
    with isolated_home():
        return asyncio.run(_one_process(count, length))


def measure(quick: bool) -> dict[str, Any]:
    runs = interleaved_children("memory", ["long", "short"], quick=quick, reps=1 if quick else 2)
    long_runs, short_runs = runs["long"], runs["short"]
    return {
        "rss_mb_per_output_mb": round(median([r["growth_mb"] / r["held_mb"] for r in long_runs]), 3),
        "rss_kb_per_task": round(median([r["growth_mb"] * 1000 / r["tasks"] for r in short_runs]), 2),
        "worker_rss_mb_per_output_mb": round(median([r["worker_growth_mb"] / r["held_mb"] for r in long_runs]), 3),
        "worker_rss_kb_per_task": round(median([r["worker_growth_mb"] * 1000 / r["tasks"] for r in short_runs]), 2),
        "memory_output_mb": round(long_runs[0]["held_mb"], 1),
        "memory_rss_growth_mb": round(median([r["growth_mb"] for r in long_runs]), 1),
        "memory_short_tasks": short_runs[0]["tasks"],
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
