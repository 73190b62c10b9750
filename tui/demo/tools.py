"""When the demo model calls tools, and what its answer says about their results.

`[[tool:NAME {json}]]` in the prompt asks for a call of the offered tool NAME
(several are called in order, one per round; `[[tool_parallel]]` makes them all
at once); `[[tool_rounds:N]]` keeps calling for N rounds. Once no call is left,
the text answer quotes every tool result first, so tests can see the result
reached the model. Everything is decided from the request alone (stateless).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tui.demo.conversation import Plan, content_text
from tui.demo.script import Directives, expected_answer
from tui.engine.prompts import CONTINUE_PROMPT

_TOOL_DIRECTIVE = re.compile(r"\[\[tool:([A-Za-z0-9_.\-]+)(?:\s+([^\]]*))?\]\]")
QUOTE_LIMIT = 2000
"""Characters of one tool result quoted in the answer; longer results end with `…`."""

NO_TOOLS = "No tools were offered, so I called none.\n\n"
"""How a `[[tool_rounds:N]]` answer starts when the request offered no tools."""
TOOLS_OFF = 'Tool calls were turned off (tool_choice "none"), so I stopped calling tools.\n\n'
"""How the answer starts when calls were still due but the request forbade them."""

Item = dict[str, Any]
"""A Responses-style input item: `message`, `function_call` or `function_call_output`."""


@dataclass(frozen=True)
class ToolCall:
    """One call the model makes: the tool's name, its arguments as JSON text, and its call id."""

    name: str
    arguments: str = "{}"
    call_id: str = ""


@dataclass(frozen=True)
class ToolResult:
    """A result the client sent back, under the name of the call it answers."""

    name: str
    output: str


@dataclass(frozen=True)
class ToolTrace:
    """The tool activity since the prompt was written."""

    rounds: int = 0
    """Model turns that called tools."""
    results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True)
class ToolStep:
    """What the model does now: call `calls` (when non-empty), else answer with `preamble` first."""

    calls: tuple[ToolCall, ...] = ()
    preamble: str = ""


def requested_calls(prompt: str) -> list[ToolCall]:
    """The `[[tool:NAME {json}]]` directives of a prompt, in order; arguments default to `{}`."""
    return [ToolCall(name, (args or "").strip() or "{}") for name, args in _TOOL_DIRECTIVE.findall(prompt)]


def offered_names(tools: Any) -> list[str]:
    """Function names in a request's `tools` (Chat nests them under `function`, Responses does not)."""
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        spec = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        if isinstance(spec.get("name"), str):
            names.append(spec["name"])
    return names


def chat_items(messages: Iterable[Any]) -> list[Item]:
    """Chat Completions `messages` as Responses-style items, so one trace reader serves both APIs."""
    items: list[Item] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "tool":
            output = content_text(message.get("content"))
            items.append({"type": "function_call_output", "call_id": message.get("tool_call_id"), "output": output})
            continue
        items.append({"type": "message", "role": role, "content": message.get("content")})
        calls = message.get("tool_calls") if role == "assistant" else None
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                items.append({"type": "function_call", "call_id": call.get("id"), "name": function.get("name")})
    return items


def response_items(input_: Any) -> list[Item]:
    """Responses `input` as a list of items (a bare string is one user message)."""
    if isinstance(input_, str):
        return [{"type": "message", "role": "user", "content": input_}]
    return [item for item in input_ if isinstance(item, dict)] if isinstance(input_, list) else []


def tool_trace(items: Sequence[Item]) -> ToolTrace:
    """Calls and results after the last user prompt (continuation requests do not count as prompts).

    A round is a run of consecutive new `function_call` items; a call id seen twice
    (output of a previous response, then echoed in `input`) counts once.
    """
    start = 0
    for index, item in enumerate(items):
        is_user = item.get("type", "message") == "message" and item.get("role") == "user"
        if is_user and not content_text(item.get("content")).lstrip().startswith(CONTINUE_PROMPT):
            start = index + 1
    names: dict[Any, str] = {}
    results: list[ToolResult] = []
    rounds, in_round = 0, False
    for item in items[start:]:
        kind = item.get("type", "message")
        if kind == "function_call" and item.get("call_id") not in names:
            names[item.get("call_id")] = str(item.get("name"))
            if not in_round:
                rounds += 1
            in_round = True
            continue
        in_round = in_round and kind == "function_call"  # a repeated call id does not end the round
        if kind == "function_call_output":
            name = names.get(item.get("call_id"), str(item.get("call_id")))
            results.append(ToolResult(name, content_text(item.get("output"))))
    return ToolTrace(rounds, tuple(results))


