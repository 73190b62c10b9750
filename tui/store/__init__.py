"""Sessions on disk: one SQLite file per session, saved continuously, reopened lazily, watched live.

Never imports Textual. The app and the CLI use only what is exported here.
"""

from tui.store.catalog import (
    Listing,
    SessionInfo,
    SessionProblem,
    delete_session,
    list_sessions,
    new_session_name,
    rename_session,
    session_info,
)
from tui.store.errors import SessionLocked, SessionNotFound, SessionUnreadable, StorageUnavailable, StoreError
from tui.store.export import FORMATS, export_pieces, render, session_document, write_private
from tui.store.files import resolve, writer_pid
from tui.store.group_export import group_export
from tui.store.importer import import_file
from tui.store.records import StoredOutput, load_text
from tui.store.session_store import SessionStore
from tui.store.watch import SessionWatcher

__all__ = [
    "FORMATS",
    "Listing",
    "SessionInfo",
    "SessionLocked",
    "SessionNotFound",
    "SessionProblem",
    "SessionStore",
    "SessionUnreadable",
    "SessionWatcher",
    "StorageUnavailable",
    "StoreError",
    "StoredOutput",
    "delete_session",
    "export_pieces",
    "group_export",
    "import_file",
    "list_sessions",
    "load_text",
    "new_session_name",
    "rename_session",
    "render",
    "resolve",
    "session_document",
    "session_info",
    "write_private",
    "writer_pid",
]
