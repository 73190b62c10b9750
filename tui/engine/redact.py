"""Hide API keys that a provider quotes back before any text is stored or shown.

Providers put the key they were sent into their error messages, whole or
masked: OpenAI answers 401 with "Incorrect API key provided: sk-test-****T123",
others write `sk-...XYZ` or `sk-tes***********123`. Every error and notice a
task gets passes through here first, so the key reaches no session file,
export, `--json` line, log or screen. The secrets are the values of the
environment variables the providers name (`ProviderConfig.secret_env_names`),
read when the text is redacted, never kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

MIN_SECRET_CHARS = 6
"""Shorter values (a local server's "EMPTY" or "none") are placeholders, not secrets, and too common to hide."""
_MASKED = re.compile(r"(?<![\w\-])([\w\-]*)(\.{2,}|…+|\*+)([\w\-]{3,})")
"""A masked key: what is left of its start, an ellipsis or asterisks, then its last characters.
Matches begin only where a word begins, so the search stays linear in the text."""


def _hides(secret: str, head: str, tail: str) -> bool:
    """Whether `head`…`tail` is a masked form of `secret` (its start, then its last three or more characters)."""
    if not secret.endswith(tail) or len(tail) >= len(secret):
        return False
    if head:
        return len(head) >= 2 and secret.startswith(head)
    return len(tail) >= 4


class Redactor:
    """Replaces each secret, and its masked forms, with `[redacted VAR]`."""

    def __init__(self, env_names: Iterable[str]) -> None:
        self.env_names = tuple(dict.fromkeys(env_names))

    def secrets(self) -> list[tuple[str, str]]:
        """(variable, value) of every secret set now, longest first (a key may contain a shorter one)."""
        found = [(name, os.environ.get(name) or "") for name in self.env_names]
        return sorted(((n, v) for n, v in found if len(v) >= MIN_SECRET_CHARS), key=lambda item: -len(item[1]))

    def hide(self, text: str | None) -> str | None:
        if not text:
            return text
        secrets = self.secrets()
        if not secrets:
            return text
        for name, value in secrets:
            text = text.replace(value, f"[redacted {name}]")

        def masked(match: re.Match[str]) -> str:
            head, tail = match.group(1), match.group(3)
            for name, value in secrets:
                if _hides(value, head, tail):
                    return f"[redacted {name}]"
            return match.group(0)

        return _MASKED.sub(masked, text)
