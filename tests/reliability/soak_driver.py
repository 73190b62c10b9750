"""A soak in its own process: tasks keep coming for a while; memory and open files are sampled.

`python -m tests.reliability.soak_driver --seconds S --base-url URL` runs an
engine with a `SessionStore` attached and a `SessionWatcher` following the same
session, against a demo server in another process. It keeps `--concurrency`
tasks streaming (both APIs, one in ten with an injected fault, some cancelled,
some timed out), removes finished tasks beyond the last 40 (as a user clears a
long-running deck), and prints one JSON line per second:
`{"t", "rss_kb", "fds", "blocks", "tasks_done", "held", "file_kb"}` (`blocks`: Python
objects' memory blocks after a collection), then `{"summary": ...}`.
With `--fast`, tasks are short and come as fast as they go, to make a leak per
task show within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import config_for
from tui.engine import Engine, Task
from tui.store import SessionStore, SessionWatcher
from tui.store.files import file_size

KEEP = 40
FAULTS = ["[[fault:500]]", "[[drop:3]]", "[[cut:4]]", "[[malformed:2]]", "[[fault:429]]"]


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def prompt(rng: random.Random, n: int, fast: bool = False) -> tuple[str, float | None]:
    if fast:  # short answers as fast as they go: many tasks, to make a per-task leak show
        return f"soak {n} [[len:300]][[delay:0]][[chunk:50]]" + (rng.choice(FAULTS) if rng.random() < 0.1 else ""), None
    size = rng.randint(1500, 6000)
    text = f"soak {n} [[len:{size}]][[delay:4]][[chunk:24]]"
    timeout = None
    roll = rng.random()
    if roll < 0.10:
        text += rng.choice(FAULTS)
    elif roll < 0.13:
        text, timeout = f"soak {n} slow [[len:20000]][[delay:20]]", 0.4
    return text, timeout


async def soak(seconds: float, base_url: str, concurrency: int, fast: bool = False) -> dict[str, object]:
    rng = random.Random(1127)
    engine = Engine(config_for(base_url, concurrency=concurrency, max_retries=0))
    store = SessionStore.open("soak")
    store.attach(engine)
    watcher = SessionWatcher.open("soak")
    watching = asyncio.create_task(watcher.run())
    statuses: Counter[str] = Counter()
    running: set[asyncio.Task[Task]] = set()
    started = time.monotonic()
    next_sample = started
    n = 0
    while time.monotonic() - started < seconds:
        while len(running) < concurrency:
            n += 1
            text, timeout = prompt(rng, n, fast)
            task = engine.add_task(text, provider=rng.choice(["chat", "resp"]), timeout=timeout)
            runner = engine.start(task)
            running.add(runner)
            if rng.random() < 0.03:
                asyncio.get_running_loop().call_later(0.2, engine.cancel, task.id)
        done, _ = await asyncio.wait(running, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
        for runner in done:
            running.discard(runner)
            if runner.cancelled():
                statuses["cancelled"] += 1
            elif runner.exception() is not None:
                statuses[f"error: {runner.exception()!r}"] += 1
            else:
                statuses[str(runner.result().status)] += 1
        kept = [task_id for task_id, task in engine.tasks.items() if task.status.is_final]
        for task_id in kept[: max(0, len(kept) - KEEP)]:  # the oldest finished ones
            engine.remove(task_id)
        if time.monotonic() >= next_sample:
            next_sample += 1.0
            gc.collect()
            sample = {"t": round(time.monotonic() - started, 1), "rss_kb": rss_kb(), "fds": open_fds(),
                      "blocks": sys.getallocatedblocks(),
                      "tasks_done": sum(statuses.values()), "held": len(engine.tasks),
                      "file_kb": file_size(store.path) // 1024, "watched": len(watcher.tasks)}
            print(json.dumps(sample), flush=True)
    await asyncio.gather(*running, return_exceptions=True)
    watching.cancel()
    await asyncio.gather(watching, return_exceptions=True)
    watcher.close()
    await engine.aclose()
    saved = await store.aclose()
    return {"statuses": dict(statuses), "saved": saved, "problem": store.problem, "tasks": n}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fast", action="store_true", help="short tasks as fast as they go")
    args = parser.parse_args()
    summary = asyncio.run(soak(args.seconds, args.base_url, args.concurrency, args.fast))
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
