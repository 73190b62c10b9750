"""A streamed Markdown answer grows in short documents, so each append lays out only the last one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tests.app_helpers import screen_lines
from tui.demo.script import expected_answer
from tui.engine.tool_calls import ToolCall
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


async def test_a_short_answer_after_a_tool_call_is_drawn_from_the_top_of_the_pane() -> None:
    """Textual's anchor scrolls a body shorter than its view above the top (textual#6652); it must not show."""
    app = _BodyApp()
    async with app.run_test(size=(100, 25)) as pilot:
        body = app.query_one(MarkdownBody)
        await body.load("")
        await body.add_call(ToolCall("c1", "clock", "demo", "{}", offset=0), "The time is noon.")
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)  # type: ignore[arg-type]
        assert "⚙ clock" in lines[0] + lines[1], lines[:3]
        assert any("The time is noon." in line for line in lines[:10])
        assert body.following, "nothing to scroll: the body follows new text"
