"""Where a query's terms are in a whole text, as the index would match them: for highlighting a task's pane.

FTS5 (`porter unicode61 remove_diacritics 2`) splits text into words of letters
and digits, compares them without case or accents, and compares their Porter
stems; this does the same in Python over a folded copy of the text whose
characters remember where they came from, so `cafe` marks `Café`, `storm`
marks `storms`, `retry-storm` marks `retry storm` and `retri*` marks `retries`
whole. FTS5 stems a prefix too: `deploy*` is `deploi*`, as here.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache
from typing import Any

_WORD = re.compile(r"[^\W_]+")
_BEFORE = r"(?<![^\W_])"
_PORTER_LOCK = threading.Lock()  # a stemmer object keeps its word in itself while it works
STEMMED_BYTES = range(3, 65)
"""FTS5's `porter` leaves words shorter than 3 or longer than 64 bytes (UTF-8) as they are."""
STEM_CHANGE = 2
"""A Porter stem keeps its word's start and changes at most its last 2 characters (`happy` -> `happi`; 1 in
78,000 words checked against SQLite), so every word with a given stem starts with the stem less those: a cheap
screen before stemming."""


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


_VOWEL_CONSONANT = re.compile(r"[aeiou]+[^aeiou]")


def _measure(part: str) -> int:
    """Porter's m: how many vowel-consonant runs `part` holds (`y` after a consonant is a vowel)."""
    return len(_VOWEL_CONSONANT.findall(re.sub(r"(?<=[^aeiou])y", "a", part)))


@cache
def _snowball_porter() -> Any:
    """Snowball loads its 36 stemmers on import (~20 ms): at the first highlight, not at the app's start."""
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


def _porter(word: str) -> str:
    with _PORTER_LOCK:
        return _snowball_porter().stemWord(word)


@cache
def stem(word: str) -> str:
    """A folded word as FTS5's `porter` tokenizer indexes and queries it; cached because texts repeat words.

    FTS5 follows Porter's own C version, which departs from the published algorithm (Snowball's `porter`)
    in step 2: `bli` -> `ble` instead of `abli` -> `able`, and `logi` -> `log` (`assembly` -> `assembl`,
    `technology` -> `technolog`). Steps 3 to 5 leave a `bli` or `logi` end alone, so the departure is made
    on Snowball's result and `ble` words are stemmed once more for those steps."""
    if len(word.encode()) not in STEMMED_BYTES:
        return word
    stemmed = _porter(word)
    if stemmed.endswith("bli") and _measure(stemmed[:-3]) > 0:
        return _porter(stemmed[:-1] + "e")
    if stemmed.endswith("logi") and _measure(stemmed[:-4]) > 0:
        return stemmed[:-1]
    return stemmed


def screen(term: str) -> str:
    """Text (folded) that every match of `term` holds: the start of its first word's stem."""
    words = _WORD.findall(fold(term.rstrip("*"))[0])
    if not words:
        return ""
    first = stem(words[0])
    return first[:max(len(first) - STEM_CHANGE, 0)]


class _Term:
    """One query term as stems: a match is as many consecutive words with these stems, the last one starting
    with its stem if the term is a prefix."""

    def __init__(self, term: str) -> None:
        self.prefix = term.endswith("*")
        self.stems = [stem(word) for word in _WORD.findall(fold(term.rstrip("*"))[0])]

    def length(self, stems: list[str]) -> int:
        """How many of the words (`stems`) the term covers from the first, or 0 if it does not match there."""
        end = len(self.stems)
        if end > len(stems) or stems[:end - 1] != self.stems[:-1]:
            return 0
        last, wanted = stems[end - 1], self.stems[-1]
        return len(self.stems) if last == wanted or (self.prefix and last.startswith(wanted)) else 0


def _words_from(folded: str, at: int, count: int) -> list[re.Match[str]]:
    """Up to `count` consecutive words of `folded` from `at`, whatever lies between them."""
    words: list[re.Match[str]] = []
    while len(words) < count and (found := _WORD.search(folded, at)) is not None:
        words.append(found)
        at = found.end()
    return words


def match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """(start, end) in `text` of every place one of `terms` (as `match_terms` gives them) matches, in order,
    overlapping ones merged. Only words that start as a term's first stem does are stemmed."""
    wanted = [term for term in map(_Term, terms) if term.stems]
    if not wanted or not text:
        return []
    folded, origin = fold(text)
    screens = "|".join(sorted({re.escape(screen(term)) for term in terms}, key=len, reverse=True))
    longest = max(len(term.stems) for term in wanted)
    spans: list[tuple[int, int]] = []
    for candidate in re.finditer(rf"{_BEFORE}(?=[^\W_])(?:{screens})", folded):
        words = _words_from(folded, candidate.start(), longest)
        stems = [stem(word.group()) for word in words]
        length = max(term.length(stems) for term in wanted)
        if length:
            spans.append((origin[words[0].start()], origin[words[length - 1].end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
