"""The demo server in its own process, also recording when each tagged stream's text went out.

Run as `python -m tests.reliability.sent_server`: prints the base URL on one
line and serves until SIGTERM, like `agentdeck demo-server`. A prompt holding
`tag:NAME` has every content chunk of each of its streams logged as
(time.monotonic(), characters this stream sent so far). `GET /_sent` returns
the number of chunks sent per stream (`{tag: [count, ...]}`, cheap to poll),
`GET /_sent?full=1` the logs (`{tag: [[[time, chars], ...], ...]}`).
CLOCK_MONOTONIC is system-wide on Linux, so a test can compare these times
with the moment it killed a client, and tell which text reached the client
more than half a second before it died.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from tui.demo import server, streaming

_TAG = re.compile(rb"tag:([\w.-]+)")
SENT: dict[str, list[list[tuple[float, int]]]] = {}

_play = streaming.SseStream.play
_create_app = server.create_app


async def _tagged_play(
    self: streaming.SseStream,
    frames: AsyncIterator[streaming.Frame],
    *,
    paced: bool = True,
    on_sent: Callable[[bytes, str | None], None] | None = None,
) -> bool:
    found = _TAG.search(getattr(self._request, "_read_bytes", None) or b"")
    log: list[tuple[float, int]] | None = None
    if found:
        log = []
        SENT.setdefault(found.group(1).decode(), []).append(log)

    def record(frame: bytes, piece: str | None) -> None:
        if log is not None and piece:
            log.append((time.monotonic(), (log[-1][1] if log else 0) + len(piece)))
        if on_sent is not None:
            on_sent(frame, piece)

    return await _play(self, frames, paced=paced, on_sent=record)


async def _sent(request: web.Request) -> web.Response:
    if request.query.get("full"):
        return web.json_response({tag: [list(log) for log in logs] for tag, logs in SENT.items()})
    return web.json_response({tag: [len(log) for log in logs] for tag, logs in SENT.items()})


def _create_app_with_log(**kwargs: Any) -> web.Application:
    app = _create_app(**kwargs)
    app.router.add_get("/_sent", _sent)
    return app


streaming.SseStream.play = _tagged_play  # type: ignore[method-assign]
server.create_app = _create_app_with_log

if __name__ == "__main__":
    server.run_forever(0, None)
