"""Export a session as Markdown (to read), JSON or TOML (to keep, share and import back).

JSON is one object `{"session": {...}, "tasks": [...]}`; each task carries
everything needed to bring it back (including its agent session state), and
`output` is the text exactly as received. TOML has no null, so absent values
are left out, and the agent session dicts are stored as JSON strings (their
inner nulls matter when they are restored). Long texts are TOML multi-line
strings unless some text holds a carriage return (see `_has_carriage_return`).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import tomli_w

from tui.engine import Task
from tui.store import files
from tui.store.errors import StoreError, describe
from tui.store.reader import SessionReader
from tui.store.records import mark_interrupted

FORMAT = "agentdeck-session"
FORMAT_VERSION = 1
FORMATS = ("md", "json", "toml")
SESSION_DICTS = ("base_session", "session_state", "continuation_token")


def task_document(task: Task) -> dict[str, Any]:
    """`Task.summary()` plus what a restore needs; `output` last so the file reads well."""
    doc = task.summary()
    output = doc.pop("output")
    doc.update(
        system=task.system, request_text=task.request_text, prior_elapsed=task.prior_elapsed,
        base_session=task.base_session, session_state=task.session_state,
        continuation_token=task.continuation_token, last_sequence=task.last_sequence, output=output,
    )
    return doc


def session_document(ref: str | Path) -> dict[str, Any]:
    """The whole session as plain data; works while another process writes it (a consistent snapshot)."""
    path = files.resolve(ref)
    reader = SessionReader(path)
    try:
        summary = reader.summary()
        rows = reader.rows()
        writer = files.writer_pid(path)
        tasks = []
        for row in rows:
            task = reader.task(row)
            if writer is None:
                mark_interrupted(task, row.updated_at)
            tasks.append(task_document(task))
    finally:
        reader.close()
    session = {
        "format": FORMAT, "version": FORMAT_VERSION, "name": files.name_of(path),
        "created_at": summary.created_at, "updated_at": summary.updated_at, "exported_at": time.time(),
    }
    return {"session": session, "tasks": tasks}


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_toml(doc: dict[str, Any]) -> str:
    tasks = []
    for task in doc["tasks"]:
        entry = {k: v for k, v in task.items() if v is not None}
        for name in SESSION_DICTS:
            if name in entry:
                entry[name] = json.dumps(entry[name], ensure_ascii=False)
        tasks.append(entry)
    session = {k: v for k, v in doc["session"].items() if v is not None}
    table = {"session": session, "tasks": tasks}
    return tomli_w.dumps(table, multiline_strings=not _has_carriage_return(table))


def _has_carriage_return(value: Any) -> bool:
    """tomli-w turns CRLF into LF inside multi-line strings; such text must stay on one escaped line."""
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


def to_markdown(doc: dict[str, Any]) -> str:
    session = doc["session"]
    lines = [
        f"# Session {session['name']}",
        "",
        (
            f"Created {_when(session['created_at'])}, updated {_when(session['updated_at'])}, "
            f"{len(doc['tasks'])} tasks."
        ),
    ]
    for task in doc["tasks"]:
        lines += [
            "",
            f"## Task {task['id']} · {task['status']}",
            "",
            f"- provider: {task['provider']} ({task['api']}), model: {task['model']}",
            (
                f"- started: {_when(task['started_at'])}, elapsed: {task['elapsed_s']:.1f} s, "
                f"{task['chars']:,} characters"
            ),
        ]
        for key in ("error", "notice"):
            if task[key]:
                lines.append(f"- {key}: {task[key]}")
        if task["attachments"]:
            lines.append(f"- attachments: {', '.join(task['attachments'])}")
        lines += ["", "**Prompt**", "", *(f"> {line}" for line in task["prompt"].splitlines()), ""]
        lines += ["**Answer**", "", task["output"]]
    return "\n".join(lines) + "\n"


def render(doc: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "toml":
        return to_toml(doc)
    if fmt == "md":
        return to_markdown(doc)
    raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")


def write_private(path: Path, text: str) -> None:
    """Write a file atomically (0600); an existing symlink or folder there is refused, not followed."""
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
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        os.unlink(temp)
        raise StoreError(f"{path}: cannot write: {describe(exc)}") from None
