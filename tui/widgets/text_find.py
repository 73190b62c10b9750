"""Where a find's words are in a pane's lines: case- and accent-insensitive, kept current as lines grow."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tui.store.search_spans import match_spans, screen

Match = tuple[int, int, int]
"""(line, start, end) of one match, by character within the pane's logical line."""
Finder = Callable[[str], list[tuple[int, int]]]
"""Where the matches are in one line: (start, end) spans."""


def _fold_char(char: str) -> str:
    """One character for one: lower case without its accents (`É` → `e`), so offsets stay those of the line."""
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base[0] if base else char


class _FoldTable(dict[int, str]):
    """`str.translate`'s table, filled as characters are first seen: folding stays a C loop (7x a Python one)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """`text` as the search compares it; the same length as `text`."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def text_finder(text: str) -> Finder | None:
    """A find bar's text, found anywhere (inside words too), without case or accents; None for blank text."""
    if not text.strip():
        return None
    pattern = re.compile(re.escape(fold(text)))

    def spans(line: str) -> list[tuple[int, int]]:
        return [(found.start(), found.end()) for found in pattern.finditer(fold(line)) if found.end() > found.start()]

    return spans


def terms_finder(terms: Sequence[str]) -> Finder | None:
    """A search's words and phrases (`search_index.match_terms`), matched in a line as the index matches them."""
    if not terms:
        return None
    wanted = list(terms)
    first_words = [screen(term) for term in wanted]
    screened = all(first_words) and all(word.isascii() for word in first_words)

    def spans(line: str) -> list[tuple[int, int]]:
        """An ASCII line holding none of the terms' first stems' starts cannot match: most lines skip
        `match_spans`."""
        if screened and line.isascii():
            folded = line.lower()
            if not any(word in folded for word in first_words):
                return []
        return match_spans(line, wanted)

    return spans


@dataclass
class LineMatches:
    """Every match of one finder in a list of lines, and which one is current (the one scrolled to)."""

    finder: Finder
    matches: list[Match]
    current: int = -1

    @classmethod
    def scan(cls, finder: Finder, lines: Sequence[str]) -> LineMatches:
        found = cls(finder, [])
        found.rescan_from(lines, 0)
        return found

    def rescan_from(self, lines: Sequence[str], first_line: int) -> None:
        """Lines from `first_line` on changed (text streamed in): find in them again; earlier matches stay."""
        keep = bisect_left(self.matches, (first_line, -1, -1))
        self.matches[keep:] = [
            (index, start, end) for index in range(first_line, len(lines)) for start, end in self.finder(lines[index])
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
