"""Tokens and cost over real HTTP: the demo server's reported usage, priced by the config, or estimated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp import web

from tests.conftest import config_for
from tests.engine_helpers import cancel_and_wait, run_done, start_until
from tui.config import ConfigError, ProviderConfig, parse_config
from tui.config_prices import PriceList, Prices
from tui.demo.server import DemoServerThread
from tui.engine import Engine, TaskStatus, Usage
from tui.engine.clients import ClientFactory
from tui.engine.usage_meter import estimate_tokens

DEEPSEEK = Prices(input=0.27, output=1.10, cached_input=0.07)
REASONER = Prices(input=0.55, output=2.19)
PRICED = PriceList(DEEPSEEK, {"demo-reasoner": REASONER})


@pytest.fixture
async def engine(demo: DemoServerThread) -> AsyncIterator[Engine]:
    engine = Engine(config_for(demo.base_url, prices=PRICED))
    yield engine
    await engine.aclose()


def dollars(inputs: int, cached: int, outputs: int, prices: Prices) -> float:
    cached_price = prices.input if prices.cached_input is None else prices.cached_input
    return ((inputs - cached) * prices.input + cached * cached_price + outputs * prices.output) / 1_000_000


async def test_chat_cost_is_the_reported_usage_at_the_configured_prices(
    engine: Engine, client: openai.AsyncOpenAI
) -> None:
    prompt = "price me [[len:400]][[delay:0]][[cached:5]][[reasoning:7]]"
    task = await run_done(engine, prompt)
    stream = await client.chat.completions.create(
        model="demo-chat", messages=[{"role": "user", "content": prompt}], stream=True,
        stream_options={"include_usage": True},
    )
    reported = [chunk.usage async for chunk in stream if chunk.usage is not None][-1]
    usage = task.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (
        reported.prompt_tokens, reported.completion_tokens, reported.total_tokens,
    )
    assert usage.cached_input_tokens == 5 and usage.reasoning_tokens == 7 and not usage.estimated
    expected = dollars(reported.prompt_tokens, 5, reported.completion_tokens, DEEPSEEK)
    assert engine.cost_of(task) == pytest.approx(expected, rel=1e-12) and expected > 0
    assert engine.spent_usd() == pytest.approx(expected, rel=1e-12)


async def test_responses_cost_and_per_model_override(engine: Engine, client: openai.AsyncOpenAI) -> None:
    prompt = "reasoner price [[len:300]][[delay:0]][[reasoning:11]]"
    task = await run_done(engine, prompt, provider="resp", model="demo-reasoner")
    response = await client.responses.create(model="demo-reasoner", input=prompt)
    reported = response.usage
    assert reported is not None
    assert (task.usage.input_tokens, task.usage.output_tokens) == (reported.input_tokens, reported.output_tokens)
    assert task.usage.reasoning_tokens == 11
    assert engine.cost_of(task) == pytest.approx(
        dollars(reported.input_tokens, 0, reported.output_tokens, REASONER), rel=1e-12
    )


async def test_no_price_means_cost_unknown_not_zero(demo: DemoServerThread) -> None:
    engine = Engine(config_for(demo.base_url))
    try:
        task = await run_done(engine, "unpriced [[len:100]][[delay:0]]")
    finally:
        await engine.aclose()
    assert task.usage.total_tokens and engine.cost_of(task) is None
    assert task.summary()["cost_usd"] is None and engine.spent_usd() == 0.0


async def test_cancelled_chat_task_is_estimated_from_its_text(engine: Engine) -> None:
    prompt = "cancel and estimate [[len:5000]][[delay:20]]"
    task = engine.add_task(prompt)
    await cancel_and_wait(engine, task, await start_until(engine, task, 48))
    assert task.status is TaskStatus.CANCELLED
    usage = task.usage
    assert usage.estimated
    assert (usage.input_tokens, usage.output_tokens) == (estimate_tokens(len(prompt)), estimate_tokens(task.chars))
    assert engine.cost_of(task) == pytest.approx(dollars(usage.input_tokens, 0, usage.output_tokens, DEEPSEEK))
    assert task.summary()["usage"]["estimated"] is True


async def test_cancelled_background_response_records_what_the_server_says_it_used(
    engine: Engine, client: openai.AsyncOpenAI
) -> None:
    task = engine.add_task("cancel in background [[len:5000]][[delay:20]]", provider="resp")
    runner = await start_until(engine, task, 48)
    assert task.continuation_token is not None
    response_id = task.continuation_token["response_id"]
    await cancel_and_wait(engine, task, runner)
    reported = (await client.responses.retrieve(response_id)).usage
    assert reported is not None and reported.output_tokens > 0
    assert not task.usage.estimated
    assert (task.usage.input_tokens, task.usage.output_tokens) == (reported.input_tokens, reported.output_tokens)
    assert engine.cost_of(task) == pytest.approx(dollars(reported.input_tokens, 0, reported.output_tokens, DEEPSEEK))


def parse(providers: dict[str, Any]) -> Any:
    return parse_config({"providers": providers}, Path("prices.toml"), environ={})


def test_price_keys_per_provider_and_per_model() -> None:
    config = parse({"deepseek": {
        "base_url": "https://api.deepseek.com/v1", "model": "deepseek-chat",
        "price_input": 0.27, "price_output": 1.10, "price_cached_input": 0.07,
        "prices": {"deepseek-reasoner": {"price_input": 0.55, "price_output": 2.19}, "cheap": {"price_input": 0}},
    }})
    prices = config.provider("deepseek").prices
    assert prices.for_model("deepseek-chat") == DEEPSEEK
    assert prices.for_model("deepseek-reasoner") == Prices(0.55, 2.19, 0.07)
    assert prices.for_model("cheap") == Prices(0.0, 1.10, 0.07)


def test_a_builtin_provider_can_be_priced() -> None:
    config = parse({"demo": {"price_input": 1, "price_output": 2}})
    demo = config.provider("demo")
    assert demo.builtin and demo.base_url is None and demo.prices.for_model("demo-chat") == Prices(1.0, 2.0)


@pytest.mark.parametrize(("table", "message"), [
    ({"price_input": -1, "price_output": 1}, "key 'providers.p.price_input': must be between 0 and"),
    ({"price_input": "cheap", "price_output": 1}, "key 'providers.p.price_input': must be a number, got str"),
    ({"price_input": 1}, "sets a price but not price_output"),
    ({"prices": {"m": {"price_output": 1}}}, "key 'providers.p.prices.\"m\"': sets a price but not price_input"),
    ({"prices": {"m": {"price_in": 1}}}, "unknown setting (did you mean 'price_input'?)"),
    ({"prices": {"m": 3}}, "must be a table"),
])
def test_bad_prices_are_one_clear_config_error(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse({"p": {"base_url": "http://127.0.0.1:1/v1", "model": "m", **table}})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_cells_mark_estimates_and_never_show_an_unknown_cost_as_zero() -> None:
    from tui.widgets.formatting import cost_cell, tokens_cell

    reported = Usage(input_tokens=1000, output_tokens=234, total_tokens=1234, cost_usd=0.00052)
    guessed = Usage(input_tokens=10, output_tokens=5, total_tokens=15, estimated=True, cost_usd=1.5)
    unpriced = Usage(input_tokens=10, output_tokens=5, total_tokens=15)
    assert (tokens_cell(reported), cost_cell(reported)) == ("1,234", "$0.0005")
    assert (tokens_cell(guessed), cost_cell(guessed)) == ("~15", "~$1.50")
    assert (tokens_cell(unpriced), cost_cell(unpriced)) == ("15", "–")
    assert (tokens_cell(Usage()), cost_cell(Usage())) == ("", "")


@pytest.mark.parametrize("provider", ["chat", "resp"])
async def test_each_tool_round_counts(engine: Engine, provider: str) -> None:
    """A tool round is two model calls, each reporting its usage: the task used both (the demo reports
    `[[reasoning:5]]` on each)."""
    prompt = '[[tool:word_count {"text": "a b c"}]] [[len:40]][[delay:0]][[reasoning:5]] count'
    task = await run_done(engine, prompt, provider=provider, tools=["demo"])
    assert len(task.tool_calls) == 1
    assert task.usage.reasoning_tokens == 10


async def test_a_running_task_costs_what_its_text_so_far_is_estimated_at(engine: Engine) -> None:
    prompt = "running cost [[len:5000]][[delay:20]]"
    task = engine.add_task(prompt)
    runner = await start_until(engine, task, 48)
    chars = task.chars
    spent = engine.spent_usd()
    await cancel_and_wait(engine, task, runner)
    inputs = estimate_tokens(len(prompt))
    assert spent >= dollars(inputs, 0, estimate_tokens(chars), DEEPSEEK) > 0
    assert spent <= engine.cost_of(task) == pytest.approx(dollars(inputs, 0, estimate_tokens(task.chars), DEEPSEEK))


async def test_a_cancel_answered_without_usage_is_followed_by_one_retrieve() -> None:
    """Some servers answer a cancel before they have counted; the response is then retrieved once."""
    usage = {"input_tokens": 40, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 90,
             "output_tokens_details": {"reasoning_tokens": 30}, "total_tokens": 130}
    seen: list[str] = []

    def response(request: web.Request, counted: bool) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({"id": "resp_1", "object": "response", "status": "cancelled", "output": [],
                                  "usage": usage if counted else None})

    async def cancel(request: web.Request) -> web.Response:
        return response(request, counted=False)

    async def retrieve(request: web.Request) -> web.Response:
        return response(request, counted=True)

    app = web.Application()
    app.router.add_post("/v1/responses/resp_1/cancel", cancel)
    app.router.add_get("/v1/responses/resp_1", retrieve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    clients = ClientFactory()
    try:
        spec = ProviderConfig("slow-count", "responses", "m", base_url=f"http://127.0.0.1:{port}/v1")
        used = await clients.cancel_background(spec, "resp_1")
    finally:
        await clients.close()
        await runner.cleanup()
    assert seen == ["POST /v1/responses/resp_1/cancel", "GET /v1/responses/resp_1"]
    assert used == Usage(input_tokens=40, output_tokens=90, total_tokens=130, cached_input_tokens=8,
                         reasoning_tokens=30)
