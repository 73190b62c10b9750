"""How a tool call reads in a pane, the table and the approval dialog: plain lines, untrusted text made visible.

One description serves the Markdown body (a widget per call) and the raw
body (lines among the text), so both say the same thing.
"""

from __future__ import annotations

import json

from tui.engine.tool_calls import ToolCall, ToolCallStatus
from tui.safety import visible_controls
from tui.widgets.formatting import duration, one_line

ARGUMENTS_WIDTH = 160
"""The arguments' one-line form is cut here in a pane; the full form is in the tool-calls dialog."""
PREVIEW_LINES = 3
PREVIEW_WIDTH = 200
APPROVE_KEY = "p"
CALLS_KEY = "l"

CALL_ICONS: dict[ToolCallStatus, str] = {
    ToolCallStatus.RUNNING: "▶",
    ToolCallStatus.WAITING: "⏸",
    ToolCallStatus.DONE: "✓",
    ToolCallStatus.FAILED: "✗",
    ToolCallStatus.DENIED: "⊘",
    ToolCallStatus.TIMED_OUT: "⏱",
    ToolCallStatus.CANCELLED: "⊘",
}
CALL_COLOURS: dict[ToolCallStatus, str] = {
    ToolCallStatus.RUNNING: "accent",
    ToolCallStatus.WAITING: "warning",
    ToolCallStatus.DONE: "success",
    ToolCallStatus.FAILED: "error",
    ToolCallStatus.DENIED: "warning",
    ToolCallStatus.TIMED_OUT: "error",
    ToolCallStatus.CANCELLED: "warning",
}
"""Theme variable names, as for task statuses."""


def arguments_line(arguments: str, width: int = ARGUMENTS_WIDTH) -> str:
    """`{"path": "notes.md", "lines": 3}` on one line, cut to `width`; arguments that are not JSON shown as sent."""
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False) if arguments.strip() else "{}"
    except ValueError:
        text = arguments
    return one_line(text, width)


def arguments_pretty(arguments: str) -> str:
    """The arguments indented, for the dialogs; controls made visible."""
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False, indent=2) if arguments.strip() else "{}"
    except ValueError:
        text = arguments
    return visible_controls(text)


def state_text(call: ToolCall) -> str:
    """`▶ running 3s`, `⏸ waiting for approval (p)`, `✓ done 0.4s`, `⏱ timed out 60.0s`."""
    icon = CALL_ICONS[call.status]
    if call.status is ToolCallStatus.RUNNING:
        return f"{icon} running {int(call.elapsed_s)}s"
    if call.status is ToolCallStatus.WAITING:
        return f"{icon} waiting for approval ({APPROVE_KEY})"
    return f"{icon} {str(call.status).replace('_', ' ')} {duration(call.elapsed_s)}"


def header_line(call: ToolCall) -> str:
    return f"⚙ {one_line(call.name, 60)} ({one_line(call.server, 30)}) · {state_text(call)}"


def outcome_lines(call: ToolCall) -> list[str]:
    """The first lines of the result (or the error), each cut, and how much more there is."""
    text = call.result if call.result is not None else call.error
    if not text:
        return []
    lines = visible_controls(text.replace("\t", "    ")).split("\n")
    marker = "→ " if call.result is not None else "! "
    shown = [marker + _cut(line, PREVIEW_WIDTH) for line in lines[:PREVIEW_LINES]]
    more = len(lines) - PREVIEW_LINES
    if more > 0 or any(len(line) > PREVIEW_WIDTH for line in lines[:PREVIEW_LINES]):
        more_text = f"{more} more line{'s' if more != 1 else ''}" if more > 0 else "cut"
        shown.append(f"  … {more_text} · {CALLS_KEY} or a click shows it all")
    return shown


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def call_lines(call: ToolCall) -> list[str]:
    """Every line a pane shows for `call`: header, arguments, result preview."""
    return [header_line(call), f"  {arguments_line(call.arguments)}", *(f"  {line}" for line in outcome_lines(call))]


def shown_state(call: ToolCall) -> tuple[object, ...]:
    """What a pane shows of `call`: when it changes, the pane redraws the call (a running one each second)."""
    seconds = int(call.elapsed_s) if call.status is ToolCallStatus.RUNNING else call.finished_at
    return (call.status, seconds, call.result, call.error)


def table_cell(calls: list[ToolCall]) -> str:
    """The table's `tools` cell: how many calls, and the one running now; a question replaces them while one waits."""
    if not calls:
        return ""
    waiting = next((c for c in calls if c.status is ToolCallStatus.WAITING), None)
    if waiting is not None:
        return f"approve {visible_controls(waiting.name)}?"  # the status cell says ⏸ waiting
    running = next((c for c in reversed(calls) if c.status is ToolCallStatus.RUNNING), None)
    if running is not None:
        return f"{len(calls)} ▶ {visible_controls(running.name)}"
    return str(len(calls))
