"""Files attached to a prompt: checked before anything is sent, then clearly delimited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.user_files import UnreadableFile, read_user_file


class AttachmentError(ValueError):
    """A file that cannot be attached; the text names the file and the reason."""


@dataclass(frozen=True)
class Attachment:
    path: Path
    text: str


def read_attachment(path: str | Path, max_bytes: int) -> Attachment:
    file = Path(path).expanduser()
    try:
        data = read_user_file(file, max_bytes, "attachment")
    except FileNotFoundError:
        raise AttachmentError(f"{file}: no such file") from None
    except UnreadableFile as exc:
        raise AttachmentError(str(exc)) from None
    if b"\x00" in data:
        raise AttachmentError(f"{file}: looks binary (contains NUL bytes); only text files can be attached")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AttachmentError(f"{file}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    return Attachment(file, text)


def compose_request(prompt: str, attachments: list[Attachment]) -> str:
    """The user message: the prompt, then each file between named markers."""
    if not attachments:
        return prompt
    parts = [prompt]
    for item in attachments:
        parts.append(f'<file name="{item.path.name}">\n{item.text}\n</file>')
    return "\n\n".join(parts)
