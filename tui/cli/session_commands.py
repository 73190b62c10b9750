"""`agentdeck sessions | open | export | import`: saved sessions from the command line."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
from pathlib import Path

from tui.cli.run_command import EXIT_OK
from tui.config import Config
from tui.engine.task import STATUS_ORDER
from tui.safety import visible_controls
from tui.store import (
    FORMATS,
    SessionInfo,
    StoreError,
    export_pieces,
    list_sessions,
    resolve,
    session_info,
    write_private,
)
from tui.wording import money


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _when(epoch: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "-"
    except (OverflowError, OSError, ValueError):  # a damaged file's date
        return "?"


def _counts(info: SessionInfo) -> str:
    """`7 (1 running, 5 done, 1 timed out)`: the header's order and words."""
    known = [status for status in STATUS_ORDER if status.value in info.counts]
    parts = [f"{info.counts[status.value]} {status.word}" for status in known]
    parts += [f"{count} {name}" for name, count in info.counts.items() if name not in {s.value for s in known}]
    detail = ", ".join(parts)
    return f"{info.task_count}" + (f" ({detail})" if detail else "")


def sessions_command(args: argparse.Namespace) -> int:
    listing = list_sessions()
    for problem in listing.problems:
        print(visible_controls(f"agentdeck: skipped {problem.path.name}: {problem.message}"), file=sys.stderr)
    if args.json:
        print(json.dumps([info.to_dict() for info in listing.sessions], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not listing.sessions:
        print("no saved sessions", file=sys.stderr)
        return EXIT_OK
    rows = [("NAME", "CREATED", "UPDATED", "SIZE", "TOKENS", "COST", "TASKS")]
    for info in listing.sessions:
        name = info.name + (" (being written)" if info.writer_pid is not None else "")
        used = info.used
        tokens = ("~" if used.estimated_tokens else "") + f"{used.tokens:,}"
        rows.append((name, _when(info.created_at), _when(info.updated_at), _size(info.size), tokens,
                     money(used.known_cost), _counts(info)))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print(visible_controls("  ".join([*cells, row[6]])))
    return EXIT_OK


def open_command(args: argparse.Namespace, config: Config) -> int:
    """Check the session can be read, then hand it to the app (watch mode if someone writes it)."""
    path = resolve(args.ref)
    info = session_info(path)
    if info.writer_pid is not None and not args.watch:
        who = f"process {info.writer_pid}" if info.writer_pid else "another process"
        print(f"agentdeck: session {info.name!r} is being written by {who}; opening it read-only (watch)",
              file=sys.stderr)
        args.watch = True
    args.session = str(path)
    from tui.cli.app_command import app_command

    return app_command(args, config)


def export_command(args: argparse.Namespace) -> int:
    from tui.store import group_export  # imported when asked, like `import_file`: the app's start needs neither

    output = Path(args.output).expanduser() if args.output else None
    fmt = args.format or (output.suffix.lstrip(".").lower() if output else "md")
    if fmt not in FORMATS:
        fmt = "md"
    replaced_mode = _replaceable(output, args.force) if output is not None else None
    pieces = [group_export(args.ref, args.group, fmt)] if args.group else export_pieces(args.ref, fmt)
    if output is None:
        shown = sys.stdout.isatty()
        for piece in pieces:
            sys.stdout.write(visible_controls(piece) if shown else piece)
        sys.stdout.flush()
    else:
        write_private(output, pieces)
        if replaced_mode is not None:
            _restore_mode(output, replaced_mode)
        print(f"agentdeck: wrote {output}", file=sys.stderr)
    return EXIT_OK


def _replaceable(output: Path, force: bool) -> int | None:
    """The mode of the file `-o` would replace (None if there is none); refused without --force."""
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{output}: {exc.strerror or exc}") from None
    if not force:
        raise StoreError(f"{output}: already exists; use --force to replace it")
    return stat.S_IMODE(info.st_mode)


def _restore_mode(output: Path, mode: int) -> None:
    """A replaced file keeps its permissions: an export shared with a group stays shared."""
    try:
        fd = os.open(output, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(f"{output}: written, but its mode could not be restored to {mode:o}: "
                         f"{exc.strerror or exc}") from None


def import_command(args: argparse.Namespace) -> int:
    from tui.store import import_file

    name, count = import_file(Path(args.file).expanduser(), args.name)
    print(f"agentdeck: imported {count} task{'s' if count != 1 else ''} as session {name!r}", file=sys.stderr)
    print(name)
    return EXIT_OK
