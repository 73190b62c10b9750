"""The session file format: tables, explicit migrations, and how connections are opened.

Layout is chosen for few page writes per flush (each flush rewrites every
page it touches). `tasks` holds only the small fields that change during a
run, so updating a streaming task rewrites a small row; the large,
write-once inputs (prompt, attachments, prior session) live in `task_inputs`,
the final agent session in `task_results`. Text is appended to
`output_chunks`, one row per task per flush, in rowid (`seq`) order, so a
flush of twenty tasks lands on the last one or two pages. There is
deliberately no index by task: it would add one page write per streaming task
per flush. A task's text is read by scanning from its `tasks.first_seq` and
stopping once `chars` characters are found (its chunks are interleaved only
with those of tasks running at the same time); `start` (the chunk's character
offset) checks that nothing is missing. A watcher reads new text as
`seq > last seen`, and changed tasks as `tasks.rev > last seen` (`rev` is
the number of the transaction that last touched the row). JSON columns hold text, except large agent session
states, which are zlib-compressed BLOBs (a chat session repeats the answer).
Since version 2 a chunk's `text` is a zlib-compressed BLOB when that is
smaller (TEXT otherwise): WAL mode writes every page twice, so compressing
the text is what brings the bytes written per byte of text under 1.5.
Since version 3 `tool_calls` holds each tool call, keyed by task and position
(the order the model made them); a row is rewritten as its call starts, waits
and ends, its `rev` tells a watcher which calls changed, and its small columns
come first so a scan never reads the large `arguments`/`result` (zlib BLOBs
over 1 KB) of rows it skips.
Since version 4 `task_groups` holds the group id of the tasks asked as a group.
Since version 5 a compressed chunk, and a task's agent session, may name the task's
preceding text (its last 32 KB) as zlib's preset dictionary, which more than halves
what a model's small chunks store; they are read with the task's text up to them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from tui.store.errors import SessionUnreadable, StoreError, describe
from tui.store.files import writer_pid
from tui.user_files import NotARegularFile, open_regular_file

APPLICATION = "agentdeck-session"
BUSY_TIMEOUT_MS = 5000
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024
_SHM_PAGE = 32 * 1024
"""SQLite grows its `-shm` file in pages of this size."""
PAGE_SIZE = 512
"""For new files. Each flush rewrites whole pages (the tasks rows, the last text page, the tree
above it, page 1), and at a model's pace a flush adds only ~1.5 KB of packed text, so those
rewrites are most of what it writes: 512-byte pages write ~20% fewer bytes than 1 KB ones there.
A row that fills more than half a page also leaves the rest empty; small pages make that small."""

_V1 = """
CREATE TABLE session_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    rev INTEGER NOT NULL,
    status TEXT NOT NULL,
    chars INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    finished_at REAL,
    prior_elapsed REAL NOT NULL DEFAULT 0,
    timeout REAL,
    error TEXT,
    notice TEXT,
    usage TEXT,
    continuation_token TEXT,
    last_sequence INTEGER,
    first_seq INTEGER,
    updated_at REAL NOT NULL
);
CREATE TABLE task_inputs (
    task_id INTEGER PRIMARY KEY,
    prompt TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    api TEXT NOT NULL,
    created_at REAL NOT NULL,
    system TEXT,
    attachments TEXT NOT NULL,
    request_text TEXT NOT NULL,
    parent_id INTEGER,
    base_session TEXT
);
CREATE TABLE task_results (task_id INTEGER PRIMARY KEY, session_state TEXT NOT NULL);
CREATE TABLE output_chunks (
    seq INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    start INTEGER NOT NULL,
    text TEXT NOT NULL
);
"""

# MIGRATIONS[n] brings a file from version n to n + 1, inside one transaction.
# Add a function here (never edit a shipped one) when the format changes.
Migration = Callable[[sqlite3.Connection], None]


def _to_v1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO session_info VALUES ('application', ?)", (APPLICATION,))
    conn.execute("INSERT INTO session_info VALUES ('created_at', ?)", (repr(time.time()),))


def _to_v2(conn: sqlite3.Connection) -> None:
    """Chunks may now be zlib BLOBs. Version 1 text stays valid as it is; the step exists so that an
    older agentdeck refuses a file it would misread ("saved by a newer agentdeck")."""


_V3 = """
CREATE TABLE task_tools (task_id INTEGER PRIMARY KEY, servers TEXT NOT NULL);
CREATE TABLE tool_calls (
    task_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    status TEXT NOT NULL,
    offset INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    call_id TEXT NOT NULL,
    name TEXT NOT NULL,
    server TEXT NOT NULL,
    error TEXT,
    arguments NOT NULL,
    result,
    PRIMARY KEY (task_id, position)
);
"""


def _to_v3(conn: sqlite3.Connection) -> None:
    """Tool calls: `task_tools` (the MCP servers a task is offered) and one `tool_calls` row per call.
    A version 2 file has neither and gains both empty; its tasks read as having no tools."""
    for statement in _V3.split(";"):
        if statement.strip():
            conn.execute(statement)


def _to_v4(conn: sqlite3.Connection) -> None:
    """Groups: `task_groups` holds the group id of each task asked as part of a group (one prompt, several
    models). A version 3 file gains it empty; its tasks read as belonging to no group."""
    conn.execute("CREATE TABLE task_groups (task_id INTEGER PRIMARY KEY, group_id TEXT NOT NULL)")


def _to_v5(conn: sqlite3.Connection) -> None:
    """Chunks may be packed against their task's preceding text. Older chunks stay valid as they are (each
    stands alone); the step exists so that an older agentdeck refuses a file it could not read."""


MIGRATIONS: list[Migration] = [_to_v1, _to_v2, _to_v3, _to_v4, _to_v5]
SCHEMA_VERSION = len(MIGRATIONS)

ADDED_TASK_COLUMNS = {"first_output_at": "REAL", "last_output_at": "REAL"}
"""Columns added to `tasks` without a new version: they may be NULL, and an older agentdeck, which
never selects them, reads and writes the file as before. A reader tells a file without them by
`has_task_column`."""


def has_task_column(conn: sqlite3.Connection, name: str) -> bool:
    return any(row[1] == name for row in conn.execute("PRAGMA table_info(tasks)"))


def _add_task_columns(conn: sqlite3.Connection) -> None:
    """Every writer writes these columns: a file gains them on being opened for writing (or created)."""
    for name, kind in ADDED_TASK_COLUMNS.items():
        if not has_task_column(conn, name):
            conn.execute(f"ALTER TABLE tasks ADD COLUMN {name} {kind}")


def _tables(conn: sqlite3.Connection, path: Path) -> set[str]:
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except UnicodeDecodeError:  # the schema itself is damaged
        raise SessionUnreadable(f"{path}: the file is damaged (its table list is unreadable)") from None


def file_version(conn: sqlite3.Connection, path: Path) -> int:
    """The format version of an open file; 0 for an empty file; raises for foreign or newer ones."""
    tables = _tables(conn, path)
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise SessionUnreadable(f"{path}: an SQLite file, but not an agentdeck session")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    try:
        version = int(row[0] or 0)
    except (TypeError, ValueError):
        raise SessionUnreadable(f"{path}: the file is damaged (its format version is unreadable)") from None
    if version > SCHEMA_VERSION:
        raise SessionUnreadable(
            f"{path}: saved by a newer agentdeck (session format {version}; this one reads up to "
            f"{SCHEMA_VERSION}); update agentdeck to open it"
        )
    return version


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file up to SCHEMA_VERSION, one recorded step per transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = file_version(conn, path)
        if version == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)")
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](conn)
            version += 1
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, time.time()))
        _add_task_columns(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def check_header(path: Path) -> None:
    """Refuse a file that is not SQLite or is shorter than its header says (cut by a copy or a crash).

    Reading the 100-byte header costs nothing, unlike an integrity check over the
    whole file; damage inside the file is reported by SQLite when a page is read.
    """
    try:
        with open_regular_file(path) as (fd, info):
            header, size = os.pread(fd, 100, 0), info.st_size
    except NotARegularFile as exc:
        raise SessionUnreadable(f"{path}: is {exc}, not a session file") from None
    except OSError as exc:
        raise SessionUnreadable(f"{path}: {describe(exc)}") from None
    if not header:
        return
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        raise SessionUnreadable(f"{path}: not an agentdeck session file (not SQLite)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]
    if header_valid and size < pages * page_size and not _has_log(path):
        raise SessionUnreadable(f"{path}: the file is truncated ({size} of {pages * page_size} bytes)")


def _has_log(path: Path) -> bool:
    """A write-ahead log with frames: a checkpoint cut short (e.g. by a full disk) leaves the
    file shorter than its header says until the log is folded in, and nothing is missing."""
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def connect_writer(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode; FULL sync so a power cut loses at most one flush.

    The file is checked before WAL is switched on, which would change a foreign file.
    `PAGE_SIZE` applies only to a file still empty; older files keep their page size.
    The log is folded into the file once it holds about `JOURNAL_SIZE_LIMIT` bytes, whatever the page size.
    """
    check_header(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(conn)
        if file_version(conn, path):
            _add_task_columns(conn)
        _refuse_foreign_objects(conn, path)
    except BaseException:
        conn.close()
        raise
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute(f"PRAGMA wal_autocheckpoint = {JOURNAL_SIZE_LIMIT // page_size}")
    return conn


def fold_log(conn: sqlite3.Connection, path: Path) -> None:
    """Move everything from the write-ahead log into the file, so the file alone holds the session."""
    busy, log_frames, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy or log_frames != done:
        raise StoreError(f"{path}: another program is reading this session; close it and try again")


OWN_TABLES = frozenset({
    "schema_version", "session_info", "tasks", "task_inputs", "task_results", "output_chunks", "task_tools",
    "tool_calls", "task_groups",
})


def _refuse_foreign_objects(conn: sqlite3.Connection, path: Path) -> None:
    """A trigger someone planted would fire on our writes (an index or view would change them too):
    a file holding anything agentdeck does not create is never written to. SQLite's own objects
    (`sqlite_` names: automatic indexes, statistics) are fine."""
    try:
        query = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        rows = conn.execute(query).fetchall()
    except UnicodeDecodeError:
        raise SessionUnreadable(f"{path}: the file is damaged (its schema is unreadable)") from None
    for kind, name in rows:
        if kind != "table" or name not in OWN_TABLES:
            raise SessionUnreadable(
                f"{path}: holds a {kind} {name!r} that agentdeck did not create; refusing to write to it "
                "(it can still be exported)"
            )


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection that checks the file is a session this version understands.

    A WAL-mode reader needs SQLite's `-shm` file, which it cannot create on
    read-only media (a read-only mount, a folder that is not ours) nor grow on
    a full disk. If the write-ahead log holds nothing and nobody writes the
    session, the file alone is complete, so it is then opened as immutable.
    If the log holds text (its writer was killed), SQLite can index it in its
    own memory instead, given a `-shm` it opens read-only: reading a session
    never needs a byte of free space.
    """
    check_header(path)
    try:
        return _open_reader(path, "mode=ro")
    except SessionUnreadable:
        if _frozen(path):
            return _open_reader(path, "mode=ro&immutable=1")
        if writer_pid(path) is None and _index_in_memory_possible(path):
            return _open_reader(path, "mode=ro&readonly_shm=1")
        raise


def _frozen(path: Path) -> bool:
    """No write-ahead log holds anything the file lacks, and no writer can add to it now."""
    wal = Path(f"{path}-wal")
    try:
        log_empty = not wal.exists() or wal.stat().st_size == 0
    except OSError:
        return False
    return log_empty and (not os.access(path.parent, os.W_OK) or writer_pid(path) is None)


def _index_in_memory_possible(path: Path) -> bool:
    """Make sure an `-shm` exists for `readonly_shm`; one that is not whole 32 KB pages (a reader that
    could not grow it left it so) holds nothing, and is emptied: SQLite refuses it as it is."""
    try:
        fd = os.open(f"{path}-shm", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
    except OSError:  # read-only media, or something that is not a file
        return False
    try:
        if os.fstat(fd).st_size % _SHM_PAGE:
            os.ftruncate(fd, 0)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _open_reader(path: Path, query: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?{query}", uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise SessionUnreadable(f"{path}: {describe(exc)}") from None
    try:
        _configure(conn)
        if file_version(conn, path) == 0:
            raise SessionUnreadable(f"{path}: an empty file, not a saved session")
    except sqlite3.Error as exc:
        conn.close()
        raise SessionUnreadable(f"{path}: {describe(exc)}") from None
    except SessionUnreadable:
        conn.close()
        raise
    return conn
