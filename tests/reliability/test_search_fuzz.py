"""Search over damaged session files: each is indexed or skipped with one warning line naming it.

Never another exception, never a hang, and the other session in the folder is
always found. The damage is tests/reliability/damage.py's (flipped bytes, truncation, zeroed,
swapped and duplicated pages, a mangled header, a damaged write-ahead log).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.damage import SEED, Damager, build
from tui import paths
from tui.store import SessionStore
from tui.store.search_index import SearchIndex

MUTATIONS = 120


@pytest.mark.timeout(300)
def test_damaged_session_files_are_searched_or_skipped_with_one_line(tmp_path: Path) -> None:
    damager = Damager(tmp_path, SEED + 15)
    other = SessionStore.open("other")
    other.close()
    build(other.path, keep_log=False)
    target = paths.sessions_dir() / "fuzz.sqlite"
    outcomes: Counter[str] = Counter()
    with SearchIndex() as index:
        for round_ in range(MUTATIONS):
            damager.damage(target, round_)
            started = time.monotonic()
            warnings = index.refresh()
            assert len(warnings) <= 1, warnings
            for warning in warnings:
                assert warning.startswith("skipped fuzz.sqlite: ") and "\n" not in warning, warning
            sessions = {hit.session for hit in index.search("prompt words", limit=100)}
            assert "other" in sessions
            assert ("fuzz" in sessions) <= (not warnings)  # a skipped file has no hits
            outcomes["skipped" if warnings else "indexed"] += 1
            assert time.monotonic() - started < 20, f"mutation {round_} took {time.monotonic() - started:.1f} s"
    print(f"search over {MUTATIONS} damaged files: {dict(outcomes)}")
    assert outcomes["skipped"] and outcomes["indexed"]
