"""Hundreds of damaged session files: each opens or gives a StoreError with a clear message.

Never another exception, never a hang, and never harm to the other session in
the same folder. The damage is tests/reliability/damage.py's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.damage import SEED, Damager, build
from tests.store_helpers import digest
from tui import paths
from tui.store import (
    SessionStore,
    SessionWatcher,
    StoreError,
    list_sessions,
    render,
    session_document,
    session_info,
)

MUTATIONS = 300


def read_everything(path: Path) -> None:
    watcher = SessionWatcher.open(path)
    try:
        for task in watcher.tasks.values():
            assert len(task.text) == task.chars
        watcher.poll()
    finally:
        watcher.close()


def export_everything(path: Path) -> None:
    doc = session_document(path)
    for fmt in ("json", "toml", "md"):
        render(doc, fmt)


def open_for_writing(path: Path) -> None:
    store = SessionStore.open(path, create=False)
    try:
        for task in store.tasks:
            assert len(task.text) == task.chars
    finally:
        store.close()


def listed(path: Path) -> None:
    session_info(path)


ACTIONS: list[Callable[[Path], None]] = [read_everything, export_everything, listed, open_for_writing]


@pytest.mark.timeout(300)
def test_damaged_session_files_open_or_explain_and_harm_nothing_else(tmp_path: Path) -> None:
    damager = Damager(tmp_path, SEED)
    other = SessionStore.open("other")
    other.close()
    build(other.path, keep_log=False)
    other_digest, other_doc = digest(other.path), session_document("other")["tasks"]

    target = paths.sessions_dir() / "fuzz.sqlite"
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    for round_ in range(MUTATIONS):
        damager.damage(target, round_)
        started = time.monotonic()
        for action in ACTIONS:
            try:
                action(target)
            except StoreError as exc:
                message = str(exc)
                assert message and "\n" not in message and "Traceback" not in message, message
                assert "fuzz" in message, message  # it names the file
                outcomes[f"{action.__name__}: refused"] += 1
            else:
                outcomes[f"{action.__name__}: ok"] += 1
        listing = list_sessions()
        assert "other" in [s.name for s in listing.sessions]
        assert {s.name for s in listing.sessions} | {p.path.name for p in listing.problems} >= {"other"}
        slowest = max(slowest, time.monotonic() - started)
        assert time.monotonic() - started < 20, f"mutation {round_} took {time.monotonic() - started:.1f} s"
    assert digest(other.path) == other_digest
    assert session_document("other")["tasks"] == other_doc
    refused = sum(n for k, n in outcomes.items() if k.endswith("refused"))
    assert refused > MUTATIONS // 4 and outcomes["read_everything: ok"] > 10, outcomes
    print(f"\nsession fuzz: {MUTATIONS} mutations, slowest {slowest:.2f} s, {dict(sorted(outcomes.items()))}")
