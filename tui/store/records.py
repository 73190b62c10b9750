"""Tasks as rows: snapshots taken on the event loop, rows read back into `Task`s.

Snapshots are plain tuples and dicts captured in one synchronous step, so the
writer thread never touches a live `Task` (whose text the loop keeps appending
to). Large JSON is encoded in the writer thread, not on the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui.engine import Task, TaskOutput, TaskStatus, Usage
from tui.engine.task import scalar_text
from tui.engine.tool_calls import ToolCallStatus
from tui.store.errors import SessionUnreadable

log = logging.getLogger("agentdeck.store")

INPUT_FIELDS = (
    "prompt", "provider", "model", "api", "created_at", "system", "attachments", "request_text",
    "parent_id", "base_session",
)
STATE_FIELDS = (
    "status", "started_at", "finished_at", "prior_elapsed", "timeout", "error", "notice", "usage",
    "continuation_token", "last_sequence", "first_output_at", "last_output_at",
)
JSON_FIELDS = frozenset({"attachments", "base_session", "usage", "continuation_token", "session_state"})
COMPRESSED_FIELDS = frozenset({"base_session", "session_state"})
COMPRESS_OVER = 1024
TEXT_LEVEL = 6
"""zlib's default: with a preset dictionary its setup dominates, so level 1 is no faster and stores ~20% more."""
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""No stored value expands beyond this: a damaged or crafted file must not exhaust memory."""
INTERRUPTED_ON_OPEN = "agentdeck stopped while this task was running"
STOPPED_DURING_CALL = "agentdeck stopped during this call; it did not finish"
STOPPED_WHILE_WAITING = "agentdeck stopped while this call waited for approval; it was not run"


def capture_inputs(task: Task) -> dict[str, Any]:
    """The write-once part of a task (its request)."""
    return {
        "prompt": task.prompt, "provider": task.provider, "model": task.model, "api": task.api,
        "created_at": task.created_at, "system": task.system, "attachments": list(task.attachments),
        "request_text": task.request_text, "parent_id": task.parent_id, "base_session": task.base_session,
        "group": task.group,
    }


def capture_state(task: Task) -> dict[str, Any]:
    """The small fields that change during a run; consistent with the text captured alongside."""
    return {
        "status": str(task.status), "started_at": task.started_at, "finished_at": task.finished_at,
        "prior_elapsed": task.prior_elapsed, "timeout": task.timeout, "error": task.error,
        "notice": task.notice, "usage": task.usage.to_dict() or None,
        "continuation_token": dict(task.continuation_token) if task.continuation_token else None,
        "last_sequence": task.last_sequence,
        "first_output_at": task.first_output_at, "last_output_at": task.last_output_at,
    }


def encode(field: str, value: Any, before: bytes = b"") -> Any:
    """Column value of a field: strings made UTF-8-safe, JSON as text, big agent sessions compressed.

    A lone surrogate (from argv or a JSON escape) would make every later save
    fail, so it becomes U+FFFD. A chat session's state repeats the whole
    conversation, answer included; zlib keeps that copy small, and smaller still
    packed against the task's text (`before`, the `window_of` its saved text):
    the answer is then mostly references to it. JSON that
    cannot be encoded is dropped with a log line rather than failing the save.
    """
    if isinstance(value, str):
        return scalar_text(value)
    if field not in JSON_FIELDS or value is None:
        return value
    try:
        text = scalar_text(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        log.warning("cannot save %s as JSON: %s", field, exc)
        return None
    if field in COMPRESSED_FIELDS and len(text) > COMPRESS_OVER:
        return _deflate(text.encode("utf-8"), zlib.Z_DEFAULT_COMPRESSION, before)
    return text


WINDOW = 32 * 1024
"""zlib's window: a chunk is packed against at most this many bytes of its task's earlier text."""


def window_of(text: str) -> bytes:
    """What the chunk after `text` may be packed against: the last `WINDOW` bytes of its UTF-8."""
    return text[-WINDOW:].encode("utf-8")[-WINDOW:]


def slide(window: bytes, data: bytes) -> bytes:
    """The window after a chunk of UTF-8 `data` was added to the text."""
    return (window + data)[-WINDOW:]


def pack_text(text: str, before: bytes = b"") -> str | bytes:
    """A text chunk as stored: zlib (model output shrinks well) when that is smaller.

    WAL mode writes every byte twice, so each byte saved here is two bytes not
    written. `before` is the `window_of` the task's text up to this chunk: a
    chunk is a few hundred characters at a model's pace, which compress ~1.6× on
    their own and 2-5× with the text before them as zlib's preset dictionary,
    since an answer repeats its own words. Such a chunk can only be read with
    that window (`unpack_data`); zlib records the dictionary's checksum, so a
    wrong one is an error, never wrong text. `text` must already be UTF-8-safe
    (`scalar_text`).
    """
    data = text.encode("utf-8")
    packed = _deflate(data, TEXT_LEVEL, before)
    return packed if len(packed) < len(data) else text


def unpack_text(value: str | bytes) -> str:
    """A stored value packed alone back as text; raises zlib.error, ValueError or TypeError when damaged."""
    return value if isinstance(value, str) else unpack_data(value).decode("utf-8")


def unpack_data(value: str | bytes, before: bytes = b"") -> bytes:
    """A stored text chunk as UTF-8; `before`: the window it may be packed against (see `pack_text`)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if not needs_before(value):
        return _inflate(value)
    if not before:
        raise ValueError("a chunk packed against earlier text that is missing")
    return _inflate(value, before)


