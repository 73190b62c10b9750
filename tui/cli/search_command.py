"""`agentdeck search QUERY`: find text in every saved session (prompts, answers, tool calls, errors).

Exit 0 with hits, 1 with none, 2 for a query or flag that cannot be used.
Matches are bold on a terminal and `[in brackets]` when piped, so `grep` and
scripts see where they are; `--json` prints one object per hit per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from tui.cli.run_command import EXIT_OK, EXIT_USAGE
from tui.safety import one_line, visible_controls
from tui.store import files

if TYPE_CHECKING:
    from tui.store.search_index import SearchHit

EXIT_NO_HITS = 1
PROMPT_WIDTH = 100
_BOLD, _PLAIN = "\x1b[1m", "\x1b[22m"


def search_command(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if not query.strip() and not args.reindex:
        print("agentdeck: search needs a QUERY (or --reindex)", file=sys.stderr)
        return EXIT_USAGE
    if args.session is not None:
        if files.looks_like_path(args.session):
            print("agentdeck: --session takes the name of a saved session (`agentdeck sessions` lists them)",
                  file=sys.stderr)
            return EXIT_USAGE
        files.resolve(args.session)  # a session that does not exist is a mistake worth one line
    from tui.store.search_index import SearchIndex, SearchSyntaxError  # only this command needs the index

    index = SearchIndex()
    try:
        started = time.monotonic()
        warnings = index.rebuild() if args.reindex else index.refresh()
        for warning in warnings:
            print(f"agentdeck: {visible_controls(warning)}", file=sys.stderr)
        if not query.strip():
            print(f"agentdeck: rebuilt the search index at {index.index_path} in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
            return EXIT_OK
        try:
            hits = index.search(query, session=args.session, status=args.status, provider=args.provider,
                                since=args.since, limit=args.limit)
        except SearchSyntaxError as exc:
            print(f"agentdeck: {visible_controls(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
    finally:
        index.close()
    for hit in hits:
        print(_as_json(hit) if args.json else _as_text(hit, sys.stdout.isatty()))
    return EXIT_OK if hits else EXIT_NO_HITS


def _as_json(hit: SearchHit) -> str:
    return json.dumps({
        "session": hit.session, "task_id": hit.task_id, "status": hit.status, "prompt": hit.prompt,
        "snippet": hit.snippet, "field": hit.field, "rank": hit.rank, "marks": [list(mark) for mark in hit.marks],
        "provider": hit.provider, "model": hit.model, "created_at": hit.created_at,
    }, ensure_ascii=False)


def marked(snippet: str, marks: tuple[tuple[int, int], ...], terminal: bool) -> str:
    """The snippet with each match bold on a terminal, in `[brackets]` otherwise."""
    start, end = (_BOLD, _PLAIN) if terminal else ("[", "]")
    parts, at = [], 0
    for first, last in marks:
        parts += [snippet[at:first], start, snippet[first:last], end]
        at = last
    parts.append(snippet[at:])
    return "".join(parts)


def _as_text(hit: SearchHit, terminal: bool) -> str:
    header = f"{visible_controls(hit.session)} #{hit.task_id} {hit.status_word}  {one_line(hit.prompt, PROMPT_WIDTH)}"
    return f"{header}\n    {hit.field}: {marked(hit.snippet, hit.marks, terminal)}"
