"""Entry point: parses the command line and routes to the app or a subcommand."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from tui import paths
from tui.cli.mcp_command import add_mcp_parser
from tui.cli.options import add_task_options
from tui.cli.resume_command import resume_command
from tui.cli.run_command import EXIT_USAGE, add_run_parser, run_command
from tui.cli.search_command import add_search_parser, search_command
from tui.cli.session_commands import (
    add_session_parsers,
    export_command,
    import_command,
    open_command,
    sessions_command,
)
from tui.cli.usage_command import add_usage_parser, usage_command
from tui.config import ConfigError, describe, load_config, write_starter
from tui.safety import visible_controls
from tui.store import StoreError


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


def _config_command(args: argparse.Namespace) -> int:
    path = paths.config_file()
    if args.config_command == "path":
        print(path)
        return 0
    if args.config_command == "init":
        write_starter(path, force=args.force)
        print(f"wrote {path}")
        return 0
    print(describe(load_config(path)), end="")
    return 0


def _demo_server_command(args: argparse.Namespace) -> int:
    import os

    from tui.demo.server import run_forever

    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ConfigError(f"{args.api_key_env} is not set")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    if args.max_streams_per_model is not None and args.max_streams_per_model < 1:
        raise ConfigError(f"--max-streams-per-model must be at least 1, got {args.max_streams_per_model}")
    run_forever(args.port, key, args.max_streams_per_model)
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "config":
        return _config_command(args)
    if args.command == "demo-server":
        return _demo_server_command(args)
    if args.command == "sessions":
        return sessions_command(args)
    if args.command == "export":
        return export_command(args)
    if args.command == "import":
        return import_command(args)
    if args.command == "usage":
        return usage_command(args)
    if args.command == "search":
        return search_command(args)
    config = load_config()
    if args.command == "run":
        return run_command(args, config)
    if args.command == "open":
        return open_command(args, config)
    if args.command == "resume":
        return resume_command(args, config)
    if args.command == "mcp":
        from tui.cli.mcp_command import mcp_command

        return mcp_command(args, config)
    from tui.cli.app_command import app_command

    return app_command(args, config)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (ConfigError, StoreError) as exc:
        print(f"agentdeck: {visible_controls(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _quiet_teardown()
        return 130


def _quiet_teardown() -> None:
    """After a Ctrl-C, say nothing about objects it left half-built.

    A Ctrl-C that lands while asyncio is still creating its event loop leaves
    a loop whose finaliser fails and a coroutine that never ran; Python would
    print both as tracebacks on the way out, after the user asked to stop.
    """
    sys.unraisablehook = lambda _unraisable: None
    warnings.simplefilter("ignore")
