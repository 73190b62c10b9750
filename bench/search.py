"""Full-text search: 1,000 sessions / 50 MB of answers (100 / 5 MB with --quick) against grep, and index lag.

Each session holds 5 finished tasks of 10,000 characters of English prose
(Python's documentation, from a different place per task), written through
the store's batch writer. The index is built once (`search_index_build_s`),
then `search_p50_ms` times what `agentdeck search` does in-process: a
refresh that finds nothing changed (it stats every file) and a two-word
query (`default value`, found in most tasks: the ranking sees them all),
20 hits with their snippets. `search_vs_grep` divides that by `grep -ril`
for the first word over the same answers written out as one plain file per
task, timed alternately in the same run (warm cache both; one word is the
least grep can do, so the ratio flatters grep).
`index_lag_s`: a task streams from the demo server into a session saved as the
app saves it, while a thread refreshes and searches every 50 ms; from the
moment its answer holds the word in memory to the first search that finds
it there (the store's flush interval, 0.3 s, is part of it). The median of 3 (1 with --quick).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import bench_config, child_main, demo_server, isolated_home, median
from bench.store import prose

SESSIONS, QUICK_SESSIONS = 1_000, 100
TASKS_PER_SESSION = 5
TASK_CHARS = 10_000
QUERY = "default value"
LIMIT = 20
LAG_RUNS, QUICK_LAG_RUNS = 3, 1


def make_sessions(count: int) -> Path:
    """`count` sessions on disk; returns the folder where the same answers are written out as plain files."""
    from tui import paths
    from tui.store import SessionStore
    from tui.store.batch import Pending, write_batch
    from tui.store.schema import connect_writer

    plain = paths.data_dir() / "plain"
    plain.mkdir(parents=True)
    now = time.time()
    for number in range(count):
        store = SessionStore.open(f"bench-search-{number}")
        path = store.path
        store.close()
        batch = {}
        for task_id in range(1, TASKS_PER_SESSION + 1):
            answer = prose(TASK_CHARS, number * TASKS_PER_SESSION + task_id)
            (plain / f"{number}-{task_id}.txt").write_text(answer)
            prompt = f"question {task_id} of session {number}"
            batch[task_id] = Pending(
                inputs={"prompt": prompt, "provider": "demo", "model": "demo-chat", "api": "chat",
                        "created_at": now, "system": None, "attachments": [], "request_text": prompt,
                        "parent_id": None, "base_session": None},
                state={"status": "done", "started_at": now, "finished_at": now + 2, "prior_elapsed": 0.0,
                       "timeout": None, "error": None, "notice": None, "usage": None, "continuation_token": None,
                       "last_sequence": None},
                text=[answer],
            )
        conn = connect_writer(path)
        try:
            write_batch(conn, batch, {}, 1)
        finally:
            conn.close()
    return plain


def search_ms(index: Any) -> tuple[float, int]:
    started = time.perf_counter()
    index.refresh()
    hits = index.search(QUERY, limit=LIMIT)
    return (time.perf_counter() - started) * 1000, len(hits)


def grep_ms(plain: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["grep", "-ril", QUERY.split()[0], str(plain)], stdout=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - started) * 1000


async def _lag_once(index: Any, engine: Any, number: int) -> float:
    word = f"quetzal{number}"
    task = engine.add_task(f"{word} lag probe [[len:1500]][[delay:20]]")
    run = asyncio.create_task(engine.run_task(task))
    arrived = found = None
    while found is None and not run.done():
        if arrived is None and word in task.text:
            arrived = time.monotonic()
        fields = [hit.field for hit in await asyncio.to_thread(_refreshed, index, word)]
        if arrived is not None and fields == ["output"]:
            found = time.monotonic()
        await asyncio.sleep(0.05)
    await run
    if arrived is None or found is None:
        raise RuntimeError("the streamed answer was never found while it streamed")
    return found - arrived


def _refreshed(index: Any, query: str) -> list[Any]:
    index.refresh()
    return index.search(query)


async def index_lag(index: Any, runs: int) -> float:
    from tui.engine import Engine
    from tui.store import SessionStore

    with demo_server() as url:
        engine = Engine(bench_config(url, concurrency=4))
        store = SessionStore.open("bench-search-live")
        store.attach(engine)
        try:
            return median([await _lag_once(index, engine, number) for number in range(runs)])
        finally:
            await store.aclose()
            await engine.aclose()


def measure(quick: bool) -> dict[str, Any]:
    from tui.store.search_index import SearchIndex, index_file

    count = QUICK_SESSIONS if quick else SESSIONS
    reps = 5 if quick else 15
    if shutil.which("grep") is None:
        raise RuntimeError("search_vs_grep needs grep")
    with isolated_home():
        plain = make_sessions(count)
        with SearchIndex() as index:
            started = time.perf_counter()
            index.refresh()
            build = time.perf_counter() - started
            searches, greps, found = [], [], 0
            for _ in range(reps):
                elapsed, found = search_ms(index)
                searches.append(elapsed)
                greps.append(grep_ms(plain))
            refreshes = []
            for _ in range(reps):
                started = time.perf_counter()
                index.refresh()
                refreshes.append((time.perf_counter() - started) * 1000)
            lag = asyncio.run(index_lag(index, QUICK_LAG_RUNS if quick else LAG_RUNS))
            size = sum(path.stat().st_size for path in index_file().parent.iterdir())
    return {
        "search_p50_ms": round(median(searches), 1),
        "search_vs_grep": round(median(searches) / median(greps), 3),
        "index_lag_s": round(lag, 2),
        "search_grep_ms": round(median(greps), 1),
        "search_refresh_nothing_new_ms": round(median(refreshes), 1),
        "search_index_build_s": round(build, 1),
        "search_index_mb": round(size / 1e6, 1),
        "search_sessions": count,
        "search_text_mb": round(count * TASKS_PER_SESSION * TASK_CHARS / 1e6, 1),
        "search_hits": found,
    }


if __name__ == "__main__":
    child_main(measure)
