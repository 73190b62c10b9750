"""The engine's index of tasks by status and its running total of usage: always what a full scan of every task
gives (the header's counts, the running tasks, the session's tokens and cost), read without one."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.conftest import config_for
from tests.engine_helpers import cancel_and_wait, run_one, start_until
from tests.mcp_helpers import DEMO_TOOLS, tool_config, wait_for
from tui.config_mcp import McpServerConfig
from tui.config_prices import PriceList, Prices
from tui.engine import Engine, Task, TaskOutput, TaskStatus, Usage
from tui.engine.pricing import UsageTotal
from tui.engine.task import count_statuses
from tui.store import SessionStore
from tui.widgets.status_bar import total_text

PRICED = PriceList(Prices(input=0.27, output=1.10, cached_input=0.07))
TICKING = (TaskStatus.RUNNING, TaskStatus.WAITING)


def assert_matches_a_full_scan(engine: Engine) -> None:
    """Every status (alone and the app's combinations), the counts and the total, as a scan of every task reads."""
    tasks = list(engine.tasks.values())
    for statuses in [(status,) for status in TaskStatus] + [TICKING, tuple(s for s in TaskStatus if s.is_active)]:
        scanned = sorted((task for task in tasks if task.status in statuses), key=lambda task: task.id)
        assert engine.by_status(*statuses) == scanned, statuses
    assert engine.counts() == count_statuses(tasks)
    scanned_total = UsageTotal.of(tasks)
    assert engine.usage_total() == scanned_total
    assert total_text(engine.usage_total()) == total_text(scanned_total)


async def test_the_index_and_total_match_a_full_scan_after_a_mix_of_runs(demo_url: str) -> None:
    """Run, fail, cancel (running, queued, a background response whose usage the server reports later), drop and
    continue, follow up, retry, a group, delete, and reopen the session: after each step, what the header reads
    is what a scan of every task gives."""
    store = SessionStore.open("mix")
    engine = Engine(config_for(demo_url, concurrency=2, prices=PRICED))
    store.attach(engine)
    done = await run_one(engine, "answered [[len:300]][[delay:0]]")
    await run_one(engine, "refused [[fault:500]]")
    dropped = await run_one(engine, "dropped [[len:1500]][[delay:0]][[drop:20]]")
    assert dropped.status is TaskStatus.INTERRUPTED
    assert_matches_a_full_scan(engine)

    slow = [engine.add_task(f"slow {i} [[len:5000]][[delay:20]]") for i in range(2)]
    background = engine.add_task("background [[len:5000]][[delay:20]]", provider="resp")
    runners = [await start_until(engine, task, 24) for task in slow]
    queued_runner = engine.start(background)
    await asyncio.sleep(0.1)
    assert background.status is TaskStatus.QUEUED
    assert_matches_a_full_scan(engine)
    await cancel_and_wait(engine, background, queued_runner)
    await cancel_and_wait(engine, slow[0], runners[0])
    assert_matches_a_full_scan(engine)
    await cancel_and_wait(engine, slow[1], runners[1])

    responses = engine.add_task("cancel in background [[len:5000]][[delay:20]]", provider="resp")
    runner = await start_until(engine, responses, 48)
    engine.cancel(responses.id)
    await asyncio.gather(runner, return_exceptions=True)
    assert responses.usage.estimated  # by its text, until the server says what it used
    assert_matches_a_full_scan(engine)  # the total is read before the server's count replaces the estimate
    await engine.wait_side_jobs()
    assert not responses.usage.estimated
    assert_matches_a_full_scan(engine)

    engine.prepare_continue(dropped.id)
    assert_matches_a_full_scan(engine)
    await engine.run_task(dropped)
    follow = engine.follow_up(done.id, "and then [[len:200]][[delay:0]]")
    again = engine.retry(slow[0].id)
    group = engine.add_group("compare [[len:200]][[delay:0]]", [("chat", None), ("resp", None)])
    assert_matches_a_full_scan(engine)
    await asyncio.gather(*(engine.run_task(task) for task in (follow, again, *group)))
    assert_matches_a_full_scan(engine)
    engine.remove(slow[1].id)
    engine.remove(done.id)
    assert_matches_a_full_scan(engine)
    before = (engine.counts(), engine.usage_total())
    await engine.aclose()
    await store.aclose()

    store = SessionStore.open("mix")
    reopened = Engine(config_for(demo_url, prices=PRICED))
    store.attach(reopened)
    try:
        assert (reopened.counts(), reopened.usage_total()) == before
        assert_matches_a_full_scan(reopened)
    finally:
        await reopened.aclose()
        await store.aclose()


async def test_a_task_waiting_for_the_operator_is_counted_waiting(demo_url: str) -> None:
    """A tool's approval changes the task's status outside the engine's own steps: the index still follows."""
    asking = McpServerConfig(**{**vars(DEMO_TOOLS), "approve": "ask"})
    engine = Engine(tool_config(demo_url, asking))
    task = engine.add_task('[[tool:word_count {"text": "a"}]] [[len:40]] count')
    runner = engine.start(task)
    try:
        await wait_for(lambda: task.status is TaskStatus.WAITING)
        assert engine.by_status(*TICKING) == [task] and engine.counts()[TaskStatus.WAITING] == 1
        assert_matches_a_full_scan(engine)
        engine.answer_approval(task.id, task.waiting_calls[0].call_id, "once")
        await runner
        assert task.status is TaskStatus.DONE, task.error
        assert_matches_a_full_scan(engine)
    finally:
        await engine.aclose()


class ReadTask(Task):
    """A finished task that notes each time its status or usage is read."""

    reads: Counter[int] = Counter()

    def __getattribute__(self, name: str) -> Any:
        if name in ("status", "usage"):
            ReadTask.reads[object.__getattribute__(self, "id")] += 1
        return object.__getattribute__(self, name)


async def test_the_header_reads_no_finished_task(demo_url: str) -> None:
    """What the app's 4 Hz tick reads (running tasks, counts, the session's total) costs the same with 5,000
    finished tasks as with none: none of them is read, once the session's total has been read once."""
    engine = Engine(config_for(demo_url, prices=PRICED))
    usage = {"input_tokens": 100, "output_tokens": 30, "total_tokens": 130, "cost_usd": 0.000_06}
    finished = [
        ReadTask(i, f"old {i}", "chat", "demo-chat", "chat", status=TaskStatus.DONE, usage=Usage(**usage),
                 output=TaskOutput("old"))
        for i in range(1, 5001)
    ]
    engine.adopt(finished)
    running = engine.add_task("now [[len:5000]][[delay:20]]")
    runner = await start_until(engine, running, 24)
    try:
        engine.usage_total()
        ReadTask.reads.clear()
        for _ in range(4):
            assert engine.by_status(*TICKING) == [running]
            assert engine.counts() == Counter({TaskStatus.DONE: 5000, TaskStatus.RUNNING: 1})
            total = engine.usage_total()
        assert not ReadTask.reads, f"{len(ReadTask.reads)} finished tasks read"
        assert (total.tasks, total.tokens) == (5000, 5000 * 130) and total.cost_usd is not None
        assert_matches_a_full_scan(engine)
    finally:
        await cancel_and_wait(engine, running, runner)
        await engine.aclose()
