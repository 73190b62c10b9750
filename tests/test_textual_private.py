"""Textual's private names that `tui/textual_private.py` relies on still exist, and nothing else in `tui/` uses one.

These fail, never skip: an upgrade of Textual that drops or renames one of
them must be noticed here, before a user's terminal notices it.
"""

from __future__ import annotations

import re
from pathlib import Path

import textual
from textual.app import App
from textual.containers import Container, Vertical, VerticalScroll
from textual.driver import Driver
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Static, TextArea

from tui import textual_private
from tui.textual_private import OVERRIDDEN_HOOKS, write_to_terminal

TUI = Path(textual_private.__file__).parent
PRIVATE_MODULE = re.compile(r"^\s*(?:from|import)\s+(?:rich|textual)[\w.]*\._", re.MULTILINE)
OWN_PRIVATE_NAME = re.compile(r"(?:\.|^[ \t]+(?:async[ \t]+)?def[ \t]+)(_[a-z]\w*)", re.MULTILINE)
"""A private name used as an attribute (`obj._x`) or defined as a method (an indented `def _x`)."""


def _private_names(*classes: type) -> set[str]:
    """Every private name of these Textual classes: their methods and what their constructors set."""
    names = {name for cls in classes for name in dir(cls) if name.startswith("_") and not name.startswith("__")}
    for cls in classes:
        if cls is not App:
            names.update(name for name in vars(cls()) if name.startswith("_"))
    return names


def test_each_private_name_the_app_relies_on_still_exists() -> None:
    versions = f"checked against Textual {textual_private.CHECKED_AGAINST}, installed {textual.__version__}"
    app = App()
    assert app._driver is None, f"App._driver: the terminal title is written through it ({versions})"
    assert isinstance(app._exit_renderables, list), f"App._exit_renderables: the error report is dropped ({versions})"
    assert callable(Driver.write), versions
    assert callable(Widget._forward_event) and callable(Screen._forward_event), f"keys are handed on ({versions})"
    assert callable(Widget._scroll_update), f"Widget._scroll_update: raw text grows without a layout ({versions})"
    for hook in OVERRIDDEN_HOOKS:
        owner, name = hook.split(".")
        assert callable(getattr({"App": App}[owner], name, None)), f"{hook} is gone: its override no longer runs"


def test_the_terminal_is_not_written_when_there_is_none() -> None:
    assert write_to_terminal(App(), "\x1b]2;title\x07") is False


def test_no_other_module_uses_a_private_textual_or_rich_name() -> None:
    textual_names = _private_names(
        Widget, Screen, ModalScreen, ScrollView, TextArea, Static, Container, Vertical, VerticalScroll
    )
    app_names = _private_names(App) - {hook.split(".")[1] for hook in OVERRIDDEN_HOOKS}
    found = []
    for path in sorted(TUI.rglob("*.py")):
        if path == Path(textual_private.__file__):
            continue
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(TUI).as_posix()
        found += [f"{relative}: {match.group().strip()}" for match in PRIVATE_MODULE.finditer(source)]
        if relative.startswith(("app/", "screens/", "widgets/")):
            clashing = textual_names | (app_names if relative.startswith("app/") else set())
            names = set(OWN_PRIVATE_NAME.findall(source)) & clashing
            found += [f"{relative}: {name}" for name in sorted(names)]
    assert found == [], "use tui/textual_private.py (with the reason) for these"
