"""Snippets: FTS5 marks each match with two private-use characters; here they become (start, end) spans.

The indexed text never holds those two characters (they become U+FFFD), so a
mark in a snippet is always one FTS5 put there. The snippet is made one line
with its controls visible (untrusted model output), and the spans follow.
"""

from __future__ import annotations

import re

from tui.safety import visible_controls

MARK_START = "\ue000"
MARK_END = "\ue001"
_MARKS = re.compile(f"[{MARK_START}{MARK_END}]")


def clean_text(text: str) -> str:
    """Text as indexed: the mark characters replaced, so only FTS5's marks are ever in a snippet."""
    return _MARKS.sub("\ufffd", text)


def split_marks(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """`a \ue000b\ue001 c` -> (`a b c`, ((2, 3),)): plain one-line text and where its matches are."""
    line = visible_controls(" ".join(marked.split()))
    parts: list[str] = []
    marks: list[tuple[int, int]] = []
    at, start = 0, None
    for piece in re.split(f"({MARK_START}|{MARK_END})", line):
        if piece == MARK_START:
            start = at
        elif piece == MARK_END:
            if start is not None and start < at:
                marks.append((start, at))
            start = None
        else:
            parts.append(piece)
            at += len(piece)
    return "".join(parts), tuple(marks)
