"""The engine over real HTTP: the real openai SDK and Agent Framework against the demo server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import config_for
from tests.engine_helpers import cancel_and_wait, continue_to_the_end, run_one, start_until
from tui.demo.script import expected_answer
from tui.engine import AttachmentError, Engine, EngineError, EventKind, TaskEvent, TaskStatus
from tui.engine.errors import cause_chain, caused_by
from tui.engine.limits import ConcurrencyLimit


def stats(server: Any) -> dict[str, Any]:
    return server.stats()


async def test_chat_task_streams_full_text_with_monotonic_progress(engine: Engine) -> None:
    prompt = "progress check [[len:3000]][[delay:1]]"
    seen: list[int] = []
    engine.subscribe(lambda e: seen.append(e.task.chars) if e.kind is EventKind.PROGRESS else None)
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert seen == sorted(seen) and seen[-1] == len(task.text) == task.chars
    assert task.usage.total_tokens


async def test_progress_is_coalesced_not_per_chunk(engine: Engine) -> None:
    prompt = "coalesce [[len:6000]][[chunk:4]][[delay:0.5]]"
    events: list[float] = []
    engine.subscribe(lambda e: events.append(time.monotonic()) if e.kind is EventKind.PROGRESS else None)
    started = time.monotonic()
    task = await run_one(engine, prompt)
    elapsed = time.monotonic() - started
    chunks = 6000 // 4
    assert task.status is TaskStatus.DONE
    assert len(events) <= elapsed * 10 + 3 < chunks


async def test_responses_task_is_native_background_without_doubled_text(engine: Engine) -> None:
    prompt = "responses check [[len:2000]][[delay:0]]"
    task = await run_one(engine, prompt, provider="resp")
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert task.continuation_token and task.continuation_token["response_id"].startswith("resp_")
    assert task.session_state is not None


async def test_concurrency_limit_holds_at_the_server(demo_server: Any, demo_url: str) -> None:
    engine = Engine(config_for(demo_url, concurrency=2))
    demo_server.reset_stats()
    states: list[int] = []
    engine.subscribe(lambda e: states.append(len(engine.running)))
    tasks = [engine.add_task(f"limit {i} [[len:300]][[delay:10]]") for i in range(6)]
    await asyncio.gather(*(engine.start(t) for t in tasks))
    await engine.aclose()
    assert all(t.status is TaskStatus.DONE for t in tasks)
    assert max(states) == 2
    assert stats(demo_server)["max_streams"] <= 2


async def test_silent_stream_times_out_keeping_partial_text(engine: Engine) -> None:
    prompt = "silence [[silent:30]][[silent_after:3]][[delay:0]]"
    started = time.monotonic()
    task = await run_one(engine, prompt, timeout=1.0)
    assert task.status is TaskStatus.TIMED_OUT
    assert time.monotonic() - started < 2.0
    assert task.text == expected_answer(prompt)[: task.chars] and task.chars == 36
    assert "timed out" in (task.error or "")


async def test_timeout_can_be_extended_and_removed_while_running(engine: Engine) -> None:
    prompt = "extend [[len:240]][[delay:100]]"
    task = engine.add_task(prompt, timeout=0.5)
    runner = engine.start(task)
    await asyncio.sleep(0.2)
    engine.set_timeout(task.id, 30)
    await asyncio.sleep(0.2)
    engine.set_timeout(task.id, None)
    await runner
    assert task.status is TaskStatus.DONE and task.text == expected_answer(prompt)


async def test_timeout_can_be_shortened_while_running(engine: Engine) -> None:
    task = engine.add_task("shorten [[len:2000]][[delay:100]]", timeout=60)
    runner = engine.start(task)
    await asyncio.sleep(0.3)
    engine.set_timeout(task.id, 0.5)
    await runner
    assert task.status is TaskStatus.TIMED_OUT and task.elapsed() < 1.5


async def test_cancel_closes_the_connection_promptly(demo_server: Any, engine: Engine) -> None:
    demo_server.reset_stats()
    task = engine.add_task("cancel me [[len:5000]][[delay:20]]")
    runner = await start_until(engine, task, 24)
    cancelled_at = time.monotonic()
    assert engine.cancel(task.id)
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert task.status is TaskStatus.CANCELLED and task.chars >= 24
    while not stats(demo_server)["disconnects"] and time.monotonic() - cancelled_at < 2:
        await asyncio.sleep(0.02)
    assert stats(demo_server)["disconnects"][0]["at"] - cancelled_at < 1.0


async def test_cancel_native_background_cancels_server_side(demo_server: Any, engine: Engine) -> None:
    task = engine.add_task("bg cancel [[len:5000]][[delay:20]]", provider="resp")
    runner = await start_until(engine, task, 24)
    assert task.continuation_token is not None
    response_id = task.continuation_token["response_id"]
    await cancel_and_wait(engine, task, runner)

    async def status() -> str:
        sdk = await engine.clients.sdk_client(engine.config.provider("resp"))
        return (await sdk.responses.retrieve(response_id)).status

    assert await engine.clients.streams.run(status()) == "cancelled"


async def test_cancel_all_and_queued_tasks(demo_url: str) -> None:
    engine = Engine(config_for(demo_url, concurrency=1))
    tasks = [engine.add_task(f"all {i} [[len:5000]][[delay:20]]") for i in range(3)]
    runners = [engine.start(t) for t in tasks]
    await asyncio.sleep(0.3)
    assert [t.status for t in tasks] == [TaskStatus.RUNNING, TaskStatus.QUEUED, TaskStatus.QUEUED]
    assert engine.cancel_all() == 3
    await asyncio.gather(*runners, return_exceptions=True)
    await engine.aclose()
    assert {t.status for t in tasks} == {TaskStatus.CANCELLED}


async def test_a_queued_task_cancelled_as_its_place_frees_up_ends_cancelled() -> None:
    """`cancel_all` cancels the running task and the queued ones at once: the running one's place can free up
    before a queued one sees its cancellation, which must still end it `cancelled`, never stuck `queued`."""
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    queued = asyncio.create_task(limit.acquire())
    await asyncio.sleep(0)
    queued.cancel()
    limit.release()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert (limit.active, limit.waiting) == (0, 0)


async def test_401_fails_fast_with_a_clear_message(engine: Engine) -> None:
    started = time.monotonic()
    task = await run_one(engine, "auth [[fault:401]]")
    assert task.status is TaskStatus.FAILED
    assert task.error is not None and task.error.startswith("401 Unauthorized: check")
    assert time.monotonic() - started < 2


async def test_429_is_retried_then_succeeds(demo_server: Any, engine: Engine) -> None:
    prompt = "busy [[fault:429]][[fail_times:1]][[retry_after:0.1]][[len:100]][[delay:0]]"
    demo_server.reset_stats()
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)
    assert sum(stats(demo_server)["requests"].values()) == 2


async def test_one_failure_never_touches_other_tasks(engine: Engine) -> None:
    good = engine.add_task("fine [[len:500]][[delay:1]]")
    bad = engine.add_task("broken [[fault:500]]")
    await asyncio.gather(engine.start(good), engine.start(bad))
    assert good.status is TaskStatus.DONE and good.text == expected_answer(good.prompt)
    assert bad.status is TaskStatus.FAILED and (bad.error or "").startswith("500")


@pytest.mark.parametrize("fault", ["drop", "cut"])
async def test_dropped_stream_is_interrupted_then_continue_completes_it(engine: Engine, fault: str) -> None:
    prompt = f"drop then continue [[len:1500]][[delay:0]][[{fault}:20]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.INTERRUPTED, task.error
    assert 0 < task.chars < 1500 and task.text == expected_answer(prompt)[: task.chars]
    await continue_to_the_end(engine, task, prompt)


async def test_native_background_resume_has_no_gap_or_duplicate(demo_url: str) -> None:
    prompt = "resume natively [[len:3000]][[delay:5]]"
    first = Engine(config_for(demo_url))
    task = first.add_task(prompt, provider="resp")
    runner = await start_until(first, task, 200)
    first.interrupt_all()
    await asyncio.gather(runner, return_exceptions=True)
    await first.aclose()
    assert task.status is TaskStatus.INTERRUPTED and task.continuation_token
    await asyncio.sleep(0.3)

    second = Engine(config_for(demo_url))
    second.adopt([task])
    second.prepare_continue(task.id)
    await second.run_task(task)
    await second.aclose()
    assert task.status is TaskStatus.DONE, task.error
    assert task.text == expected_answer(prompt)


async def test_follow_up_runs_in_the_same_session(engine: Engine) -> None:
    first = await run_one(engine, "first question [[len:200]][[delay:0]]")
    follow = engine.follow_up(first.id, "and a follow-up [[len:150]][[delay:0]]")
    await engine.run_task(follow)
    assert follow.status is TaskStatus.DONE and follow.parent_id == first.id
    assert follow.text == expected_answer(follow.prompt)
    assert follow.session_state is not None
    messages = follow.session_state["state"]["in_memory"]["messages"]
    assert len(messages) == 4


async def test_retry_creates_a_fresh_task(engine: Engine) -> None:
    failed = await run_one(engine, "retry me [[fault:503]][[fail_times:1]][[len:80]][[delay:0]]")
    assert failed.status is TaskStatus.DONE or failed.status is TaskStatus.FAILED
    again = engine.retry(failed.id)
    await engine.run_task(again)
    assert again.id != failed.id and again.status is TaskStatus.DONE


async def test_attachments_are_checked_before_sending(engine: Engine, tmp_path: Any) -> None:
    text_file = tmp_path / "notes.md"
    text_file.write_text("alpha beta", encoding="utf-8")
    task = engine.add_task("summarise [[len:100]][[delay:0]]", attachments=[str(text_file)])
    assert '<file name="notes.md">\nalpha beta\n</file>' in task.request_text
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(AttachmentError, match="binary"):
        engine.add_task("x", attachments=[str(binary)])
    with pytest.raises(AttachmentError, match="no such file"):
        engine.add_task("x", attachments=[str(tmp_path / "missing.txt")])
    big = tmp_path / "big.txt"
    big.write_text("a" * 2_000_000, encoding="utf-8")
    with pytest.raises(AttachmentError, match="over the attachment limit"):
        engine.add_task("x", attachments=[str(big)])
    await engine.run_task(task)
    assert task.text == expected_answer(task.request_text)


async def test_engine_refuses_nonsense(engine: Engine) -> None:
    with pytest.raises(EngineError):
        engine.add_task("   ")
    with pytest.raises(EngineError):
        engine.set_timeout(999, 5)
    task = engine.add_task("x [[len:10]][[delay:0]]")
    with pytest.raises(EngineError):
        engine.set_timeout(task.id, -1)


async def test_observer_errors_do_not_break_runs(engine: Engine) -> None:
    def broken(event: TaskEvent) -> None:
        raise RuntimeError("observer bug")

    engine.subscribe(broken)
    task = await run_one(engine, "robust [[len:100]][[delay:0]]")
    assert task.status is TaskStatus.DONE


async def test_malformed_sse_interrupts_with_a_clear_reason(engine: Engine) -> None:
    prompt = "garbled [[len:600]][[delay:0]][[malformed:5]]"
    task = await run_one(engine, prompt)
    assert task.status is TaskStatus.INTERRUPTED
    assert task.error == "the provider sent a malformed stream event (invalid JSON)"
    assert task.text == expected_answer(prompt)[: task.chars] and task.chars == 60


def test_a_cyclic_cause_chain_is_walked_once() -> None:
    """A chain that loops (raised from an error that was raised during it) ends; each error is seen once."""
    outer, inner = RuntimeError("wrapped"), ValueError("root")
    outer.__cause__ = inner
    inner.__context__ = outer
    assert list(cause_chain(outer)) == [outer, inner]
    assert caused_by(outer, ValueError) and not caused_by(outer, KeyError)


async def test_the_ui_asks_the_engine_which_tasks_are_where_and_cannot_change_them(engine: Engine) -> None:
    done = await run_one(engine, "quick [[len:20]][[delay:0]]")
    waiting = engine.add_task("waits [[len:20]]")
    assert engine.by_status(TaskStatus.DONE) == [done] and engine.active == [waiting] and engine.running == []
    assert engine.counts() == {TaskStatus.DONE: 1, TaskStatus.QUEUED: 1}
    assert engine.find(done.id) is done and engine.find(None) is None and engine.find(999) is None
    with pytest.raises(TypeError):
        engine.tasks[999] = done  # type: ignore[index]
    engine.remove(done.id)
    assert list(engine.tasks) == [waiting.id]


async def test_the_engine_refuses_a_timeout_the_command_line_would(engine: Engine) -> None:
    task = engine.add_task("x [[len:10]][[delay:0]]", timeout=30)
    for seconds, words in [(float("nan"), "positive number"), (-1, "positive number"), (8 * 24 * 3600, "at most")]:
        with pytest.raises(EngineError, match=words):
            engine.set_timeout(task.id, seconds)
    assert task.timeout == 30
