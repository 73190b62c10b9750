"""Export a session as Markdown (to read), JSON or TOML (to keep, share and import back).

JSON is one object `{"session": {...}, "tasks": [...]}`; each task carries
everything needed to bring it back (including its agent session state), and
`output` is the text exactly as received. TOML has no null, so absent values
are left out, and the agent session dicts are stored as JSON strings (their
inner nulls matter when they are restored). Long texts are TOML multi-line
strings unless the task holds a carriage return (see `_toml_pieces`).

Tool calls are in `tool_calls`, in call order: in JSON one object per line, in
TOML a `[[tasks.tool_calls]]` table each; in Markdown each call sits in the
answer where it happened (`markdown_tools`).

`export_pieces` streams: each task is read, written and dropped before the
next, so an export takes time linear in the session and memory for one task.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

import tomli_w

from tui.engine import Task, ToolCall
from tui.store import files
from tui.store.errors import StoreError, describe
from tui.store.markdown_tools import answer_with_calls
from tui.store.reader import SessionReader, Summary
from tui.store.records import mark_interrupted
from tui.wording import money

FORMAT = "agentdeck-session"
FORMAT_VERSION = 1
FORMATS = ("md", "json", "toml")
SESSION_DICTS = ("base_session", "session_state", "continuation_token")


def call_document(call: ToolCall) -> dict[str, Any]:
    """`ToolCall.summary()` (the `--json` fields) plus where and when it happened, which import restores."""
    return call.summary() | {
        "call_id": call.call_id, "offset": call.offset, "started_at": call.started_at,
        "finished_at": call.finished_at,
    }


def task_document(task: Task) -> dict[str, Any]:
    """`Task.summary()` plus what a restore needs; `output` last so the file reads well."""
    doc = task.summary()
    output = doc.pop("output")
    doc.update(
        tool_calls=[call_document(call) for call in task.tool_calls], tools=list(task.tools),
        system=task.system, request_text=task.request_text, prior_elapsed=task.prior_elapsed,
        base_session=task.base_session, session_state=task.session_state,
        continuation_token=task.continuation_token, last_sequence=task.last_sequence, output=output,
    )
    return doc


def session_header(path: Path, summary: Summary) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "name": files.name_of(path),
        "created_at": summary.created_at, "updated_at": summary.updated_at, "exported_at": time.time(),
    }


def _documents(path: Path, reader: SessionReader) -> Iterator[dict[str, Any]]:
    """Each task as plain data, read one at a time from one snapshot (a dead writer's tasks `interrupted`)."""
    writer = files.writer_pid(path)
    for row, task in reader.each_task():
        if writer is None:
            mark_interrupted(task, row.updated_at)
        yield task_document(task)


def session_document(ref: str | Path) -> dict[str, Any]:
    """The whole session as plain data; works while another process writes it (a consistent snapshot)."""
    path = files.resolve(ref)
    reader = SessionReader(path)
    try:
        return {"session": session_header(path, reader.summary()), "tasks": list(_documents(path, reader))}
    finally:
        reader.close()


def export_pieces(ref: str | Path, fmt: str) -> Iterator[str]:
    """The export of a session as text pieces, written as each task is read: time grows linearly with
    the session, memory with its largest task only."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    path = files.resolve(ref)
    reader = SessionReader(path)
    try:
        summary = reader.summary()
        yield from _PIECES[fmt](session_header(path, summary), sum(summary.counts.values()), _documents(path, reader))
    finally:
        reader.close()


def render(doc: dict[str, Any], fmt: str) -> str:
    """A session document (`session_document`) as one text."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return "".join(_PIECES[fmt](doc["session"], len(doc["tasks"]), iter(doc["tasks"])))


def to_toml(doc: dict[str, Any]) -> str:
    return render(doc, "toml")


def _json_pieces(session: dict[str, Any], count: int, tasks: Iterator[dict[str, Any]]) -> Iterator[str]:
    """`{"session": {...}, "tasks": [...]}` written one task at a time."""
    head = json.dumps({"session": session}, ensure_ascii=False, indent=2)
    yield head[: head.rindex("}")].rstrip() + ',\n  "tasks": ['
    first = True
    for task in tasks:
        yield ("\n    " if first else ",\n    ") + _json_object(task, "    ")
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def _json_object(doc: dict[str, Any], indent: str) -> str:
    """A task as a JSON object, one field per line at `indent`. Nested values (usage, agent sessions)
    are written on one line: json's indenting encoder is pure Python and took most of an export's time."""
    inner = indent + "  "
    fields = [f"{inner}{encode_basestring(str(key))}: {_json_value(value, inner)}" for key, value in doc.items()]
    return "{\n" + ",\n".join(fields) + "\n" + indent + "}" if fields else "{}"


def _json_value(value: Any, indent: str = "") -> str:
    """Common scalars directly (each `json.dumps` call builds an encoder), the rest by json's C encoder;
    a list of objects (tool calls) one object per line."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _COMPACT.encode(item) for item in value) + "\n" + indent + "]"
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)
    return _COMPACT.encode(value)


_COMPACT = json.JSONEncoder(ensure_ascii=False)


def _toml_pieces(session: dict[str, Any], count: int, tasks: Iterator[dict[str, Any]]) -> Iterator[str]:
    """One `[[tasks]]` table per task, always (tomli-w would write a lone short task as an inline array).
    Long texts are multi-line strings unless the task holds a carriage return: tomli-w turns CRLF into
    LF inside multi-line strings."""
    session_table = tomli_w.dumps({"session": {k: v for k, v in session.items() if v is not None}})
    if not count:  # an empty array must come before the first table; tasks added since are not shown
        yield "tasks = []\n\n" + session_table
        return
    yield session_table
    for task in tasks:
        entry = {k: v for k, v in task.items() if v is not None}
        for name in SESSION_DICTS:
            if name in entry:
                entry[name] = json.dumps(entry[name], ensure_ascii=False)
        calls = [{k: v for k, v in call.items() if v is not None} for call in entry.pop("tool_calls", [])]
        multiline = not _has_carriage_return(entry) and not _has_carriage_return(calls)
        values = {k: v for k, v in entry.items() if not isinstance(v, dict)}
        parts = ["\n[[tasks]]\n", tomli_w.dumps(values, multiline_strings=multiline)]
        for key, table in entry.items():  # under this [[tasks]] entry: [tasks.usage]
            if isinstance(table, dict):
                parts += ["\n", tomli_w.dumps({"tasks": {key: table}}, multiline_strings=multiline)]
        if calls:  # under it too, one [[tasks.tool_calls]] table per call
            parts += ["\n", tomli_w.dumps({"tasks": {"tool_calls": calls}}, multiline_strings=multiline)]
        yield "".join(parts)


def _has_carriage_return(value: Any) -> bool:
    if isinstance(value, str):
        return "\r" in value
    if isinstance(value, dict):
        return any(_has_carriage_return(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_carriage_return(v) for v in value)
    return False


def _when(epoch: float | None) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "-"
    except (OverflowError, OSError, ValueError):  # a damaged file's date
        return "?"


def _markdown_pieces(session: dict[str, Any], count: int, tasks: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield (
        f"# Session {session['name']}\n\n"
        f"Created {_when(session['created_at'])}, updated {_when(session['updated_at'])}, {count} tasks.\n"
    )
    for task in tasks:
        lines = [
            "",
            f"## Task {task['id']} · {task['status']}",
            "",
            f"- provider: {task['provider']} ({task['api']}), model: {task['model']}",
            (
                f"- started: {_when(task['started_at'])}, elapsed: {task['elapsed_s']:.1f} s, "
                f"{task['chars']:,} characters"
            ),
        ]
        if task["usage"]:
            lines.append(f"- {_spent(task['usage'], task['cost_usd'])}")
        for key in ("error", "notice"):
            if task[key]:
                lines.append(f"- {key}: {task[key]}")
        if task["attachments"]:
            lines.append(f"- attachments: {', '.join(task['attachments'])}")
        lines += ["", "**Prompt**", "", *(f"> {line}" for line in task["prompt"].splitlines()), ""]
        lines += ["**Answer**", "", answer_with_calls(task["output"], task.get("tool_calls") or [])]
        yield "\n".join(lines) + "\n"


def _spent(usage: dict[str, Any], cost: float | None) -> str:
    """`tokens: 1,234 (1,000 in, 234 out), cost: $0.0005`, marked when estimated."""
    mark = "estimated " if usage["estimated"] else ""
    total = usage.get("total_tokens", usage.get("input_tokens", 0) + usage.get("output_tokens", 0))
    parts = f"{usage.get('input_tokens', 0):,} in, {usage.get('output_tokens', 0):,} out"
    return f"{mark}tokens: {total:,} ({parts}), cost: {money(cost)}"


_PIECES: dict[str, Callable[[dict[str, Any], int, Iterator[dict[str, Any]]], Iterator[str]]] = {
    "json": _json_pieces, "toml": _toml_pieces, "md": _markdown_pieces,
}


def write_private(path: Path, text: str | Iterable[str]) -> None:
    """Write a file atomically (0600), from one text or streamed pieces; an existing symlink or folder
    there is refused, not followed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise StoreError(f"{path}: {describe(exc)}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise StoreError(f"{path}: is {kind}; refusing to write through it")
    directory = path.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write there: {describe(exc)}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
        os.replace(temp, path)
    except OSError as exc:
        os.unlink(temp)
        raise StoreError(f"{path}: cannot write: {describe(exc)}") from None
    except BaseException:  # the pieces could not be read: nothing is left behind
        os.unlink(temp)
        raise
