"""Session store: bytes written per byte of streamed text, and reopen time of a large session.

Streams are driven through a real `SessionStore` (the engine's events, the
writer thread, SQLite in WAL mode), one flush per 0.5 s of simulated text, so
a 1,000 s stream costs seconds. Three byte counts, each divided by the text:
- `file`: the session file after close (what stays on disk);
- `writes`: bytes this process handed to write(2) (WAL frames and checkpoints);
- `disk`: bytes the kernel sent to storage (`write_bytes`; block-granular).
Reopen: a session of 1,000 finished tasks, 50 KB of text each (written twenty
at a time, as a real run interleaves them), opened for writing and for watching.

The store compresses text, so what is streamed matters. `prose` is English
technical text (Python's own documentation, from a different place per
task), which zlib shrinks about as much as model answers. `words` draws its
words at random from the same text: no phrase ever repeats, the pessimistic
case. The demo server's answers are built from a few dozen phrases and
compress far better, which would flatter the figures (ratios in
docs/performance.md).
"""

from __future__ import annotations

import functools
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import child_main, isolated_home, median

Text = Callable[[int, int], str]
"""(length, seed) -> that many characters of text, different per seed."""


@functools.cache
def _corpus() -> str:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))


def prose(length: int, seed: int) -> str:
    """English prose with code examples, starting at a different place for each seed."""
    corpus = _corpus()
    start = seed * 7919 % len(corpus)
    return (corpus[start:] + corpus * (length // len(corpus) + 1))[:length]


def words(length: int, seed: int) -> str:
    """Words of the same prose in random order: English-like, but no phrase repeats."""
    vocabulary = re.findall(r"[A-Za-z']+[.,;:]?", _corpus())
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < length:
        parts.append(rng.choice(vocabulary))
        size += len(parts[-1]) + 1
    return " ".join(parts)[:length]


def _io() -> tuple[int, int]:
    """Bytes this process has written (`wchar`) and the disk has taken (`write_bytes`), the page cache synced first."""
    os.sync()
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["wchar"]), int(fields["write_bytes"])


def _tell(store: Any, tasks: list[Any], kind: Any) -> None:
    """Give the store an event of this kind for each task, as the engine would after changing them."""
    from tui.engine import TaskEvent

    for task in tasks:
        store._on_event(TaskEvent(kind, task))


def stream(name: str, tasks: int, chars_per_task: int, per_flush: int, text: Text = prose) -> dict[str, float]:
    """Amplification of `tasks` streams growing by `per_flush` characters each per flush."""
    from tui.config import parse_config
    from tui.engine import Engine, EventKind, TaskStatus
    from tui.store import SessionStore
    from tui.store.files import file_size

    engine = Engine(parse_config({}, Path("bench.toml"), environ={}))
    store = SessionStore.open(name)
    store.attach(engine)
    running = [engine.add_task(f"prompt {i}") for i in range(tasks)]
    answers = {task.id: text(chars_per_task, task.id) for task in running}
    for task in running:
        task.status, task.started_at = TaskStatus.RUNNING, time.time()
    _tell(store, running, EventKind.STATUS)
    store.flush()
    writes, disk = _io()
    written = 0
    while written < chars_per_task:
        step = min(per_flush, chars_per_task - written)
        for task in running:
            task.output.append(answers[task.id][written : written + step])
        _tell(store, running, EventKind.PROGRESS)
        store.flush()
        written += step
    for task in running:
        task.status, task.finished_at = TaskStatus.DONE, time.time()
    _tell(store, running, EventKind.STATUS)
    store.close()
    writes_after, disk_after = _io()
    size = sum(len(answer.encode("utf-8")) for answer in answers.values())
    return {
        "file": round(file_size(store.path) / size, 2),
        "writes": round((writes_after - writes) / size, 2),
        "disk": round((disk_after - disk) / size, 2),
        "flushes": -(-chars_per_task // per_flush),
    }


def build_large(tasks: int, chars_per_task: int) -> Path:
    """A session as a long run leaves it, written straight through the batch writer."""
    from tui.engine import Task, TaskStatus
    from tui.store import SessionStore
    from tui.store.batch import Pending, write_batch
    from tui.store.records import capture_inputs, capture_state
    from tui.store.schema import connect_writer

    store = SessionStore.open("large")
    store.close()
    conn = connect_writer(store.path)
    chars: dict[int, int] = {}
    rev = 0
    piece = prose(730, 0)
    for first in range(1, tasks + 1, 20):
        ids = range(first, min(first + 20, tasks + 1))
        rev += 1
        write_batch(conn, {i: Pending(capture_inputs(Task(i, f"prompt {i}", "demo", "demo-chat", "chat")))
                           for i in ids}, chars, rev)
        for _ in range(chars_per_task // len(piece)):
            rev += 1
            write_batch(conn, {i: Pending(text=[piece]) for i in ids}, chars, rev)
        done = {}
        for i in ids:
            task = Task(i, "", "demo", "demo-chat", "chat", status=TaskStatus.DONE, started_at=1.0, finished_at=2.0)
            history = {"state": {"in_memory": {"messages": [{"role": "assistant", "text": piece * 70}]}}}
            done[i] = Pending(state=capture_state(task), session_state=history)
        rev += 1
        write_batch(conn, done, chars, rev)
    conn.close()
    return store.path


def reopen(repetitions: int) -> dict[str, Any]:
    from tui.store import SessionStore, SessionWatcher, list_sessions
    from tui.store.files import file_size

    path = build_large(1000, 50_000)
    opens, watches, lists, texts = [], [], [], []
    for _ in range(repetitions):
        started = time.perf_counter()
        store = SessionStore.open("large")
        opens.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.tasks[500].output.text()
        texts.append(time.perf_counter() - started)
        store.close()
        started = time.perf_counter()
        SessionWatcher.open("large").close()
        watches.append(time.perf_counter() - started)
        started = time.perf_counter()
        list_sessions()
        lists.append(time.perf_counter() - started)
    return {
        "size_mb": round(file_size(path) / 1e6, 1),
        "open_ms": round(median(opens) * 1000, 1),
        "watch_open_ms": round(median(watches) * 1000, 1),
        "list_ms": round(median(lists) * 1000, 1),
        "one_text_ms": round(median(texts) * 1000, 1),
    }


def measure(quick: bool) -> dict[str, Any]:
    with isolated_home():
        scale = 10 if quick else 1
        return {
            "metric": "store",
            "fast_1mb": stream("fast", 1, 1_000_000 // scale, 100_000 // scale),
            "slow_1mb_500_per_flush": stream("slow", 1, 1_000_000 // scale, 500),
            "twenty_tasks_50_per_flush": stream("twenty", 20, 50_000 // scale, 50),
            "twenty_tasks_1mb_4kb_per_flush": stream("bulk", 20, 1_000_000 // scale, 4096),
            "twenty_tasks_1mb_4kb_per_flush_words": stream("bulk-words", 20, 1_000_000 // scale, 4096, words),
            "reopen_1000_tasks_50mb": reopen(1 if quick else 5),
        }


if __name__ == "__main__":
    child_main(measure)
