"""Sessions on disk: one SQLite file per session, saved continuously, reopened lazily, watched live.

Never imports Textual. The app and the CLI use only what is exported here. Export, import
and watching are imported when first used (PEP 562), so opening the app does not load them.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
from tui.store.files import resolve, writer_pid
from tui.store.records import StoredOutput, load_text
from tui.store.session_store import SessionStore

if TYPE_CHECKING:
    from tui.store.export import FORMATS, export_pieces, render, session_document, write_private
    from tui.store.group_export import group_export
    from tui.store.importer import import_file
    from tui.store.watch import SessionWatcher

_LAZY = {
    "FORMATS": "tui.store.export",
    "export_pieces": "tui.store.export",
    "render": "tui.store.export",
    "session_document": "tui.store.export",
    "write_private": "tui.store.export",
    "group_export": "tui.store.group_export",
    "import_file": "tui.store.importer",
    "SessionWatcher": "tui.store.watch",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value  # over the submodule of the same name (`group_export`) the import bound here
    return value


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
