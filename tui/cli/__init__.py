"""The `agentdeck` command line.

`main` is the entry point of the `agentdeck` script and `python -m tui`. It
imports nothing heavy before it is running, so Ctrl-C while the rest loads
ends with exit code 130 rather than a traceback; and standard output that is
closed (`| head`) or full (`> /dev/full`) ends the command like a Unix tool
does: quietly with 141 for a closed pipe, with one line and 1 for any other
write error.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED = 1, 2, 130, 141


class StdoutFailed(Exception):
    """Standard output refused a write; tells it apart from every other OSError."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class CheckedStdout:
    """`sys.stdout` whose failed writes and flushes raise `StdoutFailed`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection inside, for imports: they make modules and classes that live as long as
    the process, so the ~100 collections they would set off (~20 ms of agentdeck's start) find nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        checked = sys.stdout if isinstance(sys.stdout, CheckedStdout) else CheckedStdout(sys.stdout)
        sys.stdout = checked  # type: ignore[assignment]
        try:
            with collections_paused():
                from tui.cli.main import main as dispatch

            try:
                code = dispatch(argv)
            except SystemExit:  # argparse's --help and usage errors: what they printed must get out too
                checked.flush()
                raise
            checked.flush()
            return code
        except StdoutFailed as failure:
            return _stdout_failed(checked.stream, failure.error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _stdout_failed(stream: TextIO, error: OSError) -> int:
    """Point stdout at /dev/null (Python flushes it once more at exit), then say why, unless a reader left."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    if isinstance(error, BrokenPipeError):
        return EXIT_PIPE_CLOSED
    print(f"agentdeck: cannot write to standard output: {error.strerror or error}", file=sys.stderr)
    return EXIT_FAILED


__all__ = ["main"]
