"""Session files on disk: names, paths, private permissions, and the one-writer lock.

A session is `NAME.sqlite` in the sessions folder plus SQLite's `-wal`/`-shm`
files; its writer holds a lock on the session file itself. Nothing here follows a symlink onto another file:
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
COMPANIONS = ("-wal", "-shm")
LEGACY_LOCK = ".lock"
"""Earlier versions locked this file instead; it is removed with its session."""
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


class WriterLock:
    """An exclusive `flock` on the session file itself: one writer per session, freed even by kill -9.

    The lock is on the file being written, so no file can be deleted to get around it. Its
    descriptor stays open until the writer's SQLite connections are closed: closing any
    descriptor of a file drops the POSIX locks this process's SQLite connections hold on it.
    (`flock` and SQLite's POSIX locks do not interact on Linux.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        holder = writer_pid(self.path)
        if holder is not None:  # refused without opening (and closing) a descriptor of the file
            raise self._locked(holder)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)  # read-only media fail here
        except OSError as exc:
            raise StorageUnavailable(f"{self.path}: cannot write the session file: {describe(exc)}") from None
        for attempt in range(_LOCK_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _LOCK_ATTEMPTS - 1:  # a probe without /proc/locks holds it for microseconds
                    os.close(fd)
                    raise self._locked(writer_pid(self.path) or 0) from None
                time.sleep(0.02)
        self._fd = fd

    def _locked(self, pid: int) -> SessionLocked:
        who = f"process {pid}" if pid else "another process"
        name = name_of(self.path)
        return SessionLocked(
            f"session {name!r} is being written by {who}; only one writer is allowed, "
            f"but it can be opened read-only to watch it (agentdeck open {name!r} --watch)",
            pid or None,
        )

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def still_linked(self) -> bool:
        """False once the locked file was deleted or replaced by another at its path."""
        if self._fd is None:
            return False
        held = os.fstat(self._fd)
        try:
            current = os.lstat(self.path)
        except OSError:
            return False
        return held.st_nlink > 0 and (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


def writer_pid(path: Path) -> int | None:
    """The pid of the live writer of a session (0 if unknown), or None when nobody writes it.

    Read from /proc/locks on Linux, which opens no descriptor of the file (see `WriterLock`).
    """
    try:
        info = os.lstat(path)
    except OSError:
        return None
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            table = handle.read()
    except OSError:
        return _probe_pid(path)
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1:4] != ["FLOCK", "ADVISORY", "WRITE"]:
            continue  # not a held exclusive flock (a waiting one reads "1: -> FLOCK ...")
        device, _, inode = fields[5].rpartition(":")
        if not inode.isdigit() or int(inode) != info.st_ino:
            continue
        pid = int(fields[4]) if fields[4].lstrip("-").isdigit() else 0
        if device == f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}" or _has_open(pid, info):
            return max(pid, 0)
    return None


def _has_open(pid: int, info: os.stat_result) -> bool:
    """Whether process `pid` has this very file open (file systems such as btrfs report another device
    in /proc/locks than `stat` does)."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd") if pid > 0 else []
    except OSError:
        return False
    for fd in descriptors:
        try:
            held = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (held.st_dev, held.st_ino) == (info.st_dev, info.st_ino):
            return True
    return False


def _probe_pid(path: Path) -> int | None:
    """Without /proc/locks: try a shared lock (0 when it is held, the pid is not known)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)  # a FIFO must not block
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def move_session(old: Path, new: Path) -> None:
    """Give a session whose log is folded in a new name; never replaces one.

    The writer's `flock` is on the file's inode, so the new name is locked from its first moment.
    """
    try:
        os.link(old, new)
    except FileExistsError:
        raise StoreError(f"a session named {name_of(new)!r} already exists") from None
    except OSError as exc:
        raise StoreError(f"cannot rename {old.name}: {describe(exc)}") from None
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
    """Delete a session file and its companions (and the lock file older versions kept beside it)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}{LEGACY_LOCK}")):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot remove {candidate}: {describe(exc)}") from None
