"""The UI process's side of the stream worker: starts it, sends it commands, and feeds what it reads to the engine.

One thread receives the worker's messages and calls the real `StreamFeed`s'
stream-side methods, so the engine's side of a run is the same as with the
in-process stream loop. A worker that dies ends its runs with `WorkerStopped`;
the next run starts a new one.

`subprocess.Popen` of `python -m tui.engine.worker` rather than multiprocessing:
the child's stdin and stdout are /dev/null (the TUI owns the terminal), only
the two pipes are passed to it, and it does not re-import the app's `__main__`.
Its stderr is a pipe whose last lines are kept here, in memory only: a worker
that dies says why in the `WorkerStopped` message (a traceback's last line,
faulthandler's "Fatal Python error: ...").
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tui.engine.feed import StreamFeed, ToolEvent
from tui.engine.tool_calls import ApprovalDecision
from tui.engine.worker_errors import ErrorData, WorkerStopped, rebuild
from tui.engine.worker_protocol import (
    Approve,
    Batch,
    CancelBackground,
    CancelRun,
    Channel,
    Close,
    Ready,
    Reply,
    RunNews,
    StartRun,
)
from tui.safety import one_line

if TYPE_CHECKING:
    from tui.config import ProviderConfig
    from tui.config_mcp import McpServerConfig
    from tui.engine.run_request import RunRequest

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 6.0
"""The worker's own stop takes at most 5 s (MCP servers closing); then it is killed."""
STDERR_TAIL_LINES = 20
STDERR_LINE_CHARS = 300
STDERR_SETTLE_S = 1.0
"""How long a dead worker's last stderr lines may take to be read before its runs are ended without them."""
LAST_WORDS_CHARS = 200
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])


class StderrTail:
    """The worker's last stderr lines, read on a daemon thread so a chatty worker never blocks on a full pipe.

    Memory stays bounded: a few lines, each cut, and the rest of an over-long line skipped unread into memory.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._lock = threading.Lock()
        self._lines: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._fatal: str | None = None
        """faulthandler's "Fatal Python error: ..." line: the stack it dumps next is longer than the tail."""
        self._drain = threading.Thread(target=self._read, args=(stream,), name="agentdeck-worker-stderr", daemon=True)
        self._drain.start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:
            continued = False
            while chunk := stream.readline(STDERR_LINE_CHARS * 4):
                if not continued:
                    line = chunk.decode("utf-8", "replace").rstrip()[:STDERR_LINE_CHARS]
                    with self._lock:
                        if line.startswith("Fatal Python error:"):
                            self._fatal = line
                        self._lines.append(line)
                continued = not chunk.endswith(b"\n")

    def last_words(self, *, signalled: bool, settle: float = STDERR_SETTLE_S) -> str | None:
        """After the worker exited: its fatal error, else (not killed by a signal) its last unindented line.

        A traceback ends with its exception's line. A signal other than a fatal one (faulthandler's) comes
        from outside, `kill -9`, the OOM killer: what the worker wrote before is not why it died.
        """
        self._drain.join(settle)
        with self._lock:
            if self._fatal is not None or signalled:
                return self._fatal
            lines = list(self._lines)
        return next((line for line in reversed(lines) if line and not line[0].isspace()), None)


@dataclass
class _Run:
    feed: StreamFeed
    result: concurrent.futures.Future[Any]


