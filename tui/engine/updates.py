"""Reads Agent Framework stream updates into text deltas, usage and completion.

Each API has a trap (see the framework notes): the Responses client repeats
the whole text in its `output_text.done` update, its continuation token is
only on the first updates, and a resumed stream replays every event from the
start. A cut close-delimited body ends quietly, so completion is only trusted
when the provider said so.
"""

from __future__ import annotations

from typing import Any

from tui.engine.feed import RunState
from tui.engine.task import Usage


def _usage_from(content: Any) -> Usage:
    """Agent Framework's usage details; cached input and reasoning only where the provider gave them."""
    details = getattr(content, "usage_details", None) or {}
    return Usage(
        input_tokens=details.get("input_token_count"),
        output_tokens=details.get("output_token_count"),
        total_tokens=details.get("total_token_count"),
        cached_input_tokens=details.get("cache_read_input_token_count"),
        reasoning_tokens=details.get("reasoning_output_token_count"),
    )


def usage_of_response(usage: Any) -> Usage:
    """The `usage` of a Responses API `response` object (what a cancel or retrieve answers), or none."""
    if usage is None:
        return Usage()
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        cached_input_tokens=getattr(usage.input_tokens_details, "cached_tokens", None),
        reasoning_tokens=getattr(usage.output_tokens_details, "reasoning_tokens", None),
    )


class UpdateReader:
    """Reads one run's updates; `finished` is True once the provider reported the end."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.finished = False
        self.failure: str | None = None
        self.usage = Usage()
        self.hit_token_limit = False
        """The model stopped because it reached the request's output-token limit (`max_output_tokens`)."""

    def text_of(self, update: Any) -> str:
        raise NotImplementedError

    def _collect_usage(self, update: Any) -> None:
        """Usage as Agent Framework streams it: after a tool round it sends the run's total so far as a
        `replace`; anything else adds to what came before."""
        for content in update.contents or ():
            if content.type != "usage":
                continue
            if content.merge_mode == "replace":
                self.usage = _usage_from(content)
            else:
                self.usage.add(_usage_from(content))


class ChatUpdateReader(UpdateReader):
    def text_of(self, update: Any) -> str:
        if update.finish_reason is not None:
            self.finished = True
            self.hit_token_limit = update.finish_reason == "length"
        self._collect_usage(update)
        text = update.text
        release_raw(update)
        return text


class ResponsesUpdateReader(UpdateReader):
    def __init__(self, state: RunState, *, background: bool = True) -> None:
        super().__init__(state)
        self._background = background
        """Only a background response can be re-attached: a foreground one's token would lead nowhere."""
        token = state.continuation_token or {}
        self._response_id: str | None = token.get("response_id")

    def text_of(self, update: Any) -> str:
        text = self._read(update)
        release_raw(update)
        return text

    def _read(self, update: Any) -> str:
        state = self.state
        if self._background and state.continuation_token is None and update.continuation_token is not None:
            state.continuation_token = dict(update.continuation_token)
        event = getattr(update.raw_representation, "raw_representation", None)
        self._notice_new_response(event)
        sequence = getattr(event, "sequence_number", None)
        if sequence is not None:
            if state.last_sequence is not None and sequence <= state.last_sequence:
                return ""
            state.last_sequence = sequence
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            return event.delta  # type: ignore[union-attr]
        if kind == "response.completed":
            self.finished = True
            self._collect_usage(update)
        elif kind in ("response.failed", "response.incomplete", "response.cancelled"):
            self.failure = _response_problem(event)
        return ""


    def _notice_new_response(self, event: Any) -> None:
        """Each tool round is a new response numbering its events from 0; only a replay of one response repeats."""
        if getattr(event, "type", None) != "response.created":
            return
        response_id = getattr(getattr(event, "response", None), "id", None)
        if response_id is not None and response_id != self._response_id:
            self._response_id = response_id
            self.state.last_sequence = None


def release_raw(update: Any) -> None:
    """Let go of the SDK objects behind an update once it has been read.

    Agent Framework keeps every update of a stream until the stream ends (to
    build its final response), and each update holds the SDK's parsed chunk or
    event: about half of what a chunk costs while a task streams (see
    docs/performance.md). The final message is merged from `contents`, which stay; only the
    innermost SDK object (`ChatResponseUpdate.raw_representation`) and the text
    contents' copies of it are dropped. The agent-level `raw_representation`
    (the `ChatResponseUpdate`, which carries the conversation id) is kept.
    """
    inner = getattr(update, "raw_representation", None)
    if inner is not None and hasattr(inner, "raw_representation"):
        inner.raw_representation = None
    for content in getattr(update, "contents", None) or ():
        if content.type == "text":
            content.raw_representation = None


def _response_problem(event: Any) -> str:
    response = getattr(event, "response", None)
    status = getattr(response, "status", None) or event.type.rsplit(".", 1)[-1]
    error = getattr(response, "error", None)
    details = getattr(response, "incomplete_details", None)
    reason = getattr(error, "message", None) or getattr(details, "reason", None)
    return f"response {status}" + (f": {reason}" if reason else "")


def reader_for(api: str, state: RunState, *, background: bool = True) -> UpdateReader:
    return ResponsesUpdateReader(state, background=background) if api == "responses" else ChatUpdateReader(state)


class RoundCounter:
    """Counts model -> tools rounds as the calls stream in; the first call past the limit stops the run.

    A round starts with the first function call after text or after the previous
    round's results; parallel calls of one model turn are one round. Stopping at
    the call itself, before the framework runs it, keeps that call from happening.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rounds = 0
        self._in_calls = False

    @property
    def failure(self) -> str:
        return f"stopped: the model wanted more than {self.limit} tool rounds (max_tool_rounds)"

    def over_limit(self, update: Any) -> bool:
        for content in update.contents or ():
            if content.type == "function_call" and content.name and not self._in_calls:
                self._in_calls = True
                self.rounds += 1
            elif content.type == "function_result":
                self._in_calls = False
        return self.rounds > self.limit
