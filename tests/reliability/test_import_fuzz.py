"""Crafted imports: numbers at and past 64-bit limits, non-finite floats, unknown versions, deep nesting and
wrong types are refused with one line and exit 2, and leave nothing behind; values at the limits import,
and the session they make keeps saving."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tui import paths
from tui.cli.main import main
from tui.config import MAX_TIMEOUT_S
from tui.engine import Task, TaskOutput, TaskStatus, Usage
from tui.store import session_document
from tui.store.export import FORMAT, FORMAT_VERSION, task_document

ROOT = Path(__file__).resolve().parents[2]
INT64_MAX = 2**63 - 1
MAX_TASK_ID = 2**53 - 1


class Raw:
    """A JSON literal Python's encoder would not write (1e400 overflows to inf when read)."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def valid_document() -> dict[str, Any]:
    now = time.time()
    tasks = [
        Task(1, "first", "demo", "demo-chat", "chat", status=TaskStatus.DONE, created_at=now - 9,
             started_at=now - 8, finished_at=now - 2, timeout=600.0, usage=Usage(10, 20, 30),
             attachments=["/tmp/a.txt"], request_text="first",
             session_state={"type": "session", "state": {"messages": [{"role": "assistant", "text": "a"}]}},
             output=TaskOutput("answer")),
        Task(2, "second", "demo-responses", "demo-responses", "responses", status=TaskStatus.INTERRUPTED,
             created_at=now - 5, started_at=now - 4, finished_at=now - 1, error="cut", parent_id=1,
             continuation_token={"response_id": "resp_1"}, last_sequence=42, output=TaskOutput("partial")),
    ]
    session = {"format": FORMAT, "version": FORMAT_VERSION, "name": "fuzzed", "created_at": now - 10,
               "updated_at": now, "exported_at": now}
    return {"session": session, "tasks": [task_document(t) for t in tasks]}


def mutated(where: str, value: Any) -> dict[str, Any]:
    """The valid document with one value replaced; `where` is a dotted path like `tasks.0.id`."""
    doc = valid_document()
    *parents, last = where.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def as_json(doc: dict[str, Any]) -> str:
    raws: dict[str, str] = {}

    def placeholder(value: Any) -> str:
        if isinstance(value, Raw):
            key = f"@@raw{len(raws)}@@"
            raws[key] = value.literal
            return key
        raise TypeError(type(value).__name__)

    text = json.dumps(doc, default=placeholder)
    for key, literal in raws.items():
        text = text.replace(f'"{key}"', literal)
    return text


def as_toml(doc: dict[str, Any]) -> str | None:
    """TOML has no null and no raw literals: None where TOML cannot say it."""
    def clean(value: Any) -> Any:
        if isinstance(value, Raw):
            raise ValueError
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    try:
        cleaned = clean(copy.deepcopy(doc))
        for task in cleaned["tasks"] if isinstance(cleaned["tasks"], list) else ():
            for key in ("base_session", "session_state", "continuation_token"):
                if isinstance(task, dict) and isinstance(task.get(key), dict):
                    task[key] = json.dumps(task[key])
        return tomli_w.dumps(cleaned)
    except (ValueError, TypeError):
        return None


BAD_INTS = [0, -1, MAX_TASK_ID + 1, INT64_MAX, 2**63, 2**64, 10**400, 1.0, 1.5, True, "1", Raw("1e400")]
BAD_COUNTS = [-1, 2**63, 2**64, 10**400, 1.5, True, "3", Raw("1e400")]
NON_FINITE = [math.nan, math.inf, -math.inf, Raw("NaN"), Raw("Infinity"), Raw("1e400"), Raw("-1e400")]
BAD_TIMES = [*NON_FINITE, -1, -1e-9, 10**400, "5", True, [1]]

