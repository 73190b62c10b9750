"""Deterministic demo answers and the `[[name:value]]` directives that shape a reply.

Tests compute the exact text the server will stream with `expected_answer`, so
nothing here may depend on process state (no `hash()`, no clocks).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, replace
from typing import Any

DEFAULT_LENGTH = 1200
DIRECTIVE_HEADER = "X-Demo-Directives"

_DIRECTIVE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
# Directive names as written -> Directives field and value parser.
_NAMES: dict[str, tuple[str, type]] = {
    "len": ("length", int),
    "chunk": ("chunk", int),
    "delay": ("delay_ms", float),
    "fault": ("fault", int),
    "retry_after": ("retry_after", float),
    "retry_date": ("retry_date", int),
    "fail_times": ("fail_times", int),
    "drop": ("drop", int),
    "cut": ("cut", int),
    "silent": ("silent", float),
    "silent_after": ("silent_after", int),
    "malformed": ("malformed", int),
    "think": ("think", float),
    "hostile": ("hostile", int),
    "tool_rounds": ("tool_rounds", int),
    "tool_parallel": ("tool_parallel", int),
    "cached": ("cached_tokens", int),
    "reasoning": ("reasoning_tokens", int),
    "by_model": ("by_model", int),
}
# What a continuation keeps from the original prompt: its size, speed and wording, never its faults.
_PACING_NAMES = frozenset({"len", "chunk", "delay", "by_model"})


@dataclass(frozen=True)
class Directives:
    """How the demo server answers one request; every field has a harmless default."""

    length: int = DEFAULT_LENGTH
    """Answer length in characters."""
    chunk: int = 12
    """Characters per streamed content chunk."""
    delay_ms: float = 25.0
    """Pause before each content chunk; 0 streams as fast as the loop allows."""
    fault: int | None = None
    """HTTP status to answer with instead of a completion (401, 403, 404, 429, 500, 503)."""
    retry_after: float | None = None
    """Seconds for a `retry-after` header on 429/503 faults."""
    retry_date: int = 0
    """Write that `retry-after` as an HTTP date (whole seconds) instead of a number of seconds."""
    fail_times: int | None = None
    """Faults apply only to the first K requests carrying the same prompt."""
    drop: int | None = None
    """Abort the connection after this many content chunks."""
    cut: int | None = None
    """End a close-delimited body cleanly after this many content chunks."""
    silent: float | None = None
    """Seconds of silence inserted after `silent_after` content chunks."""
    silent_after: int = 2
    malformed: int | None = None
    """Send one malformed SSE data line after this many content chunks."""
    think: float = 0.0
    """Chat streams: seconds of reasoning (`reasoning_content` deltas, no text) before the answer."""
    hostile: int = 0
    """Answer with text built to attack a terminal: markup, escapes, controls, bad Unicode."""
    tool_rounds: int | None = None
    """Answer the first N requests of a prompt with tool calls (see `tui.demo.tools`)."""
    tool_parallel: int = 0
    """Make all `[[tool:...]]` calls at once, in one response, instead of one per round."""
    cached_tokens: int = 0
    """Input tokens reported as read from the provider's cache (at most all of them)."""
    reasoning_tokens: int = 0
    """Output tokens reported as reasoning (added to the output tokens, as OpenAI counts them)."""
    by_model: int = 0
    """Word the answer by model too, so several models asked the same prompt answer differently."""

    @property
    def has_faults(self) -> bool:
        return any(v is not None for v in (self.fault, self.drop, self.cut, self.silent, self.malformed))

    def without_faults(self) -> Directives:
        """The same pacing with every fault disarmed (after `fail_times` is used up)."""
        return replace(self, fault=None, drop=None, cut=None, silent=None, malformed=None)


def directive_pairs(prompt: str) -> dict[str, str]:
    """Raw `name -> value` pairs written in a prompt; a bare `[[name]]` is a flag ("1")."""
    return {name: value or "1" for name, value in _DIRECTIVE.findall(prompt)}


def header_pairs(header: str | None) -> dict[str, str]:
    """Raw pairs from an `X-Demo-Directives: name=value;name2=value2` header."""
    pairs: dict[str, str] = {}
    for item in (header or "").split(";"):
        name, sep, value = item.partition("=")
        if name.strip():
            pairs[name.strip()] = value.strip() if sep else "1"
    return pairs


def parse_directives(prompt: str, header: str | None = None, *, pacing_only: bool = False) -> Directives:
    """Directives of a prompt, overridden by the header; unknown names and bad values are ignored.

    `pacing_only` keeps only `len`, `chunk` and `delay` from the prompt (continuations
    must not re-trigger the original faults); the header still applies in full.
    """
    pairs = directive_pairs(prompt)
    if pacing_only:
        pairs = {k: v for k, v in pairs.items() if k in _PACING_NAMES}
    pairs.update(header_pairs(header))
    values: dict[str, Any] = {}
    for name, raw in pairs.items():
        if name not in _NAMES:
            continue
        field, kind = _NAMES[name]
        try:
            value = kind(raw)
        except ValueError:
            continue
        if value >= 0:
            values[field] = value
    if values.get("chunk") == 0:
        del values["chunk"]
    return Directives(**values)


