"""The `agentdeck` command line."""

from tui.cli.main import main

__all__ = ["main"]
