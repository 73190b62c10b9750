"""Where a find's words are in a pane's lines: case- and accent-insensitive, kept current as lines grow."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

Match = tuple[int, int, int]
"""(line, start, end) of one match, by character within the pane's logical line."""


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character for one: lower case without its accents (`É` → `e`), so offsets stay those of the line."""
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base[0] if base else char


def fold(text: str) -> str:
    """`text` as the search compares it; the same length as `text`."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


def _words_pattern(text: str) -> str:
    return r"\s+".join(re.escape(fold(word)) for word in text.split())


def text_pattern(text: str) -> re.Pattern[str] | None:
    """A find bar's text, found anywhere (inside words too); None for blank text."""
    if not text.strip():
        return None
    return re.compile(re.escape(fold(text)))


def terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """`search_index.match_terms` output as whole words and phrases (a trailing `*`: words starting so)."""
    parts = []
    for term in terms:
        prefix = term.endswith("*")
        words = _words_pattern(term.rstrip("*"))
        if words:
            parts.append(rf"\b{words}" + (r"\w*" if prefix else r"\b"))
    return re.compile("|".join(parts)) if parts else None


@dataclass
class LineMatches:
    """Every match of one pattern in a list of lines, and which one is current (the one scrolled to)."""

    pattern: re.Pattern[str]
    matches: list[Match]
    current: int = -1

    @classmethod
    def scan(cls, pattern: re.Pattern[str], lines: Sequence[str]) -> LineMatches:
        found = cls(pattern, [])
        found.rescan_from(lines, 0)
        return found

    def rescan_from(self, lines: Sequence[str], first_line: int) -> None:
        """Lines from `first_line` on changed (text streamed in): find in them again; earlier matches stay."""
        keep = bisect_left(self.matches, (first_line, -1, -1))
        self.matches[keep:] = [
            (index, match.start(), match.end())
            for index in range(first_line, len(lines))
            for match in self.pattern.finditer(fold(lines[index]))
            if match.end() > match.start()
        ]
        if self.current >= len(self.matches):
            self.current = len(self.matches) - 1

    def step(self, forward: bool) -> Match | None:
        """Make the next (or previous) match current, wrapping around; None when there is none."""
        if not self.matches:
            return None
        if self.current < 0:
            self.current = 0 if forward else len(self.matches) - 1
        else:
            self.current = (self.current + (1 if forward else -1)) % len(self.matches)
        return self.matches[self.current]

    def spans(self, line: int) -> list[tuple[int, int, bool]]:
        """(start, end, is_current) of the matches in `line`."""
        at = bisect_left(self.matches, (line, -1, -1))
        spans = []
        while at < len(self.matches) and self.matches[at][0] == line:
            _, start, end = self.matches[at]
            spans.append((start, end, at == self.current))
            at += 1
        return spans

    def counted(self) -> str:
        """What the find bar says: `3/17`, `17 found` before moving, or `no match`."""
        if not self.matches:
            return "no match"
        if self.current < 0:
            return f"{len(self.matches)} found"
        return f"{self.current + 1}/{len(self.matches)}"
