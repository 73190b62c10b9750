"""The demo server's provider-style rate limits: streams counted per model, and a cap answered with 429.

Real providers refuse work beyond a concurrency or rate allowance with `429` and a
`Retry-After` header; the benchmark and scheduling tests need a server that does the same
and can say how many streams each model had open at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from aiohttp import web

_COUNTED_ENDPOINTS = frozenset({"/v1/chat/completions", "/v1/responses"})
RELEASE: web.RequestKey[Callable[[], None]] = web.RequestKey("model_stream_release")
"""Where a counted request keeps the call that ends its count (a stream ends it when its last event is out)."""


def release_model_stream(request: web.Request) -> None:
    """End the request's count now: a client may start its next request before the handler returns."""
    release = request.get(RELEASE)
    if release is not None:
        release()


def retry_after_value(seconds: float, *, http_date: bool = False) -> str:
    """A `Retry-After` header value: delta seconds, or the HTTP date that many seconds from now."""
    if http_date:
        return formatdate(time.time() + seconds, usegmt=True)
    return f"{seconds:g}"


class ModelStreams:
    """Requests in flight per model (a streamed answer is one request), their peaks, and the cap.

    `cap` (None = no cap) is how many a model may have at once; one more is refused with 429
    and `Retry-After: cap_retry_after`, which the stats count as `rate_limited`.
    """

    def __init__(self, cap: int | None = None, cap_retry_after: float = 1.0) -> None:
        self.cap = cap
        self.cap_retry_after = cap_retry_after
        self.open: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()

    @staticmethod
    def counts(path: str, method: str) -> bool:
        return method == "POST" and path in _COUNTED_ENDPOINTS

    def admit(self, model: str) -> bool:
        """Open a request for `model`, or refuse it (False) when the model is at its cap."""
        if self.cap is not None and self.open[model] >= self.cap:
            self.rate_limited[model] += 1
            return False
        self.open[model] += 1
        self.peak[model] = max(self.peak[model], self.open[model])
        return True

    def close(self, model: str) -> None:
        self.open[model] -= 1

    def releaser(self, model: str) -> Callable[[], None]:
        """A call that ends one request's count once, however often it is called."""
        done = False

        def release() -> None:
            nonlocal done
            if not done:
                done = True
                self.close(model)

        return release

    def reset(self) -> None:
        """Forget peaks and refusals; requests still open keep counting."""
        self.peak = Counter({model: n for model, n in self.open.items() if n})
        self.rate_limited = Counter()

    def snapshot(self) -> dict[str, Any]:
        return {
            "open_streams_by_model": {m: n for m, n in self.open.items() if n},
            "max_streams_by_model": dict(self.peak),
            "rate_limited_by_model": dict(self.rate_limited),
        }
