"""A long answer streams without the framework holding every chunk, and the session history stays exact.

Everything runs over real HTTP against the demo server. The reference for
"exact" is a bare Agent Framework run of the same prompt, which keeps every
update to the end as the framework does on its own.
"""

from __future__ import annotations

import gc
import json
import re
import weakref
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

import pytest

from tests.conftest import config_for
from tui.demo.script import expected_answer
from tui.engine import Engine, Task, TaskStatus
from tui.engine.clients import ClientFactory
from tui.engine.feed import RunState
from tui.engine.retention import EVERY, Compactor, _layers
from tui.engine.updates import reader_for

LONG = "[[len:40000]][[chunk:12]][[delay:0]]"
"""About 3,300 chunks: several joined blocks per answer."""
INSTALLED = ", ".join(f"{name} {version(name)}" for name in ("agent-framework-core", "agent-framework-openai"))
UPGRADING = "see docs/upgrading.md"


@pytest.fixture
async def engine(demo_url: str) -> AsyncIterator[Engine]:
    engine = Engine(config_for(demo_url, concurrency=8))
    yield engine
    await engine.aclose()


def _normalized(state: dict[str, Any] | None) -> str:
    """A session's JSON with the ids that differ between two runs of the same prompt blanked."""
    text = json.dumps(state, sort_keys=True)
    text = re.sub(r'"session_id": "[^"]+"', '"session_id": "-"', text)
    return re.sub(r"(chatcmpl-|resp_)[A-Za-z0-9]+", r"\1-", text)


async def _bare_run(engine: Engine, provider: str, prompt: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The session after a plain framework run that consumes the whole stream (on the engine's stream loop,
    where its SDK clients live)."""
    from agent_framework import AgentSession

    async def run() -> dict[str, Any]:
        spec = engine.config.provider(provider)
        agent = await engine.clients.agent(spec, spec.model, None)
        session = AgentSession.from_dict(base) if base else agent.create_session()
        options = {"background": True} if spec.api == "responses" else {}
        stream = agent.run(prompt, stream=True, session=session, options=options)
        async for _ in stream:
            pass
        await stream.get_final_response()
        return session.to_dict()

    return await engine.clients.streams.run(run())


async def _run(engine: Engine, prompt: str, **kwargs: Any) -> Task:
    task = engine.add_task(prompt, **kwargs)
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE, task.error
    return task


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_every_layer_holds_only_a_few_updates_while_a_long_answer_streams(demo_url: str, provider: str) -> None:
    """Fails loudly if Agent Framework's stream layers change shape and chunks pile up again."""
    spec = config_for(demo_url).provider(provider)
    clients = ClientFactory()
    try:
        agent = await clients.agent(spec, spec.model, None)
        prompt = f"retention {provider} {LONG}"
        reader = reader_for(spec.api, RunState())
        options = {"background": True} if spec.api == "responses" else {}
        stream = agent.run(prompt, stream=True, session=agent.create_session(), options=options)
        compact = Compactor(stream)
        early: list[weakref.ref[Any]] = []
        longest = 0
        text: list[str] = []
        async for update in stream:
            text.append(reader.text_of(update))
            compact()
            if len(early) < 3 and update.text:
                early += [weakref.ref(update), weakref.ref(update.raw_representation), weakref.ref(update.contents[0])]
            layers = _layers(stream)
            assert layers, f"{INSTALLED}: the stream layers no longer look as retention.py expects ({UPGRADING})"
            longest = max(longest, *map(len, layers))
        gc.collect()
        alive = [ref() for ref in early if ref() is not None]
        assert not alive, f"{INSTALLED}: an early chunk is still held ({UPGRADING})"
        assert longest <= EVERY + 12, f"{INSTALLED}: a layer held {longest} updates ({UPGRADING})"
        final = await stream.get_final_response()
        assert final.text == "".join(text) == expected_answer(prompt)
    finally:
        await clients.close()


@pytest.mark.slow
async def test_chat_history_and_follow_up_match_a_plain_framework_run(engine: Engine) -> None:
    first = await _run(engine, f"first question {LONG}", provider="chat")
    assert first.text == expected_answer(first.prompt)
    assert _normalized(first.session_state) == _normalized(await _bare_run(engine, "chat", first.prompt))

    follow = engine.follow_up(first.id, f"and a follow-up {LONG}")
    await engine.run_task(follow)
    assert follow.status is TaskStatus.DONE, follow.error
    assert follow.session_state is not None
    messages = follow.session_state["state"]["in_memory"]["messages"]
    assert [m["contents"][0]["text"] for m in messages] == [
        first.request_text, expected_answer(first.prompt), follow.request_text, expected_answer(follow.prompt),
    ]
    reference = await _bare_run(engine, "chat", follow.request_text, base=first.session_state)
    assert _normalized(follow.session_state) == _normalized(reference)


@pytest.mark.slow
async def test_responses_session_matches_a_plain_framework_run(engine: Engine) -> None:
    task = await _run(engine, f"responses question {LONG}", provider="resp")
    assert task.text == expected_answer(task.prompt)
    assert _normalized(task.session_state) == _normalized(await _bare_run(engine, "resp", task.prompt))


@pytest.mark.slow
async def test_a_finished_chat_task_keeps_its_answer_once(engine: Engine) -> None:
    task = await _run(engine, f"held once {LONG}", provider="chat")
    assert task.session_state is not None
    answer = task.session_state["state"]["in_memory"]["messages"][-1]["contents"][0]["text"]
    assert answer == expected_answer(task.prompt)
    assert answer is task.text


async def test_a_gated_stream_is_left_whole(demo_url: str) -> None:
    """A layer that holds updates for gates keeps them in a second list retention.py does not rewrite:
    such a stream must not be compacted at all, and still finalizes to the whole answer."""
    spec = config_for(demo_url).provider("chat")
    clients = ClientFactory()
    try:
        agent = await clients.agent(spec, spec.model, None)
        prompt = f"gated {LONG}"
        stream = agent.run(prompt, stream=True, session=agent.create_session()).with_update_gate(lambda _: None)
        compact = Compactor(stream)
        reader = reader_for(spec.api, RunState())
        streamed: list[Any] = []
        async for update in stream:
            reader.text_of(update)  # as the engine reads it: its SDK objects are let go
            streamed.append(update)
            compact()
        held = stream._updates
        assert len(held) == len(streamed) > 3 * EVERY, "a gated stream's updates were rewritten"
        assert all(kept is update for kept, update in zip(held, streamed))
        assert _layers(stream) is None
        assert (await stream.get_final_response()).text == expected_answer(prompt)
    finally:
        await clients.close()
