"""A local OpenAI-compatible server with deterministic answers and injectable faults.

Import the server from `tui.demo.server` (it pulls in aiohttp); the script
helpers below are cheap and are what tests use to predict answers.
"""

from tui.demo.script import Directives, expected_answer, parse_directives

__all__ = ["Directives", "expected_answer", "parse_directives"]
