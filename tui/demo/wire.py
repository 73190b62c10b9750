"""OpenAI wire shapes the demo server sends: ids, errors, Chat Completions objects.

Shapes follow the `openai` SDK's pydantic models (types/chat/*, types/completion_usage.py)
and what api.openai.com actually sends, so clients tested here behave the same there.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from tui.demo.rate_limits import retry_after_value
from tui.demo.tools import ToolCall

SSE_DONE = b"data: [DONE]\n\n"
MALFORMED_SSE = b'data: {"broken\n\n'
SYSTEM_FINGERPRINT = "fp_demo0001"
_ALPHABET = string.ascii_letters + string.digits

# status -> (message, type, code); `{model}` is filled in.
_FAULTS: dict[int, tuple[str, str, str | None]] = {
    401: (
        "Incorrect API key provided: sk-demo***********************fake. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"),
    404: (
        "The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    429: (
        "Rate limit reached for {model} in organization org-demo on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 20s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None),
}


class ApiError(Exception):
    """Raised by handlers to answer with an OpenAI-style error response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def new_id(prefix: str, size: int = 29) -> str:
    """An OpenAI-looking id such as `chatcmpl-...`, `resp_...`, `msg_...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(size))


CHARS_PER_TOKEN = 4


def approx_tokens(text_length: int) -> int:
    """Token estimate used for usage numbers: about four characters per token."""
    return (text_length + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def error_response(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error in OpenAI's `{"error": {...}}` envelope, which the SDK turns into `APIStatusError`s."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def missing_param(param: str) -> web.Response:
    message = f"Missing required parameter: '{param}'."
    return error_response(400, message, param=param, code="missing_required_parameter")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body, or the 400 OpenAI sends for anything else."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        message = "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."
        raise ApiError(error_response(400, message))
    return body


def fault_response(status: int, model: str, retry_after: float | None, *, http_date: bool = False) -> web.Response:
    """The error a `[[fault:CODE]]` directive asks for, worded like the real API."""
    fallback = ("Injected fault", "server_error" if status >= 500 else "invalid_request_error", None)
    message, type_, code = _FAULTS.get(status, fallback)
    headers = {}
    if retry_after is not None and status in (429, 503):
        headers["retry-after"] = retry_after_value(retry_after, http_date=http_date)
    return error_response(status, message.format(model=model), type_=type_, code=code, headers=headers)


def masked_key(key: str) -> str:
    """How OpenAI echoes a wrong key: a few characters at each end, stars between."""
    if len(key) < 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def sse_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One Responses-API SSE frame: `event:` line, `data:` line, blank line."""
    return b"event: " + event_type.encode() + b"\ndata: " + json.dumps(payload).encode() + b"\n\n"


def token_counts(
    prompt_chars: int, output_chars: int, cached: int = 0, reasoning: int = 0
) -> tuple[int, int, int, int]:
    """Input, cached input, output and reasoning tokens: reasoning is part of the output, cached part of the input."""
    prompt = approx_tokens(prompt_chars)
    return prompt, min(max(cached, 0), prompt), approx_tokens(output_chars) + max(reasoning, 0), max(reasoning, 0)


def chat_usage(prompt_chars: int, completion_chars: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    prompt, cached, completion, reasoning = token_counts(prompt_chars, completion_chars, cached, reasoning)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class ChatChunks:
    """Pre-serialised `chat.completion.chunk` frames for one stream (only the delta text varies)."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.id = new_id("chatcmpl-")
        self.created = int(time.time())
        self.model = model
        self._include_usage = include_usage
        head = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        head_json = json.dumps(head)[:-1]
        self._content_prefix = ("data: " + head_json + ', "choices": [{"index": 0, "delta": {"content": ').encode()
        tail = ', "usage": null' if include_usage else ""
        self._content_suffix = ('}, "logprobs": null, "finish_reason": null}]' + tail + "}\n\n").encode()
        self._head = head

    def _frame(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {**self._head, "choices": choices, **extra}
        if self._include_usage:
            body.setdefault("usage", None)
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    def first(self) -> bytes:
        """The opening chunk: role and empty content, as OpenAI sends it."""
        delta = {"role": "assistant", "content": "", "refusal": None}
        return self._frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def content(self, text: str) -> bytes:
        return self._content_prefix + json.dumps(text).encode() + self._content_suffix

    def reasoning(self, text: str) -> bytes:
        """A reasoning delta as DeepSeek and vLLM send it: `reasoning_content`, no `content`."""
        delta = {"content": None, "reasoning_content": text}
        return self._frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def finish(self, reason: str = "stop") -> bytes:
        return self._frame([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}])

    def tool_call_start(self, index: int, call_id: str, name: str, *, first: bool) -> bytes:
        """A call's opening delta: id, type, name and empty arguments (the first also carries the role)."""
        call = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        delta: dict[str, Any] = {"tool_calls": [call]}
        if first:
            delta = {"role": "assistant", "content": None, **delta, "refusal": None}
        return self._frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def tool_call_arguments(self, index: int, fragment: str) -> bytes:
        delta = {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
        return self._frame([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def usage(self, usage: dict[str, Any]) -> bytes:
        """The extra last chunk `stream_options.include_usage` asks for: no choices, usage set."""
        return self._frame([], usage=usage)


def output_limit(body: dict[str, Any], *names: str) -> int | None:
    """The first of these output-token limits a request body carries (a positive whole number), or None."""
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def chat_completion(
    model: str, text: str, usage: dict[str, Any], tool_calls: Sequence[ToolCall] = (), finish_reason: str = "stop"
) -> dict[str, Any]:
    """A whole non-streamed `chat.completion` object; `tool_calls`, if any, replace the text."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    if tool_calls:
        message["content"], finish_reason = None, "tool_calls"
        message["tool_calls"] = [
            {"id": call.call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in tool_calls
        ]
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
