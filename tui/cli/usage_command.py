"""`agentdeck usage`: tokens and cost across saved sessions, by provider, model, day or session.

Each session file is summed by SQLite (tui.store.usage_totals) into a few rows
by provider, model and day; this command only adds those rows up.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Iterable

from tui.cli.run_command import EXIT_OK, EXIT_USAGE
from tui.safety import visible_controls
from tui.store import SessionInfo, list_sessions, resolve, session_info
from tui.store.usage_totals import UsageSum
from tui.wording import money, plural

COLUMNS = ("TASKS", "INPUT", "CACHED", "OUTPUT", "REASONING", "TOKENS", "ESTIMATED", "COST")


def _since(text: str | None) -> str | None:
    """The date as `YYYY-MM-DD` (what the rows' days look like, so they compare as text)."""
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"--since: {text!r} is not a date like 2026-01-31") from None


def group_usage(sessions: Iterable[SessionInfo], by: str, since: str | None) -> dict[str, UsageSum]:
    """Each group's sum, largest cost first (then most tokens)."""
    groups: dict[str, UsageSum] = {}
    for info in sessions:
        for row in info.usage:
            if since is not None and (row.day == "?" or row.day < since):
                continue
            key = {"provider": row.provider, "model": f"{row.provider}/{row.model}", "day": row.day,
                   "session": info.name}[by]
            groups.setdefault(key, UsageSum()).add(row.used)
    ordered = sorted(groups.items(), key=lambda item: (item[1].cost_usd, item[1].tokens), reverse=True)
    return dict(sorted(ordered) if by == "day" else ordered)


def _cells(name: str, used: UsageSum) -> tuple[str, ...]:
    numbers = (used.tasks, used.input_tokens, used.cached_input_tokens, used.output_tokens, used.reasoning_tokens,
               used.tokens)
    return (name, *(f"{n:,}" for n in numbers), f"{used.estimated_share:.0%}", money(used.known_cost))


def _print_table(by: str, groups: dict[str, UsageSum], total: UsageSum) -> None:
    rows = [(by.upper(), *COLUMNS), *(_cells(name, used) for name, used in groups.items()), _cells("total", total)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
        print(visible_controls("  ".join(cells)))


def usage_command(args: argparse.Namespace) -> int:
    try:
        since = _since(args.since)
    except ValueError as exc:
        print(f"agentdeck: {visible_controls(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if args.session is not None:
        sessions = [session_info(resolve(args.session))]
    else:
        listing = list_sessions()
        sessions = listing.sessions
        for problem in listing.problems:
            print(visible_controls(f"agentdeck: skipped {problem.path.name}: {problem.message}"), file=sys.stderr)
    groups = group_usage(sessions, args.by, since)
    total = UsageSum()
    for used in groups.values():
        total.add(used)
    if args.json:
        doc = {"since": since, "by": args.by, "sessions": len(sessions),
               "groups": [{args.by: name, **used.to_dict()} for name, used in groups.items()],
               "total": total.to_dict()}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not sessions:
        print("no saved sessions", file=sys.stderr)
        return EXIT_OK
    if not groups:
        print(f"no tasks{' since ' + since if since else ''} in {plural(len(sessions), 'session')}", file=sys.stderr)
        return EXIT_OK
    _print_table(args.by, groups, total)
    return EXIT_OK
