"""Reading prompts from a file or stdin: one per line, blanks and # comments skipped."""

from __future__ import annotations

import sys
from pathlib import Path

from tui.config import ConfigError
from tui.user_files import PROMPT_FILE_LIMIT, UnreadableFile, read_user_file, read_user_stream


def read_prompt_lines(source: str) -> list[str]:
    """The prompts of a file (or stdin for `-`), at most PROMPT_FILE_LIMIT bytes of UTF-8 or UTF-16 text."""
    try:
        if source == "-":
            data = read_user_stream(sys.stdin.buffer, PROMPT_FILE_LIMIT, "prompt file")
            name = "stdin"
        else:
            data = read_user_file(Path(source).expanduser(), PROMPT_FILE_LIMIT, "prompt file")
            name = source
    except FileNotFoundError as exc:
        raise ConfigError(f"-f {source}: {exc.strerror}") from None
    except UnreadableFile as exc:
        raise ConfigError(f"-f {exc}") from None
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
