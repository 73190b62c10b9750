"""SSE delivery to one client: pacing, injected stream faults, disconnect detection, stats.

The per-chunk path is kept lean (no logging, no per-chunk allocation beyond the
frame) because 50 concurrent streams must reach ~5,000 chunks/s on two cores.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from tui.demo.rate_limits import ModelStreams, release_model_stream
from tui.demo.script import Directives
from tui.demo.wire import MALFORMED_SSE

Frame = tuple[bytes, "str | None"]
"""An SSE frame and, for content frames, the text it carries (None otherwise)."""

_POLL_S = 0.05  # longest sleep slice, so a silent stream still notices a disconnect quickly
_YIELD_EVERY = 16  # with no delay, let other streams run this often
_CATCH_UP_S = 0.1  # how much lag a slowed-down stream may make up in a burst
_HIDDEN_HEADERS = frozenset({"authorization", "api-key", "x-api-key"})

log = logging.getLogger("agentdeck.demo")
"""One line per client that leaves early; `agentdeck demo-server` prints them on stderr."""


class DemoStats:
    """What tests check: concurrency, disconnects, request counts, headers received."""

    def __init__(self) -> None:
        self.open_streams = 0
        self.max_streams = 0
        self.disconnects: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self.last_headers: dict[str, str] = {}
        self.last_output_limit: int | None = None
        """The output-token limit the last completion request asked for (`max_completion_tokens`,
        `max_tokens` or `max_output_tokens`), or None."""
        self.models = ModelStreams()
        """Requests in flight per model and the per-model cap (see `tui.demo.rate_limits`)."""

    def request(self, endpoint: str, headers: Any) -> None:
        self.requests[endpoint] += 1
        self.last_headers = {k: v for k, v in headers.items() if k.lower() not in _HIDDEN_HEADERS}

    def stream_opened(self) -> None:
        self.open_streams += 1
        self.max_streams = max(self.max_streams, self.open_streams)

    def stream_closed(self) -> None:
        self.open_streams -= 1

    def disconnected(self, endpoint: str, content_chunks: int) -> None:
        self.disconnects.append({"endpoint": endpoint, "at": time.monotonic(), "content_chunks": content_chunks})

    def reset(self) -> None:
        """Forget history; streams still open keep counting."""
        self.max_streams = self.open_streams
        self.disconnects = []
        self.requests = Counter()
        self.last_headers = {}
        self.last_output_limit = None
        self.models.reset()

    def snapshot(self) -> dict[str, Any]:
        return self.models.snapshot() | {
            "open_streams": self.open_streams,
            "max_streams": self.max_streams,
            "disconnects": [dict(d) for d in self.disconnects],
            "requests": dict(self.requests),
            "last_headers": dict(self.last_headers),
            "last_output_limit": self.last_output_limit,
        }


@dataclass(frozen=True)
class Pacing:
    """When content chunks go out: `delay` before each, plus `silent` once after `silent_after` chunks."""

    delay: float
    silent: float
    silent_after: int

    @classmethod
    def of(cls, directives: Directives) -> Pacing:
        return cls(directives.delay_ms / 1000.0, directives.silent or 0.0, directives.silent_after)

    def before(self, index: int) -> float:
        """Seconds to wait before content chunk `index` (0-based)."""
        if self.silent and index == self.silent_after:
            return self.delay + self.silent
        return self.delay

    def total(self, chunks: int) -> float:
        """How long a whole answer takes, for non-streamed replies."""
        return chunks * self.delay + (self.silent if self.silent_after < chunks else 0.0)


class Pacer:
    """Waits for `Pacing` against a running deadline, so sleep overshoot does not slow the average rate."""

    def __init__(self, pacing: Pacing) -> None:
        self._pacing = pacing
        self._deadline: float | None = None

    def wait_before(self, index: int) -> float:
        """Seconds to wait before content chunk `index`; a late stream catches up at most `_CATCH_UP_S`."""
        now = asyncio.get_running_loop().time()
        previous = now if self._deadline is None else self._deadline
        self._deadline = max(previous + self._pacing.before(index), now - _CATCH_UP_S)
        return self._deadline - now

    async def sleep_before(self, index: int) -> None:
        """Wait where no client connection is involved (background generation)."""
        wait = self.wait_before(index)
        if wait > 0:
            await asyncio.sleep(wait)
        elif index % _YIELD_EVERY == _YIELD_EVERY - 1:
            await asyncio.sleep(0)


def split_text(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class _CloseDelimitedResponse(web.StreamResponse):
    """A body with neither chunking nor Content-Length: it ends when the socket closes."""

    _length_check = False


class SseStream:
    """One client's SSE body; use as `async with`, then return `.response` from the handler.

    Stream faults fire before a content chunk once that many content chunks went
    out: `drop` aborts the transport (a chunked body left incomplete, clients raise),
    `cut` ends a close-delimited body cleanly (clients see a quiet end),
    `malformed` slips in one broken `data:` line and carries on.
    """

    def __init__(self, request: web.Request, stats: DemoStats, directives: Directives, endpoint: str) -> None:
        self._request = request
        self._stats = stats
        self._directives = directives
        self._endpoint = endpoint
        self._pacer = Pacer(Pacing.of(directives))
        self._malformed_sent = False
        self._dropped = False
        self._gone = False
        self.sent = 0
        """Content chunks delivered so far."""
        cut = directives.cut is not None
        self.response = _CloseDelimitedResponse() if cut else web.StreamResponse()

    async def __aenter__(self) -> SseStream:
        resp = self.response
        resp.headers["Content-Type"] = "text/event-stream; charset=utf-8"
        resp.headers["Cache-Control"] = "no-cache"
        if self._directives.cut is not None:
            resp.force_close()
        self._stats.stream_opened()
        try:
            await resp.prepare(self._request)
        except ConnectionError:  # gone before the headers went out: nothing more is sent
            self._client_left()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stats.stream_closed()
        release_model_stream(self._request)
        if not self._dropped and not self._gone and exc_type is None:
            try:
                await self.response.write_eof()
            except ConnectionError:
                self._client_left()

    async def play(
        self,
        frames: AsyncIterator[Frame],
        *,
        paced: bool = True,
        on_sent: Callable[[bytes, str | None], None] | None = None,
    ) -> bool:
        """Send frames in order; True if all were delivered, False if a fault or the client ended it."""
        async for frame, piece in frames:
            if piece is not None and not await self._before_content(paced):
                return False
            if not await self.send(frame):
                return False
            if piece is not None:
                self.sent += 1
            if on_sent is not None:
                on_sent(frame, piece)
        return True

    async def send(self, frame: bytes) -> bool:
        if self._gone:
            return False
        try:
            await self.response.write(frame)
        except ConnectionError:
            self._client_left()
            return False
        return True

    async def _before_content(self, paced: bool) -> bool:
        if paced and not await self._pause(self._pacer.wait_before(self.sent)):
            return False
        d, sent = self._directives, self.sent
        if d.drop is not None and sent >= d.drop:
            self._drop()
            return False
        if d.cut is not None and sent >= d.cut:
            return False
        if d.malformed is not None and sent >= d.malformed and not self._malformed_sent:
            self._malformed_sent = True
            return await self.send(MALFORMED_SSE)
        return True

    async def _pause(self, seconds: float) -> bool:
        """Sleep in short slices so a client that leaves during a long pause is noticed."""
        if seconds <= 0:
            if self.sent % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            if self._transport_closed():
                self._client_left()
                return False
            await asyncio.sleep(min(remaining, _POLL_S))
        return True

    def _transport_closed(self) -> bool:
        transport = self._request.transport
        return transport is None or transport.is_closing()

    def _drop(self) -> None:
        self._dropped = True
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    def _client_left(self) -> None:
        if not self._gone:
            self._gone = True
            self._stats.disconnected(self._endpoint, self.sent)
            log.info("client left %s after %d chunks", self._request.path, self.sent)
