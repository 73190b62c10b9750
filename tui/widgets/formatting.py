"""Short human forms of numbers and text for table cells and pane headers."""

from __future__ import annotations

from tui.engine.task import Usage
from tui.safety import one_line as one_line  # re-exported: widgets format all their text from here
from tui.wording import UNKNOWN_COST as UNKNOWN_COST
from tui.wording import money as money
from tui.wording import plural as plural


def duration(seconds: float | None) -> str:
    """`4.2s`, `3m05s`, `2h07m`; a dash for no value."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def count(number: int) -> str:
    """`999,999`, then `1.2M`: seven cells at most, so the chars column stays narrow."""
    return f"{number:,}" if number < 1_000_000 else f"{number / 1_000_000:.1f}M"


def timeout_label(seconds: float | None) -> str:
    return "no timeout" if seconds is None else f"timeout {seconds:g}s"


def tokens_cell(usage: Usage) -> str:
    """The task's tokens, `~` first when estimated; empty while none are counted."""
    if not usage.is_known:
        return ""
    return ("~" if usage.estimated else "") + count(usage.tokens)


def cost_cell(usage: Usage) -> str:
    """What the task cost, `~` first when estimated; `–` when the tokens are counted but have no price."""
    if not usage.is_known:
        return ""
    if usage.cost_usd is None:
        return UNKNOWN_COST
    return ("~" if usage.estimated else "") + money(usage.cost_usd)
