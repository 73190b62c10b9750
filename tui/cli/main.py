"""Entry point: parses the command line and routes to the app or a subcommand."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from tui import paths
from tui.cli import EXIT_USAGE
from tui.cli.parser import build_parser
from tui.config import ConfigError, describe, load_config, write_starter
from tui.safety import visible_controls
from tui.store import StoreError


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
    """Run the chosen subcommand, importing its module only now (see `tui.cli.parser`)."""
    if args.command == "config":
        return _config_command(args)
    if args.command == "demo-server":
        return _demo_server_command(args)
    if args.command in ("sessions", "export", "import"):
        from tui.cli import session_commands

        handlers = {"sessions": session_commands.sessions_command, "export": session_commands.export_command,
                    "import": session_commands.import_command}
        return handlers[args.command](args)
    if args.command == "usage":
        from tui.cli.usage_command import usage_command

        return usage_command(args)
    if args.command == "search":
        from tui.cli.search_command import search_command

        return search_command(args)
    config = load_config()
    if args.command == "run":
        from tui.cli.run_command import run_command

        return run_command(args, config)
    if args.command == "open":
        from tui.cli.session_commands import open_command

        return open_command(args, config)
    if args.command == "resume":
        from tui.cli.resume_command import resume_command

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
