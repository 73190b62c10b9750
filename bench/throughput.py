"""Chunks per second through three clients over the same streams, at the same concurrency.

- `sdk`: the raw `openai` SDK streaming loop (`chat.completions.create(stream=True)`).
- `framework`: a bare Agent Framework loop (`agent.run(prompt, stream=True)`).
- `engine`: agentdeck's `Engine` with a `SessionStore` attached (persistence on)
  and a progress observer that reads each task's new text, as the UI does. It
  uses the default `streams = "process"`: the streams are parsed in its worker process.

The demo server runs in its own process and streams with no delay, so the
client is the bottleneck and chunks/s measures the client's cost per chunk.
Every client sends the same prompts; the server sends the same chunks.
The figure is the median of per-repetition ratios (the three clients take
turns going first). `engine_vs_framework_cpu` is the same ratio in chunks per
CPU-second of this process (the store's writer thread included) and, for the
engine, of its stream worker, which a busy machine disturbs less than wall-clock rates.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bench.common import (
    PROVIDER,
    bench_config,
    child_main,
    content_chunks,
    demo_server,
    isolated_home,
    median,
    prompt,
)

if TYPE_CHECKING:
    import openai

CHUNK = 12
MODEL = "demo-chat"


def _sizes(quick: bool) -> tuple[int, int, int]:
    """(streams, characters per stream, repetitions)."""
    return (50, 600, 3) if quick else (50, 2_400, 9)


def _prompts(streams: int, length: int, rep: int) -> list[str]:
    return [prompt(rep * 1000 + i, length=length, chunk=CHUNK) for i in range(streams)]


def _sdk_client(base_url: str) -> Any:
    import openai

    return openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)


async def _timed_streams(
    one: Callable[[str], Awaitable[int]], prompts: list[str], client: openai.AsyncOpenAI
) -> tuple[int, float]:
    """Chunks counted over all prompts streamed at once, and the wall time it took."""
    try:
        started = time.perf_counter()
        counts = await asyncio.gather(*(one(p) for p in prompts))
        return sum(counts), time.perf_counter() - started
    finally:
        await client.close()


async def run_sdk(base_url: str, prompts: list[str]) -> tuple[int, float]:
    client = _sdk_client(base_url)

    async def one(text: str) -> int:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": text}], stream=True,
            stream_options={"include_usage": True},
        )
        chunks = 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                chunks += 1
        return chunks

    return await _timed_streams(one, prompts, client)


async def run_framework(base_url: str, prompts: list[str]) -> tuple[int, float]:
    from agent_framework import Agent
    from agent_framework.openai import OpenAIChatCompletionClient

    client = _sdk_client(base_url)

    async def one(text: str) -> int:
        agent = Agent(OpenAIChatCompletionClient(model=MODEL, async_client=client))
        chunks = 0
        async for update in agent.run(text, stream=True):
            if update.text:
                chunks += 1
        return chunks

    return await _timed_streams(one, prompts, client)


WORKER_CPU_S: list[float] = []
"""CPU seconds the engine's stream worker process used in each `run_engine` (its parsing is the engine's work)."""


def _cpu_seconds_of(pid: int | None) -> float:
    """User + system CPU seconds of another process so far (Linux /proc); 0 without one."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_engine(base_url: str, prompts: list[str], session: str) -> tuple[int, float]:
    from tui.engine import Engine, EventKind, TaskEvent, TaskStatus
    from tui.store import SessionStore

    engine = Engine(bench_config(base_url, concurrency=len(prompts)))
    store = SessionStore.open(session)
    store.attach(engine)
    offsets: dict[int, int] = {}
    seen = 0

    def observer(event: TaskEvent) -> None:
        # What the UI does on progress: read the new text since its own offset.
        nonlocal seen
        if event.kind is EventKind.PROGRESS:
            offset = offsets.get(event.task.id, 0)
            new = event.task.output.since(offset)
            offsets[event.task.id] = offset + len(new)
            seen += len(new)

    engine.subscribe(observer)
    try:
        # The baselines build their SDK client before the clock starts; so does the engine here (in its stream
        # worker process, the default `streams = "process"`), by running one tiny task.
        await engine.run_task(engine.add_task(prompt(0, length=CHUNK, chunk=CHUNK), provider=PROVIDER))
        tasks = [engine.add_task(p, provider=PROVIDER) for p in prompts]
        worker = engine.clients.worker.pid if engine.clients.worker else None
        worker_cpu = _cpu_seconds_of(worker)
        started = time.perf_counter()
        await asyncio.gather(*(engine.start(t) for t in tasks))
        elapsed = time.perf_counter() - started
        WORKER_CPU_S.append(_cpu_seconds_of(worker) - worker_cpu)
        bad = [t for t in tasks if t.status is not TaskStatus.DONE]
        if bad:
            raise RuntimeError(f"engine task {bad[0].id} ended {bad[0].status}: {bad[0].error}")
        chunks = sum(content_chunks(t.chars, CHUNK) for t in tasks)
        return chunks, elapsed
    finally:
        await engine.aclose()
        await store.aclose()


