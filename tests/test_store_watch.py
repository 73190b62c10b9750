"""Watch mode in one process: the same events an engine gives, texts followed only once loaded."""

from __future__ import annotations

import asyncio

from tui.demo.script import expected_answer
from tui.engine import Engine, EventKind, TaskEvent, TaskStatus
from tui.store import SessionStore, SessionWatcher, StoredOutput, load_text


async def test_watcher_follows_adds_text_statuses_and_removals(engine: Engine) -> None:
    store = SessionStore.open("followed")
    store.attach(engine)
    watcher = SessionWatcher.open("followed")
    events: list[TaskEvent] = []
    watcher.subscribe(events.append)
    poller = asyncio.create_task(watcher.run(interval=0.1))
    try:
        shown_prompt = "shown [[len:6000]][[delay:1]]"
        shown = engine.add_task(shown_prompt)
        hidden = engine.add_task("hidden [[len:6000]][[delay:1]]")
        runs = [asyncio.create_task(engine.run_task(t)) for t in (shown, hidden)]
        while shown.id not in watcher.tasks or watcher.tasks[shown.id].chars == 0:
            await asyncio.sleep(0.05)
        watched = watcher.tasks[shown.id]
        assert await load_text(watched) == expected_answer(shown_prompt)[: watched.chars]
        await asyncio.gather(*runs)
        store.flush()
        while watcher.tasks[hidden.id].status is not TaskStatus.DONE or watcher.tasks[shown.id].chars < 6000:
            await asyncio.sleep(0.05)
        engine.remove(hidden.id)
        store.flush()
        while hidden.id in watcher.tasks:
            await asyncio.sleep(0.05)
    finally:
        poller.cancel()
        store.close()
    followed, unloaded = watcher.tasks[shown.id], hidden.id
    assert followed.text == expected_answer(shown_prompt) and followed.status is TaskStatus.DONE
    kinds = {(e.kind, e.task.id) for e in events}
    assert {(EventKind.ADDED, shown.id), (EventKind.PROGRESS, shown.id), (EventKind.STATUS, unloaded),
            (EventKind.PROGRESS, unloaded), (EventKind.REMOVED, unloaded)} <= kinds
    hidden_task = next(e.task for e in events if e.task.id == unloaded)
    assert isinstance(hidden_task.output, StoredOutput) and not hidden_task.output.loaded  # never read
    assert hidden_task.chars == 6000
    watcher.poll()
    assert not watcher.writer_alive  # the writer closed: nothing is running any more
    watcher.close()
