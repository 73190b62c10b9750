"""Sessions for the search tests, written by the store's own import (the path `agentdeck import` takes)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui import paths
from tui.store import import_file


def task(task_id: int, prompt: str, output: str = "", **fields: Any) -> dict[str, Any]:
    now = time.time()
    return {
        "id": task_id, "prompt": prompt, "status": "done", "provider": "demo", "model": "demo-chat", "api": "chat",
        "created_at": now, "started_at": now, "finished_at": now, "output": output, **fields,
    }


def make_session(name: str, *tasks: dict[str, Any], created_at: float | None = None) -> Path:
    """A saved session `name` holding `tasks`; returns its file."""
    document = {
        "session": {"format": "agentdeck-session", "version": 1, "name": name,
                    "created_at": time.time() if created_at is None else created_at},
        "tasks": list(tasks),
    }
    paths.data_dir().mkdir(parents=True, exist_ok=True)
    source = paths.data_dir() / f"{name}.json"
    source.write_text(json.dumps(document))
    try:
        imported, _ = import_file(source, name)
    finally:
        source.unlink()
    assert imported == name
    return paths.sessions_dir() / f"{name}.sqlite"


def agentdeck(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process, stdout a pipe (so matches are marked `[...]`)."""
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
