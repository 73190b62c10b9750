"""Where a find's matches are in a pane's lines: what Ctrl+F and a search hit highlight."""

from __future__ import annotations

from tui.store.search_spans import match_spans
from tui.widgets.text_find import LineMatches, fold, terms_finder, text_finder


def test_folding_keeps_every_offset() -> None:
    for text in ("Café CRÈME", "İstanbul ß ﬁ", "plain ascii"):
        assert len(fold(text)) == len(text)
    assert fold("Café CRÈME") == "cafe creme"


def test_the_find_bar_finds_inside_words_without_case_or_accents() -> None:
    finder = text_finder("cafe")
    assert finder is not None
    assert finder("Un CAFÉ, des cafés") == [(3, 7), (13, 17)]
    assert text_finder("   ") is None


def test_a_search_highlights_what_the_index_matches() -> None:
    terms = ["retry*", "critical path", "Café"]
    finder = terms_finder(terms)
    assert finder is not None
    for line in ("retries after the critical   path", "café crème", "no match here", "Retry-storm", "xretry"):
        assert finder(line) == match_spans(line, terms)
    assert finder("xretry") == []


def test_matches_follow_growing_lines_and_stepping_wraps_around() -> None:
    lines = ["the cat", "a cat and a cat"]
    found = LineMatches.scan(text_finder("cat"), lines)  # type: ignore[arg-type]
    assert found.matches == [(0, 4, 7), (1, 2, 5), (1, 12, 15)]
    assert found.counted() == "3 found"
    assert found.step(True) == (0, 4, 7) and found.counted() == "1/3"
    assert found.step(False) == (1, 12, 15)
    lines[1] += " and a cat"
    lines.append("cat")
    found.rescan_from(lines, 1)
    assert len(found.matches) == 5 and found.counted() == "3/5"
    assert found.spans(1) == [(2, 5, False), (12, 15, True), (22, 25, False)]
    assert LineMatches.scan(text_finder("dog"), lines).counted() == "no match"  # type: ignore[arg-type]
