"""Task timeouts as people write them: one rule and one wording for the flag, config, bar and dialog.

Messages say what the value must be; each caller names the value (`--timeout:`,
`key 'timeout':`, `Timeout:`) and may echo what was typed.
"""

from __future__ import annotations

import math

MAX_TIMEOUT_S = 7 * 24 * 3600
NOT_A_NUMBER = "must be a number of seconds"
NOT_POSITIVE = "must be 0 (no timeout) or a positive number of seconds"
TOO_LONG = f"must be at most {MAX_TIMEOUT_S} seconds (7 days)"


def check_timeout(seconds: float) -> float:
    """`seconds` itself when it is a usable timeout (0 means none); ValueError with the shared wording if not."""
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(NOT_POSITIVE)
    if seconds > MAX_TIMEOUT_S:
        raise ValueError(TOO_LONG)
    return seconds


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(NOT_A_NUMBER) from None


def parse_timeout(text: str) -> float:
    """Typed seconds, checked as `check_timeout` does; `0` stays 0 (see `timeout_or_none`)."""
    return check_timeout(_seconds(text))


def timeout_or_none(seconds: float | None) -> float | None:
    """0 in the config, on the command line or in a dialog means 'no timeout'."""
    return None if not seconds else float(seconds)


def timeout_answer(text: str, *, current: float | None, elapsed: float) -> float | None:
    """The timeout dialog's answer, as a limit on the task's running time over all its runs.

    `90` allows 90 s in all, `+60` a minute more than it has left (from now when
    none is left), empty or `0` removes the timeout.
    """
    if not text:
        return None
    if not text.startswith("+"):
        return timeout_or_none(parse_timeout(text))
    used = elapsed if current is None else max(current, elapsed)
    return timeout_or_none(check_timeout(_seconds(text[1:]) + used))
