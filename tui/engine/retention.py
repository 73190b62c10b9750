"""Keeps Agent Framework's per-stream update lists short while a task streams.

Every `ResponseStream` layer of an agent run (telemetry, agent, function
invocation, provider) appends each update to a private list, `_updates`, so
that its finalizer can build the final response when the stream ends. Held
until the end, that was the largest part of agentdeck's memory with 50 tasks
(figures in docs/performance.md). The engine reads the text itself;
the final response only feeds the session history. So, every few updates,
runs of plain text updates that have already been read are replaced, in every
layer's list, by one update carrying their joined text and the same ids, role
and properties. The finalizers then build the same response as before.

Only updates that differ in nothing but their text are joined, and the
originals are never modified, so a list that is not rewritten still finalizes
correctly. The lists are private: if a layer does not look as expected,
nothing is compacted.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.engine.task import Task

EVERY = 8
"""Compact once this many updates arrived since the last time (bounds what a stream holds)."""
BLOCK_CHARS = 16_384
"""Joined text stops growing here, so each compaction copies at most this much text."""

_VARIABLE = {"contents": None, "raw_representation": None}
"""Update attributes that may differ within a run: the joined update gets its own."""


class Compactor:
    """Compacts the retained updates of one agent stream; call it after each update has been read."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._layers: list[list[Any]] | None = None
        self._start = 0
        """Index in the outermost list before which nothing can be joined any more."""
        self._seen = 0

    def __call__(self) -> None:
        updates = getattr(self._stream, "_updates", None)
        if not isinstance(updates, list) or len(updates) - self._seen < EVERY:
            return
        self._layers = self._layers or _layers(self._stream)
        if self._layers:
            self._start, complete = _compact(self._layers, updates, self._start)
            if not complete:
                self._layers = None  # a layer was replaced (a new provider call): look again next time
        self._seen = len(updates)


def _layers(stream: Any) -> list[list[Any]] | None:
    """The `_updates` lists of every layer under `stream`, or None if any layer looks unfamiliar.

    Wrapping layers are linked by `_inner_stream`; the function-invocation layer
    opens the provider's stream inside an async generator, found in its frame.
    """
    from agent_framework import ResponseStream

    found: list[list[Any]] = []
    pending: list[Any] = [stream]
    seen: set[int] = set()
    while pending:
        layer = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        updates = getattr(layer, "_updates", None)
        if not isinstance(updates, list) or not _plain(layer):
            return None
        found.append(updates)
        source = getattr(layer, "_stream", None)
        frame = getattr(source, "ag_frame", None)
        nested = [getattr(layer, "_inner_stream", None), source]
        if frame is not None:
            nested.extend(frame.f_locals.values())
        # Exact type: an ABC isinstance check on every local costs more than the rest of a compaction.
        pending.extend(value for value in nested if type(value) is ResponseStream)
    return found


def _plain(layer: Any) -> bool:
    """A layer that streams updates as they come, keeping them only in `_updates`."""
    return (
        getattr(layer, "_stream_updates", None) is True
        and not getattr(layer, "_update_gates_before", True)
        and not getattr(layer, "_update_gates_after", True)
        and not getattr(layer, "_pending_mapped_updates", True)
    )


def _compact(layers: list[list[Any]], outer: list[Any], start: int) -> tuple[int, bool]:
    """Join runs in `outer[start:-1]` and rewrite every layer's list.

    Returns where the next scan starts and whether every list held the runs.
    The newest update is left alone; it is the one the caller may still be reading.
    Only the item before it can join later updates, so the next scan starts there.
    """
    runs: list[tuple[list[Any], Any]] = []
    run: list[Any] = []
    key: tuple[Any, ...] | None = None
    chars = 0
    for update in outer[start:-1]:
        update_key = _join_key(update)
        if update_key is None or update_key != key or chars >= BLOCK_CHARS:
            _add_run(runs, run)
            run, key, chars = [], update_key, 0
        if update_key is not None:
            run.append(update)
            chars += len(update.contents[0].text)
    _add_run(runs, run)
    complete = True
    if runs:
        by_head = {id(members[0]): (members, joined) for members, joined in runs}
        window = len(outer) - start
        complete = all([_rewrite(updates, by_head, window) for updates in layers])
    return max(start, len(outer) - 2), complete


