"""What a streaming task keeps per chunk: the SDK objects behind each update are let go once read."""

from __future__ import annotations

from agent_framework import AgentResponseUpdate, ChatResponseUpdate, Content
from agent_framework._types import map_chat_to_agent_update

from tui.engine.feed import RunState
from tui.engine.updates import ChatUpdateReader, ResponsesUpdateReader


class _Chunk:
    """Stands in for the SDK's parsed chunk/event (what the framework keeps as `raw_representation`)."""

    type = "response.output_text.delta"
    delta = "abc"
    sequence_number = 7


def _agent_update(raw: object) -> AgentResponseUpdate:
    update = ChatResponseUpdate(
        contents=[Content.from_text("abc", raw_representation=raw)], role="assistant", raw_representation=raw
    )
    return map_chat_to_agent_update(update, None)


def test_chat_reader_drops_the_sdk_chunk_but_keeps_text_and_the_chat_update() -> None:
    update = _agent_update(_Chunk())
    chat_update = update.raw_representation
    assert isinstance(chat_update, ChatResponseUpdate)
    assert ChatUpdateReader(RunState()).text_of(update) == "abc"
    assert chat_update.raw_representation is None
    assert update.raw_representation is chat_update  # conversation id lives here
    assert all(content.raw_representation is None for content in update.contents)
    assert update.text == "abc"


def test_responses_reader_reads_the_event_before_dropping_it() -> None:
    state = RunState()
    update = _agent_update(_Chunk())
    assert ResponsesUpdateReader(state).text_of(update) == "abc"
    assert state.last_sequence == 7
    chat_update = update.raw_representation
    assert isinstance(chat_update, ChatResponseUpdate) and chat_update.raw_representation is None
