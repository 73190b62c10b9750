"""The word diff behind the compare view: the right words marked, each side's whitespace kept, a fair figure."""

from __future__ import annotations

from tui.word_diff import Change, word_diff


def _marked(pieces: tuple, change: Change) -> list[str]:
    return [piece.text for piece in pieces if piece.change is change]


def test_the_changed_words_are_marked_on_their_own_side() -> None:
    diff = word_diff(
        "Use a B-tree for the index.\nIt keeps keys sorted.",
        "Use an LSM tree for the index.\nIt keeps writes cheap and keys sorted.",
    )
    assert _marked(diff.left, Change.REMOVED) == ["a B-tree"]
    assert _marked(diff.right, Change.ADDED) == ["an LSM tree", "writes cheap and"]
    assert not _marked(diff.left, Change.ADDED) and not _marked(diff.right, Change.REMOVED)
    assert (diff.removed_words, diff.added_words) == (2, 6)


def test_each_side_reads_as_its_own_text_with_its_line_breaks() -> None:
    left, right = "## Plan\n\n- one\n- two  \n", "## Plan\n\n  - one\n  - three\n"
    diff = word_diff(left, right)
    assert "".join(piece.text for piece in diff.left) == left
    assert "".join(piece.text for piece in diff.right) == right
    assert _marked(diff.left, Change.REMOVED) == ["two"]  # the spaces around it are not highlighted
    assert _marked(diff.right, Change.ADDED) == ["three"]


def test_only_words_count_not_how_they_are_spaced_or_wrapped() -> None:
    diff = word_diff("one two\nthree", "one   two three\n")
    assert diff.similarity == 1.0
    assert not _marked(diff.left, Change.REMOVED) and not _marked(diff.right, Change.ADDED)
    assert diff.summary == "similarity 100 % · 0 words only left · 0 only right"


def test_the_similarity_figure_follows_the_shared_words() -> None:
    assert word_diff("a b c d", "a b c e").summary.startswith("similarity 75 %")
    assert word_diff("a b", "c d").similarity == 0.0
    assert word_diff("", "").similarity == 1.0
    assert word_diff("", "new words").summary == "similarity 0 % · 0 words only left · 2 only right"


def test_common_words_still_match_in_a_long_answer() -> None:
    """difflib's junk heuristic would treat `the` in a long text as noise and mark it changed."""
    left = " ".join(["the cache holds the key"] * 100)
    right = left.replace("holds", "drops", 1)
    diff = word_diff(left, right)
    assert _marked(diff.left, Change.REMOVED) == ["holds"]
    assert _marked(diff.right, Change.ADDED) == ["drops"]
