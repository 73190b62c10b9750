"""Shared by every benchmark: medians, the demo server in its own process, configs, children.

The machine is shared and noisy, so a figure is always a ratio of two things
measured in the same run, and each side is the median of several repetitions
(interleaved, so a burst of outside load hits both sides alike).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_ENV = "AGENTDECK_BENCH_SERVER"
"""Base URL of a demo server another process already runs (set by `python -m bench` for its children)."""
PROVIDER = "bench"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; what `p99` means in the tables."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return float(ordered[index])


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc; psutil is not needed)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def process_writes() -> int:
    """Bytes this process passed to write()/pwrite() so far (`wchar` in /proc/self/io)."""
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no wchar")


# -- isolation ----------------------------------------------------------------


@contextlib.contextmanager
def isolated_home() -> Iterator[Path]:
    """A throwaway config file location and data directory, so a run never touches the user's sessions."""
    with tempfile.TemporaryDirectory(prefix="agentdeck-bench-") as tmp:
        home = Path(tmp)
        saved = {k: os.environ.get(k) for k in ("AGENTDECK_CONFIG", "AGENTDECK_DATA_DIR", "OPENAI_API_KEY")}
        os.environ["AGENTDECK_CONFIG"] = str(home / "config.toml")
        os.environ["AGENTDECK_DATA_DIR"] = str(home / "data")
        os.environ.pop("OPENAI_API_KEY", None)
        try:
            yield home
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def bench_config(base_url: str, *, concurrency: int, timeout: float | None = None) -> Any:
    """The default config plus a provider `bench` (Chat Completions) on the given server, as default."""
    from tui.config import ProviderConfig, parse_config

    config = parse_config({}, Path("bench-config.toml"), environ={})
    providers = dict(config.providers)
    providers[PROVIDER] = ProviderConfig(PROVIDER, "chat", "demo-chat", base_url=base_url, max_retries=0)
    return config.with_overrides(
        providers=providers, default_provider=PROVIDER, concurrency=concurrency, timeout=timeout
    )


# -- the demo server in its own process -----------------------------------------


class ServerProcess:
    """`python -m tui demo-server --port 0` in a separate process (so it never shares our GIL)."""

    def __init__(self, *options: str) -> None:
        """`options` go to `agentdeck demo-server` (e.g. `--max-streams-per-model 4`)."""
        self.options = options
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> str:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tui", "demo-server", "--port", "0", *self.options],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"the demo server did not start (printed {line!r})")
        self.base_url = line
        return line

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def demo_server() -> Iterator[str]:
    """The shared server's URL when the parent runs one, else a server process of our own.

    While ours runs, child processes started meanwhile are pointed at it too.
    """
    shared = os.environ.get(SERVER_ENV)
    if shared:
        yield shared
        return
    with ServerProcess() as url:
        os.environ[SERVER_ENV] = url
        try:
            yield url
        finally:
            os.environ.pop(SERVER_ENV, None)


def prompt(index: int, *, length: int, chunk: int = 12, delay_ms: float = 0.0) -> str:
    """A demo prompt; the index makes each answer's text different."""
    return f"bench stream {index} [[len:{length}]][[chunk:{chunk}]][[delay:{delay_ms:g}]]"


def content_chunks(length: int, chunk: int) -> int:
    """How many content chunks the demo server sends for an answer of `length` characters."""
    return -(-length // chunk)


# -- children -----------------------------------------------------------------


def run_child(module: str, args: Sequence[str] = (), *, timeout: float = 600) -> dict[str, Any]:
    """Run `python -m bench.<module> --child ...` in a fresh interpreter; its last stdout line is JSON."""
    done = subprocess.run(
        [PYTHON, "-m", f"bench.{module}", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, env=os.environ.copy(),
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"bench.{module} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def interleaved_children(
    module: str, kinds: Sequence[str], *, quick: bool, reps: int
) -> dict[str, list[dict[str, Any]]]:
    """Each kind's child (`python -m bench.<module> --one KIND`) in turn, `reps` rounds, under one demo server.

    Interleaved, so a burst of outside load hits every kind alike.
    """
    flags = ["--quick"] if quick else []
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with demo_server():
        for _ in range(reps):
            for kind in kinds:
                runs[kind].append(run_child(module, ["--one", kind, *flags]))
    return runs


async def all_streaming(tasks: Sequence[Any], limit_s: float = 120.0) -> None:
    """Wait until every task has text: the first tasks also import the SDKs and open connections."""
    deadline = time.monotonic() + limit_s
    while not all(task.chars for task in tasks):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{sum(not t.chars for t in tasks)} tasks had no text after {limit_s:g} s")
        await asyncio.sleep(0.1)


def child_main(measure: Callable[[bool], dict[str, Any]]) -> None:
    """Entry point of a metric module: `python -m bench.X [--quick]` prints one JSON line."""
    quick = "--quick" in sys.argv[1:]
    started = time.monotonic()
    result = measure(quick)
    result.setdefault("seconds", round(time.monotonic() - started, 2))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def finished_record(task_id: int, prompt: str, answer: str, at: float, *, usage: dict[str, int] | None = None) -> Any:
    """A done task as the session writer saves it: written straight to a file, it makes big sessions fast.

    Built from a real `Task` by the store's own capture, so it has every field a session holds.
    """
    from tui.engine import Task, TaskStatus
    from tui.engine.task import Usage
    from tui.store.batch import Pending
    from tui.store.records import capture_inputs, capture_state

    task = Task(
        id=task_id, prompt=prompt, provider="demo", model="demo-chat", api="chat", status=TaskStatus.DONE,
        created_at=at, started_at=at, finished_at=at + 2, first_output_at=at + 0.3, last_output_at=at + 2,
        request_text=prompt, usage=Usage(**(usage or {})),
    )
    return Pending(inputs=capture_inputs(task), state=capture_state(task), text=[answer])

