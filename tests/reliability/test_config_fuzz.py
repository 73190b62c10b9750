"""Hundreds of mutated config files: each loads or gives a ConfigError; nothing else escapes."""

from __future__ import annotations

import random
from pathlib import Path

from tui.config import ConfigError, load_config

VALID = b"""\
default_provider = "deepseek"
concurrency = 4
timeout = 600
bell = true

[providers.deepseek]
api = "chat"
base_url = "https://api.deepseek.com/v1"
model = "deepseek-chat"
api_key_env = "DEEPSEEK_API_KEY"
max_retries = 3

[providers.oai]
api = "responses"
base_url = "https://api.openai.com/v1"
model = "gpt-4.1-mini"
timeout = 1200
"""

SNIPPETS = [b"=", b"[", b"]", b'"', b"'''", b"\n", b"-1", b"1e999", b"nan", b"true", b"[[x]]", b"\xff", b"\x00", b"{}"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        at = rng.randrange(len(out) + 1)
        if choice < 0.3 and out:
            del out[at : at + rng.randint(1, 12)]
        elif choice < 0.6:
            out[at:at] = rng.choice(SNIPPETS)
        elif choice < 0.8 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        else:
            lines = bytes(out).split(b"\n")
            line = rng.choice(lines)
            lines.insert(rng.randrange(len(lines) + 1), line)
            out = bytearray(b"\n".join(lines))
    return bytes(out)


def test_mutated_configs_load_or_explain(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    path = tmp_path / "config.toml"
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(400):
        path.write_bytes(mutate(VALID, rng))
        try:
            load_config(path, environ={})
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message.strip()
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["loaded"] > 5 and outcomes["refused"] > 200
