"""Turn provider and transport failures into one short line a person can act on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.engine.redact import Redactor
from tui.safety import one_line

if TYPE_CHECKING:
    from tui.config import ProviderConfig


class MissingKeyError(RuntimeError):
    """The provider names a key variable that is not set; nothing was sent."""


class NoServerError(RuntimeError):
    """The provider has no `base_url` and the engine was given no local server for it; nothing was sent."""


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


def cause_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, each once: a chain may loop back on itself."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def _root_cause(exc: BaseException) -> BaseException:
    """Agent Framework wraps SDK errors; the useful one is the first openai error in the chain."""
    import openai

    return next((e for e in cause_chain(exc) if isinstance(e, openai.OpenAIError)), exc)


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


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `exc` or anything in its cause chain is a `kind` (Agent Framework wraps the SDK's errors)."""
    return any(isinstance(e, kind) for e in cause_chain(exc))


_SCAN_CHARS = 4000
"""How much of a provider's message is read: far more than is shown, so a key cut at the end is never seen."""
_STREAM_ERROR = "OpenAI streaming error: "
"""How Agent Framework words a Responses stream's `error` event (then wraps it in its own exception)."""


def _stream_error(exc: BaseException) -> str | None:
    """The provider's words from a Responses stream's `error` event, without the framework's wrapping."""
    for error in cause_chain(exc):
        if isinstance(error, RuntimeError) and str(error).startswith(_STREAM_ERROR):
            return str(error).removeprefix(_STREAM_ERROR)
    return None


def _short(text: str, redactor: Redactor, limit: int = 160) -> str:
    """One line, secrets hidden before it is cut short; control characters (ESC, C1...) made visible."""
    return one_line(redactor.hide(text[:_SCAN_CHARS]) or "", limit)


def describe_failure(exc: BaseException, provider: ProviderConfig, model: str, redactor: Redactor) -> Failure:
    """Map an exception from a run to a one-line message and whether the stream dropped.

    Every piece of provider text goes through `_short`, which hides the keys `redactor` knows.
    """
    import openai

    def short(text: str) -> str:
        return _short(text, redactor)

    cause = _root_cause(exc)
    detail = short(_server_message(cause))
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
        reason = short(str(cause.__cause__ or cause))
        where = provider.base_url or "the local server (no base_url)"
        return Failure(f"connection to {where} failed: {reason}", dropped=True)
    if isinstance(cause, openai.OpenAIError):
        return Failure(short(str(cause)) or type(cause).__name__, dropped=False)
    if caused_by(exc, json.JSONDecodeError):
        return Failure("the provider sent a malformed stream event (invalid JSON)", dropped=True)
    reported = _stream_error(exc)
    if reported is not None:
        return Failure(f"the provider reported an error: {short(reported)}", dropped=False)
    text = short(str(exc).split(" - ")[-1]) if str(exc) else ""
    return Failure(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, dropped=False)
