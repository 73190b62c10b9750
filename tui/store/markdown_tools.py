"""A task's answer in a Markdown export, with each tool call shown where it happened among the text.

Arguments, results and errors are untrusted text (from the model or an MCP
server): each goes in a code fence longer than any run of backticks it holds,
so nothing in it can close the fence or become Markdown. A result is previewed
(its first lines); the JSON and TOML exports keep it whole.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tui.store.markdown_nesting import nest_headings, open_fence

PREVIEW_LINES = 20
PREVIEW_CHARS = 2000
_BACKTICKS = re.compile(r"`+")


def answer_with_calls(text: str, calls: list[dict[str, Any]]) -> str:
    """The answer's headings nested under the task's, and a block per call at its `offset` in the text."""
    parts: list[str] = []
    position = 0
    for number, call in enumerate(calls, start=1):
        offset = min(max(int(call.get("offset") or 0), position), len(text))
        segment = text[position:offset]
        parts.append(nest_headings(segment))
        fence = open_fence(segment)
        if fence is not None:  # the model's own fence is still open: close it, or the call would sit inside
            parts.append(("" if segment.endswith("\n") else "\n") + fence + "\n")
        elif segment and not segment.endswith("\n"):
            parts.append("\n")
        parts.append(("\n" if segment else "") + call_block(number, call) + "\n")
        position = offset
    parts.append(nest_headings(text[position:]))
    return "".join(parts)


def call_block(number: int, call: dict[str, Any]) -> str:
    """One call: a line naming it, its status and duration, then its arguments and result (or error) fenced."""
    name, server = _inline_code(call.get("name") or "?"), _inline_code(call.get("server") or "?")
    elapsed = call.get("elapsed_s")
    duration = f" · {elapsed:.2f} s" if isinstance(elapsed, int | float) else ""
    parts = [f"**Tool call {number}** · {name} on {server} · {call.get('status')}{duration}\n"]
    parts.append(_fenced("Arguments", _pretty_json(call.get("arguments") or ""), "json"))
    if call.get("result") is not None:
        parts.append(_fenced("Result", call["result"], "text"))
    if call.get("error"):
        parts.append(_fenced("Error", call["error"], "text"))
    return "\n".join(parts)


def _pretty_json(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, indent=2)
    except (ValueError, RecursionError):
        return arguments


def _fenced(label: str, text: str, info: str) -> str:
    """`label:` and a preview of `text` in a fence no line of it can close; its line ends kept as they are."""
    lines = text.splitlines(keepends=True)
    preview = "".join(lines[:PREVIEW_LINES])
    cut = len(preview) < len(text)
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS] + "…"
    fence = "`" * max(3, _longest_backticks(preview) + 1)
    body = preview if preview.endswith(("\n", "\r")) or not preview else preview + "\n"
    block = f"{label}:\n\n{fence}{info}\n{body}{fence}\n"
    if cut:
        shown = min(len(preview), PREVIEW_CHARS)
        block += f"\n*(first {shown:,} of {len(text):,} characters; the JSON and TOML exports hold it whole)*\n"
    return block


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def _inline_code(text: str) -> str:
    """A name on one line as a code span that no backtick in it can end."""
    flat = " ".join(str(text).split())
    ticks = "`" * (_longest_backticks(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"
