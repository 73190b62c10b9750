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
from tui.engine import Task, TaskOutput, TaskStatus, Usage
from tui.store import files
from tui.store.batch import Pending, write_batch
from tui.store.errors import StoreError, describe
from tui.store.export import FORMAT
from tui.store.records import capture_inputs, capture_state, mark_interrupted
from tui.store.schema import connect_writer, migrate
from tui.user_files import IMPORT_LIMIT, UnreadableFile, read_user_file

_STATUSES = ", ".join(s.value for s in TaskStatus)


class _Fields:
    """Typed access to one task of the document; each mistake names the task and the key."""

    def __init__(self, source: str, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise StoreError(f"{source}: tasks[{index}] must be an object/table")
        self.raw = raw
        self.where = f"{source}: task {raw.get('id', f'#{index + 1}')}"

    def get(self, key: str, kinds: type | tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        if key not in self.raw or self.raw[key] is None:
            if required:
                raise StoreError(f"{self.where}: '{key}' is missing")
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise StoreError(f"{self.where}: '{key}' has the wrong type ({type(value).__name__})")
        return value

    def number(self, key: str) -> float | None:
        value = self.get(key, (int, float))
        return None if value is None else float(value)

    def session_dict(self, key: str) -> dict[str, Any] | None:
        value = self.get(key, (dict, str))
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise StoreError(f"{self.where}: '{key}' is not valid JSON") from None
        if value is not None and not isinstance(value, dict):
            raise StoreError(f"{self.where}: '{key}' must be an object")
        return value


def _task(source: str, index: int, raw: Any) -> Task:
    f = _Fields(source, index, raw)
    status = f.get("status", str, required=True)
    if status not in {s.value for s in TaskStatus}:
        raise StoreError(f"{f.where}: 'status' must be one of {_STATUSES}, got {status!r}")
    api = f.get("api", str, "chat")
    if api not in API_KINDS:
        raise StoreError(f"{f.where}: 'api' must be one of {', '.join(API_KINDS)}, got {api!r}")
    usage = f.get("usage", dict, {})
    attachments = f.get("attachments", list, [])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in usage.values()) or set(usage) - set(
        Usage().__dict__
    ):
        raise StoreError(f"{f.where}: 'usage' must hold input_tokens/output_tokens/total_tokens numbers")
    if not all(isinstance(a, str) for a in attachments):
        raise StoreError(f"{f.where}: 'attachments' must be a list of paths")
    prompt = f.get("prompt", str, required=True)
    task_id = f.get("id", int, required=True)
    if task_id < 1:
        raise StoreError(f"{f.where}: 'id' must be a positive whole number")
    return Task(
        id=task_id, prompt=prompt, provider=f.get("provider", str, "demo"), model=f.get("model", str, ""),
        api=api, status=TaskStatus(status), created_at=_or(f.number("created_at"), time.time()),
        started_at=f.number("started_at"), finished_at=f.number("finished_at"),
        prior_elapsed=_or(f.number("prior_elapsed"), 0.0), timeout=f.number("timeout"),
        error=f.get("error", str), notice=f.get("notice", str), usage=Usage(**usage), system=f.get("system", str),
        attachments=attachments, request_text=f.get("request_text", str, prompt), parent_id=f.get("parent_id", int),
        base_session=f.session_dict("base_session"), session_state=f.session_dict("session_state"),
        continuation_token=f.session_dict("continuation_token"), last_sequence=f.get("last_sequence", int),
        output=TaskOutput(f.get("output", str, required=True)),
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
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{kind.upper()}: {exc}")
    else:
        raise StoreError(f"{path}: not a JSON or TOML export ({'; '.join(errors)})")
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        raise StoreError(f"{path}: not an agentdeck export (expected a 'session' and a list of 'tasks')")
    session = doc.get("session", {})
    if not isinstance(session, dict) or session.get("format", FORMAT) != FORMAT:
        raise StoreError(f"{path}: not an agentdeck export ('session.format' is not {FORMAT!r})")
    return doc


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
        batch[task.id] = Pending(inputs=capture_inputs(task), state=capture_state(task),
                                 text=[task.text] if task.chars else [], session_state=task.session_state)
    try:
        conn = connect_writer(path)
        try:
            migrate(conn, path)
            if isinstance(created_at, int | float) and not isinstance(created_at, bool):
                conn.execute("UPDATE session_info SET value = ? WHERE key = 'created_at'", (repr(float(created_at)),))
            write_batch(conn, batch, {}, 1)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot write the imported session: {describe(exc)}") from None
