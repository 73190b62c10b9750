"""Turn provider and transport failures into one short line a person can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.config import ProviderConfig


@dataclass(frozen=True)
class Failure:
    message: str
    dropped: bool
    """True when the connection broke: the task can be continued, not just retried."""
    not_found: bool = False


STATUS_WORDS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _root_cause(exc: BaseException) -> BaseException:
    """Agent Framework wraps SDK errors; the useful one is the first openai error in the chain."""
    import openai

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, openai.OpenAIError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return exc


def _server_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    if isinstance(body, str):
        try:
            return _server_message(type("E", (), {"body": json.loads(body)})())
        except ValueError:
            return body
    return ""


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _short(text: str, limit: int = 160) -> str:
    """One line; control characters from a provider's message (ESC, C1...) made visible."""
    from tui.safety import visible_controls

    line = visible_controls(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_failure(exc: BaseException, provider: ProviderConfig, model: str) -> Failure:
    """Map an exception from a run to a one-line message and whether the stream dropped."""
    import openai

    cause = _root_cause(exc)
    detail = _short(_server_message(cause))
    if isinstance(cause, openai.APIStatusError):
        code = cause.status_code
        head = f"{code} {STATUS_WORDS.get(code, 'Error')}"
        key_hint = provider.api_key_env or f"api_key_env of provider {provider.name!r} (it sends no key)"
        if code == 401:
            return Failure(f"{head}: check {key_hint}" + (f" ({detail})" if detail else ""), dropped=False)
        if code == 403:
            return Failure(f"{head}: the key in {key_hint} may not use model {model!r}", dropped=False)
        if code == 404:
            what = detail or f"model {model!r} or URL {provider.base_url} not found"
            return Failure(f"{head}: {what}", dropped=False, not_found=True)
        if code == 429:
            return Failure(f"{head}: rate limited, retries used up" + (f" ({detail})" if detail else ""), False)
        return Failure(f"{head}" + (f": {detail}" if detail else ""), dropped=code >= 500)
    if isinstance(cause, openai.APITimeoutError):
        return Failure("no data from the provider before the read timeout", dropped=True)
    if isinstance(cause, openai.APIConnectionError):
        reason = _short(str(cause.__cause__ or cause))
        where = provider.base_url or "the demo server"
        return Failure(f"connection to {where} failed: {reason}", dropped=True)
    if isinstance(cause, openai.OpenAIError):
        return Failure(_short(str(cause)) or type(cause).__name__, dropped=False)
    if _caused_by(exc, json.JSONDecodeError):
        return Failure("the provider sent a malformed stream event (invalid JSON)", dropped=True)
    text = _short(str(exc).split(" - ")[-1]) if str(exc) else ""
    return Failure(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, dropped=False)
