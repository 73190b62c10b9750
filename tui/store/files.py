"""Session files on disk: names, paths, private permissions, and the one-writer lock.

A session is `NAME.sqlite` in the sessions folder plus SQLite's `-wal`/`-shm`
files and our `.lock` file. Nothing here follows a symlink onto another file:
a session file that is a symlink is refused rather than written through.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import time
from pathlib import Path

from tui import paths
from tui.store.errors import SessionLocked, SessionNotFound, StorageUnavailable, StoreError, describe

SUFFIX = ".sqlite"
COMPANIONS = ("-wal", "-shm", ".lock")
_NAME = re.compile(r"^[^\W_][\w.\- ]{0,99}$")
_LOCK_ATTEMPTS = 5


def check_name(name: str) -> str:
    """A session name becomes a file name: letters, digits, `._- `, at most 100 characters.

    A name ending in `.sqlite` is refused: it was meant as a file, and a path must say where.
    """
    if name.endswith(SUFFIX) and _NAME.match(name):
        raise StoreError(f"{name!r} looks like a file name; write ./{name} for that file here, "
                         f"or {name.removesuffix(SUFFIX)!r} for the session of that name")
    if not _NAME.match(name) or name != name.strip() or name.endswith("."):
        raise StoreError(
            f"invalid session name {name!r}: use letters, digits, '.', '_', '-' or spaces "
            "(starting with a letter or digit, at most 100 characters)"
        )
    return name


def name_of(path: Path) -> str:
    return path.name.removesuffix(SUFFIX)


def looks_like_path(ref: str) -> bool:
    """A path says where it is (`/`, or starting with `.` or `~`); anything else is a name in the sessions folder."""
    return os.sep in ref or ref.startswith((".", "~"))


def path_for(name: str, directory: Path | None = None) -> Path:
    return (directory or paths.sessions_dir()) / f"{check_name(name)}{SUFFIX}"


def resolve(ref: str | Path, *, must_exist: bool = True) -> Path:
    """`NAME` (in the sessions folder) or a path to a session file."""
    if isinstance(ref, Path) or looks_like_path(ref):
        path = Path(ref).expanduser().absolute()
        missing = f"{path}: no such session file"
    else:
        path = path_for(ref)
        missing = f"no session named {ref!r} in {path.parent}; `agentdeck sessions` lists them"
    if must_exist and not os.path.lexists(path):
        raise SessionNotFound(missing)
    return path


def ensure_dir(directory: Path | None = None) -> Path:
    """Create the sessions folder and the data folder holding it (0700) if missing; explain when it cannot be."""
    directory = directory or paths.sessions_dir()
    if not os.path.lexists(directory.parent):
        try:
            directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            pass  # the folder's own mkdir says why
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageUnavailable(f"{directory}: exists but is not a folder; cannot keep sessions there") from None
    except OSError as exc:
        raise StorageUnavailable(f"{directory}: cannot create the sessions folder: {describe(exc)}") from None
    if not directory.is_dir():
        raise StorageUnavailable(f"{directory}: exists but is not a folder; cannot keep sessions there")
    return directory


def check_regular(path: Path) -> None:
    """Refuse symlinks and non-files for a session and its companions (we would write through them)."""
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in COMPANIONS)):
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"{candidate}: {describe(exc)}") from None
        if stat.S_ISLNK(info.st_mode):
            raise StoreError(f"{candidate}: is a symbolic link; refusing to write through it")
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{candidate}: is not a regular file")


def create_file(path: Path) -> None:
    """Create an empty private session file; fails if anything (even a dangling link) is there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise StoreError(f"{path}: already exists") from None
    except OSError as exc:
        raise StorageUnavailable(f"{path}: cannot create the session file: {describe(exc)}") from None
    os.close(fd)


def file_size(path: Path) -> int:
    """Bytes on disk for a session: the database and its write-ahead log."""
    total = 0
    for candidate in (path, Path(f"{path}-wal")):
        try:
            total += os.lstat(candidate).st_size
        except OSError:
            pass
    return total


def lock_path(path: Path) -> Path:
    return Path(f"{path}.lock")


class WriterLock:
    """An exclusive `flock` on `NAME.sqlite.lock`: one writer per session, freed even by kill -9."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        lock = lock_path(self.path)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StorageUnavailable(f"{lock}: cannot create the lock file: {describe(exc)}") from None
        for attempt in range(_LOCK_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _LOCK_ATTEMPTS - 1:  # a watcher's probe holds it for microseconds only
                    pid = _read_pid(fd)
                    os.close(fd)
                    who = f"process {pid}" if pid else "another process"
                    raise SessionLocked(
                        f"session {name_of(self.path)!r} is being written by {who}; "
                        "only one writer is allowed, but it can be opened read-only to watch it "
                        f"(agentdeck open {name_of(self.path)!r} --watch)",
                        pid,
                    ) from None
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def writer_pid(path: Path) -> int | None:
    """The pid of the live writer of a session (0 if unknown), or None when nobody writes it."""
    try:  # without O_NONBLOCK a FIFO in the lock file's place would block this open forever
        fd = os.open(lock_path(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


def move_session(old: Path, new: Path) -> None:
    """Give a session whose log is folded in and whose lock the caller holds a new name; never replaces one.

    The lock file moves with the held `flock`, so the new name is locked from its first moment.
    """
    try:
        os.link(old, new)
    except FileExistsError:
        raise StoreError(f"a session named {name_of(new)!r} already exists") from None
    except OSError as exc:
        raise StoreError(f"cannot rename {old.name}: {describe(exc)}") from None
    os.replace(lock_path(old), lock_path(new))
    remove_session(old)


def session_files(directory: Path) -> list[Path]:
    """Every `*.sqlite` in the folder, sorted by name; a missing folder has none."""
    try:
        return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"{directory}: cannot list sessions: {describe(exc)}") from None


def remove_session(path: Path) -> None:
    """Delete a session file and its companions (the lock file last: its holder is the caller)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), lock_path(path)):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot remove {candidate}: {describe(exc)}") from None
