"""Turn request bodies of both wire APIs into one history, and spot continuations.

A continuation is how the product resumes a cut answer: it replays the
conversation and asks the model (`CONTINUE_PROMPT`) to go on. The demo answers
with exactly the missing tail of the original answer so tests can check joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.demo.script import Directives
from tui.engine.prompts import CONTINUE_PROMPT

Message = tuple[str, str]
"""(role, text) of one message; only the text of content parts is kept."""


@dataclass(frozen=True)
class Turn:
    """What the current request asks for."""

    prompt: str
    """The user prompt whose deterministic answer is being produced."""
    answered: str = ""
    """Assistant text already given for `prompt` (non-empty only for continuations)."""
    continuation: bool = False


def content_text(content: Any) -> str:
    """Text of a message content: a string, or a list of parts carrying `text` (joined as is)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def chat_history(messages: list[Any]) -> list[Message]:
    """Chat Completions `messages` as (role, text) pairs."""
    return [(str(m.get("role", "")), content_text(m.get("content"))) for m in messages if isinstance(m, dict)]


def responses_history(input_: Any) -> list[Message]:
    """Responses `input` (a string or a list of items) as (role, text) pairs; non-message items are skipped."""
    if isinstance(input_, str):
        return [("user", input_)]
    if not isinstance(input_, list):
        return []
    return [
        (str(item["role"]), content_text(item.get("content")))
        for item in input_
        if isinstance(item, dict) and item.get("type", "message") == "message" and "role" in item
    ]


def resolve_turn(history: list[Message]) -> Turn:
    """The prompt being answered; a trailing `CONTINUE_PROMPT` chain points back to the original prompt.

    For [..., user P, assistant A1, user CONTINUE, assistant A2, user CONTINUE] the
    answer so far is A1 + A2 and the demo owes the rest of P's answer.
    """
    turns = [(role, text) for role, text in history if role in ("user", "assistant")]
    users = [i for i, (role, _) in enumerate(turns) if role == "user"]
    if not users:
        return Turn(prompt="")
    last = users[-1]
    if not _is_continue(turns[last][1]):
        return Turn(prompt=turns[last][1])
    answered: list[str] = []
    for role, text in reversed(turns[:last]):
        if role == "assistant":
            answered.append(text)
        elif not _is_continue(text):
            return Turn(prompt=text, answered="".join(reversed(answered)), continuation=True)
    return Turn(prompt=turns[last][1])


def _is_continue(text: str) -> bool:
    return text.lstrip().startswith(CONTINUE_PROMPT)


@dataclass(frozen=True)
class Plan:
    """How to answer one request, decided before any byte is sent."""

    turn: Turn
    directives: Directives
    answer: str
    """The text to produce now (the missing tail, for a continuation)."""
    prompt_chars: int
    """Characters of conversation sent, for usage numbers."""
    model: str | None = None
    """The model asked, which `[[by_model]]` answers word differently."""
