"""The task table at scale: a session of 10,000 tasks, scrolled while 20 stream; filter and sort.

The session is made once through the store's own import (10,000 finished
tasks, 300-character answers). Each measurement is a fresh process that opens
it as `agentdeck open NAME` does (`SessionStore.open`, a new engine,
`AgentDeckApp` headless at 160x48), then:

- `table_10k_frame_ms`: p99 of the time the app spends producing a frame
  (`Screen._on_timer_update`: layout, compositing and output of what changed)
  while the cursor moves down a row every 20 ms and a page every 200 ms, and
  20 new tasks stream from the demo server (in its own process) at 60
  chunks/s each. `table_10k_tick_ms` (context) is p99 of the screen's table
  tick (`sync` of the rows that changed), the other work a frame waits on;
  `table_10k_frames` and `table_10k_frame_p50_ms` (context) say how many frames
  the scrolling window got and what a typical one cost: a loop kept busy by
  each row the cursor passes makes few frames, and p99 of few is their worst.
- `table_10k_filter_ms` / `table_10k_sort_ms`: median time from setting the
  table's filter (done tasks) or sort (by characters) to the end of the next
  frame, over alternating settings.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    all_streaming,
    bench_config,
    child_main,
    demo_server,
    isolated_home,
    median,
    prompt,
    quantile,
    run_child,
)

ROWS = 10_000
STREAMS = 20
SIZE = (160, 48)
ANSWER_CHARS = 300


class FrameClock:
    """Times every frame the current screen produces (and any other method wrapped the same way)."""

    def __init__(self) -> None:
        self.durations: dict[str, list[float]] = {}
        self.frame_ends: list[float] = []
        self._restore: list[tuple[type, str, Callable[..., Any]]] = []

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)
        into = self.durations.setdefault(name, [])
        ends = self.frame_ends if name == "_on_timer_update" else None

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                done = time.perf_counter()
                into.append((done - started) * 1000)
                if ends is not None:
                    ends.append(done)

        setattr(owner, name, timed)
        self._restore.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)

    async def next_frame_after(self, mark: float, limit_s: float = 5.0) -> float:
        deadline = time.perf_counter() + limit_s
        while not (self.frame_ends and self.frame_ends[-1] > mark):
            if time.perf_counter() > deadline:
                raise RuntimeError("no frame within 5 s")
            await asyncio.sleep(0.001)
        return next(end for end in self.frame_ends if end > mark)


async def _one_process(name: str, quick: bool) -> dict[str, float]:
    from textual.screen import Screen

    from tui.app.app import AgentDeckApp
    from tui.engine import Engine
    from tui.screens.main import MainScreen
    from tui.store import SessionStore
    from tui.widgets.task_rows import TaskFilter, TaskSort

    scroll_s = 4.0 if quick else 10.0
    clock = FrameClock()
    clock.wrap(Screen, "_on_timer_update")  # before the app starts: its timers hold the bound methods
    clock.wrap(MainScreen, "_tick_table")
    with demo_server() as url:
        store = SessionStore.open(name)
        engine = Engine(bench_config(url, concurrency=STREAMS))
        store.attach(engine)
        app = AgentDeckApp(engine, session_name=name)
        try:
            async with app.run_test(size=SIZE) as pilot:
                screen = app.screen
                assert isinstance(screen, MainScreen), type(screen)
                while screen.table.row_count < ROWS:
                    await pilot.pause(0.05)
                table = screen.table
                filter_ms, sort_ms = [], []
                for attempt in range(3 if quick else 5):
                    for setting, into in (("filter", filter_ms), ("sort", sort_ms)):
                        started = time.perf_counter()
                        if setting == "filter":
                            table.task_filter = TaskFilter.DONE if attempt % 2 == 0 else TaskFilter.ALL
                        else:
                            table.task_sort = TaskSort.CHARS if attempt % 2 == 0 else TaskSort.ID
                        into.append((await clock.next_frame_after(started) - started) * 1000)
                        await pilot.pause(0.1)
                table.task_filter, table.task_sort = TaskFilter.ALL, TaskSort.ID
                length = int((scroll_s + 30) * 60 * 12)
                if not screen.submit([prompt(i, length=length, delay_ms=1000 / 60) for i in range(STREAMS)]):
                    raise RuntimeError("the main screen refused the prompts")
                streams = [task for task in engine.tasks.values() if task.id > ROWS]
                await all_streaming(streams)
                table.focus()
                table.action_first()
                for durations in clock.durations.values():
                    durations.clear()
                ends = time.perf_counter() + scroll_s
                step = 0
                while time.perf_counter() < ends:
                    table.action_page(1) if step % 10 == 9 else table.action_cursor(1)
                    step += 1
                    await asyncio.sleep(0.02)
                frames = list(clock.durations["_on_timer_update"])
                ticks = list(clock.durations["_tick_table"])
                streaming = sum(not task.status.is_final for task in streams)
                await app.shutdown()
        finally:
            clock.restore()
            await engine.aclose()
            await store.aclose()
    if streaming != STREAMS:
        raise RuntimeError(f"only {streaming} of {STREAMS} tasks streamed while scrolling")
    return {
        "frame_p99": quantile(frames, 0.99),
        "frame_p50": median(frames),
        "frames": len(frames),
        "tick_p99": quantile(ticks, 0.99),
        "filter_ms": median(filter_ms),
        "sort_ms": median(sort_ms),
    }


def _child(quick: bool) -> dict[str, Any]:
    name = sys.argv[sys.argv.index("--open") + 1]
    return asyncio.run(_one_process(name, quick))


def measure(quick: bool) -> dict[str, Any]:
    from bench.reopen import make_session

    reps = 1 if quick else 3
    with isolated_home() as home, demo_server():
        make_session("bench-10k", ROWS, home, ANSWER_CHARS)
        runs = [run_child("table", ["--one", "--open", "bench-10k", *(["--quick"] if quick else [])])
                for _ in range(reps)]
    return {
        "table_10k_frame_ms": round(median([r["frame_p99"] for r in runs]), 2),
        "table_10k_filter_ms": round(median([r["filter_ms"] for r in runs]), 2),
        "table_10k_sort_ms": round(median([r["sort_ms"] for r in runs]), 2),
        "table_10k_tick_ms": round(median([r["tick_p99"] for r in runs]), 2),
        "table_10k_frame_p50_ms": round(median([r["frame_p50"] for r in runs]), 2),
        "table_10k_frames": runs[0]["frames"],
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
