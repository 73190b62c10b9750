"""Time to first frame: `agentdeck` against a minimal Textual app, both as fresh processes.

Each launch runs under its own pseudo-terminal (120x40) through
`bench.first_frame`, which records the wall-clock time of the first frame
written to the terminal and exits. Context only: when agentdeck's screen is
complete (what its first frame leaves for a frame later). Time counts from just before the process is
spawned. Byte-code is cached in a private folder (one untimed warm-up launch of
each), as it would be on an installed system, even when the environment sets
PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, child_main, isolated_home, median
from bench.first_frame import COMPLETE_ENV

COLUMNS, ROWS = 120, 40
LAUNCH_TIMEOUT_S = 60


def _drain(fd: int) -> None:
    """Read the terminal's output so the app never blocks on a full pty buffer."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def first_frame_seconds(which: str, args: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning the process to its first frame."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    with tempfile.TemporaryDirectory(prefix="agentdeck-frame-") as tmp:
        out = Path(tmp) / "first-frame"
        started = time.time()
        process = subprocess.Popen(
            [PYTHON, "-m", "bench.first_frame", str(out), which, *args],
            cwd=REPO, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        reader = threading.Thread(target=_drain, args=(master,), daemon=True)
        reader.start()
        try:
            process.wait(LAUNCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError(f"{which} painted no frame within {LAUNCH_TIMEOUT_S} s") from None
        finally:
            os.close(master)
            reader.join(2)
        if not out.exists():
            raise RuntimeError(f"{which} exited ({process.returncode}) without painting a frame")
        return float(out.read_text()) - started


def measure(quick: bool) -> dict[str, Any]:
    reps = 4 if quick else 10
    with isolated_home(), tempfile.TemporaryDirectory(prefix="agentdeck-pycache-") as cache:
        env = {
            **os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
            "PYTHONPYCACHEPREFIX": cache, "COLUMNS": str(COLUMNS), "LINES": str(ROWS),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("TEXTUAL", None)  # no devtools
        launches = {"agentdeck": ("agentdeck", []), "bare": ("bare", [])}
        complete_env = {**env, COMPLETE_ENV: "1"}
        for which, args in launches.values():  # warm-up: fills the byte-code cache
            first_frame_seconds(which, args, env)
        times: dict[str, list[float]] = {"agentdeck": [], "bare": [], "complete": []}
        for rep in range(reps):
            order = ["agentdeck", "bare"] if rep % 2 == 0 else ["bare", "agentdeck"]
            for name in order:
                which, args = launches[name]
                times[name].append(first_frame_seconds(which, args, env))
            times["complete"].append(first_frame_seconds("agentdeck", [], complete_env))
    ratio = median([a / b for a, b in zip(times["agentdeck"], times["bare"])])
    return {
        "startup_vs_bare_textual": round(ratio, 3),
        "startup_agentdeck_s": round(median(times["agentdeck"]), 3),
        "startup_bare_textual_s": round(median(times["bare"]), 3),
        "startup_agentdeck_complete_s": round(median(times["complete"]), 3),
    }


if __name__ == "__main__":
    child_main(measure)
