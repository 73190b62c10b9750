"""Reopening a saved session: 1,000 tasks / 50 MB against 10 tasks / 0.5 MB, to a usable screen.

The two session files are made once through the store's own import (a JSON
export of finished tasks, 50 KB of demo answer text each; 5 KB with --quick). Each measurement is
a fresh process that first imports everything (not timed: start-up has its
own metric), then times, as `agentdeck open NAME` does it: open the session
(`SessionStore.open`), give its tasks to a new engine, start `AgentDeckApp`
(headless, 160x48) and wait for the first frame that shows every task's row
and the selected task's pane. The ratio of the medians is the figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import bench_config, child_main, isolated_home, median, run_child

TASK_CHARS = 50_000
QUICK_TASK_CHARS = 5_000
SIZE = (160, 48)


def _document(name: str, count: int, chars: int) -> dict[str, Any]:
    from tui.demo.script import expected_answer

    now = time.time()
    tasks = []
    for i in range(1, count + 1):
        text = f"saved task {i}: a question worth a long answer [[len:{chars}]]"
        tasks.append({
            "id": i, "prompt": text, "status": "done", "provider": "demo", "model": "demo-chat", "api": "chat",
            "created_at": now - 3600 + i, "started_at": now - 3600 + i, "finished_at": now - 3000 + i,
            "output": expected_answer(text),
        })
    return {"session": {"format": "agentdeck-session", "version": 1, "name": name, "created_at": now - 3600},
            "tasks": tasks}


def make_session(name: str, count: int, workdir: Path, chars: int = TASK_CHARS) -> None:
    from tui.store import import_file

    source = workdir / f"{name}.json"
    source.write_text(json.dumps(_document(name, count, chars)))
    imported, n = import_file(source, name)
    source.unlink()
    if imported != name or n != count:
        raise RuntimeError(f"import made {imported!r} with {n} tasks")


async def _open_to_first_frame(name: str) -> float:
    from textual.app import App

    from tui.app.app import AgentDeckApp
    from tui.engine import Engine
    from tui.screens.main import MainScreen
    from tui.store import SessionStore

    frames: list[float] = []
    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is not None and isinstance(screen, MainScreen):
            frames.append(time.perf_counter())

    App._display = display  # type: ignore[method-assign]
    started = time.perf_counter()
    store = SessionStore.open(name)
    engine = Engine(bench_config("http://127.0.0.1:9/v1", concurrency=4))
    store.attach(engine)
    app = AgentDeckApp(engine, session_name=name)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, MainScreen)
            expected = len(store.tasks)
            while not (screen.table.row_count == expected and _pane_filled(screen)):
                if time.perf_counter() - started > 120:
                    raise RuntimeError(f"{screen.table.row_count} rows of {expected} after 120 s")
                await pilot.pause(0.005)
            ready, mark = time.perf_counter(), len(frames)
            # The first frame painted once every row and the pane are in place.
            while len(frames) == mark and time.perf_counter() - ready < 1.0:
                await pilot.pause(0.005)
            elapsed = (frames[mark] if len(frames) > mark else ready) - started
            await app.shutdown()
    finally:
        await store.aclose()
        App._display = original  # type: ignore[method-assign]
    return elapsed


def _pane_filled(screen: Any) -> bool:
    """The selected task's pane shows its text (Markdown blocks mounted, or raw lines loaded)."""
    from textual.widgets import Markdown

    from tui.widgets.output_pane import OutputPane
    from tui.widgets.raw_body import RawBody

    if not screen.output.shown_ids:
        return False
    pane = screen.output.query_one(OutputPane)
    raws = pane.query(RawBody)
    if raws:
        return bool(raws.first().text)
    markdowns = pane.query(Markdown)
    return bool(markdowns) and len(markdowns.first().children) > 0


def _child(quick: bool) -> dict[str, Any]:
    name = sys.argv[sys.argv.index("--open") + 1]
    # Warm every import first: start-up is measured elsewhere.
    from textual.widgets import Markdown  # noqa: F401

    import tui.app.app  # noqa: F401
    import tui.screens.main  # noqa: F401
    import tui.store  # noqa: F401

    return {"seconds": asyncio.run(_open_to_first_frame(name))}


def measure(quick: bool) -> dict[str, Any]:
    reps = 2 if quick else 4
    with isolated_home() as home:
        chars = QUICK_TASK_CHARS if quick else TASK_CHARS
        make_session("bench-small", 10, home, chars)
        make_session("bench-large", 1000, home, chars)
        large_mb = Path(os.environ["AGENTDECK_DATA_DIR"], "sessions", "bench-large.sqlite").stat().st_size / 1e6
        small: list[float] = []
        large: list[float] = []
        for rep in range(reps):
            pair = [("bench-small", small), ("bench-large", large)]
            for name, into in pair if rep % 2 == 0 else pair[::-1]:
                into.append(run_child("reopen", ["--one", "--open", name])["seconds"])
    return {
        "reopen_1000_vs_10": round(median(large) / median(small), 3),
        "reopen_1000_s": round(median(large), 3),
        "reopen_10_s": round(median(small), 3),
        "reopen_file_mb": round(large_mb, 1),
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
