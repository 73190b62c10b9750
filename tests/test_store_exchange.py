"""Export (md/json/toml) and import (json/toml): exact round trips and clear refusals."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui.engine import Task, TaskOutput, TaskStatus, Usage
from tui.store import SessionStore, StoreError, import_file, list_sessions, render, session_document
from tui.store.batch import Pending, write_batch
from tui.store.markdown_nesting import nest_headings
from tui.store.records import capture_inputs, capture_state
from tui.store.schema import connect_writer

AWKWARD = 'Quotes " \' """ \'\'\' back\\slash\ttab\r\nCRLF\x1b[31mESC\x00NUL é ✓ 𝄞 \u202e\n## heading\n'


def make_session(name: str = "source") -> Path:
    """A session with every field filled in, including nulls inside agent session states."""
    store = SessionStore.open(name)
    path = store.path
    store.close()
    now = time.time()
    tasks = [
        Task(1, "first " + AWKWARD, "demo", "demo-chat", "chat", status=TaskStatus.DONE, created_at=now - 9,
             started_at=now - 8, finished_at=now - 2, prior_elapsed=1.5, timeout=600.0, notice="a notice",
             usage=Usage(10, 20, 30), system="be brief", attachments=["/tmp/a.txt"], request_text="first + file",
             session_state={"type": "session", "session_id": "s1", "service_session_id": None,
                            "state": {"in_memory": {"messages": [{"role": "assistant", "text": AWKWARD}]}}},
             output=TaskOutput(AWKWARD * 3)),
        Task(2, "second", "demo-responses", "demo-responses", "responses", status=TaskStatus.INTERRUPTED,
             created_at=now - 5, started_at=now - 4, finished_at=now - 1, error="connection cut", parent_id=1,
             base_session={"type": "session", "session_id": "s1", "service_session_id": None, "state": {}},
             continuation_token={"response_id": "resp_1"}, last_sequence=42, output=TaskOutput("partial")),
        Task(3, "third, never started", "demo", "demo-chat", "chat", status=TaskStatus.CANCELLED, created_at=now,
             error="cancelled by user"),
    ]
    conn = connect_writer(path)
    batch = {t.id: Pending(capture_inputs(t), capture_state(t), [t.text] if t.chars else [], t.session_state)
             for t in tasks}
    write_batch(conn, batch, {}, 1)
    conn.close()
    return path


def tasks_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["tasks"]


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_export_import_round_trip_is_exact(fmt: str, tmp_path: Path) -> None:
    make_session()
    original = session_document("source")
    exported = tmp_path / f"export.{fmt}"
    exported.write_text(render(original, fmt), encoding="utf-8")
    name, count = import_file(exported)
    assert (name, count) == ("source-2", 3)
    copy = session_document(name)
    assert tasks_of(copy) == tasks_of(original)
    assert copy["session"]["created_at"] == original["session"]["created_at"]
    assert tasks_of(original)[0]["output"] == AWKWARD * 3
    assert tasks_of(original)[0]["session_state"]["service_session_id"] is None


def test_json_export_shape() -> None:
    make_session()
    doc = json.loads(render(session_document("source"), "json"))
    assert set(doc) == {"session", "tasks"}
    assert doc["session"]["name"] == "source" and doc["session"]["format"] == "agentdeck-session"
    required = {"id", "prompt", "status", "chars", "output", "error", "provider", "model", "created_at",
                "started_at", "finished_at"}
    assert all(required <= set(task) for task in doc["tasks"])
    assert [t["chars"] for t in doc["tasks"]] == [len(AWKWARD) * 3, 7, 0]
    tomllib.loads(render(session_document("source"), "toml"))  # valid TOML too


def test_markdown_export_reads_well() -> None:
    make_session()
    text = render(session_document("source"), "md")
    assert text.startswith("# Session source\n")
    assert "## Task 2 · interrupted" in text and "- error: connection cut" in text
    assert "> second" in text and nest_headings(AWKWARD * 3) in text and "\n#### heading" in text


def test_running_tasks_of_a_dead_writer_export_and_import_as_interrupted(tmp_path: Path) -> None:
    path = make_session()
    conn = connect_writer(path)
    conn.execute("UPDATE tasks SET status = 'running', finished_at = NULL WHERE id = 1")
    conn.close()
    doc = session_document("source")
    assert tasks_of(doc)[0]["status"] == "interrupted"
    raw = dict(doc, tasks=[dict(tasks_of(doc)[0], status="running")])
    exported = tmp_path / "running.json"
    exported.write_text(json.dumps(raw))
    name, _ = import_file(exported, name="imported")
    assert SessionStore.open(name).interrupted()[0].id == 1


BAD_EXPORTS = {
    "not-json.json": ("{nope", "not a JSON or TOML export"),
    "binary.json": (b"\xff\xfe\x00garbage", "not UTF-8"),
    "list.json": ("[1, 2]", "not an agentdeck export"),
    "other.json": ('{"session": {"format": "something-else"}, "tasks": []}', "not an agentdeck export"),
    "status.json": ('{"tasks": [{"id": 1, "prompt": "p", "status": "exploded", "output": ""}]}',
                    "task 1: 'status' must be one of"),
    "output.json": ('{"tasks": [{"id": 1, "prompt": "p", "status": "done"}]}', "task 1: 'output' is missing"),
    "type.toml": ('[[tasks]]\nid = 1\nprompt = "p"\nstatus = "done"\noutput = 5\n', "'output' has the wrong type"),
    "dupes.json": (json.dumps({"tasks": [{"id": 1, "prompt": "p", "status": "done", "output": ""}] * 2}), "same id"),
}


@pytest.mark.parametrize("filename", sorted(BAD_EXPORTS))
def test_bad_import_is_refused_clearly_and_leaves_no_session(filename: str, tmp_path: Path) -> None:
    content, message = BAD_EXPORTS[filename]
    source = tmp_path / filename
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content)
    with pytest.raises(StoreError, match=message):
        import_file(source)
    assert list_sessions().sessions == []


def test_import_never_replaces_an_existing_session(tmp_path: Path) -> None:
    make_session()
    exported = tmp_path / "x.json"
    exported.write_text(render(session_document("source"), "json"))
    with pytest.raises(StoreError, match="already exists"):
        import_file(exported, name="source")
    assert [s.name for s in list_sessions().sessions] == ["source"]


def test_toml_keeps_long_texts_readable_when_that_stays_exact() -> None:
    from tui.store.export import to_toml

    doc = {"session": {"name": "s", "format": "agentdeck-session"}, "tasks": [{"id": 1, "output": "one\ntwo\n"}]}
    text = to_toml(doc)
    assert 'output = """\none\ntwo\n"""' in text
    assert tomllib.loads(text)["tasks"][0]["output"] == "one\ntwo\n"
    with_cr = to_toml({"session": {}, "tasks": [{"id": 1, "output": "one\r\ntwo\n"}]})
    assert tomllib.loads(with_cr)["tasks"][0]["output"] == "one\r\ntwo\n"


def test_an_answers_headings_nest_under_its_task_in_markdown() -> None:
    answer = "## Analysis\n\ntext # not a heading\n```md\n# inside code\n```\n#### Deep\n##### Deeper\n#hashtag\n"
    assert nest_headings(answer) == (
        "#### Analysis\n\ntext # not a heading\n```md\n# inside code\n```\n###### Deep\n###### Deeper\n#hashtag\n"
    )
    make_session()
    text = render(session_document("source"), "md")
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## Task 1 · done", "## Task 2 · interrupted", "## Task 3 · cancelled"
    ]
