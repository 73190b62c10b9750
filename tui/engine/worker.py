"""The stream worker: a child process that reads provider streams for the UI process.

Parsing each chunk through the `openai` SDK and Agent Framework costs a few
hundred microseconds of Python; in the UI's process that shares the GIL with
the screen. Here the SDK clients, agents, sessions and MCP connections live in
their own process, and the UI process gets each run's text and tool events
coalesced, one message per `BATCH_INTERVAL_S` for all runs together.

Run as `python -m tui.engine.worker COMMANDS_FD NEWS_FD` by `worker_proxy`.
It never writes to the terminal: its stderr is a pipe the UI process drains,
where a crash leaves its traceback, or with `faulthandler` the stack of a fatal
signal. It exits when the command pipe closes, which is also what happens when
the UI process dies.
"""

from __future__ import annotations

import asyncio
import ctypes
import faulthandler
import os
import signal
import sys
import threading
import time
from typing import Any

from tui.engine.clients import ClientFactory
from tui.engine.feed import RunState, ToolEvent
from tui.engine.runs import read_stream
from tui.engine.tool_calls import ApprovalDecision
from tui.engine.worker_errors import error_data
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
    ToolNews,
)

BATCH_INTERVAL_S = 0.02
STOP_TIMEOUT_S = 5.0
IDLE_TRIM_S = 0.1
"""How long the worker must have had no run before it hands its free heap back (see `release_free_heap`)."""


def release_free_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's `malloc_trim`; elsewhere nothing).

    While many streams run, network buffers and the SDK's parsing raise the
    heap's high-water mark by tens of MB; glibc keeps those pages after they
    are freed, because live allocations sit between them, so an idle worker
    would hold them for the app's lifetime.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


class Outbox:
    """What every run did since the last message, sent at most once per interval."""

    def __init__(self, channel: Channel, broken: asyncio.Event) -> None:
        self._channel = channel
        self._broken = broken
        self._loop = asyncio.get_running_loop()
        self._pending: dict[int, RunNews] = {}
        self._scheduled = False
        self._last = 0.0

    def news(self, run_id: int) -> RunNews:
        news = self._pending.get(run_id)
        if news is None:
            news = self._pending[run_id] = RunNews(run_id)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_later(max(0.0, self._last + BATCH_INTERVAL_S - time.monotonic()), self.flush)
        return news

    def flush(self) -> None:
        self._scheduled = False
        self._last = time.monotonic()
        runs, self._pending = list(self._pending.values()), {}
        if runs:
            for news in runs:
                news.items = _joined(news.items)
            if not self.send(Batch(runs)):
                for news in runs:  # one run's news would not pickle: send the others, and end that run saying why
                    self.send(Batch([news])) or self.send(Batch([_unsendable(news)]))

    def send(self, message: object) -> bool:
        """False when the message could not be pickled; a closed pipe means the UI process is gone."""
        try:
            self._channel.send(message)
        except OSError:
            self._broken.set()
        except Exception:
            return False
        return True


def _unsendable(news: RunNews) -> RunNews:
    why = RuntimeError("the stream worker could not send this run's data back")
    return RunNews(news.run_id, ended=True, done=True, error=error_data(why))


def _joined(items: list[str | ToolNews]) -> list[str | ToolNews]:
    """Neighbouring pieces of text as one string."""
    joined: list[str | ToolNews] = []
    for item in items:
        if isinstance(item, str) and joined and isinstance(joined[-1], str):
            joined[-1] += item
        else:
            joined.append(item)
    return joined


class RunFeed:
    """The stream side of a `StreamFeed`, for `read_stream` in this process: puts go to the outbox."""

    def __init__(self, run_id: int, outbox: Outbox, asking: dict[tuple[int, str], Any]) -> None:
        self._run_id = run_id
        self._outbox = outbox
        self._asking = asking

    def bind(self) -> None:
        """Cancel reaches the run's asyncio task directly here."""

    def put(self, text: str, state: RunState, *, output: bool = False) -> None:
        news = self._outbox.news(self._run_id)
        if text:
            news.items.append(text)
        news.output = news.output or output or bool(text)
        news.state = state.copy()

    def put_tool(self, event: ToolEvent) -> None:
        if event.reply is not None:
            self._asking[(self._run_id, event.call.call_id)] = event.reply
        news = self._outbox.news(self._run_id)
        news.items.append(ToolNews(event.call, asks=event.reply is not None))
        news.output = True

    def end(self) -> None:
        self._outbox.news(self._run_id).ended = True