class _Process:
    """One worker process, its pipes, its reader thread, and the runs and requests it has open."""

    def __init__(self) -> None:
        commands_read, commands_write = os.pipe()
        news_read, news_write = os.pipe()
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE_ROOT, environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tui.engine.worker", str(commands_read), str(news_write)],
                pass_fds=(commands_read, news_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, env=environ,
            )
        finally:
            os.close(commands_read)
            os.close(news_write)
        self.pid = self.process.pid
        assert self.process.stderr is not None
        self._stderr = StderrTail(self.process.stderr)
        self._closing = False
        self._commands = Channel(commands_write, writable=True)
        self._news = Channel(news_read, writable=False)
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}
        self._requests: dict[int, concurrent.futures.Future[Any]] = {}
        self._stopped: WorkerStopped | None = None
        self.ready = threading.Event()
        """Set once the worker has imported the SDKs (or has died)."""
        self._reader = threading.Thread(target=self._read, name="agentdeck-worker-news", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self._stopped is None

    def start_run(self, run_id: int, command: StartRun, feed: StreamFeed) -> concurrent.futures.Future[Any]:
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            stopped = self._stopped
            if stopped is None:
                self._runs[run_id] = _Run(feed, result)
        if stopped is not None:  # it died after `StreamWorker.start` found it alive
            feed.end()
            result.set_exception(stopped)
            return result
        feed.read_elsewhere(lambda: self.send(CancelRun(run_id)))
        self.send(command)
        return result

    def request(self, request_id: int, command: CancelBackground) -> concurrent.futures.Future[Any]:
        answer: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            stopped = self._stopped
            if stopped is None:
                self._requests[request_id] = answer
        if stopped is not None:
            answer.set_exception(stopped)
        else:
            self.send(command)
        return answer

    def send(self, command: object) -> None:
        """A worker that died cannot be told anything; its reader ends its runs."""
        try:
            self._commands.send(command)
        except OSError:
            pass

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the worker to stop, kill it if it does not in time, and wait for the reader to end its runs."""
        self._closing = True
        self.send(Close())
        self._commands.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout)

    def _read(self) -> None:
        while True:
            try:
                message = self._news.receive()
            except (EOFError, OSError):
                break
            if isinstance(message, Batch):
                for news in message.runs:
                    self._apply(news)
            elif isinstance(message, Reply):
                self._answer(message)
            elif isinstance(message, Ready):
                self.ready.set()
        self._news.close()
        self.ready.set()
        self._end_all(WorkerStopped(f"the stream worker stopped ({self._how_it_ended()}); continue to resume"))

    def _apply(self, news: RunNews) -> None:
        with self._lock:
            run = self._runs.pop(news.run_id, None) if news.done else self._runs.get(news.run_id)
        if run is None:
            return
        feed = run.feed
        for item in news.items:
            if isinstance(item, str):
                feed.put(item, news.state, output=True)
            else:
                reply = self._replier(news.run_id, item.call.call_id) if item.asks else None
                feed.put_tool(ToolEvent(item.call, reply))
        if news.output or not news.items:
            feed.put("", news.state, output=news.output)
        if news.ended:
            feed.end()
        if news.done:
            if news.error is not None:
                run.result.set_exception(_rebuilt(news.error))
            elif news.outcome is not None:
                run.result.set_result(news.outcome)
            else:
                run.result.cancel()

    def _replier(self, run_id: int, call_id: str) -> Any:
        def reply(decision: ApprovalDecision) -> None:
            self.send(Approve(run_id, call_id, decision))

        return reply

    def _answer(self, reply: Reply) -> None:
        with self._lock:
            answer = self._requests.pop(reply.request_id, None)
        if answer is None:
            return
        if reply.error is not None:
            answer.set_exception(_rebuilt(reply.error))
        else:
            answer.set_result(reply.value)

    def _how_it_ended(self) -> str:
        try:
            code = self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        words = None if self._closing else self._stderr.last_words(signalled=code < 0)
        return f"{how}: {one_line(words, LAST_WORDS_CHARS)}" if words else how

    def _end_all(self, why: WorkerStopped) -> None:
        with self._lock:
            self._stopped = why
            runs, self._runs = list(self._runs.values()), {}
            requests, self._requests = list(self._requests.values()), {}
        for run in runs:
            run.feed.end()
            run.result.set_exception(why)
        for answer in requests:
            answer.set_exception(why)


def _rebuilt(error: ErrorData) -> BaseException:
    """The worker's exception; should rebuilding it fail, one that says what it was (the reader must go on)."""
    try:
        return rebuild(error)
    except Exception:
        first = error[0]
        return RuntimeError(f"{first.name}: {first.message}")


class StreamWorker:
    """The worker process as the client factory sees it: started on first use, started again after dying."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: _Process | None = None
        self._ids = count(1)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.alive else None

    def start(self) -> _Process:
        """The running worker, started now if there is none (a first run, or the last one died)."""
        with self._lock:
            if self._process is None or not self._process.alive:
                self._process = _Process()
            return self._process

    def prepare(self) -> None:
        """Blocking: start the worker and wait (bounded) until it has imported the SDKs."""
        self.start().ready.wait(READY_TIMEOUT_S)

    def start_run(
        self, spec: ProviderConfig, request: RunRequest, feed: StreamFeed, mcp: Mapping[str, McpServerConfig] | None,
    ) -> concurrent.futures.Future[Any]:
        """Start one run in the worker; the future gets its `Outcome` or exception."""
        run_id = next(self._ids)
        return self.start().start_run(run_id, StartRun(run_id, spec, request, mcp), feed)

    def cancel_background(self, spec: ProviderConfig, response_id: str) -> concurrent.futures.Future[Any]:
        request_id = next(self._ids)
        return self.start().request(request_id, CancelBackground(request_id, spec, response_id))

    def close(self) -> None:
        """Blocking: stop the worker (its runs end, its MCP servers stop)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()
