"""Exports stream: work grows linearly with the session, memory with its largest task only.

Timing targets live in the bench (`export_100k_s`); here the work is counted
in SQLite virtual-machine steps, which do not depend on the machine's load.
"""

from __future__ import annotations

import json
import sqlite3
import time
import tomllib
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tui.store import import_file, render, schema, session_document
from tui.store.export import FORMATS, export_pieces


def make_session(tmp_path: Path, name: str, count: int, chars: int) -> None:
    now = time.time()
    tasks = [
        {"id": i, "prompt": f"task {i}", "status": "done", "provider": "demo", "model": "demo-chat", "api": "chat",
         "created_at": now, "started_at": now, "finished_at": now + 1,
         "output": (f"answer {i}: " + "lorem ipsum dolor sit amet " * (chars // 27 + 1))[:chars]}
        for i in range(1, count + 1)
    ]
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps({"session": {"format": "agentdeck-session", "version": 1, "name": name,
                                              "created_at": now}, "tasks": tasks}))
    assert import_file(source, name) == (name, count)


def steps_to_export(monkeypatch: pytest.MonkeyPatch, name: str, fmt: str) -> int:
    """SQLite VM steps (in thousands) the export of a session takes."""
    counted = [0]
    original = schema.connect_reader

    def counting(path: Path) -> sqlite3.Connection:
        conn = original(path)

        def step() -> int:
            counted[0] += 1
            return 0

        conn.set_progress_handler(step, 1000)
        return conn

    monkeypatch.setattr(schema, "connect_reader", counting)
    monkeypatch.setattr("tui.store.reader.connect_reader", counting)
    for _ in export_pieces(name, fmt):
        pass
    return counted[0]


@pytest.mark.slow
def test_export_work_grows_linearly_with_tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_session(tmp_path, "small", 1000, 200)
    make_session(tmp_path, "large", 4000, 200)
    for fmt in FORMATS:
        small, large = steps_to_export(monkeypatch, "small", fmt), steps_to_export(monkeypatch, "large", fmt)
        assert large / small < 5, (fmt, small, large)  # linear: 4; each task scanning the rest made it 15


@pytest.mark.slow
def test_export_holds_one_task_at_a_time(tmp_path: Path) -> None:
    make_session(tmp_path, "wide", 100, 50_000)  # 5 MB of text
    for fmt in FORMATS:
        tracemalloc.start()
        try:
            written = sum(len(piece) for piece in export_pieces("wide", fmt))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert written > 5_000_000
        assert peak < 1_500_000, f"{fmt}: peak {peak:,} bytes for {written:,} written"


@pytest.mark.parametrize("fmt", FORMATS)
def test_streamed_export_is_the_document_rendered(tmp_path: Path, fmt: str) -> None:
    make_session(tmp_path, "same", 5, 3000)
    doc: dict[str, Any] = session_document("same")
    streamed = "".join(export_pieces("same", fmt))
    rendered = render(doc, fmt)

    def strip(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if "exported_at" not in line)

    assert strip(streamed) == strip(rendered)
    if fmt == "json":
        assert json.loads(streamed)["tasks"] == doc["tasks"]
    elif fmt == "toml":
        assert [task["output"] for task in tomllib.loads(streamed)["tasks"]] == [t["output"] for t in doc["tasks"]]