def _join_key(update: Any) -> tuple[Any, ...] | None:
    """What must be equal for updates to be joined; None if the update is not a plain, read text update.

    For the text content, only what the framework's own text merge keeps has to match.
    """
    contents = getattr(update, "contents", None)
    raw = getattr(update, "raw_representation", None)
    if not isinstance(contents, list) or len(contents) != 1 or raw is None:
        return None
    content = contents[0]
    raw_contents = getattr(raw, "contents", None)
    if (
        getattr(content, "type", None) != "text"
        or not isinstance(getattr(content, "text", None), str)
        or getattr(content, "merge_mode", None) == "replace"
        or getattr(content, "annotations", None) is not None
        or getattr(content, "raw_representation", None) is not None
        or getattr(raw, "raw_representation", None) is not None
        or not isinstance(raw_contents, list)
        or len(raw_contents) != 1
        or raw_contents[0] is not content
        or getattr(update, "merge_mode", None) == "replace"
        or getattr(update, "finish_reason", None) is not None
        or getattr(update, "continuation_token", None) is not None
    ):
        return None
    return (
        type(update),
        {**vars(update), **_VARIABLE},
        type(raw),
        {**vars(raw), **_VARIABLE},
        type(content),
        content.additional_properties,
    )


def _add_run(runs: list[tuple[list[Any], Any]], run: list[Any]) -> None:
    """Add the joined agent update and its joined chat update for a run of two or more."""
    if len(run) < 2:
        return
    last = run[-1]
    first_content = run[0].contents[0]
    content = type(first_content)(
        "text",
        text="".join(update.contents[0].text for update in run),
        merge_mode=last.contents[0].merge_mode,
        additional_properties=copy.deepcopy(first_content.additional_properties),
    )
    chat = copy.copy(last.raw_representation)
    chat.contents = [content]
    agent = copy.copy(last)
    agent.contents = [content]
    agent.raw_representation = chat
    runs.append((run, agent))
    runs.append(([update.raw_representation for update in run], chat))


def _rewrite(updates: list[Any], runs: dict[int, tuple[list[Any], Any]], window: int) -> bool:
    """Put each joined update where its run stood, in the last `window` (+1) items; False if none was there.

    A list that holds a run in another order stays as it was.
    """
    begin = max(0, len(updates) - window - 1)
    result: list[Any] = []
    index = begin
    while index < len(updates):
        item = updates[index]
        found = runs.get(id(item))
        if found is None:
            result.append(item)
            index += 1
            continue
        members, joined = found
        span = updates[index : index + len(members)]
        if len(span) != len(members) or any(a is not b for a, b in zip(span, members)):
            return False
        result.append(joined)
        index += len(members)
    changed = len(result) != len(updates) - begin
    updates[begin:] = result
    return changed


def settle(task: Task) -> None:
    """Keep a finished task's text once: as one string, which its session history shares.

    While a task streams, its newest chunks stay separate small strings (each
    with its own object overhead), and a chat task's session history holds the
    whole answer again as its last message.
    """
    text = task.text
    state = task.session_state or {}
    messages = state.get("state", {}).get("in_memory", {}).get("messages") or [{}]
    contents = messages[-1].get("contents") if isinstance(messages[-1], dict) else None
    if (
        isinstance(contents, list)
        and len(contents) == 1
        and isinstance(contents[0], dict)
        and contents[0].get("type") == "text"
        and contents[0].get("text") == text
    ):
        contents[0]["text"] = text
