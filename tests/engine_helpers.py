"""Steps the engine tests share: run a task to its end, stop one part-way, cancel a background response."""

from __future__ import annotations

import asyncio
from typing import Any

from tui.demo.script import expected_answer
from tui.engine import Engine, Task, TaskStatus


async def run_one(engine: Engine, prompt: str, **kwargs: Any) -> Task:
    """Add a task and run it to whatever end it comes to."""
    task = engine.add_task(prompt, **kwargs)
    await engine.run_task(task)
    return task


async def run_done(engine: Engine, prompt: str, **kwargs: Any) -> Task:
    """Run a task that must end done; its error is the failure message when it does not."""
    task = await run_one(engine, prompt, **kwargs)
    assert task.status is TaskStatus.DONE, task.error
    return task


async def start_until(engine: Engine, task: Task, chars: int) -> asyncio.Task[Any]:
    """Start a task and return its runner once at least `chars` characters have streamed in."""
    runner = engine.start(task)
    while task.chars < chars:
        await asyncio.sleep(0.01)
    return runner


async def cancel_and_wait(engine: Engine, task: Task, runner: asyncio.Task[Any]) -> None:
    """Cancel a running task and wait for it and the cancel's side jobs (a background response's cancel) to end."""
    engine.cancel(task.id)
    await asyncio.gather(runner, return_exceptions=True)
    await engine.wait_side_jobs()


async def continue_to_the_end(engine: Engine, task: Task, prompt: str) -> None:
    """Continue a stopped task and check it ends done with the whole answer, no gap and nothing twice."""
    engine.prepare_continue(task.id)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
