"""Full-text search over every saved session: an SQLite FTS5 index kept beside, never inside, the sessions.

The index is a cache (`search.sqlite` in `paths.cache_dir()`): deleting it loses
nothing, the next search rebuilds it. `refresh` brings it up to date
incrementally (`search_refresh`); the session writer never does any of this
work, so streaming stays as fast as it was. A search ranks whole tasks (FTS5's
bm25) and builds snippets only for the hits it returns.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui import paths
from tui.engine import TaskStatus
from tui.store import files
from tui.store.errors import StoreError, describe
from tui.store.search_query import SearchSyntaxError, match_terms, to_fts
from tui.store.search_refresh import FIELDS, INDEX_VERSION, Refresh, create_schema
from tui.store.search_snippet import MARK_END, MARK_START, split_marks
from tui.store.search_spans import match_spans

__all__ = [
    "SearchHit", "SearchIndex", "SearchSyntaxError", "SearchUnavailable", "index_file", "match_spans", "match_terms",
]

SNIPPET_TOKENS = 24
_DETAILS = "s.name, s.path, k.task_id, k.status, k.provider, k.model, k.prompt, k.created_at"
BUSY_TIMEOUT_MS = 10_000
"""Another process refreshing the index holds it for one session at a time."""
_ACTIVE = frozenset({str(TaskStatus.RUNNING), str(TaskStatus.WAITING), str(TaskStatus.QUEUED)})


class SearchUnavailable(StoreError):
    """Search cannot work here (no FTS5 in this SQLite, or no place for the index)."""


@dataclass(frozen=True)
class SearchHit:
    """The best match in one task."""

    session: str
    """Session name, as `agentdeck open NAME` takes it."""
    path: Path
    task_id: int
    status: str
    """As `agentdeck sessions` counts it: a task left running by a writer that is gone is `interrupted`."""
    provider: str
    model: str
    prompt: str
    """On one line."""
    field: str
    """Where the match is: prompt, output, follow_up, tool_call, tool_result or error."""
    snippet: str
    """Plain text around the match, on one line, controls made visible."""
    marks: tuple[tuple[int, int], ...]
    """(start, end) of each match within `snippet`."""
    rank: float
    """FTS5's bm25: lower is better."""
    created_at: float

    @property
    def status_word(self) -> str:
        """`timed out`, as the app says it; a status this agentdeck does not know is shown as saved."""
        try:
            return TaskStatus(self.status).word
        except ValueError:
            return self.status


def index_file() -> Path:
    return paths.cache_dir() / "search.sqlite"


