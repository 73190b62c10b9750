"""The palette's "Set budget…": the session's spending limit, changed while it runs.

Raising the budget (or removing it) lets tasks held as "budget reached" start;
lowering it below what is spent stops the running ones, as reaching it does.
"""

from __future__ import annotations

from textual.app import App

from tui.config_limits import parse_budget
from tui.engine import Engine
from tui.screens.ask import AskScreen


def budget_help(engine: Engine) -> str:
    """What the palette says next to the command: spent so far, and of what."""
    limit = engine.budget_usd
    spent = f"${engine.spent_usd():.4f} spent"
    return f"{spent} of ${limit:g}" if limit is not None else f"{spent}, no budget"


def ask_budget(app: App[object], engine: Engine) -> None:
    def problem(text: str) -> str | None:
        if text in ("", "0", "none"):
            return None
        try:
            parse_budget(text)
        except ValueError as exc:
            return f"The budget {exc}; empty or 0 for none."
        return None

    def answered(answer: str | None) -> None:
        if answer is None:
            return
        engine.set_budget(None if answer in ("", "0", "none") else parse_budget(answer))
        app.notify(budget_help(engine), title="Budget", markup=False)

    current = "" if engine.budget_usd is None else f"{engine.budget_usd:g}"
    hint = f"USD this session may spend ({budget_help(engine)}); tasks queued as over budget start once it allows."
    app.push_screen(AskScreen("Set budget", hint, value=current, placeholder="e.g. 2.50; empty = none", check=problem),
                    answered)
