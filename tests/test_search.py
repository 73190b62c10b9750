"""The search index over real session files: the query language, every field, and an index kept current
as sessions are deleted, renamed, damaged, or written by another process."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import config_for
from tests.search_helpers import agentdeck, make_session, task
from tui import paths
from tui.demo.script import expected_answer
from tui.engine import Engine, TaskStatus
from tui.store import SessionStore, delete_session, rename_session
from tui.store import search_refresh as refresh_module
from tui.store.search_index import (
    SearchHit,
    SearchIndex,
    SearchSyntaxError,
    index_file,
    match_spans,
    match_terms,
)

INCIDENT = "The retry storm began when the cache failed; every client retried at once."
COUSIN = "A storm of retries followed: clients retry until the café closes."


def hits(query: str, **filters: object) -> list[SearchHit]:
    with SearchIndex() as index:
        assert index.refresh() == []
        return index.search(query, **filters)  # type: ignore[arg-type]


def found(query: str, **filters: object) -> set[tuple[str, int]]:
    return {(hit.session, hit.task_id) for hit in hits(query, **filters)}


@pytest.fixture
def incidents() -> None:
    make_session("incidents", task(1, "What happened on Monday?", INCIDENT), task(2, "And then?", COUSIN))


@pytest.mark.usefixtures("incidents")
def test_words_phrases_prefixes_or_and_not() -> None:
    assert found("retry storm") == {("incidents", 1), ("incidents", 2)}  # both words, anywhere, any order
    assert found('"retry storm"') == {("incidents", 1)}  # the words side by side, in this order
    assert found("retri*") == {("incidents", 1), ("incidents", 2)}  # retried, retries
    assert found("retries") == {("incidents", 1), ("incidents", 2)}  # retried, retries: one stem
    assert found("storm NOT cafe") == {("incidents", 1)}
    assert found("Monday OR closes") == {("incidents", 1), ("incidents", 2)}
    assert found("(Monday OR closes) AND cache") == {("incidents", 1)}
    assert found("retry-storm") == {("incidents", 1)}  # punctuation a user types is no syntax error
    assert found("hurricane") == set()


@pytest.mark.usefixtures("incidents")
def test_case_and_accents_do_not_matter() -> None:
    assert found("CAFE") == {("incidents", 2)}
    assert found("café") == found("Cafe") == {("incidents", 2)}
    make_session("accents", task(1, "Résumé", "Über naïve façade"))
    assert found("uber NAIVE facade") == {("accents", 1)}
    assert found("resume") == {("accents", 1)}


@pytest.mark.parametrize(("query", "message"), [
    ('"retry storm', 'a " is not closed'),
    ("NOT storm", "NOT needs something before it"),
    ("storm OR", "OR needs a word or phrase after it"),
    ("(storm", "a ( is not closed"),
    ("storm)", "a ) has no ( before it"),
    ("*", "* must end a word"),
    ("   ", "the query is empty"),
])
def test_bad_syntax_is_one_line_saying_what_is_wrong(query: str, message: str) -> None:
    with SearchIndex() as index, pytest.raises(SearchSyntaxError) as caught:
        index.search(query)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.usefixtures("incidents")
def test_a_hit_shows_the_task_and_marks_the_match_in_its_snippet() -> None:
    (hit,) = hits('"retry storm"')
    assert (hit.session, hit.task_id, hit.status, hit.field) == ("incidents", 1, "done", "output")
    assert hit.prompt == "What happened on Monday?" and hit.provider == "demo" and hit.model == "demo-chat"
    assert hit.path == paths.sessions_dir() / "incidents.sqlite"
    assert [hit.snippet[start:end] for start, end in hit.marks] == ["retry storm"]
    assert hit.snippet.startswith("The retry storm began") and hit.rank <= 0


def test_every_field_is_searched() -> None:
    call = {"call_id": "c1", "name": "lookup_ticket", "server": "tracker", "arguments": '{"id": "INC-4711"}',
            "result": "ticket closed by ostrich team", "status": "done", "offset": 0}
    failed = {"call_id": "c2", "name": "page", "server": "tracker", "arguments": "{}", "error": "pager quota spent",
              "status": "failed", "offset": 0}
    make_session(
        "fields",
        task(1, "summarise the walrus report", "plain answer"),
        task(2, "and the pelican?", "plain answer", parent_id=1),
        task(3, "check", "plain answer", tool_calls=[call, failed], tools=["tracker"]),
        task(4, "fails", "", status="failed", error="connection reset by a flamingo"),
    )
    expected = {"walrus": (1, "prompt"), "pelican": (2, "follow_up"), "lookup_ticket": (3, "tool_call"),
                "INC-4711": (3, "tool_call"), "ostrich": (3, "tool_result"), "quota": (3, "tool_result"),
                "flamingo": (4, "error")}
    for word, (task_id, field) in expected.items():
        (hit,) = hits(word)
        assert (hit.task_id, hit.field) == (task_id, field), word
    assert found("walrus plain") == {("fields", 1)}  # a task is one document: prompt and answer together


def test_filters_by_session_status_provider_and_date() -> None:
    long_ago = time.time() - 30 * 86400
    make_session("old", task(1, "storm drill", "", created_at=long_ago, started_at=long_ago, finished_at=long_ago))
    make_session("new", task(1, "storm drill", "", status="failed", provider="other"), task(2, "storm watch"))
    assert found("storm") == {("old", 1), ("new", 1), ("new", 2)}
    assert found("storm", session="old") == {("old", 1)}
    assert found("storm", status="failed") == {("new", 1)}
    assert found("storm", provider="other") == {("new", 1)}
    assert found("storm", since=time.time() - 86400) == {("new", 1), ("new", 2)}
    assert len(hits("storm", limit=2)) == 2


def test_a_task_left_running_by_a_writer_that_is_gone_counts_as_interrupted() -> None:
    path = make_session("stranded", task(1, "storm drill", "half an answer", status="interrupted"))
    with sqlite3.connect(path) as killed_writer:  # what a writer killed mid-run leaves on disk
        killed_writer.execute("UPDATE tasks SET status = 'running', rev = rev + 1")
    assert [hit.status for hit in hits("storm")] == ["interrupted"]
    assert found("storm", status=str(TaskStatus.INTERRUPTED)) == {("stranded", 1)}


def test_match_terms_are_what_to_highlight() -> None:
    assert match_terms('retry "cache failed" retri* NOT cafe') == ["retry", "cache failed", "retri*"]
    assert match_terms("(a OR b) NOT (c OR d) a") == ["a", "b"]
    with pytest.raises(SearchSyntaxError):
        match_terms('"open')


@pytest.mark.usefixtures("incidents")
def test_a_session_deleted_after_indexing_leaves_no_hits() -> None:
    assert found("storm")
    delete_session("incidents")
    assert found("storm") == set()


@pytest.mark.usefixtures("incidents")
def test_a_renamed_session_is_found_under_its_new_name_only() -> None:
    assert found('"retry storm"') == {("incidents", 1)}
    rename_session("incidents", "postmortem")
    (hit,) = hits('"retry storm"')
    assert (hit.session, hit.path) == ("postmortem", paths.sessions_dir() / "postmortem.sqlite")


def test_a_session_replaced_by_another_of_the_same_name_shows_only_the_new_text() -> None:
    make_session("nightly", task(1, "first run", "albatross sightings"))
    assert found("albatross")
    delete_session("nightly")
    make_session("nightly", task(1, "second run", "penguin sightings"))
    assert found("albatross") == set() and found("penguin") == {("nightly", 1)}


@pytest.mark.usefixtures("incidents")
def test_damaged_files_are_skipped_with_one_warning_each() -> None:
    folder = paths.sessions_dir()
    (folder / "garbage.sqlite").write_bytes(b"not a database at all " * 10)
    truncated = make_session("truncated", task(1, "storm", "storm " * 5000))
    truncated.write_bytes(truncated.read_bytes()[:2048])
    with SearchIndex() as index:
        warnings = index.refresh()
        assert len(warnings) == 2 and all("\n" not in warning for warning in warnings)
        assert any("garbage.sqlite" in w and "not SQLite" in w for w in warnings)
        assert any("truncated.sqlite" in w and "truncated" in w for w in warnings)
        assert {hit.session for hit in index.search("storm")} == {"incidents"}


def test_a_session_damaged_after_indexing_stops_showing() -> None:
    path = make_session("fragile", task(1, "storm", "storm " * 5000))
    assert found("storm") == {("fragile", 1)}
    path.write_bytes(b"\0" * 4096)
    with SearchIndex() as index:
        (warning,) = index.refresh()
        assert "fragile.sqlite" in warning and index.search("storm") == []


def test_the_index_is_a_cache_deleting_or_damaging_it_loses_nothing() -> None:
    make_session("kept", task(1, "kestrel", "a kestrel hovered"))
    assert found("kestrel") == {("kept", 1)}
    index_file().write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(f"{index_file()}{suffix}").unlink(missing_ok=True)
    assert found("kestrel") == {("kept", 1)}
    index_file().unlink()
    assert found("kestrel") == {("kept", 1)}
    assert oct(index_file().stat().st_mode & 0o777) == "0o600"
    assert oct(index_file().parent.stat().st_mode & 0o777) == "0o700"


@pytest.mark.usefixtures("incidents")
def test_another_process_writing_after_the_first_search_is_found_reading_only_what_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_session("untouched", task(1, "storm", "nothing new here"))
    assert found("zanzibar") == set()
    read: dict[str, int] = {}
    original = refresh_module.read_changes

    def counting(path: Path, *args: Any) -> refresh_module.SessionChanges:
        changes = original(path, *args)
        read[path.name] = len(changes.changed)
        return changes

    monkeypatch.setattr(refresh_module, "read_changes", counting)
    for name in ("incidents", "brand-new"):
        result = agentdeck("--demo", "run", "--session", name, "zanzibar quokka census [[len:300]][[delay:0]]")
        assert result.returncode == 0, result.stderr
    assert found("zanzibar quokka") == {("incidents", 3), ("brand-new", 1)}
    assert read == {"incidents.sqlite": 1, "brand-new.sqlite": 1}  # the new task only; `untouched` not opened
    assert found('"retry storm"') == {("incidents", 1)}  # what was indexed before is still there


def refreshed(index: SearchIndex, query: str) -> list[SearchHit]:
    index.refresh()
    return index.search(query)


async def test_a_streaming_answer_is_searchable_within_two_seconds(demo_url: str) -> None:
    engine = Engine(config_for(demo_url))
    store = SessionStore.open("live")
    store.attach(engine)
    streaming = engine.add_task("quetzal lag probe [[len:2400]][[delay:20]]")
    run = asyncio.create_task(engine.run_task(streaming))
    arrived = searchable = None
    try:
        with SearchIndex() as index:
            while searchable is None and not run.done():
                if arrived is None and "quetzal" in streaming.text:
                    arrived = time.monotonic()
                found_in = [hit.field for hit in await asyncio.to_thread(refreshed, index, "quetzal")]
                if arrived is not None and found_in == ["output"]:
                    searchable = time.monotonic()
                await asyncio.sleep(0.05)
        assert streaming.status is TaskStatus.RUNNING  # found while it still streamed
    finally:
        await run
        await store.aclose()
        await engine.aclose()
    assert arrived is not None and searchable is not None
    lag = searchable - arrived
    print(f"index lag while streaming: {lag:.2f} s")
    assert lag <= 2.0


def test_a_filter_finds_a_match_ranked_below_many_others() -> None:
    make_session("crowd", *(task(n, f"storm {n}", "storm storm storm") for n in range(1, 61)))
    make_session("lone", task(1, "one", "a long answer that mentions the storm once, among many other words"))
    assert found("storm", session="lone", limit=1) == {("lone", 1)}
    assert len(hits("storm", limit=55)) == 55


@pytest.mark.usefixtures("incidents")
def test_a_session_deleted_since_the_last_refresh_is_not_shown() -> None:
    with SearchIndex() as index:
        index.refresh()
        delete_session("incidents")
        assert index.search("storm") == []


def test_an_older_copy_put_back_shows_only_what_it_holds() -> None:
    prompt = "pelican census [[len:300]][[delay:0]]"
    path = make_session("restored", task(1, prompt, expected_answer(prompt)[:100], status="interrupted"))
    backup = path.read_bytes()
    result = agentdeck("--demo", "resume", "restored")
    assert result.returncode == 0, result.stderr
    assert [hit.status for hit in hits("pelican")] == ["done"]
    for companion in ("-wal", "-shm"):
        Path(f"{path}{companion}").unlink(missing_ok=True)
    path.write_bytes(backup)  # the same file, its older content: the task is interrupted again
    assert [hit.status for hit in hits("pelican")] == ["interrupted"]


def test_match_spans_mark_in_a_whole_text_what_the_index_matched() -> None:
    text = "Le Café était fermé; a retry-storm, then RETRIES. Straße. Not the retry of a storm."
    def marked(query: str) -> list[str]:
        return [text[start:end] for start, end in match_spans(text, match_terms(query))]

    assert marked("cafe etait") == ["Café", "était"]
    assert marked('"retry storm"') == ["retry-storm"]
    assert marked("retr*") == ["retry", "RETRIES", "retry"]
    assert marked("retri*") == ["retry", "RETRIES", "retry"]  # retry is indexed as its stem, retri
    assert marked("strasse NOT cafe") == ["Straße"]
    assert marked("hurricane") == []
