"""Model output is untrusted: control sequences are made visible before any terminal sees them.

Every layer (engine, store, cli, widgets) imports from here: it needs nothing but `re`.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufff9-\ufffb]")
_NAMES = {"\x1b": "␛", "\x00": "␀", "\x07": "␇", "\x08": "␈", "\x7f": "␡"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMES:
        return _NAMES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_controls(text: str) -> str:
    """Replace every control character but newline and tab with a harmless visible form.

    ESC, CSI/OSC introducers, C1 controls and NUL can move the cursor, rename
    the window or write the clipboard; shown as symbols they do nothing.
    Carriage returns are shown too, so a line cannot overwrite itself, and so
    are bidirectional overrides, which can make text read differently than it is.
    """
    return _CONTROL.sub(_visible, text)


def one_line(text: str, width: int) -> str:
    """One line of untrusted text for a terminal: whitespace collapsed, controls visible, cut to `width` with `…`."""
    line = visible_controls(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"
