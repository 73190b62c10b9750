"""Bring a JSON or TOML export back as a new session, checking every field it relies on."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import tomllib
from pathlib import Path
from typing import Any

from tui.config import API_KINDS
from tui.engine import Task, TaskOutput, TaskStatus
from tui.store import files
from tui.store.batch import Pending, write_batch
from tui.store.errors import StoreError, describe
from tui.store.export import FORMAT
from tui.store.import_rules import (
    INT64_MAX,
    MAX_TASK_ID,
    STATUSES,
    TaskFields,
    check_session_header,
    finite_seconds,
    servers,
    tool_calls,
)
from tui.store.records import capture_inputs, capture_state, mark_interrupted, settle_calls
from tui.store.schema import connect_writer, migrate
from tui.store.tool_records import capture_call
from tui.user_files import IMPORT_LIMIT, UnreadableFile, read_user_file


def _task(source: str, index: int, raw: Any) -> Task:
    f = TaskFields(source, index, raw)
    task_id = f.whole("id", 1, MAX_TASK_ID)
    if task_id is None:
        raise f.fail("id", "is missing")
    prompt = f.text("prompt", required=True, blank=False)
    continuation_token = f.session_dict("continuation_token")
    if continuation_token is not None and not isinstance(continuation_token.get("response_id"), str):
        raise f.fail("continuation_token", "must hold a 'response_id' string")
    output = f.text("output", required=True)
    created_at, started_at = _or(f.seconds("created_at"), time.time()), f.seconds("started_at")
    first_output = f.seconds("first_output_s")
    return Task(
        id=task_id, prompt=prompt, provider=f.text("provider", "demo", blank=False), model=f.text("model", ""),
        api=f.choice("api", API_KINDS, "chat"), status=TaskStatus(f.choice("status", STATUSES)),
        created_at=created_at, started_at=started_at,
        finished_at=f.seconds("finished_at"),
        first_output_at=None if first_output is None or started_at is None else started_at + first_output,
        prior_elapsed=_or(f.seconds("prior_elapsed"), 0.0),
        timeout=f.timeout(), error=f.text("error"), notice=f.text("notice"), usage=f.usage(),
        system=f.text("system"), attachments=f.paths("attachments"), request_text=f.text("request_text", prompt),
        parent_id=f.whole("parent_id", 1, MAX_TASK_ID), base_session=f.session_dict("base_session"),
        session_state=f.session_dict("session_state"), continuation_token=continuation_token,
        last_sequence=f.whole("last_sequence", 0, INT64_MAX), output=TaskOutput(output),
        tools=servers(f), tool_calls=tool_calls(f, len(output), _or(started_at, created_at)),
        group=f.text("group", blank=False),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def read_document(path: Path) -> dict[str, Any]:
    """Parse an export (JSON or TOML, by suffix; other suffixes try JSON, then TOML)."""
    try:
        text = read_user_file(path, IMPORT_LIMIT, "import").decode("utf-8")
    except FileNotFoundError:
        raise StoreError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not UTF-8 text; is it an agentdeck export?") from None
    except UnreadableFile as exc:
        raise StoreError(str(exc)) from None
    suffix = path.suffix.lower()
    parsers = {".json": ("json",), ".toml": ("toml",)}.get(suffix, ("json", "toml"))
    errors = []
    for kind in parsers:
        try:
            doc = json.loads(text) if kind == "json" else tomllib.loads(text)
            break
        except RecursionError:  # both parsers stop at Python's recursion limit, in time linear in the depth
            errors.append(f"{kind.upper()}: nested too deeply")
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{kind.upper()}: {_first_line(str(exc))}")
    else:
        raise StoreError(f"{path}: not a JSON or TOML export ({'; '.join(errors)})")
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        raise StoreError(f"{path}: not an agentdeck export (expected a 'session' and a list of 'tasks')")
    doc["session"] = check_session_header(doc.get("session"), str(path), FORMAT)
    return doc


def _first_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _usable_name(exported: Any) -> str:
    try:
        return files.check_name(exported) if isinstance(exported, str) else "imported"
    except StoreError:
        return "imported"


def _free_name(wanted: str, directory: Path) -> str:
    name, n = wanted, 1
    while (directory / f"{name}{files.SUFFIX}").exists() or (directory / f"{name}{files.SUFFIX}").is_symlink():
        n += 1
        name = f"{wanted}-{n}"
    return name


def import_file(source: Path, name: str | None = None, directory: Path | None = None) -> tuple[str, int]:
    """Create a new session from an export; returns (session name, number of tasks).

    Without `name` the exported name is used (with `-2`, `-3`... if taken); an
    explicit `name` that is taken is refused. Tasks exported while running come
    back `interrupted`, so they can be resumed.
    """
    doc = read_document(source)
    tasks = [_task(str(source), i, raw) for i, raw in enumerate(doc["tasks"])]
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise StoreError(f"{source}: two tasks have the same id")
    session = doc.get("session", {})
    directory = files.ensure_dir(directory)
    if name is None:
        name = _free_name(_usable_name(session.get("name")), directory)
    path = files.path_for(name, directory)
    if os.path.lexists(path):
        raise StoreError(f"a session named {name!r} already exists; choose another --name")
    files.create_file(path)
    try:
        _write(path, tasks, session.get("created_at"))
    except BaseException:
        files.remove_session(path)
        raise
    return name, len(tasks)


def _write(path: Path, tasks: list[Task], created_at: Any) -> None:
    batch = {}
    for task in tasks:
        mark_interrupted(task, task.finished_at or task.started_at or task.created_at)
        settle_calls(task, task.finished_at or task.started_at or task.created_at)  # a finished task's calls too
        batch[task.id] = Pending(inputs=capture_inputs(task), state=capture_state(task),
                                 text=[task.text] if task.chars else [], session_state=task.session_state,
                                 servers=task.tools or None,
                                 calls={position: capture_call(call) for position, call in enumerate(task.tool_calls)})
    try:
        conn = connect_writer(path)
        try:
            migrate(conn, path)
            created = finite_seconds(created_at)
            if created is not None:
                conn.execute("UPDATE session_info SET value = ? WHERE key = 'created_at'", (repr(created),))
            write_batch(conn, batch, {}, 1)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot write the imported session: {describe(exc)}") from None
