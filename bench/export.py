"""Exporting a big session: 100,000 finished tasks (5,000 with --quick) against reading them with sqlite3.

The session is written straight through the store's batch writer, 1,000 tasks
per transaction, each with a 500-character demo answer and an agent session
state that repeats it (as a real chat task has). Each repetition exports to
/dev/null in this process, as `agentdeck export` writes a file, and reads the
same rows with `sqlite3` alone (the task rows and every text chunk, nothing
decoded); the two alternate, and the figure is the ratio of the medians.
With --quick the session has 5,000 tasks: `export_100k_s` then times those
(`export_tasks` says how many).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.common import child_main, finished_record, isolated_home, median

TASKS = 100_000
QUICK_TASKS = 5_000
BATCH = 1_000
NAME = "bench-export"


def make_session(count: int) -> Path:
    from tui.demo.script import expected_answer
    from tui.store import SessionStore
    from tui.store.batch import write_batch
    from tui.store.schema import connect_writer

    store = SessionStore.open(NAME)
    path = store.path
    store.close()
    conn = connect_writer(path)
    saved: dict[int, int] = {}
    now = time.time()
    try:
        for first in range(1, count + 1, BATCH):
            batch = {}
            for i in range(first, min(first + BATCH, count + 1)):
                prompt = f"exported task {i} [[len:500]]"
                answer = expected_answer(prompt)
                usage = {"input_tokens": 7, "output_tokens": 120}
                batch[i] = record = finished_record(i, prompt, answer, now, usage=usage)
                record.session_state = {"type": "session", "state": {"messages": [
                    {"role": "user", "contents": [{"type": "text", "text": prompt}]},
                    {"role": "assistant", "contents": [{"type": "text", "text": answer}]},
                ]}}
            write_batch(conn, batch, saved, first)
    finally:
        conn.close()
    return path


def export_seconds(fmt: str) -> float:
    from tui.store import export_pieces, write_private

    started = time.perf_counter()
    write_private(_sink(), export_pieces(NAME, fmt))
    return time.perf_counter() - started


def _sink() -> Path:
    """`agentdeck export -o FILE` writes a file beside the data (a temporary one, then renamed)."""
    return Path(os.environ["AGENTDECK_DATA_DIR"]) / "export.out"


def sqlite_seconds(path: Path) -> float:
    """Every row an export reads, fetched with sqlite3 and nothing else."""
    from tui.store.records import TASK_QUERY

    started = time.perf_counter()
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        for _ in conn.execute(f"{TASK_QUERY} ORDER BY t.id"):
            pass
        for _ in conn.execute("SELECT seq, task_id, start, text FROM output_chunks ORDER BY seq"):
            pass
    finally:
        conn.close()
    return time.perf_counter() - started


def measure(quick: bool) -> dict[str, Any]:
    count = QUICK_TASKS if quick else TASKS
    reps = 2 if quick else 3
    with isolated_home():
        path = make_session(count)
        exports: list[float] = []
        reads: list[float] = []
        for _ in range(reps):
            reads.append(sqlite_seconds(path))
            exports.append(export_seconds("json"))
        markdown = export_seconds("md")
        toml = export_seconds("toml")
        size = _sink().stat().st_size
    return {
        "export_100k_s": round(median(exports), 2),
        "export_100k_vs_sqlite": round(median(exports) / median(reads), 2),
        "export_sqlite_read_s": round(median(reads), 3),
        "export_md_s": round(markdown, 2),
        "export_toml_s": round(toml, 2),
        "export_tasks": count,
        "export_toml_mb": round(size / 1e6, 1),
    }


if __name__ == "__main__":
    child_main(measure)