class Worker:
    def __init__(self, commands: Channel, news: Channel) -> None:
        self._commands = commands
        self._news = news
        self._clients = ClientFactory()
        self._runs: dict[int, asyncio.Task[None]] = {}
        self._asking: dict[tuple[int, str], Any] = {}
        self._jobs: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[object] = asyncio.Queue()
        stop = asyncio.Event()
        self._outbox = Outbox(self._news, stop)
        self._outbox.send(Ready())
        threading.Thread(target=self._read_commands, args=(loop, inbox), name="commands", daemon=True).start()
        waiting = asyncio.ensure_future(stop.wait())
        while True:
            getting = asyncio.ensure_future(inbox.get())
            await asyncio.wait([getting, waiting], return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break
            command = getting.result()
            if command is None or isinstance(command, Close):
                break
            self._handle(command)
        waiting.cancel()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self._stop()
        except TimeoutError:
            pass

    def _read_commands(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[object]) -> None:
        """On its own thread, so a command (a cancel) is seen however busy the loop is; None at EOF."""
        while True:
            try:
                command: object = self._commands.receive()
            except (EOFError, OSError):
                command = None
            loop.call_soon_threadsafe(inbox.put_nowait, command)
            if command is None:
                return

    def _handle(self, command: object) -> None:
        if isinstance(command, StartRun):
            if command.mcp is not None and command.mcp != self._clients.mcp.configs:
                self._clients.configure_mcp(command.mcp)
            self._runs[command.run_id] = asyncio.create_task(self._run(command))
        elif isinstance(command, CancelRun):
            run = self._runs.get(command.run_id)
            if run is not None:
                run.cancel()
        elif isinstance(command, Approve):
            reply = self._asking.pop((command.run_id, command.call_id), None)
            if reply is not None:
                reply(ApprovalDecision(command.decision))
        elif isinstance(command, CancelBackground):
            job = asyncio.create_task(self._cancel_background(command))
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    async def _run(self, command: StartRun) -> None:
        feed = RunFeed(command.run_id, self._outbox, self._asking)
        outcome = error = None
        try:
            outcome = await read_stream(self._clients, command.spec, command.request, feed)
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            error = error_data(exc)
        finally:
            self._runs.pop(command.run_id, None)
            for key in [key for key in self._asking if key[0] == command.run_id]:
                del self._asking[key]
        news = self._outbox.news(command.run_id)
        news.ended = True
        news.outcome, news.error, news.done = outcome, error, True
        if not self._runs:
            asyncio.get_running_loop().call_later(IDLE_TRIM_S, self._trim_if_idle)

    def _trim_if_idle(self) -> None:
        if not self._runs:
            release_free_heap()

    async def _cancel_background(self, command: CancelBackground) -> None:
        try:
            usage = await self._clients.cancel_background_here(command.spec, command.response_id)
        except Exception as exc:
            self._outbox.send(Reply(command.request_id, error=error_data(exc)))
        else:
            self._outbox.send(Reply(command.request_id, value=usage))

    async def _stop(self) -> None:
        runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, *self._jobs, return_exceptions=True)
        self._outbox.flush()
        await self._clients.close_here()


def main(argv: list[str]) -> None:
    faulthandler.enable()  # a segfault in a C extension (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) says where
    commands_fd, news_fd = int(argv[0]), int(argv[1])
    for fd in (commands_fd, news_fd):
        os.set_inheritable(fd, False)  # an MCP server holding the news pipe would hide this process's death
    # Ctrl+C in a terminal reaches the whole process group: the UI process decides what it stops.
    signal.signal(signal.SIGINT, lambda *_: None)
    from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient  # noqa: F401

    worker = Worker(Channel(commands_fd, writable=False), Channel(news_fd, writable=True))
    asyncio.run(worker.serve())
    os._exit(0)  # no waiting on threads the SDKs may have left behind


if __name__ == "__main__":
    main(sys.argv[1:])
