"""The `agentdeck` command line's parser, built from light modules only.

Every start parses its arguments, the app's too, so the subcommands' own code
(`run`, `export`, `search`...) is imported only when that subcommand runs.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from datetime import datetime

from tui.cli.options import add_task_options, concurrency_value
from tui.config import API_KINDS
from tui.engine import TaskStatus
from tui.store import FORMATS

DEFAULT_LIMIT = 20
MAX_LIMIT = 10_000
_AGO = re.compile(r"^(\d+)([mhdw])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
GROUPINGS = ("provider", "model", "day", "session")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentdeck",
        description="Run, watch and keep many long LLM agent queries at once.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--demo", action="store_true", help="use the built-in demo provider (no key needed)")
    add_task_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(sub)
    add_session_parsers(sub)
    add_usage_parser(sub)
    add_search_parser(sub)
    add_mcp_parser(sub)

    config = sub.add_parser("config", help="show, locate or create the config file")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    init = config_sub.add_parser("init", help="write a starter config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    config_sub.add_parser("path", help="print where the config file is read from")
    config_sub.add_parser("show", help="print the effective config (keys are never shown)")

    server = sub.add_parser("demo-server", help="run the local demo/test server on its own")
    server.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    server.add_argument("--api-key-env", metavar="VAR", help="require the key held in this variable")
    server.add_argument("--max-streams-per-model", type=int, metavar="N", help="answer 429 beyond N streams per model")
    return parser


class _VersionAction(argparse.Action):
    """argparse's `version` action, but the version is looked up only when asked (importlib.metadata: ~10 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: object) -> None:
        shown = "show program's version number and exit"
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=shown)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"agentdeck {_installed_version()}")
        parser.exit()


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentdeck")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def add_run_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="run prompts without the UI and print their answers")
    run.add_argument("prompts", nargs="*", metavar="PROMPT", help="one task per prompt")
    run.add_argument("-f", "--file", metavar="FILE", help="prompts, one per line ('-' = stdin)")
    run.add_argument("-a", "--attach", action="append", default=[], metavar="FILE", help="attach a text file")
    run.add_argument("--json", action="store_true", help="print one JSON object per task at the end")
    run.add_argument("--tools", metavar="NAMES", help="MCP servers whose tools the tasks may call, comma-separated, "
                     "or 'none' (default: the provider's `tools`)")
    run.add_argument("--approve-all", action="store_true",
                     help='run the tools of approve = "ask" servers without asking (without it they are denied)')
    add_task_options(run, subcommand=True)
    add_providers_option(run)


def add_providers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--providers", metavar="LIST",
        help="ask each prompt of several providers as one group: NAME or NAME:MODEL, comma-separated "
             "(only the first ':' splits, so a model id may hold ':')",
    )


def add_session_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sessions = sub.add_parser("sessions", help="list saved sessions")
    sessions.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    opener = sub.add_parser("open", help="open a saved session in the app")
    opener.add_argument("ref", metavar="NAME|PATH", help="session name, or path to a session file")
    opener.add_argument(
        "--watch", action="store_true", help="read-only live view (automatic if another process writes it)"
    )

    export = sub.add_parser("export", help="write a session as Markdown, JSON or TOML")
    export.add_argument("ref", metavar="NAME|PATH", help="session name, or path to a session file")
    export.add_argument("--format", choices=FORMATS, help="default: from the -o suffix, else md")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists, keeping its mode")
    export.add_argument("--group", metavar="ID", help="only this group: in md a comparison (figures, then answers)")

    importer = sub.add_parser("import", help="bring a JSON or TOML export back as a session")
    importer.add_argument("file", metavar="FILE", help="an export written by `agentdeck export`")
    importer.add_argument("--name", help="session name (default: the exported one, made unique)")

    add_resume_parser(sub)


def add_resume_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resume = sub.add_parser("resume", help="continue the interrupted tasks of a saved session")
    resume.add_argument("ref", metavar="NAME|PATH", help="session name, or path to a session file")
    resume.add_argument("--json", action="store_true", help="print one JSON object per resumed task at the end")
    resume.add_argument("--concurrency", type=concurrency_value, metavar="N", help="tasks streaming at once")
    resume.add_argument("--approve-all", action="store_true",
                        help='run the tools of approve = "ask" servers without asking (without it they are denied)')
    adhoc = resume.add_argument_group("the ad-hoc provider ('adhoc') of a run made with --base-url")
    adhoc.add_argument("--base-url", metavar="URL", help="its OpenAI-compatible URL")
    adhoc.add_argument("--api", choices=API_KINDS, help="its API (default: chat)")
    adhoc.add_argument("--model", metavar="M", help="its model")
    adhoc.add_argument("--api-key-env", metavar="VAR", help="environment variable with its key")


def add_usage_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = sub.add_parser("usage", help="tokens and cost across saved sessions")
    usage.add_argument("--since", metavar="DATE", help="only tasks started on or after DATE (YYYY-MM-DD, local time)")
    usage.add_argument("--session", metavar="NAME|PATH", help="only this session")
    usage.add_argument("--by", choices=GROUPINGS, default="provider", help="one line per provider (default), "
                       "provider/model, day or session")
    usage.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_search_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser(
        "search", help="find text in every saved session",
        description='Words, "exact phrases", prefix*, AND / OR / NOT (in capitals) and ( ); '
                    "case and accents do not matter.",
    )
    search.add_argument("query", nargs="*", metavar="QUERY", help="what to find (several words: all of them)")
    search.add_argument("--session", metavar="NAME", help="only this session")
    search.add_argument("--status", choices=[status.value for status in TaskStatus], help="only tasks in this status")
    search.add_argument("--provider", metavar="P", help="only tasks of this provider")
    search.add_argument("--since", metavar="DATE", type=_since,
                        help="only tasks created since DATE (2026-11-30, 2026-11-30T14:00, or 3d, 12h, 30m, 2w ago)")
    search.add_argument("--limit", metavar="N", type=_limit, default=DEFAULT_LIMIT,
                        help=f"at most N hits (default {DEFAULT_LIMIT})")
    search.add_argument("--json", action="store_true", help="one JSON object per hit, one per line")
    search.add_argument("--reindex", action="store_true", help="rebuild the search index from the sessions first")


def _since(text: str) -> float:
    ago = _AGO.match(text.strip())
    if ago:
        return time.time() - int(ago.group(1)) * _UNIT_S[ago.group(2)]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use 2026-11-30, 2026-11-30T14:00, or 3d / 12h / 30m / 2w ago") from None


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_LIMIT}, got {text!r}")
    return value


def add_mcp_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mcp = subparsers.add_parser("mcp", help="list or check the MCP servers whose tools tasks can call")
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="start every configured MCP server and list its tools")
    listing.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    check = actions.add_parser("check", help="start one MCP server and list its tools")
    check.add_argument("name", metavar="NAME", help="the server's name ([mcp.NAME] in the config)")
    check.add_argument("--json", action="store_true", help="print a JSON object instead of text")
