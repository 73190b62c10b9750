"""When a refused request may be sent again, and after how long.

The SDK's own retries are off (`max_retries=0` on its client): it would wait while
holding the task's place and its timeout, and a provider's 429 is news the scheduler
needs (see `tui.engine.scheduling`). Here the task waits queued instead.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from tui.engine.errors import STATUS_WORDS, cause_chain

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 600.0
"""A provider asking for longer than this is believed only this far (the task shows the wait)."""
_RETRIED_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Refusal:
    """A request refused before its stream started: why, and the wait before trying again."""

    reason: str
    wait: float
    rate_limited: bool


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date; None when unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _asked_wait(headers: Any) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    try:
        if milliseconds is not None:
            return max(0.0, float(milliseconds) / 1000)
    except ValueError:
        pass
    return parse_retry_after(headers.get("retry-after"))


def jittered(seconds: float) -> float:
    """The asked wait plus up to a fifth more (at most 1 s), so refused tasks do not all return at once."""
    return min(seconds, RETRY_AFTER_MAX_S) + random.uniform(0.0, min(1.0, seconds * 0.2))


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter for refusals that name no wait: 0.25-0.5 s, 0.5-1 s, 1-2 s, ..."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt) * random.uniform(0.5, 1.0)


def refusal(exc: BaseException, attempt: int, *, output_seen: bool) -> Refusal | None:
    """What to do about a failed run: wait and retry (a Refusal), or None (the failure stands).

    Retried: 429, 408, 409 and 5xx answers, and connections that failed before any output.
    """
    import openai

    for error in cause_chain(exc):
        if isinstance(error, openai.APIStatusError):
            code = error.status_code
            if code not in _RETRIED_STATUSES and code < 500:
                return None
            asked = _asked_wait(error.response.headers)
            wait = backoff(attempt) if asked is None else jittered(asked)
            reason = "rate limited" if code == 429 else f"{code} {STATUS_WORDS.get(code, 'Error')}"
            return Refusal(reason, wait, rate_limited=code == 429)
        if isinstance(error, openai.APIConnectionError):
            return None if output_seen else Refusal("no connection", backoff(attempt), rate_limited=False)
    return None
