"""Stemming: a plain word finds its inflections (`storm` finds `storms`), in the index, in the CLI's marks and
in a pane's highlights, the highlighting's stems agreeing with SQLite's own `porter` tokenizer."""

from __future__ import annotations

import sqlite3

import pytest

from tests.app_helpers import main_screen, running_app, submit, wait_for
from tests.search_helpers import agentdeck, make_session, task
from tui.engine import TaskStatus
from tui.screens.search import SearchScreen
from tui.store import SessionStore, search_refresh
from tui.store.search_index import SearchIndex, index_file, match_spans, match_terms
from tui.store.search_spans import fold, screen, stem
from tui.widgets.text_find import terms_finder

SAMPLE = (  # inflections, every Porter step, words too short to stem, folded accents
    "storm storms storming stormed retry retries retried retrying deploy deployed deploying deployment happy "
    "happiness caresses ponies agreed plastered motoring conflated hopping filing relational conditional "
    "valenci hesitanci digitizer possibly assembly technology technologies analogies generalization "
    "operator feudalism decisiveness hopefulness callousness formality sensitivity sensibility triplicate "
    "formative formalize electricity electrical hopeful goodness revival allowance inference airliner "
    "gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou "
    "communism activate angularity homologous effective bowdlerize probate rate cease controlling roll "
    "is as by sky skies dying yes café naïve résumé über façade"
)


def sqlite_stems(words: list[str]) -> list[str]:
    """Each word as SQLite's FTS5 `porter unicode61 remove_diacritics 2` indexes it."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE words USING fts5(word, tokenize = 'porter unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
    conn.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)", enumerate(words, 1))
    stems = dict(conn.execute("SELECT doc, term FROM terms"))
    conn.close()
    return [stems[row] for row in range(1, len(words) + 1)]


def test_highlighting_stems_words_as_sqlite_does() -> None:
    words = SAMPLE.split()
    assert [stem(fold(word)[0]) for word in words] == sqlite_stems(words)
    assert all(fold(word)[0].startswith(screen(word)) for word in words)  # the screen never hides a match


def test_a_plain_word_finds_its_inflections_and_a_prefix_is_stemmed_too() -> None:
    make_session("weather", task(1, "What came?", "Two storms, then storming winds."), task(2, "Deploy?", "deployed"))
    with SearchIndex() as index:
        assert index.refresh() == []
        hit = index.search("storm")[0]
        assert [hit.snippet[start:end] for start, end in hit.marks] == ["storms", "storming"]
        assert [found.task_id for found in index.search("deploys")] == [2]
        assert [found.task_id for found in index.search('"two storm"')] == [1]  # a phrase's words are stemmed
        assert [found.task_id for found in index.search("storming*")] == [1]  # as FTS5 does: storm*
        assert index.search("stormy*") == []  # stormi*: no word here has that stem


def test_cli_search_for_a_word_marks_its_inflection() -> None:
    make_session("weather", task(1, "What came?", "A night of storms."))
    result = agentdeck("search", "storm")
    assert result.returncode == 0 and result.stderr == ""
    assert "    output: A night of [storms]." in result.stdout.splitlines()


def test_the_panes_highlight_marks_what_the_index_matched() -> None:
    finder = terms_finder(match_terms("storm deploy*"))
    assert finder is not None
    line = "Storms hit; STORMING again; the deployed fix; a stormy deploy"
    assert [line[start:end] for start, end in finder(line)] == ["Storms", "STORMING", "deployed", "deploy"]
    assert finder("a storage deployment") == []  # deploy* is deploi*: deployment is indexed as deploy
    assert [line[a:b] for a, b in match_spans(line, match_terms('"storm hits"'))] == ["Storms hit"]


def test_an_index_of_version_1_is_rebuilt_and_finds_inflections() -> None:
    make_session("weather", task(1, "What came?", "A night of storms."))
    path = index_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path)
    old.executescript(search_refresh.SCHEMA.replace("porter ", ""))
    old.execute("PRAGMA user_version = 1")
    old.close()
    with SearchIndex() as index:
        assert index.refresh() == []
        assert [hit.task_id for hit in index.search("storm")] == [1]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == search_refresh.INDEX_VERSION
    assert "porter" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'texts'").fetchone()[0]
    conn.close()


@pytest.mark.slow
async def test_the_search_screen_opens_the_task_with_the_inflection_highlighted(demo_url: str) -> None:
    from tests.test_app_search import shown_marks

    async with running_app(demo_url, session_name=None) as (app, pilot):
        store = SessionStore.open("here")
        store.attach(app.engine)
        app.session_name = "here"
        task = await submit(app, pilot, "storms at sea [[len:300]][[delay:0]]")
        await wait_for(pilot, lambda: task.status is TaskStatus.DONE)
        await pilot.press("escape", "slash")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"storm")
        await wait_for(pilot, lambda: len(getattr(app.screen, "shown", [])) == 1, 15)
        await pilot.press("enter")
        pane = main_screen(app).output.panes[0]
        await wait_for(pilot, lambda: pane.raw_body is not None and shown_marks(pane.raw_body) != [])
        assert shown_marks(pane.raw_body)[0] == ("storms", True)  # type: ignore[arg-type]
        await app.shutdown()
        store.close()
