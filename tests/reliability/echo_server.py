"""A provider that echoes the caller's API key back, as real ones do in their error messages.

The prompt says where and how: `place=P form=F`. Places: `401` (OpenAI's JSON
error, "Incorrect API key provided: ..."), `400` (a plain-text body), `stream`
(an error event after some text: Chat Completions' `data: {"error": ...}`,
the Responses API's `event: error`), `failed` (Responses `response.failed`).
Forms are the key itself and the masked ways providers quote it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

FORMS: list[Callable[[str], str]] = [
    lambda key: key,
    lambda key: f"{key[:3]}...{key[-3:]}",
    lambda key: f"{key[:6]}{'*' * 11}{key[-3:]}",
    lambda key: f"{key[:8]}****{key[-4:]}",
    lambda key: f"{key[:3]}…{key[-4:]}",
]
PLACES = {"chat": ["401", "400", "stream"], "responses": ["401", "400", "stream", "failed"]}
_ASK = re.compile(rb"place=(\w+) form=(\d)")


def echoed(key: str, form: int) -> str:
    return FORMS[form](key)


def _sse(event: str | None, payload: dict[str, Any]) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload)}\n\n".encode()


def _response(status: str, model: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "resp_echo", "object": "response", "created_at": 0, "status": status, "background": False,
            "error": error, "incomplete_details": None, "instructions": None, "model": model, "output": [],
            "parallel_tool_calls": True, "temperature": 1.0, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "usage": None, "metadata": {}}


async def _answer(request: web.Request, api: str) -> web.StreamResponse:
    raw = await request.read()
    key = request.headers.get("Authorization", "").removeprefix("Bearer ")
    asked = _ASK.search(raw)
    place, form = (asked.group(1).decode(), int(asked.group(2))) if asked else ("401", 0)
    quoted = echoed(key, form)
    model = json.loads(raw).get("model", "m")
    if place == "401":
        message = (f"Incorrect API key provided: {quoted}. You can find your API key at "
                   "https://platform.openai.com/account/api-keys.")
        return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                            "code": "invalid_api_key"}}, status=401)
    if place == "400":
        return web.Response(status=400, text=f"bad request from key {quoted}", content_type="text/plain")
    stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await stream.prepare(request)
    if api == "chat":
        await stream.write(_sse(None, {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                       "choices": [{"index": 0, "delta": {"role": "assistant", "content": "partial "},
                                                    "finish_reason": None}]}))
        await stream.write(_sse(None, {"error": {"message": f"stream broke for key {quoted}",
                                                 "type": "server_error", "code": None}}))
    else:
        await stream.write(_sse("response.created", {"type": "response.created", "sequence_number": 0,
                                                     "response": _response("in_progress", model)}))
        await stream.write(_sse("response.output_text.delta", {
            "type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": "partial "}))
        if place == "failed":
            failed = _response("failed", model, {"code": "server_error", "message": f"failed for key {quoted}"})
            await stream.write(_sse("response.failed", {"type": "response.failed", "sequence_number": 2,
                                                        "response": failed}))
        else:
            await stream.write(_sse("error", {"type": "error", "sequence_number": 2, "code": "invalid_api_key",
                                              "message": f"stream error for key {quoted}", "param": None}))
    await stream.write_eof()
    return stream


async def _chat(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "chat")


async def _responses(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "responses")


class EchoServerThread:
    """The echoing provider on its own loop in a daemon thread; `start()` returns the base URL."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="echo-provider", daemon=True)

    def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", _chat)
        app.router.add_post("/v1/responses", _responses)
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._serve(app), self._loop).result(10)

    async def _serve(self, app: web.Application) -> str:
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
