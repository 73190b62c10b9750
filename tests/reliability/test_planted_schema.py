"""A session file with schema objects agentdeck did not create (a trigger that would fire on our writes,
a view, an index, a table): never written to, still readable and exportable."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui import paths
from tui.demo.script import expected_answer

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "planted [[len:400]][[delay:0]]"
PLANTED = {
    "trigger": "CREATE TRIGGER planted AFTER UPDATE ON tasks BEGIN DELETE FROM output_chunks; END",
    "view": "CREATE VIEW planted AS SELECT * FROM tasks",
    "index": "CREATE INDEX planted ON output_chunks (task_id)",
    "table": "CREATE TABLE planted (x)",
}


def agentdeck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize("kind", PLANTED)
def test_planted_schema_object_is_refused_for_writing(kind: str) -> None:
    made = agentdeck("run", "--session", "planted", "--provider", "demo", PROMPT)
    assert made.returncode == 0, made.stderr
    path = paths.sessions_dir() / "planted.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(PLANTED[kind])
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    for args in (("run", "--session", "planted", "--provider", "demo", "more [[len:10]][[delay:0]]"),
                 ("resume", "planted")):
        refused = agentdeck(*args)
        assert refused.returncode == 2, refused.stderr
        assert f"holds a {kind} 'planted' that agentdeck did not create" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before

    exported = agentdeck("export", "planted", "--format", "json")  # reading it is harmless
    assert exported.returncode == 0, exported.stderr
    assert [t["output"] for t in json.loads(exported.stdout)["tasks"]] == [expected_answer(PROMPT)]
