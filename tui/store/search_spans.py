"""Where a query's terms are in a whole text, as the index would match them: for highlighting a task's pane.

FTS5 (`unicode61 remove_diacritics 2`) splits text into words of letters and
digits and compares them without case or accents; this does the same in Python
over a folded copy of the text whose characters remember where they came from,
so `cafe` marks `Café`, `retry-storm` marks `retry storm` and `retri*` marks
`retries` whole.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_WORD = re.compile(r"[^\W_]+")
_GAP = r"[\W_]+"
_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"


@cache
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """The text without case or accents, and for each of its characters the index it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def _pattern(term: str) -> str | None:
    prefix = term.endswith("*")
    words = _WORD.findall(fold(term.rstrip("*"))[0])
    if not words:
        return None
    return _BEFORE + _GAP.join(map(re.escape, words)) + (r"[^\W_]*" if prefix else _AFTER)  # a prefix: its whole word


def match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """(start, end) in `text` of every place one of `terms` (as `match_terms` gives them) matches, in order,
    overlapping ones merged."""
    patterns = [pattern for pattern in map(_pattern, terms) if pattern]
    if not patterns or not text:
        return []
    folded, origin = fold(text)
    spans: list[tuple[int, int]] = []
    for found in re.finditer("|".join(f"(?:{pattern})" for pattern in patterns), folded):
        if found.end() > found.start():
            spans.append((origin[found.start()], origin[found.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
