"""A pane places each tool call among the text at its offset, in raw and Markdown bodies, while the text streams."""

from __future__ import annotations

import time

import pytest
from textual.app import App, ComposeResult

from tui.engine import Task, TaskStatus
from tui.engine.tool_calls import ToolCall, ToolCallStatus
from tui.widgets.output_pane import OutputPane
from tui.widgets.raw_body import RawBody


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputPane()


def rows(app: App[None]) -> list[str]:
    return [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]


def index_of(lines: list[str], text: str) -> int:
    return next(index for index, line in enumerate(lines) if text in line)


@pytest.mark.parametrize("raw", [True, False])
async def test_calls_sit_among_streaming_text_at_their_offsets(raw: bool) -> None:
    task = Task(1, "look things up", "demo", "demo-chat", "chat", status=TaskStatus.RUNNING, started_at=time.time())
    app = PaneApp()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(OutputPane)
        pane.raw = raw
        task.output.append("First I look.\n\nBefore the call")
        await pane.show(task)
        call = ToolCall("c1", "search", "docs", '{"query": "tcp"}', offset=task.chars)
        task.tool_calls.append(call)
        task.output.append(" and after it.\n\nThe end so far")
        await pane.show(task)
        await pilot.pause(0.3)
        lines = rows(app)
        assert index_of(lines, "Before the call") < index_of(lines, "⚙ search (docs) · ▶ running") < index_of(
            lines, "and after it."
        )
        call.finish(ToolCallStatus.DONE, result="hit one\nhit two\nhit three\nhit four\n\x1b]0;title\x07")
        task.output.append(", and more.")
        await pane.show(task)
        await pilot.pause(0.3)
        lines = rows(app)
        call_line = index_of(lines, "⚙ search (docs) · ✓ done")
        assert call_line < index_of(lines, "→ hit one") < index_of(lines, "→ hit three")
        assert index_of(lines, "… 2 more lines") < index_of(lines, "and after it.") < index_of(lines, "and more.")
        assert not any("hit four" in line for line in lines)
        assert pane.showing_raw is raw
        if raw:
            body = app.query_one(RawBody)
            assert body.text.endswith("The end so far, and more.")


async def test_a_task_opened_later_shows_its_calls_in_place() -> None:
    task = Task(2, "done already", "demo", "demo-chat", "chat", status=TaskStatus.DONE)
    task.output.append("Intro text.\n")
    first = ToolCall("a", "clock", "demo", "{}", offset=task.chars)
    first.finish(ToolCallStatus.DENIED, error="denied by the operator")
    task.output.append("Middle text.\n")
    second = ToolCall("b", "word_count", "demo", '{"text": "x"}', offset=task.chars)
    second.finish(ToolCallStatus.TIMED_OUT, error="tool word_count timed out after 60 s")
    task.tool_calls += [first, second]
    task.output.append("Closing text.")
    app = PaneApp()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(OutputPane)
        await pane.settle(task)
        await pilot.pause(0.3)
        lines = rows(app)
        order = ["Intro text.", "⚙ clock (demo) · ⊘ denied", "! denied by the operator", "Middle text.",
                 "⚙ word_count (demo) · ⏱ timed out", "! tool word_count timed out", "Closing text."]
        positions = [index_of(lines, text) for text in order]
        assert positions == sorted(positions)
        assert "2 tool calls" in "".join(lines)
