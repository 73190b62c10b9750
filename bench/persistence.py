"""Write amplification of the session store: bytes written to the session's files ÷ bytes of text.

In a fresh process, 20 tasks stream 1 MB each (128 KB with --quick) through the
real engine with a `SessionStore` attached, from the demo server in its own
process. Bytes written are what this process passed to write()/pwrite() from
opening the store to closing it (`wchar` in /proc/self/io): the main file,
its WAL (including the final checkpoint at close) and the lock file. Nothing
else in the process writes to disk meanwhile; the server's writes are in its
own process. They are counted before the engine closes: Linux adds a child's
writes to its parent's once it is reaped, and the stream worker writes every
chunk to its pipe. Text bytes are the UTF-8 size of all output (ASCII here).

Two rates: `write_amplification` streams as fast as the client goes (large
flushes, the bulk case the goal is about); `write_amplification_live` streams
20 tasks at a model-like 1,200 characters/s each, where every flush carries
little text and fixed per-transaction costs show.

The store compresses text, and the demo server's answers (a few dozen
phrases) compress far better than real answers. Context figures keep the
result honest: `write_text_compression` (text bytes ÷ bytes stored for them
in the bulk run) and `write_amplification_words`, the bulk sizes streamed
straight into a `SessionStore` (4 KB per task per flush, no server) as random
English words, which compress worse than model output (see `bench.store.words`);
`write_amplification_live_words` is the live case so (360 characters per task
per flush). `write_live_transactions_per_s` is the live run's commits per second.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench.common import (
    PROVIDER,
    bench_config,
    child_main,
    demo_server,
    isolated_home,
    median,
    process_writes,
    prompt,
    run_child,
)

TASKS = 20


async def _stream(length: int, chunk: int, delay_ms: float, tag: str) -> dict[str, float]:
    from tui.engine import Engine, TaskStatus
    from tui.store import SessionStore

    with demo_server() as url:
        engine = Engine(bench_config(url, concurrency=TASKS))
        # Warm up clients and imports before counting.
        warm = engine.add_task(prompt(0, length=200), provider=PROVIDER)
        await engine.start(warm)
        engine.remove(warm.id)
        before = process_writes()
        store = SessionStore.open(f"bench-writes-{tag}")
        store.attach(engine)
        started = time.monotonic()
        try:
            tasks = [engine.add_task(prompt(i + 1, length=length, chunk=chunk, delay_ms=delay_ms), provider=PROVIDER)
                     for i in range(TASKS)]
            await asyncio.gather(*(engine.start(t) for t in tasks))
            seconds = time.monotonic() - started
        finally:
            closed_ok = await store.aclose()
            # Counted before the engine closes: a reaped child's writes (the stream worker's pipe) join ours.
            written = process_writes() - before
            await engine.aclose()
    bad = [t for t in tasks if t.status is not TaskStatus.DONE]
    if bad or not closed_ok:
        raise RuntimeError(f"task {bad[0].id} ended {bad[0].status}" if bad else "the store did not save everything")
    text_bytes = sum(len(t.text.encode("utf-8")) for t in tasks)
    return {"written": written, "text": text_bytes, "transactions": store.stats.transactions,
            "stored": store.stats.stored_bytes, "seconds": seconds}


def _child(quick: bool) -> dict[str, Any]:
    live = "--live" in sys.argv[1:]
    with isolated_home():
        if "--words" in sys.argv[1:]:
            from bench.store import stream, words

            if live:
                return stream("bench-writes-live-words", TASKS, (6 if quick else 15) * 1200, 360, words)
            return stream("bench-writes-words", TASKS, 128_000 if quick else 1_000_000, 4096, words)
        if live:
            seconds = 6 if quick else 15
            return asyncio.run(_stream(int(seconds * 1200), 12, 10.0, "live"))
        return asyncio.run(_stream(128_000 if quick else 1_000_000, 1024, 0.0, "bulk"))


def measure(quick: bool) -> dict[str, Any]:
    reps = 1 if quick else 3
    flags = ["--quick"] if quick else []
    with demo_server():
        bulk = [run_child("persistence", ["--one", *flags]) for _ in range(reps)]
        live = [run_child("persistence", ["--one", "--live", *flags]) for _ in range(1 if quick else 2)]
    words = run_child("persistence", ["--one", "--words", *flags])
    live_words = run_child("persistence", ["--one", "--words", "--live", *flags])
    return {
        "write_amplification": round(median([r["written"] / r["text"] for r in bulk]), 3),
        "write_amplification_live": round(median([r["written"] / r["text"] for r in live]), 3),
        "write_amplification_words": words["writes"],
        "write_amplification_live_words": live_words["writes"],
        "write_live_transactions_per_s": round(median([r["transactions"] / r["seconds"] for r in live]), 1),
        "write_text_compression": round(median([r["text"] / r["stored"] for r in bulk]), 2),
        "write_text_mb": round(bulk[0]["text"] / 1e6, 2),
        "write_transactions": round(median([r["transactions"] for r in bulk])),
    }


if __name__ == "__main__":
    child_main(_child if "--one" in sys.argv[1:] else measure)
