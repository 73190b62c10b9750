"""Reading a file the user named (prompts, config, attachments, imports): a regular file, within a limit.

A FIFO would block the open or the read forever, `/dev/zero` never ends, and a
huge file would be read whole before being refused. So the file is opened
without blocking, refused unless it is a regular file, refused by its size
before anything is read, and read with the limit in force (it may grow while
we read). Standard input gets the same limit.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

MiB = 1024 * 1024
CONFIG_LIMIT = 1 * MiB
PROMPT_FILE_LIMIT = 64 * MiB
IMPORT_LIMIT = 512 * MiB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(ValueError):
    """A file that is refused; the text names the file and says why, in one line."""


class NotARegularFile(ValueError):
    """A folder, pipe, device or socket where a regular file was named; the text says which, in words."""


def _kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


@contextmanager
def open_regular_file(path: Path) -> Iterator[tuple[int, os.stat_result]]:
    """A descriptor of `path` and its stat, closed afterwards; NotARegularFile unless it is a regular file.

    Opened without blocking, so a FIFO cannot hang the open. OSErrors pass through as they are.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(_kind_of(info.st_mode))
        yield fd, info
    finally:
        os.close(fd)


def read_user_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; `what` names the limit in the message.

    Raises FileNotFoundError when there is no such file (callers often treat that apart),
    and UnreadableFile for everything else that is wrong.
    """
    try:
        with open_regular_file(path) as (fd, info):
            _check_size(path, info.st_size, limit, what)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(limit + 1)
    except FileNotFoundError:
        raise
    except NotARegularFile as exc:
        raise UnreadableFile(f"{path}: is {exc}, not a regular file") from None
    except OSError as exc:
        raise UnreadableFile(f"{path}: {_reason(exc)}") from None
    _check_size(path, len(data), limit, what)
    return data


def read_user_stream(stream: BinaryIO, limit: int, what: str, name: str = "stdin") -> bytes:
    """At most `limit` bytes from a stream (standard input); more is refused, not read."""
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise UnreadableFile(f"{name}: {_reason(exc)}") from None
    if len(data) > limit:
        raise UnreadableFile(f"{name}: more than the {what} limit of {limit:,} bytes")
    return data


def _check_size(path: Path, size: int, limit: int, what: str) -> None:
    if size > limit:
        raise UnreadableFile(f"{path}: {size:,} bytes is over the {what} limit of {limit:,} bytes")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
