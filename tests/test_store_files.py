"""Bad files and bad disks: a clear message, skipped in listings, nothing saved is ever harmed."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.store_helpers import digest
from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, Task, TaskStatus
from tui.store import (
    SessionLocked,
    SessionNotFound,
    SessionStore,
    SessionUnreadable,
    SessionWatcher,
    StoreError,
    delete_session,
    list_sessions,
    rename_session,
    session_document,
    write_private,
)
from tui.store.batch import Pending, write_batch
from tui.store.records import capture_inputs, capture_state
from tui.store.schema import MIGRATIONS, SCHEMA_VERSION, connect_writer


def good_session(name: str = "good") -> Path:
    store = SessionStore.open(name)
    store.close()
    return store.path


def _execute(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run SQL on a file with plain sqlite3, as another program would, and close it."""
    with closing(sqlite3.connect(path)) as conn:
        for sql, parameters in statements:
            conn.execute(sql, parameters)
        conn.commit()


def foreign_sqlite(path: Path) -> None:
    _execute(path, ("CREATE TABLE notes (body TEXT)", ()), ("INSERT INTO notes VALUES ('mine')", ()))


def newer_session(path: Path) -> None:
    SessionStore.open(path).close()
    _execute(path, ("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,)))


def truncated_session(path: Path) -> None:
    SessionStore.open(path).close()
    _execute(
        path, ("PRAGMA journal_mode = DELETE", ()),
        ("INSERT INTO session_info VALUES ('padding', ?)", ("x" * 50_000,)),
    )
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def version_1_session(path: Path, pieces: list[str]) -> None:
    """A file as agentdeck wrote it before text was compressed: format 1, each chunk plain TEXT."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
    MIGRATIONS[0](conn)
    conn.execute("INSERT INTO schema_version VALUES (1, 0)")
    conn.close()
    conn = connect_writer(path)
    task = Task(1, "an old prompt", "demo", "demo-chat", "chat", status=TaskStatus.DONE)
    write_batch(conn, {1: Pending(capture_inputs(task), capture_state(task))}, {}, 1)
    start = 0
    for piece in pieces:
        conn.execute("INSERT INTO output_chunks (task_id, start, text) VALUES (1, ?, ?)", (start, piece))
        start += len(piece)
    conn.execute("UPDATE tasks SET chars = ?, first_seq = 1", (start,))
    conn.close()


BAD_FILES = {
    "garbage": (lambda p: p.write_bytes(os.urandom(8192)), "not SQLite"),
    "text": (lambda p: p.write_text("hello, I am not a database\n" * 10), "not SQLite"),
    "foreign": (foreign_sqlite, "not an agentdeck session"),
    "newer": (newer_session, "newer agentdeck"),
    "truncated": (truncated_session, "truncated"),
    "empty": (lambda p: p.write_bytes(b""), "empty file"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_skipped_with_a_reason_and_left_untouched(kind: str) -> None:
    good = good_session()
    make, reason = BAD_FILES[kind]
    bad = paths.sessions_dir() / f"{kind}.sqlite"
    make(bad)
    before = digest(bad)
    listing = list_sessions()
    assert [s.name for s in listing.sessions] == ["good"]
    assert len(listing.problems) == 1 and listing.problems[0].path == bad
    assert reason in listing.problems[0].message
    for action in (lambda: SessionWatcher.open(kind), lambda: session_document(kind)):
        with pytest.raises(SessionUnreadable, match=reason):
            action()
    if kind != "empty":  # an empty file is a session whose creation was cut short: opening finishes it
        with pytest.raises(SessionUnreadable, match=reason):
            SessionStore.open(kind)
    assert digest(bad) == before
    assert not Path(f"{bad}-wal").exists()
    assert SessionStore.open(good).tasks == []


def test_missing_data_dir_is_created_private_and_listing_it_is_empty() -> None:
    assert list_sessions().sessions == [] and not paths.data_dir().exists()
    good_session()
    assert oct(paths.sessions_dir().stat().st_mode & 0o777) == "0o700"


def test_unusable_data_dir_and_unknown_names_give_clear_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SessionNotFound, match="no session named 'nope'.*agentdeck sessions"):
        SessionStore.open("nope", create=False)
    with pytest.raises(StoreError, match="invalid session name"):
        SessionStore.open("what?")
    with pytest.raises(StoreError, match=r"must end in \.sqlite"):
        SessionStore.open(str(tmp_path / "elsewhere"))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("AGENTDECK_DATA_DIR", str(blocker))
    with pytest.raises(StoreError, match="cannot create the sessions folder"):
        SessionStore.open("x")


def test_symlinks_are_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    directory = paths.sessions_dir()
    directory.mkdir(parents=True)
    (directory / "link.sqlite").symlink_to(victim)
    with pytest.raises(StoreError, match="symbolic link"):
        SessionStore.open("link")
    good = good_session()
    Path(f"{good}-wal").symlink_to(victim)
    with pytest.raises(StoreError, match="symbolic link"):
        SessionStore.open("good")
    out = tmp_path / "export.md"
    out.symlink_to(victim)
    with pytest.raises(StoreError, match="symbolic link"):
        write_private(out, "exported")
    assert victim.read_text() == "precious"


def test_read_only_open_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    good_session()

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tui.store.files.os.open", refuse)
    with pytest.raises(StoreError, match="Permission denied"):
        SessionStore.open("good")
    with pytest.raises(StoreError, match="cannot create the session file"):
        SessionStore.open("other")


@pytest.mark.slow
async def test_disk_full_keeps_tasks_running_and_saving_resumes_with_nothing_lost(engine: Engine) -> None:
    problems: list[str | None] = []
    store = SessionStore.open("full", on_problem=problems.append)
    store.attach(engine)
    before = engine.add_task("before [[len:500]][[delay:0]]")
    await engine.run_task(before)
    assert store.flush()
    conn = store._writer._conn  # simulate a full disk: no page may be added
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    prompt = "during [[len:30000]][[delay:0]]"
    during = engine.add_task(prompt)
    await engine.run_task(during)
    assert during.status is TaskStatus.DONE and during.text == expected_answer(prompt)  # unaffected
    await asyncio.sleep(0.1)
    assert problems and "disk is full" in (problems[0] or "") and "tasks keep running" in (problems[0] or "")
    assert store.problem is not None
    assert SessionWatcher.open("full").tasks[before.id].text == before.text  # saved work intact
    conn.execute("PRAGMA max_page_count = 1000000")  # space again
    assert store.flush(timeout=5)
    await asyncio.sleep(0.1)
    assert problems[-1] is None and store.problem is None
    store.close()
    reopened = SessionStore.open("full")
    assert [t.text for t in reopened.tasks] == [before.text, during.text]
    reopened.close()


async def test_read_only_file_while_running_is_reported_and_close_says_what_is_lost(engine: Engine) -> None:
    problems: list[str | None] = []
    store = SessionStore.open("ro", on_problem=problems.append)
    store.attach(engine)
    store._writer._conn.execute("PRAGMA query_only = ON")  # as if the file turned read-only
    task = engine.add_task("ro [[len:200]][[delay:0]]")
    await engine.run_task(task)
    assert task.status is TaskStatus.DONE
    assert not await store.aclose()  # problems reach the callback on the loop, so close without blocking it
    assert any(p and "read-only" in p for p in problems)
    assert problems[-1] and "latest changes are lost" in problems[-1]


def test_rename_and_delete_respect_the_writer_lock() -> None:
    good_session("first")
    good_session("second")
    with pytest.raises(StoreError, match="already exists"):
        rename_session("first", "second")
    new = rename_session("first", "renamed")
    assert new.name == "renamed.sqlite" and new.exists()
    assert sorted(s.name for s in list_sessions().sessions) == ["renamed", "second"]
    store = SessionStore.open("renamed")
    with pytest.raises(SessionLocked):
        rename_session("renamed", "again")
    with pytest.raises(SessionLocked):
        delete_session("renamed")
    store.close()
    delete_session("renamed")
    assert not list(paths.sessions_dir().glob("renamed*")) and not list(paths.sessions_dir().glob("first*"))
    assert [s.name for s in list_sessions().sessions] == ["second"]


def test_a_session_saved_before_compression_opens_and_keeps_growing() -> None:
    old = ["Früher gespeichert: ", "plain text " * 500, "\U0001f600 end"]
    path = paths.sessions_dir() / "old.sqlite"
    path.parent.mkdir(parents=True)
    version_1_session(path, old)
    watcher = SessionWatcher.open("old")  # read-only: the file stays as it was
    assert watcher.tasks[1].text == "".join(old)
    watcher.close()
    assert session_document("old")["tasks"][0]["output"] == "".join(old)

    store = SessionStore.open("old")
    assert store.tasks[0].text == "".join(old) and store.tasks[0].status is TaskStatus.DONE
    store.close()
    conn = connect_writer(path)
    more = "new text, saved the current way. " * 200
    write_batch(conn, {1: Pending(text=[more])}, {1: len("".join(old))}, 2)
    conn.close()
    again = SessionStore.open("old")
    assert again.tasks[0].text == "".join(old) + more
    again.close()