def check_fts5() -> None:
    """Raise `SearchUnavailable` with a clear reason when this Python's SQLite was built without FTS5."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(body)")
    except sqlite3.OperationalError:
        raise SearchUnavailable(
            f"search needs SQLite's FTS5, which this Python's SQLite {sqlite3.sqlite_version} was built without"
        ) from None
    finally:
        probe.close()


class SearchIndex:
    """The index of one sessions folder; safe to share between threads (one connection behind a lock)."""

    def __init__(self, index_path: Path | None = None, sessions_dir: Path | None = None) -> None:
        self.index_path = index_path or index_file()
        self.sessions_dir = (sessions_dir or paths.sessions_dir()).absolute()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            check_fts5()
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.index_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.index_path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        except OSError as exc:
            raise SearchUnavailable(f"{self.index_path}: cannot keep the search index there: {describe(exc)}") from None
        conn = sqlite3.connect(self.index_path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # a cache: a power cut may lose the last refresh, no more
            if conn.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
                create_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard(self) -> None:
        """Close and delete the index (and its log): the next use builds a new one from the sessions."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.index_path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                message = f"{self.index_path}: cannot rebuild the search index: {describe(exc)}"
                raise SearchUnavailable(message) from None

    def rebuild(self) -> list[str]:
        """Forget everything and index every session again (`agentdeck search --reindex`)."""
        with self._lock:
            self._discard()
            return self._refresh()

    def refresh(self) -> list[str]:
        """Index what changed since the last refresh; one warning line per session file that cannot be read."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[str]:
        try:
            return Refresh(self._connection(), self.sessions_dir).run()
        except sqlite3.Error as exc:
            if _busy(exc):
                raise SearchUnavailable(f"{self.index_path}: the search index is busy; try again") from None
        self._discard()  # damaged, or not an index at all: it is only a cache, so it is built again
        try:
            return Refresh(self._connection(), self.sessions_dir).run()
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"{self.index_path}: cannot build the search index: {describe(exc)}") from None

    def search(self, query: str, *, session: str | None = None, status: str | None = None,
               provider: str | None = None, since: float | None = None, limit: int = 50) -> list[SearchHit]:
        """Best hits first, one per task; raises `SearchSyntaxError` for a query that cannot be read."""
        expression = to_fts(query)
        with self._lock:
            try:
                return _Search(self._connection(), expression, self.sessions_dir).run(
                    session, status, provider, since, limit)
            except sqlite3.Error as exc:
                if str(exc).startswith("fts5:"):  # a query FTS5 refuses despite the checks
                    raise SearchSyntaxError(f"cannot search for {query!r}: {describe(exc)}") from None
                if _busy(exc):
                    raise SearchUnavailable(f"{self.index_path}: the search index is busy; try again") from None
                message = f"{self.index_path}: the search index is damaged ({describe(exc)}); `agentdeck search " \
                          "--reindex` rebuilds it"
                raise SearchUnavailable(message) from None


def _busy(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _Search:
    """One query: rank the matching tasks, then build snippets for those shown only."""

    def __init__(self, conn: sqlite3.Connection, expression: str, folder: Path) -> None:
        self.conn = conn
        self.expression = expression
        self.folder = str(folder)
        self.writers: dict[str, bool] = {}

    def run(self, session: str | None, status: str | None, provider: str | None, since: float | None,
            limit: int) -> list[SearchHit]:
        """FTS5 ranks fastest on its own table with a LIMIT, so the best few matches are taken that way and
        filtered; only when too few of them pass are all matches ranked with the filters joined in."""
        if limit < 1:
            return []
        where, args = ["s.folder = ?"], [self.folder]
        if session is not None:
            where.append("s.name = ?")
            args.append(session)
        if status is not None:
            wanted = {status} | (_ACTIVE if status == str(TaskStatus.INTERRUPTED) else set())
            where.append(f"k.status IN ({', '.join('?' * len(wanted))})")
            args.extend(sorted(wanted))
        if provider is not None:
            where.append("k.provider = ?")
            args.append(provider)
        if since is not None:
            where.append("k.created_at >= ?")
            args.append(since)
        window = limit * 2 + 16
        best = self.conn.execute("SELECT rowid, rank FROM texts WHERE texts MATCH ? ORDER BY rank LIMIT ?",
                                 (self.expression, window)).fetchall()
        hits = self._hits(self._details(best, where, args), status, limit)
        if len(hits) >= limit or len(best) < window:
            return hits
        rows = self.conn.execute(
            f"SELECT texts.rowid, texts.rank, {_DETAILS} FROM texts JOIN tasks k ON k.id = texts.rowid "
            f"JOIN sessions s ON s.id = k.session_id WHERE texts MATCH ? AND {' AND '.join(where)} ORDER BY texts.rank",
            (self.expression, *args))
        try:
            return self._hits(rows, status, limit)
        finally:
            rows.close()  # ends the read transaction a cursor left unfinished holds

    def _details(self, ranked: list[tuple[int, float]], where: list[str], args: list[Any]) -> list[tuple[Any, ...]]:
        """(rowid, rank, *_DETAILS) of the ranked tasks that pass the filters, in rank order."""
        ids = [rowid for rowid, _ in ranked]
        query = (f"SELECT k.id, {_DETAILS} FROM tasks k JOIN sessions s ON s.id = k.session_id "
                 f"WHERE k.id IN ({', '.join('?' * len(ids))}) AND {' AND '.join(where)}")
        found = {row[0]: row[1:] for row in self.conn.execute(query, (*ids, *args))} if ids else {}
        return [(rowid, rank, *found[rowid]) for rowid, rank in ranked if rowid in found]

    def _hits(self, rows: Iterable[tuple[Any, ...]], status: str | None, limit: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        for rowid, rank, name, path, task_id, saved, provider_name, model, prompt, created in rows:
            shown = self._status(path, saved)
            if (status is not None and shown != status) or not os.path.exists(path):  # deleted since the refresh
                continue
            field, snippet, marks = self._snippet(rowid)
            hits.append(SearchHit(name, Path(path), task_id, shown, provider_name, model, prompt, field, snippet,
                                  marks, float(rank), created))
            if len(hits) >= limit:
                break
        return hits

    def _status(self, path: str, saved: str) -> str:
        """A task left running, waiting or queued by a writer that is gone counts as interrupted."""
        if saved not in _ACTIVE:
            return saved
        if path not in self.writers:
            self.writers[path] = files.writer_pid(Path(path)) is not None
        return saved if self.writers[path] else str(TaskStatus.INTERRUPTED)

    def _snippet(self, rowid: int) -> tuple[str, str, tuple[tuple[int, int], ...]]:
        """The field with the most matches (the first such in `FIELDS`), its snippet and the matches in it."""
        columns = ", ".join(f"snippet(texts, {index}, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_TOKENS})"
                            for index in range(len(FIELDS)))
        row = self.conn.execute(f"SELECT {columns} FROM texts WHERE texts MATCH ? AND rowid = ?",
                                (self.expression, rowid)).fetchone() or ("",) * len(FIELDS)
        best = ("", "", ())
        for field, marked in zip(FIELDS, row):
            snippet, marks = split_marks(marked or "")
            if len(marks) > len(best[2]):
                best = (field, snippet, marks)
        if best[0]:
            return best
        prompt = row[FIELDS.index("prompt")] or row[FIELDS.index("follow_up")] or ""
        return ("prompt", *split_marks(prompt))