def measure(quick: bool) -> dict[str, Any]:
    streams, length, reps = _sizes(quick)
    rates: dict[str, list[float]] = {"sdk": [], "framework": [], "engine": []}
    cpu_rates: dict[str, list[float]] = {"sdk": [], "framework": [], "engine": []}
    with isolated_home(), demo_server() as url:

        def once(kind: str, rep: int) -> None:
            prompts = _prompts(streams, length, rep)
            gc.collect()
            cpu = time.process_time()
            if kind == "sdk":
                chunks, seconds = asyncio.run(run_sdk(url, prompts))
            elif kind == "framework":
                chunks, seconds = asyncio.run(run_framework(url, prompts))
            else:
                chunks, seconds = asyncio.run(run_engine(url, prompts, f"bench-throughput-{rep}"))
            expected = streams * content_chunks(length, CHUNK)
            if chunks != expected:
                raise RuntimeError(f"{kind}: {chunks} content chunks, expected {expected}")
            used = time.process_time() - cpu + (WORKER_CPU_S[-1] if kind == "engine" else 0.0)
            rates[kind].append(chunks / seconds)
            cpu_rates[kind].append(chunks / used)

        # Warm-up (imports, first connections) is not measured.
        asyncio.run(run_framework(url, _prompts(4, 600, 999)))
        asyncio.run(run_sdk(url, _prompts(4, 600, 998)))
        asyncio.run(run_engine(url, _prompts(4, 600, 997), "bench-throughput-warm-up"))
        kinds = ["sdk", "framework", "engine"]
        for rep in range(reps):
            order = kinds[rep % 3 :] + kinds[: rep % 3]  # rotate so each goes first equally often
            for kind in order:
                once(kind, rep)
    for kind, values in rates.items():
        print(f"{kind:>9} chunks/s per repetition: {[round(v) for v in values]}", file=sys.stderr)
    engine_ratio = median([e / f for e, f in zip(rates["engine"], rates["framework"])])
    framework_ratio = median([f / s for f, s in zip(rates["framework"], rates["sdk"])])
    return {
        "engine_vs_framework_throughput": round(engine_ratio, 3),
        "framework_vs_sdk_throughput": round(framework_ratio, 3),
        "engine_vs_framework_cpu": round(
            median([e / f for e, f in zip(cpu_rates["engine"], cpu_rates["framework"])]), 3
        ),
        "sdk_chunks_per_s": round(median(rates["sdk"])),
        "framework_chunks_per_s": round(median(rates["framework"])),
        "engine_chunks_per_s": round(median(rates["engine"])),
        "throughput_streams": streams,
        "throughput_repetitions": reps,
    }


if __name__ == "__main__":
    child_main(measure)
