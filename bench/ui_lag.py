"""Event-loop lag inside the real app while 50 tasks stream, against the idle app.

In a fresh process: `AgentDeckApp` under `run_test()` (headless, 160x48) with a
session store attached, as the app runs. A sampler on the app's own event loop
asks to be called every 10 ms and records how late each call comes
(actual - expected): every callback, message handler, refresh and stream
parse that holds the loop shows up as lag, which is what a key press would
wait for. First the idle app is sampled; then 50 tasks are submitted through
the main screen (the first one selected, so its pane is open and streaming)
from the demo server in its own process, paced at 10 ms per 12-character
chunk each, i.e. 5,000 chunks/s in total; once every task has text and a
ramp-up has passed, the loaded app is sampled.
The chunk rate actually delivered is reported too, and as a share of the
rate asked (`ui_delivered_ratio`). A second run does the same at the load an
operator typically sees: 10 streams at 60 chunks/s each
(`ui_lag_typical_p99_ms`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench.common import (
    all_streaming,
    bench_config,
    child_main,
    demo_server,
    interleaved_children,
    isolated_home,
    median,
    prompt,
    quantile,
)

CHUNK = 12
LOADS = {"heavy": (50, 10.0), "typical": (10, 1000 / 60)}
"""Load name -> (streams, ms between one stream's chunks): 50 × 100 = 5,000 chunks/s; 10 × 60 = 600."""
TICK_S = 0.01
SIZE = (160, 48)


class LagSampler:
    """Records how late a repeating 10 ms `call_at` fires on the running loop, in ms."""

    def __init__(self, interval: float = TICK_S) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._expected = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.samples = []
        self._schedule(self._loop.time())

    def stop(self) -> list[float]:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        return self.samples

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._expected = now + self.interval
        self._handle = self._loop.call_at(self._expected, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        self.samples.append(max(0.0, now - self._expected) * 1000.0)
        self._schedule(now)

    async def sample(self, seconds: float) -> list[float]:
        self.start()
        await asyncio.sleep(seconds)
        return self.stop()


async def _one_process(quick: bool, streams: int, delay_ms: float) -> dict[str, float]:
    from tui.app.app import AgentDeckApp
    from tui.engine import Engine, TaskStatus
    from tui.screens.main import MainScreen
    from tui.store import SessionStore

    idle_s, ramp_s, loaded_s = (3.0, 2.0, 6.0) if quick else (5.0, 3.0, 15.0)
    length = int((ramp_s + loaded_s + 30) * 1000 / delay_ms * CHUNK)  # outlasts the window
    sampler = LagSampler()
    with demo_server() as url:
        engine = Engine(bench_config(url, concurrency=streams))
        store = SessionStore.open("bench-ui-lag")
        store.attach(engine)
        app = AgentDeckApp(engine, session_name="bench-ui-lag")
        try:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause(0.5)
                screen = app.screen
                assert isinstance(screen, MainScreen), type(screen)
                await asyncio.to_thread(engine.prepare)  # the app's warm-up: the stream worker is up
                idle = await sampler.sample(idle_s)
                prompts = [prompt(i, length=length, chunk=CHUNK, delay_ms=delay_ms) for i in range(streams)]
                if not screen.submit(prompts):
                    raise RuntimeError("the main screen refused the prompts")
                tasks = list(engine.tasks.values())
                screen.table.focus()
                screen.table.select(tasks[0].id)
                await all_streaming(tasks)
                await asyncio.sleep(ramp_s)
                running = sum(t.status is TaskStatus.RUNNING for t in tasks)
                chars_before, started = sum(t.chars for t in tasks), time.monotonic()
                loaded = await sampler.sample(loaded_s)
                chars_after, elapsed = sum(t.chars for t in tasks), time.monotonic() - started
                pane_ids = screen.output.shown_ids
                failed = [t for t in tasks if t.status.is_final]
                await app.shutdown()
        finally:
            await store.aclose()
    if failed:
        raise RuntimeError(f"task {failed[0].id} ended {failed[0].status} during the run: {failed[0].error}")
    if running != streams or pane_ids != [tasks[0].id]:
        raise RuntimeError(f"only {running} of {streams} tasks running; panes on {pane_ids}")
    return {
        "idle_p99": quantile(idle, 0.99),
        "loaded_p99": quantile(loaded, 0.99),
        "loaded_max": max(loaded),
        "loaded_p50": quantile(loaded, 0.5),
        "chunks_per_s": (chars_after - chars_before) / CHUNK / elapsed,
        "asked_per_s": streams * 1000 / delay_ms,
    }


def _child(quick: bool) -> dict[str, Any]:
    streams, delay_ms = LOADS[sys.argv[sys.argv.index("--one") + 1]]
    with isolated_home():
        return asyncio.run(_one_process(quick, streams, delay_ms))


def measure(quick: bool) -> dict[str, Any]:
    both = interleaved_children("ui_lag", ["heavy", "typical"], quick=quick, reps=1 if quick else 3)
    runs, typical = both["heavy"], both["typical"]
    return {
        "ui_lag_p99_ms": round(median([r["loaded_p99"] for r in runs]), 2),
        "ui_lag_max_ms": round(median([r["loaded_max"] for r in runs]), 2),
        "ui_lag_idle_p99_ms": round(median([r["idle_p99"] for r in runs]), 2),
        "ui_lag_p50_ms": round(median([r["loaded_p50"] for r in runs]), 2),
        "ui_chunks_per_s": round(median([r["chunks_per_s"] for r in runs])),
        "ui_delivered_ratio": round(median([r["chunks_per_s"] / r["asked_per_s"] for r in runs]), 3),
        "ui_lag_typical_p99_ms": round(median([r["loaded_p99"] for r in typical]), 2),
        "ui_typical_delivered_ratio": round(median([r["chunks_per_s"] / r["asked_per_s"] for r in typical]), 3),
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
