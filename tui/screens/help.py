"""The help screen: every key, generated from the same bindings the footer shows."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.bindings import EXTRA_KEYS, HELP_SECTIONS


def key_label(binding: Binding) -> str:
    """`d / delete`, `ctrl+j`, `?`: the keys as a person would type them."""
    if binding.key_display:
        return binding.key_display
    return " / ".join(key.strip() for key in binding.key.split(","))


def _section(title: str, rows: list[tuple[str, str, str]]) -> Group:
    table = Table.grid(padding=(0, 2), pad_edge=True)
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column(no_wrap=True, min_width=10)
    table.add_column()
    for key, name, what in rows:
        table.add_row(key, name, Text(what, style="dim"))
    return Group(Text(title, style="bold underline"), table, Text(""))


def keys_table() -> Group:
    """One block per section: key, short name (as in the footer), what it does."""
    sections = [
        _section(title, [(key_label(b), b.description, b.tooltip) for b in bindings]) for title, bindings in HELP_SECTIONS
    ]
    sections.append(_section("Also", [(key, "", what) for key, what in EXTRA_KEYS]))
    return Group(*sections)


class HelpScreen(ModalScreen[None]):
    """Closes on Escape, q, ? or F1."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close", tooltip="Back to the tasks"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "agentdeck keys"
            scroll.border_subtitle = "Esc closes · Ctrl+P finds any action by name"
            yield Static(keys_table(), id="keys")