def needs_before(value: str | bytes) -> bool:
    """A zlib stream that names a preset dictionary (FDICT, bit 5 of its second byte)."""
    return isinstance(value, bytes) and len(value) > 1 and bool(value[1] & 0x20)


def _deflate(data: bytes, level: int, before: bytes) -> bytes:
    if not before:
        return zlib.compress(data, level)
    packer = zlib.compressobj(level, zdict=before)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes, dictionary: bytes = b"") -> bytes:
    inflater = zlib.decompressobj(zdict=dictionary) if dictionary else zlib.decompressobj()
    out = inflater.decompress(data, MAX_UNPACKED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"a stored value expands beyond {MAX_UNPACKED_BYTES // 2**20} MB")
    return out


def _decode(value: str | bytes | None, text: Callable[[], str] | None = None) -> Any:
    """A JSON column's value; `text` gives the task's text when it was packed against it."""
    if value is None:
        return None
    if not isinstance(value, bytes):
        return json.loads(value)
    if not needs_before(value):
        return json.loads(_inflate(value))
    before = window_of(text()) if text is not None else b""
    if not before:
        raise ValueError("packed against the task's text, which is missing")
    return json.loads(_inflate(value, before))


class StoredOutput(TaskOutput):
    """A task's text that is on disk; read the first time it is asked for.

    Reopening a session of 50 MB must not read 50 MB: the length is known from
    the task row, and the text is loaded by the first `since`/`text`/`append`
    (from any thread; call `ensure_loaded` in a worker to keep the UI free).
    """

    def __init__(self, saved_chars: int, load: Callable[[int], str]) -> None:
        super().__init__()
        self._saved = saved_chars
        self._load: Callable[[int], str] | None = load
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._load is None

    def saved_grew(self, chars: int) -> None:
        """A watcher learned that more text was saved; only the length matters until loaded."""
        self._saved = max(self._saved, chars)

    def ensure_loaded(self) -> None:
        if self._load is None:
            return
        with self._lock:
            if self._load is not None:
                super().append(self._load(self._saved))
                self._load = None

    def __len__(self) -> int:
        return super().__len__() if self._load is None else self._saved

    def append(self, text: str) -> None:
        self.ensure_loaded()
        super().append(text)

    def since(self, offset: int) -> str:
        self.ensure_loaded()
        return super().since(offset)

    def text(self) -> str:
        self.ensure_loaded()
        return super().text()


TASK_COLUMNS = (
    "t.id, t.status, t.chars, t.started_at, t.finished_at, t.prior_elapsed, t.timeout, t.error, t.notice, "
    "t.usage, t.continuation_token, t.last_sequence, t.updated_at, t.rev, "
    "i.prompt, i.provider, i.model, i.api, i.created_at, i.system, i.attachments, i.request_text, "
    "i.parent_id, i.base_session, r.session_state"
)
TASK_TABLES = "tasks t JOIN task_inputs i ON i.task_id = t.id LEFT JOIN task_results r ON r.task_id = t.id"
TASK_QUERY = f"SELECT {TASK_COLUMNS} FROM {TASK_TABLES}"
OUTPUT_TIMES = "t.first_output_at, t.last_output_at"
"""Selected after `TASK_COLUMNS` (`NO_OUTPUT_TIMES` for a file saved before they existed)."""
NO_OUTPUT_TIMES = "NULL, NULL"


@dataclass(frozen=True)
class _Raw:
    """A JSON column not decoded yet."""

    value: str | bytes
    where: str = ""
    """Which file and task, for the message if it is damaged."""

    def decode(self, text: Callable[[], str] | None = None) -> Any:
        try:
            return _decode(self.value, text)
        except (ValueError, TypeError, RecursionError, zlib.error) as exc:
            prefix = f"{self.where}: " if self.where else ""
            raise SessionUnreadable(f"{prefix}a saved agent session is damaged ({exc})") from None


