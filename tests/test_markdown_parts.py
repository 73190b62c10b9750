"""A streamed Markdown answer grows in short documents, so each append lays out only the last one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.demo.script import expected_answer
from tui.widgets.markdown_body import FENCE, PART_CHARS, MarkdownBody

FRAGMENT = 120


class _BodyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MarkdownBody()


def _sources(body: MarkdownBody) -> list[str]:
    return [document.source for document in body.query_children(Markdown)]


@asynccontextmanager
async def _streamed(answer: str) -> AsyncIterator[MarkdownBody]:
    """A body in a running app, once `answer` has been appended to it in fragments, as a stream does."""
    app = _BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        body = app.query_one(MarkdownBody)
        for start in range(0, len(answer), FRAGMENT):
            await body.append(answer[start : start + FRAGMENT])
        await pilot.pause()
        yield body


async def test_a_long_streamed_answer_grows_in_short_documents_and_loads_whole_as_one() -> None:
    answer = expected_answer("a few pages [[len:8000]]")
    async with _streamed(answer) as body:
        parts = _sources(body)
        assert "".join(parts) == answer, "every character shown, in order"
        assert len(parts) >= len(answer) // (PART_CHARS * 2)
        assert all(len(part) < PART_CHARS * 1.5 for part in parts[:-1]), [len(p) for p in parts]
        assert all(part.endswith("\n\n") for part in parts[:-1]), "parts end at paragraph breaks"
        await body.load(answer)
        assert _sources(body) == [answer], "an ended answer is one document again"


async def test_a_code_block_with_blank_lines_is_never_cut_into_two_parts() -> None:
    code = "```python\n" + "x = 1\n\n" * 60 + "```\n\n"
    answer = "Intro paragraph.\n\n" * 150 + code + "After the code.\n\n" * 20
    async with _streamed(answer) as body:
        parts = _sources(body)
        assert len(parts) > 1 and "".join(parts) == answer
        assert all(len(FENCE.findall(part)) % 2 == 0 for part in parts), [len(p) for p in parts]
