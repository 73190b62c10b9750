"""The real `agentdeck` command on a pseudo-terminal: typed keys in, the screen and its last words out."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _controlled_by_stdin() -> None:
    """In the child, before exec: the pseudo-terminal becomes its controlling terminal, as a shell's is."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TerminalApp:
    """`agentdeck ARGS` as a user runs it: a terminal of a given size, keys typed, signals sent."""

    def __init__(self, *args: str, size: tuple[int, int] = (120, 36)) -> None:
        self._main, child = pty.openpty()
        columns, rows = size
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", *args], cwd=ROOT, stdin=child, stdout=child, stderr=child,
            env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True,
            preexec_fn=_controlled_by_stdin,
        )
        os.close(child)
        self.output = bytearray()

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def _read(self, timeout: float) -> bool:
        """Read what the terminal got for up to `timeout` s; False once the app's side is closed."""
        ready, _, _ = select.select([self._main], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self._main, 65536)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            return False
        self.output += data
        return bool(data)

    def wait_for(self, needle: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"{needle!r} never appeared; last output: {self.text[-1500:]!r}")

    def type(self, keys: str) -> None:
        os.write(self._main, keys.encode())

    def settle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._read(0.05):
            pass

    def send_signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does: the app gets SIGHUP, and its writes fail."""
        os.close(self._main)
        self._main = -1

    def wait(self, timeout: float = 30.0) -> int:
        """Exit code, after reading everything the app printed on its way out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.1):
            if self.process.poll() is not None:
                self.settle(0.3)
                break
        code = self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if self._main >= 0:
            os.close(self._main)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