def next_step(
    prompt: str,
    directives: Directives,
    offered: Sequence[str],
    trace: ToolTrace,
    *,
    continuation: bool,
    tool_choice: Any = "auto",
) -> ToolStep:
    """Call the next round's tools, or answer: requested tools that were not offered are never called.

    `tool_choice: "none"` (what Agent Framework sends once its round limit is reached)
    makes the model answer now, saying it stopped calling tools.
    """
    requested = requested_calls(prompt)
    available = [call for call in requested if call.name in offered]
    rounds = directives.tool_rounds
    if rounds is None:
        rounds = min(len(available), 1) if directives.tool_parallel else len(available)
    if not available and not requested and rounds and offered:
        available = [ToolCall(offered[0])]
    owed = bool(available) and not continuation and trace.rounds < rounds
    if owed and tool_choice != "none":
        chosen = available if directives.tool_parallel else [available[trace.rounds % len(available)]]
        return ToolStep(tuple(replace(call, call_id=new_call_id()) for call in chosen))
    missing = list(dict.fromkeys(call.name for call in requested if call.name not in offered))
    preamble = tool_preamble(trace.results, missing)
    if owed:
        preamble = TOOLS_OFF + preamble
    elif rounds and not requested and not offered:
        preamble = NO_TOOLS + preamble
    return ToolStep(preamble=preamble)


def step_for(plan: Plan, body: dict[str, Any], items: Sequence[Item]) -> ToolStep:
    """The step for one request: its `tools` and `tool_choice`, and its conversation as items."""
    offered, trace, turn = offered_names(body.get("tools")), tool_trace(items), plan.turn
    choice = body.get("tool_choice")
    return next_step(turn.prompt, plan.directives, offered, trace, continuation=turn.continuation, tool_choice=choice)


def tool_preamble(results: Iterable[ToolResult], missing: Iterable[str] = ()) -> str:
    """The lines the answer starts with: each tool not offered, then each result quoted."""
    lines = [f"Tool {name} is not available: no tool of that name was offered.\n\n" for name in missing]
    for result in results:
        output = result.output if len(result.output) <= QUOTE_LIMIT else result.output[:QUOTE_LIMIT] + "…"
        lines.append(f"Tool {result.name} returned: {output}\n\n")
    return "".join(lines)


def expected_tool_answer(prompt: str, results: Iterable[tuple[str, str]] = (), missing: Iterable[str] = ()) -> str:
    """The exact text answer after tools returned `(name, output)` pairs, for tests."""
    preamble = tool_preamble((ToolResult(n, o) for n, o in results), missing)
    return preamble + expected_answer(prompt)


def with_preamble(plan: Plan, preamble: str) -> Plan:
    """The plan's answer with the tool preamble in front (a continuation gets the missing tail)."""
    if not preamble:
        return plan
    full = preamble + expected_answer(plan.turn.prompt, plan.directives.length, plan.model)
    return replace(plan, answer=full[len(plan.turn.answered) :])


def new_call_id() -> str:
    """A call id shaped like OpenAI's (`call_` and 24 letters or digits)."""
    return "call_" + secrets.token_hex(12)


__all__ = [
    "NO_TOOLS",
    "QUOTE_LIMIT",
    "TOOLS_OFF",
    "ToolCall",
    "ToolResult",
    "ToolStep",
    "ToolTrace",
    "chat_items",
    "expected_tool_answer",
    "next_step",
    "offered_names",
    "requested_calls",
    "response_items",
    "step_for",
    "tool_preamble",
    "tool_trace",
    "with_preamble",
]