class _DecodedOnUse:
    """An attribute holding a `_Raw` until first read, then the decoded value."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}_value"

    def __get__(self, task: Task | None, owner: type | None = None) -> Any:
        if task is None:
            return None
        value = task.__dict__.get(self.slot)
        if isinstance(value, _Raw):
            value = task.__dict__[self.slot] = value.decode(lambda: task.text)
        return value

    def __set__(self, task: Task, value: Any) -> None:
        task.__dict__[self.slot] = value


class StoredTask(Task):
    """A task read from a session file. Its agent session states repeat the whole conversation
    (answer included), so decoding them for every task would dominate reopening a big
    session; they are decoded when the engine first needs them (continue, follow-up, export).
    """

    base_session = _DecodedOnUse()
    session_state = _DecodedOnUse()


def _raw(value: str | bytes | None, where: str) -> _Raw | None:
    return None if value is None else _Raw(value, where)


_NUMBER = (int, float)


def _typed(name: str, value: Any, kinds: type | tuple[type, ...], *, optional: bool = True) -> Any:
    """A column as read back must have its type: a damaged file may hold anything (ValueError if not)."""
    if (value is None and optional) or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    raise ValueError(f"'{name}' holds {type(value).__name__}")


def _small_state(row: tuple[Any, ...]) -> dict[str, Any]:
    (_id, status, _chars, started_at, finished_at, prior_elapsed, timeout, error, notice, usage, token,
     last_sequence) = row[:12]
    for name, value, kinds in (("started_at", started_at, _NUMBER), ("finished_at", finished_at, _NUMBER),
                               ("timeout", timeout, _NUMBER), ("error", error, str), ("notice", notice, str),
                               ("last_sequence", last_sequence, int)):
        _typed(name, value, kinds)
    _typed("prior_elapsed", prior_elapsed, _NUMBER, optional=False)
    _typed("continuation_token", _decode(token), dict)
    first_output_at, last_output_at = row[25:27] if len(row) > 26 else (None, None)
    _typed("first_output_at", first_output_at, _NUMBER)
    _typed("last_output_at", last_output_at, _NUMBER)
    return {
        "status": TaskStatus(status), "started_at": started_at, "finished_at": finished_at,
        "prior_elapsed": prior_elapsed, "timeout": timeout, "error": error, "notice": notice,
        "usage": Usage(**(_decode(usage) or {})), "continuation_token": _decode(token),
        "last_sequence": last_sequence, "first_output_at": first_output_at, "last_output_at": last_output_at,
    }


def state_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """The changing fields of a task row (what a watcher copies onto a task it already shows); the agent
    session as read, decoded when first used (it may be packed against the task's text)."""
    return {**_small_state(row), "session_state": _raw(row[24], "")}


def task_from_row(row: tuple[Any, ...], output: TaskOutput, where: str = "") -> Task:
    prompt, provider, model, api, created_at, system, attachments, request_text, parent_id, base_session = row[14:24]
    for name, value in (("prompt", prompt), ("provider", provider), ("model", model), ("api", api),
                        ("request_text", request_text)):
        _typed(name, value, str, optional=False)
    _typed("created_at", created_at, _NUMBER, optional=False)
    _typed("system", system, str)
    _typed("parent_id", parent_id, int)
    if not all(isinstance(a, str) for a in _typed("attachments", _decode(attachments), list) or []):
        raise ValueError("'attachments' holds something else than paths")
    return StoredTask(
        id=row[0], prompt=prompt, provider=provider, model=model, api=api, created_at=created_at,
        system=system, attachments=_decode(attachments) or [], request_text=request_text, parent_id=parent_id,
        base_session=_raw(base_session, where), session_state=_raw(row[24], where),  # type: ignore[arg-type]
        output=output,
        **_small_state(row),
    )


def mark_interrupted(task: Task, updated_at: float) -> bool:
    """Show a task left running, waiting or queued by a writer that is gone as `interrupted`
    (its unfinished tool calls `cancelled`, see `settle_calls`)."""
    if not task.status.is_active:
        return False
    if task.status in (TaskStatus.RUNNING, TaskStatus.WAITING) and task.finished_at is None:
        task.finished_at = max(updated_at, task.started_at or updated_at)
    task.status = TaskStatus.INTERRUPTED
    task.error = task.error or INTERRUPTED_ON_OPEN
    settle_calls(task, task.finished_at or updated_at)
    return True


def settle_calls(task: Task, at: float) -> list[int]:
    """Calls left running or waiting (their writer is gone) become `cancelled`; returns their positions."""
    settled = []
    for position, call in enumerate(task.tool_calls):
        if call.status.is_final:
            continue
        why = STOPPED_WHILE_WAITING if call.status is ToolCallStatus.WAITING else STOPPED_DURING_CALL
        call.status = ToolCallStatus.CANCELLED
        call.error = call.error or why
        call.finished_at = max(at, call.started_at) if call.finished_at is None else call.finished_at
        settled.append(position)
    return settled


async def load_text(task: Task) -> str:
    """A task's whole text; a first read from disk happens in a worker thread, off the event loop."""
    output = task.output
    if isinstance(output, StoredOutput) and not output.loaded:
        await asyncio.to_thread(output.ensure_loaded)
    return task.text
