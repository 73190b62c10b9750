"""The demo server: an OpenAI-compatible aiohttp app on 127.0.0.1, and ways to run it.

`DemoServerThread` gives it its own event loop in a daemon thread (the app and
tests use that, so server work never runs on the UI's loop); `run_forever`
backs the `agentdeck demo-server` command. Never imports Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from tui.demo.rate_limits import RELEASE, retry_after_value
from tui.demo.server_chat import ChatApi
from tui.demo.server_responses import ResponsesApi
from tui.demo.state import DemoServer
from tui.demo.streaming import log
from tui.demo.wire import ApiError, error_response, masked_key, read_json

HOST = "127.0.0.1"
SERVER_KEY = web.AppKey("demo_server", DemoServer)
_MAX_BODY = 64 * 1024 * 1024  # prompts may carry base64 attachments
_SHUTDOWN_S = 1.0  # streams still open at shutdown are cut after this
_T = TypeVar("_T")

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). "
    "You can obtain an API key from https://platform.openai.com/account/api-keys."
)


def create_app(*, api_key: str | None = None, server: DemoServer | None = None) -> web.Application:
    """The aiohttp application; its state is `app[SERVER_KEY]` (a new `DemoServer` unless given)."""
    server = server or DemoServer(api_key)
    app = web.Application(middlewares=[_gatekeeper(server)], client_max_size=_MAX_BODY)
    app[SERVER_KEY] = server
    responses = ResponsesApi(server)
    app.add_routes(ChatApi(server).routes())
    app.add_routes(responses.routes())
    app.add_routes([web.get("/_demo/stats", _stats), web.post("/_demo/reset", _reset)])
    app.on_response_prepare.append(_add_request_id)
    app.on_shutdown.append(lambda app: responses.shutdown())
    app.on_shutdown.append(lambda app: app[SERVER_KEY].shutdown())
    return app


def _gatekeeper(server: DemoServer) -> Any:
    """Counts requests, checks the key on /v1, and turns errors into OpenAI error bodies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> Any:
        resource = request.match_info.route.resource
        if not request.path.startswith("/_demo/"):
            endpoint = resource.canonical if resource is not None else request.path
            server.stats.request(f"{request.method} {endpoint}", request.headers)
        try:
            if request.path.startswith("/v1/"):
                _check_key(server.api_key, request.headers.get("Authorization", ""))
            if server.stats.models.counts(request.path, request.method):
                return await _counted(server, request, handler)
            return await handler(request)
        except ApiError as error:
            return error.response
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            return error_response(404, f"Invalid URL ({request.method} {request.path})")
        except ConnectionError:  # the client left; aiohttp would log a traceback
            log.info("client left %s before its answer started", request.path)
            return web.Response(status=499)

    return middleware


async def _counted(server: DemoServer, request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> Any:
    """Run a completion request as one of its model's streams, or refuse it with 429 at the model's cap."""
    body = await read_json(request)
    model = str(body.get("model") or "")
    streams = server.stats.models
    if not streams.admit(model):
        retry_after = retry_after_value(streams.cap_retry_after)
        message = f"Rate limit reached for {model}: at most {streams.cap} concurrent requests. Please try again later."
        raise ApiError(error_response(429, message, type_="requests", code="rate_limit_exceeded",
                                      headers={"retry-after": retry_after}))
    request[RELEASE] = release = streams.releaser(model)
    try:
        return await handler(request)
    finally:
        release()


def _check_key(expected: str | None, authorization: str) -> None:
    """401 like OpenAI unless the request carries `Bearer <expected>`; the key is never logged."""
    if expected is None:
        return
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and secrets.compare_digest(token.encode(), expected.encode()):
        return
    if not token:
        raise ApiError(error_response(401, _NO_KEY))
    message = (
        f"Incorrect API key provided: {masked_key(token)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    raise ApiError(error_response(401, message, code="invalid_api_key"))


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("x-request-id", "req_" + secrets.token_hex(16))


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVER_KEY].stats.snapshot())


async def _reset(request: web.Request) -> web.Response:
    stats = request.app[SERVER_KEY].stats
    stats.reset()
    return web.json_response(stats.snapshot())


async def _start(server: DemoServer, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Listen and return the runner and the `/v1` base URL (port 0 picks a free port)."""
    app = create_app(server=server)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_S)

    async def close_connections(_: web.Application) -> None:
        """Cut open streams now rather than waiting out aiohttp's graceful shutdown."""
        if runner.server is not None:
            for connection in runner.server.connections:
                connection.force_close()

    app.on_shutdown.append(close_connections)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}/v1"


class DemoServerThread:
    """The demo server on its own event loop in a daemon thread; `start()` returns the base URL."""

    def __init__(
        self, *, api_key: str | None = None, host: str = HOST, port: int = 0, max_streams_per_model: int | None = None
    ) -> None:
        """`max_streams_per_model` makes the server refuse more concurrent requests per model with 429."""
        self.server = DemoServer(api_key)
        self.server.stats.models.cap = max_streams_per_model
        self.base_url = ""
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start listening (blocks until ready) and return e.g. `http://127.0.0.1:PORT/v1`."""
        if self._thread is not None:
            return self.base_url
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                runner, self.base_url = loop.run_until_complete(_start(self.server, self._host, self._port))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="agentdeck-demo-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = self._loop = None
            raise failure[0]
        return self.base_url

    def stop(self) -> None:
        """Close every connection and stop the thread; safe to call twice."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._thread = self._loop = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def stats(self) -> dict[str, Any]:
        """A consistent copy of the server's stats, taken on the server's loop."""
        return self._call(self.server.stats.snapshot)

    def reset_stats(self) -> None:
        self._call(self.server.stats.reset)

    def _call(self, fn: Callable[[], _T]) -> _T:
        if self._loop is None:
            return fn()

        async def on_loop() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result(timeout=10)

    def __enter__(self) -> DemoServerThread:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def serve(
    host: str = HOST,
    port: int = 0,
    api_key: str | None = None,
    *,
    stop: asyncio.Event | None = None,
    started: Callable[[str], None] | None = None,
    max_streams_per_model: int | None = None,
) -> None:
    """Serve on the current loop until `stop` is set (or the task is cancelled)."""
    server = DemoServer(api_key)
    server.stats.models.cap = max_streams_per_model
    runner, base_url = await _start(server, host, port)
    try:
        if started is not None:
            started(base_url)
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()


def run_forever(port: int, api_key: str | None, max_streams_per_model: int | None = None) -> None:
    """Print the base URL on one line, then serve until SIGINT/SIGTERM."""

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("demo-server: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
                loop.add_signal_handler(sig, stop.set)
        await serve(
            HOST, port, api_key, stop=stop, started=lambda url: print(url, flush=True),
            max_streams_per_model=max_streams_per_model,
        )

    asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    """`agentdeck demo-server [--port P] [--api-key-env VAR]`; also `python -m tui.demo.server`."""
    parser = argparse.ArgumentParser(prog="agentdeck demo-server", description="Run the local demo server.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--api-key-env", metavar="VAR", help="require the key held in this environment variable")
    parser.add_argument(
        "--max-streams-per-model", type=int, metavar="N", help="answer 429 (Retry-After: 1) beyond N requests per model"
    )
    args = parser.parse_args(argv)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            parser.error(f"{args.api_key_env} is not set")
    run_forever(args.port, api_key, args.max_streams_per_model)
    return 0


__all__ = ["SERVER_KEY", "DemoServer", "DemoServerThread", "create_app", "main", "run_forever", "serve"]

if __name__ == "__main__":
    raise SystemExit(main())
