"""The demo server's rate limits over real HTTP: Retry-After as an HTTP date, per-model stream counts and cap."""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime

import openai
import pytest

from tui.demo.server import DemoServerThread


async def test_a_429_can_say_retry_after_as_an_http_date(client: openai.AsyncOpenAI) -> None:
    prompt = "dated limit [[fault:429]] [[retry_after:30]] [[retry_date]] [[fail_times:1]]"
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="demo-chat", messages=[{"role": "user", "content": prompt}])
    when = parsedate_to_datetime(caught.value.response.headers["retry-after"]).timestamp()
    assert 28 <= when - time.time() <= 31
    answer = await client.chat.completions.create(model="demo-chat", messages=[{"role": "user", "content": prompt}])
    assert answer.choices[0].message.content


async def test_streams_per_model_are_counted_and_capped_with_429() -> None:
    with DemoServerThread(max_streams_per_model=2) as demo:
        sdk = openai.AsyncOpenAI(base_url=demo.base_url, api_key="test", max_retries=0)

        async def ask(model: str) -> str:
            prompt = "capped [[len:120]] [[delay:20]]"
            stream = await sdk.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        results = await asyncio.gather(*(ask("demo-chat") for _ in range(3)), ask("other"), return_exceptions=True)
        refused = [r for r in results if isinstance(r, openai.RateLimitError)]
        assert len(refused) == 1
        assert refused[0].response.headers["retry-after"] == "1"
        stats = demo.stats()
        assert stats["max_streams_by_model"] == {"demo-chat": 2, "other": 1}
        assert stats["rate_limited_by_model"] == {"demo-chat": 1}
        assert stats["open_streams_by_model"] == {}
        await sdk.close()