CASES: list[tuple[str, Any]] = [
    *[(f"tasks.0.{key}", value) for key in ("id", "parent_id") for value in BAD_INTS],
    *[("tasks.1.last_sequence", value) for value in BAD_COUNTS],
    *[("tasks.0.usage.output_tokens", value) for value in BAD_COUNTS],
    *[(f"tasks.0.{key}", value) for key in ("created_at", "started_at", "finished_at", "prior_elapsed")
      for value in BAD_TIMES],
    *[("tasks.0.timeout", value) for value in [*BAD_TIMES, MAX_TIMEOUT_S + 1, 10.0**300]],
    *[("session.created_at", value) for value in BAD_TIMES],
    *[("session.version", value) for value in [0, 2, 99, -1, 2**64, "1", 1.5, True, Raw("1e400")]],
    ("session.format", "something-else"), ("session.format", 1), ("session", "x"), ("session", [1]),
    ("tasks", {}), ("tasks", "x"), ("tasks.0", 5), ("tasks.0", []),
    *[("tasks.0.status", value) for value in [5, "exploded", None, ["done"]]],
    *[("tasks.0.prompt", value) for value in [5, None, [], "", "   ", {"a": 1}]],
    *[("tasks.0.output", value) for value in [5, None, [], {"text": "x"}]],
    *[("tasks.0.provider", value) for value in [5, [], ""]],
    *[("tasks.0.model", value) for value in [5, ["m"]]],
    *[("tasks.0.api", value) for value in ["soap", 5]],
    *[(f"tasks.0.{key}", value) for key in ("error", "notice", "system", "request_text") for value in [5, ["x"]]],
    *[("tasks.0.attachments", value) for value in ["a.txt", [1], [["a"]], {"a": 1}]],
    *[("tasks.0.usage", value) for value in [[], "u", {"tokens": 1}, {"output_tokens": [1]}]],
    *[("tasks.0.session_state", value) for value in ["{not json", "[1]", "5", 5, [], Raw("NaN")]],
    ("tasks.0.session_state", {"deep": json.loads("[" * 200 + "]" * 200)}),
    ("tasks.0.session_state", json.dumps({"deep": json.loads("[" * 200 + "]" * 200)})),
    ("tasks.0.session_state", "[" * 100_000 + "]" * 100_000),
    ("tasks.0.continuation_token", {"response_id": Raw("Infinity")}),
]


def refused_import(source: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = sorted(paths.data_dir().rglob("*")) if paths.data_dir().exists() else []
    code = main(["import", str(source)])
    out, err = capsys.readouterr()
    assert code == 2, (source.read_text()[:300], out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("agentdeck: "), err
    assert len(err) < 400, err
    after = sorted(paths.data_dir().rglob("*")) if paths.data_dir().exists() else []
    assert [p for p in after if p.suffix == ".sqlite"] == [p for p in before if p.suffix == ".sqlite"]
    return err


@pytest.mark.parametrize(("where", "value"), CASES, ids=[f"{w}={v!r}"[:60] for w, v in CASES])
def test_a_crafted_value_is_refused_in_json_and_toml(where: str, value: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    doc = mutated(where, value)
    source = tmp_path / "crafted.json"
    source.write_text(as_json(doc), encoding="utf-8")
    refused_import(source, capsys)
    toml = as_toml(doc) if value is not None else None
    if toml is not None:
        source = tmp_path / "crafted.toml"
        source.write_text(toml, encoding="utf-8")
        refused_import(source, capsys)


DEEP = {
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "deep-tasks.json": '{"tasks": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep-object.json": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "deep.toml": "tasks = " + "[" * 3_000 + "]" * 3_000 + "\n",
    "deep-table.toml": "x = " + "{a = " * 3_000 + "1" + "}" * 3_000 + "\n",
}


@pytest.mark.parametrize("filename", sorted(DEEP))
def test_deep_nesting_is_refused(filename: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / filename
    source.write_text(DEEP[filename], encoding="utf-8")
    refused_import(source, capsys)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_values_at_the_limits_import_and_the_session_keeps_saving(fmt: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    doc = valid_document()
    first, second = doc["tasks"]
    first.update(id=MAX_TASK_ID - 1, timeout=MAX_TIMEOUT_S, prior_elapsed=0.0, created_at=0)
    second.update(id=1, parent_id=MAX_TASK_ID - 1, timeout=0, last_sequence=INT64_MAX)
    first["usage"]["output_tokens"] = INT64_MAX
    source = tmp_path / f"limits.{fmt}"
    source.write_text(as_json(doc) if fmt == "json" else as_toml(doc) or "", encoding="utf-8")
    assert main(["import", str(source), "--name", "limits"]) == 0
    capsys.readouterr()
    imported = {t["id"]: t for t in session_document("limits")["tasks"]}
    assert imported[MAX_TASK_ID - 1]["timeout"] == MAX_TIMEOUT_S
    assert imported[1]["timeout"] is None  # 0 means no timeout, as on the command line
    more = subprocess.run([sys.executable, "-m", "tui", "run", "--session", "limits", "--provider", "demo",
                           "one more [[len:40]][[delay:0]]"], capture_output=True, timeout=60, cwd=ROOT, check=False)
    assert more.returncode == 0, more.stderr.decode()
    assert b"not saved" not in more.stderr and b"lost" not in more.stderr
    assert sorted(t["id"] for t in session_document("limits")["tasks"]) == [1, MAX_TASK_ID - 1, MAX_TASK_ID]
