"""A run's exception, sent from the stream worker as data and rebuilt in the UI process.

The engine reads failures by type and attribute: `describe_failure` (status
code, body, the cause of a connection error), `refusal` (Retry-After headers),
`caused_by(exc, openai.NotFoundError)`, and our own errors by class. So the
worker sends each exception of the cause chain with what those read, and the UI
process builds real `openai` exceptions (with an `httpx2.Response`) and our own
classes again; any other exception becomes one of the same type name and message.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from tui.engine.errors import MissingKeyError, NoServerError, cause_chain

JSON_DOC_CHARS = 200
"""How much of a malformed event's text follows its exception: enough for the position it names."""


class WorkerStopped(RuntimeError):
    """The stream worker process died under a run: the task is interrupted, to be continued by the operator."""


@dataclass(frozen=True)
class ExceptionData:
    module: str
    name: str
    message: str
    status_code: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None
    request: tuple[str, str] | None = None
    """Method and URL of the HTTP request an `openai` error was about."""
    extra: tuple[Any, ...] = ()
    """What our own exceptions are rebuilt from (`McpStartError`'s name and reason, `JSONDecodeError`'s parts)."""


ErrorData = list[ExceptionData]
"""The exception first, then what it was raised from or during."""


def error_data(exc: BaseException) -> ErrorData:
    return [_one(item) for item in cause_chain(exc)]


def _one(exc: BaseException) -> ExceptionData:
    import openai

    kind = type(exc)
    data = ExceptionData(kind.__module__, kind.__qualname__, str(exc))
    request = getattr(exc, "request", None) if isinstance(exc, openai.APIError) else None
    where = (request.method, str(request.url)) if request is not None else None
    if isinstance(exc, openai.APIStatusError):
        headers = list(exc.response.headers.multi_items())
        return ExceptionData(data.module, data.name, exc.message, exc.status_code, headers, exc.body, where)
    if isinstance(exc, openai.APIError):
        return ExceptionData(data.module, data.name, exc.message, body=exc.body, request=where)
    if isinstance(exc, json.JSONDecodeError):
        parts = (exc.msg, exc.doc[: exc.pos + JSON_DOC_CHARS], exc.pos)
        return ExceptionData(data.module, data.name, data.message, extra=parts)
    reason = getattr(exc, "reason", None)
    if data.name == "McpStartError" and isinstance(reason, str):
        return ExceptionData(data.module, data.name, data.message, extra=(reason,))
    return data


def rebuild(data: ErrorData) -> BaseException:
    chain = [_rebuild_one(item) for item in data]
    for exc, cause in zip(chain, chain[1:], strict=False):
        exc.__cause__ = cause
    return chain[0]


def _rebuild_one(data: ExceptionData) -> BaseException:
    import httpx2 as httpx  # the HTTP library this openai SDK is built on
    import openai

    if data.module.startswith("openai"):
        kind = getattr(openai, data.name, None)
        request = httpx.Request(*(data.request or ("POST", "http://127.0.0.1/")))
        if isinstance(kind, type) and issubclass(kind, openai.APIStatusError) and data.status_code is not None:
            response = httpx.Response(data.status_code, headers=data.headers, request=request)
            return kind(data.message, response=response, body=data.body)
        if kind is openai.APITimeoutError:
            return openai.APITimeoutError(request=request)
        if isinstance(kind, type) and issubclass(kind, openai.APIConnectionError):
            return kind(message=data.message, request=request)
        if isinstance(kind, type) and issubclass(kind, openai.APIError):
            return openai.APIError(data.message, request, body=data.body)
        return _look_alike(data, openai.OpenAIError)
    ours = _our_exception(data)
    if ours is not None:
        return ours
    if data.module == "builtins":
        kind = getattr(builtins, data.name, None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            try:
                return kind(data.message)
            except Exception:
                pass
    return _look_alike(data, Exception)


def _our_exception(data: ExceptionData) -> BaseException | None:
    from tui.engine.mcp_servers import McpStartError, ToolNameClash

    if data.name == "JSONDecodeError" and len(data.extra) == 3:
        return json.JSONDecodeError(*data.extra)
    if data.name == "McpStartError" and data.extra:
        exc = McpStartError("", data.extra[0])
        exc.args = (data.message,)
        return exc
    for kind in (MissingKeyError, NoServerError, ToolNameClash, WorkerStopped):
        if data.module == kind.__module__ and data.name == kind.__qualname__:
            return kind(data.message)
    return None


_LOOK_ALIKES: dict[tuple[str, str, type], type[BaseException]] = {}


def _look_alike(data: ExceptionData, base: type[BaseException]) -> BaseException:
    """An exception of the same type name (and module) and message, for types the engine does not inspect."""
    key = (data.module, data.name, base)
    kind = _LOOK_ALIKES.get(key)
    if kind is None:
        name = data.name.rpartition(".")[2] or "Exception"
        kind = _LOOK_ALIKES[key] = type(name, (base,), {"__module__": data.module, "__qualname__": name})
    return kind(data.message)
