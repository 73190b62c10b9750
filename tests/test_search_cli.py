"""`agentdeck search` as a user runs it: exit codes, marked snippets, JSON lines, warnings, --reindex."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.search_helpers import agentdeck, make_session, task
from tui import paths
from tui.cli.search_command import marked
from tui.store.search_index import index_file

ANSWER = "Root cause: a retry storm after the cache failed.\nThe fix: jittered backoff for every café client."


@pytest.fixture(autouse=True)
def sessions() -> None:
    make_session("incidents", task(1, "Why did Monday's outage\nhappen?", ANSWER), task(2, "Unrelated", "tea"))
    make_session("notes", task(1, "timed-out one", "", status="timed_out", error="retry storm budget exhausted"))


def test_hits_print_session_task_status_prompt_and_the_match_in_brackets_when_piped() -> None:
    result = agentdeck("search", '"retry storm"')
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # two hits, each a header line and a snippet line
    assert "incidents #1 done  Why did Monday's outage happen?" in lines
    assert "    output: Root cause: a [retry storm] after the cache failed. The fix: jittered backoff for every " \
           "café client." in lines
    assert "notes #1 timed out  timed-out one" in lines and "    error: [retry storm] budget exhausted" in lines


def test_bold_on_a_terminal() -> None:
    assert marked("a retry storm", ((2, 7), (8, 13)), terminal=True) == "a \x1b[1mretry\x1b[22m \x1b[1mstorm\x1b[22m"
    assert marked("a retry storm", ((2, 13),), terminal=False) == "a [retry storm]"


def test_json_is_one_object_per_hit_per_line() -> None:
    result = agentdeck("search", "--json", "cafe")
    assert result.returncode == 0
    (line,) = result.stdout.splitlines()
    hit = json.loads(line)
    assert {key: hit[key] for key in ("session", "task_id", "status", "prompt", "field")} == {
        "session": "incidents", "task_id": 1, "status": "done", "prompt": "Why did Monday's outage happen?",
        "field": "output"}
    assert "café" in hit["snippet"] and isinstance(hit["rank"], float)
    assert [hit["snippet"][start:end] for start, end in hit["marks"]] == ["café"]


def test_no_hits_is_exit_1_and_prints_nothing() -> None:
    result = agentdeck("search", "hurricane")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")


@pytest.mark.parametrize(("args", "message"), [
    (["search", '"retry storm'], 'agentdeck: a " is not closed: end the phrase with another "'),
    (["search", "NOT", "storm"], "agentdeck: NOT needs something before it, as in: storm NOT retry"),
    (["search"], "agentdeck: search needs a QUERY (or --reindex)"),
    (["search", "storm", "--session", "nope"], "agentdeck: no session named 'nope'"),
    (["search", "storm", "--session", "./x.sqlite"], "agentdeck: --session takes the name of a saved session"),
])
def test_bad_queries_and_flags_are_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = agentdeck(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["--since", "yesterday-ish"], ["--limit", "0"], ["--status", "sleeping"]])
def test_bad_filter_values_are_usage_errors(args: list[str]) -> None:
    result = agentdeck("search", "storm", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""


def test_filters() -> None:
    def sessions_found(*args: str) -> list[str]:
        result = agentdeck("search", "--json", "storm", *args)
        return sorted(json.loads(line)["session"] for line in result.stdout.splitlines())

    assert sessions_found() == ["incidents", "notes"]
    assert sessions_found("--session", "notes") == ["notes"]
    assert sessions_found("--status", "timed_out") == ["notes"]
    assert sessions_found("--provider", "demo", "--since", "1d") == ["incidents", "notes"]
    assert sessions_found("--since", "2999-01-01") == []
    assert len(sessions_found("--limit", "1")) == 1


def test_a_damaged_file_is_one_warning_line_and_the_rest_is_still_found() -> None:
    (paths.sessions_dir() / "broken.sqlite").write_bytes(b"\x00garbage" * 100)
    result = agentdeck("search", "cafe")
    assert result.returncode == 0 and "incidents #1 done" in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("agentdeck: skipped broken.sqlite: ") and "not SQLite" in result.stderr


def test_reindex_rebuilds_from_the_sessions() -> None:
    assert agentdeck("search", "cafe").returncode == 0
    index_file().write_bytes(b"not an index")
    result = agentdeck("search", "--reindex")
    assert result.returncode == 0 and str(index_file()) in result.stderr
    assert agentdeck("search", "cafe").returncode == 0
    assert agentdeck("search", "--reindex", "cafe").stdout.startswith("incidents #1 done")


def test_hostile_text_in_a_hit_is_shown_with_its_controls_visible() -> None:
    make_session("hostile", task(1, "osc\x1b]0;pwned\x07 kestrel", "a kestrel \x1b]52;c;aGk=\x07 and \u202eevil\x9b"))
    result = agentdeck("search", "kestrel")
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "hostile #1 done  osc␛]0;pwned␇ kestrel" in result.stdout
    assert "␛]52;c;aGk=␇" in result.stdout and "\\x9b" in result.stdout


def test_searches_started_at_once_share_one_new_index() -> None:
    for number in range(30):
        make_session(f"many-{number}", task(1, f"storm report {number}", "storm " * 200))
    runs = [subprocess.Popen([sys.executable, "-m", "tui", "search", "--json", "--limit", "100", "storm"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert (run.returncode, err) == (0, "")
        assert {json.loads(line)["session"] for line in out.splitlines()} >= {f"many-{n}" for n in range(30)}
