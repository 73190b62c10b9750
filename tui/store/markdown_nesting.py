"""An answer's own Markdown headings, moved below the export's task headings.

A Markdown export is `# Session`, then `## Task N` per task; an answer that
starts with `## Analysis` would otherwise sit at a task's level and break the
outline. ATX headings outside fenced code move down two levels (at most to
`######`); everything else is kept byte for byte.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"( {0,3})(#{1,6})(?=[ \t\r\n]|$)")
LEVELS_BELOW = 2
"""`#` (session) and `##` (task) are the export's own."""


def nest_headings(text: str) -> str:
    lines = text.splitlines(keepends=True)
    fence: str | None = None
    for index, line in enumerate(lines):
        fence, plain = _after(fence, line)
        if plain and (heading := _HEADING.match(line)):
            lines[index] = _deeper(heading) + line[heading.end():]
    return "".join(lines)


def open_fence(text: str) -> str | None:
    """The fence a text leaves open at its end (what would close it), or None."""
    fence: str | None = None
    for line in text.splitlines():
        fence, _ = _after(fence, line)
    return fence


def _after(fence: str | None, line: str) -> tuple[str | None, bool]:
    """The fence open after `line`, and whether the line is plain text outside any fence."""
    marker = _FENCE.match(line)
    if fence is not None:
        closes = marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence)
        return (None if closes else fence), False
    if marker:
        return marker.group(1), False
    return None, True


def _deeper(match: re.Match[str]) -> str:
    return match.group(1) + "#" * min(6, len(match.group(2)) + LEVELS_BELOW)
