"""A word-level diff of two answers: which words one has that the other lacks, and how alike they are.

Answers differ in wording far more than in lines, so a line diff marks whole
paragraphs; diffing word tokens marks the words. Whitespace is kept with each
side's own words (never compared, never highlighted), so each side reads with
its own line breaks and indentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

_TOKEN = re.compile(r"(\s*)(\S+)")
"""A word with the whitespace before it."""


class Change(StrEnum):
    SAME = "same"
    REMOVED = "removed"
    """Only in the left answer."""
    ADDED = "added"
    """Only in the right answer."""


@dataclass(frozen=True)
class Piece:
    """A run of one side's text that is all the same kind of change."""

    text: str
    change: Change


@dataclass(frozen=True)
class WordDiff:
    left: tuple[Piece, ...]
    right: tuple[Piece, ...]
    similarity: float
    """difflib's ratio on the words: 1.0 for the same words in the same order, 0.0 for none shared."""
    removed_words: int
    added_words: int

    @property
    def summary(self) -> str:
        """The one line the compare view shows: `similarity 87 % · 12 words only left · 30 only right`."""
        return (
            f"similarity {self.similarity * 100:.0f} % · "
            f"{self.removed_words:,} words only left · {self.added_words:,} only right"
        )


def _words(text: str) -> tuple[list[str], list[str], str]:
    """The words, the whitespace before each, and the whitespace after the last."""
    spaces: list[str] = []
    words: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        spaces.append(match.group(1))
        words.append(match.group(2))
        end = match.end()
    return words, spaces, text[end:]


class _Side:
    """Builds one side's pieces, merging neighbours of one kind so a paragraph of same text is one piece."""

    def __init__(self, words: list[str], spaces: list[str], tail: str) -> None:
        self._words, self._spaces, self._tail = words, spaces, tail
        self.pieces: list[Piece] = []

    def _add(self, text: str, change: Change) -> None:
        if not text:
            return
        if self.pieces and self.pieces[-1].change is change:
            self.pieces[-1] = Piece(self.pieces[-1].text + text, change)
        else:
            self.pieces.append(Piece(text, change))

    def run(self, start: int, end: int, change: Change) -> None:
        """Words `start` to `end`: the whitespace before the first stays unmarked, the rest is `change`."""
        if start == end:
            return
        self._add(self._spaces[start], Change.SAME)
        inner = [self._words[start]]
        for index in range(start + 1, end):
            inner += [self._spaces[index], self._words[index]]
        self._add("".join(inner), change)

    def finish(self) -> tuple[Piece, ...]:
        self._add(self._tail, Change.SAME)
        return tuple(self.pieces)


def word_diff(left: str, right: str) -> WordDiff:
    """Diff two texts word by word (difflib's matcher, without its junk heuristic, which drops common words)."""
    left_words, left_spaces, left_tail = _words(left)
    right_words, right_spaces, right_tail = _words(right)
    matcher = SequenceMatcher(None, left_words, right_words, autojunk=False)
    left_side = _Side(left_words, left_spaces, left_tail)
    right_side = _Side(right_words, right_spaces, right_tail)
    removed = added = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        same = tag == "equal"
        left_side.run(i1, i2, Change.SAME if same else Change.REMOVED)
        right_side.run(j1, j2, Change.SAME if same else Change.ADDED)
        if not same:
            removed += i2 - i1
            added += j2 - j1
    similarity = matcher.ratio() if left_words or right_words else 1.0
    return WordDiff(left_side.finish(), right_side.finish(), similarity, removed, added)