def strip_directives(prompt: str) -> str:
    """The prompt as a person wrote it, without `[[...]]` directives."""
    return " ".join(_DIRECTIVE.sub(" ", prompt).split())


# ---------------------------------------------------------------- answer text

_SUBJECTS = (
    "The request",
    "This approach",
    "The proposed design",
    "A bounded worker pool",
    "The streaming layer",
    "Each agent",
    "The shared cache",
    "The retry policy",
    "The benchmark",
    "The event loop",
    "The scheduler",
    "A careful rollout",
    "The data model",
    "The user interface",
    "The test suite",
)
_VERBS = (
    "balances",
    "reduces",
    "exposes",
    "isolates",
    "simplifies",
    "depends on",
    "trades off",
    "guarantees",
    "measures",
    "hides",
    "clarifies",
    "amplifies",
)
_OBJECTS = (
    "latency against throughput",
    "the cost of coordination",
    "back-pressure between stages",
    "partial failures",
    "the tail of the latency distribution",
    "state shared across tasks",
    "the critical path",
    "observable progress",
    "the number of open connections",
    "memory held per request",
    "the order of events",
    "the blast radius of a bad deploy",
)
_CLAUSES = (
    "under sustained load",
    "when the network is unreliable",
    "without extra locking",
    "in the common case",
    "for most workloads",
    "once caches are warm",
    "at modest complexity",
    "as the input grows",
    "during a partial outage",
    "with predictable cost",
)
_LEADS = ("Consider", "Measure", "Prefer to bound", "Avoid coupling", "Document", "Validate", "Cap", "Monitor")
_SECTIONS = ("Key observations", "Trade-offs", "Recommendations", "Example", "Risks", "Next steps")
_ECHO_WORDS = 6

HOSTILE_TEXT = (
    "[bold red]markup[/] [link=https://example.invalid]link[/link] [@click=app.quit]quit[/]\n"
    "\x1b[31mred\x1b[0m \x1b[2J\x1b[H cleared? \x1b]0;pwned title\x07 "
    "\x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b]8;;https://example.invalid\x1b\\osc8\x1b]8;;\x1b\\\n"
    "C1: \x9b31m \x9d0;t\x9c NUL:\x00 BEL:\x07 BS:\x08 CR:\r overwrite DEL:\x7f\n"
    "lone surrogate: \ud800 end \u202eRTL override\u202c "
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \U0001f600\n"
    + "x" * 10_000
    + "\n"
)


def expected_answer(prompt: str, length: int | None = None, model: str | None = None) -> str:
    """The exact answer the demo server gives to `prompt`, `length` characters long.

    `length` defaults to the prompt's `[[len:N]]` directive (else 1200); the text is
    Markdown-looking and seeded by the prompt's SHA-256 so every process agrees. With
    `[[by_model]]` the `model` asked is part of the seed.
    """
    directives = parse_directives(prompt)
    if length is None:
        length = directives.length
    if directives.hostile:
        return (HOSTILE_TEXT * (length // len(HOSTILE_TEXT) + 1))[:length]
    seeded = f"{prompt}\0{model}" if directives.by_model and model else prompt
    seed = int.from_bytes(hashlib.sha256(seeded.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    parts = [f"## {_echo(prompt)}\n\n", _paragraph(rng), "\n\n"]
    size = sum(map(len, parts))
    while size < length:
        block = rng.choice((_section, _bullets, _code, _paragraph))(rng) + "\n\n"
        parts.append(block)
        size += len(block)
    return "".join(parts)[:length]


def _echo(prompt: str) -> str:
    words = strip_directives(prompt).split()[:_ECHO_WORDS]
    title = "".join(c for c in " ".join(words) if c.isprintable())
    return f"Analysis: {title}" if title else "Analysis"


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_CLAUSES)}."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 5)))


def _section(rng: random.Random) -> str:
    return f"### {rng.choice(_SECTIONS)}\n\n{_paragraph(rng)}"


def _bullets(rng: random.Random) -> str:
    lines = (f"- {rng.choice(_LEADS)} {rng.choice(_OBJECTS)} {rng.choice(_CLAUSES)}." for _ in range(rng.randint(3, 5)))
    return "\n".join(lines)


def _code(rng: random.Random) -> str:
    step, divisor = rng.randint(1, 9), rng.randint(2, 7)
    return (
        "```python\n"
        f"def step_{step}(items: list[int]) -> list[int]:\n"
        f"    return [x for x in items if x % {divisor} == 0]\n"
        "```"
    )


__all__ = [
    "DEFAULT_LENGTH",
    "DIRECTIVE_HEADER",
    "Directives",
    "directive_pairs",
    "expected_answer",
    "header_pairs",
    "parse_directives",
    "strip_directives",
]
