"""Reading prompts from a file or stdin: one per line, blanks and # comments skipped."""

from __future__ import annotations

import sys
from pathlib import Path

from tui.config import ConfigError


def read_prompt_lines(source: str) -> list[str]:
    if source == "-":
        data = sys.stdin.buffer.read()
        name = "stdin"
    else:
        try:
            data = Path(source).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigError(f"-f {source}: {exc.strerror or exc}") from None
        name = source
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            raise ConfigError(f"-f {name}: not UTF-8 text; convert it first (e.g. iconv -t UTF-8)") from None
    if "\x00" in text:
        raise ConfigError(f"-f {name}: contains NUL bytes; is it a binary file?")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
