"""A task's output rendered as Markdown that grows by appending, never by re-rendering."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from tui.engine.tool_calls import ToolCall
from tui.widgets.tool_call_view import ToolCallView


class MarkdownBody(VerticalScroll):
    """Streams fragments through `MarkdownStream`, which merges them when rendering falls behind.

    The container is anchored: it follows the end until the user scrolls up,
    and follows again once they scroll back to the bottom (Textual's anchor).
    A tool call ends the Markdown document it interrupts: the call's view and a
    new document for the text after it follow (an answer without calls stays one document).
    """

    DEFAULT_CSS = """
    MarkdownBody {
        height: 1fr;
        background: $surface;
        & > Markdown { padding: 0 1; background: $surface; min-height: 100%; }
        &.-with-calls > Markdown { min-height: 0; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        # Links in model output are untrusted: never opened on click, only reported.
        yield Markdown(open_links=False)

    @property
    def following(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def _last_document(self) -> Markdown:
        return self.query_children(Markdown).last()

    async def load(self, text: str) -> None:
        """Replace everything at once (a task was opened or ended): one parse, not one per chunk.

        The replacement finishes even if the awaiting worker is cancelled (the
        app quitting as a task ends): a removal cut short cancels the old
        blocks' message loops, which Textual's own shutdown then waits for and
        fails on (see `output_pane.remove_whole`).
        """
        await asyncio.shield(asyncio.ensure_future(self._replace(text)))

    async def _replace(self, text: str) -> None:
        await self._stop_stream()
        if self.has_class("-with-calls"):
            documents = list(self.query_children(Markdown))
            await self.remove_children([*self.query_children(ToolCallView), *documents[1:]])
            self.remove_class("-with-calls")
        await self._last_document().update(text)
        self.anchor()

    async def append(self, text: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self._last_document())
        await self._stream.write(text)

    async def add_call(self, call: ToolCall, text_after: str = "") -> None:
        """Show `call` after the text so far; `text_after` (and later appends) go below it."""
        await self._stop_stream()
        self.add_class("-with-calls")
        await self.mount_all([ToolCallView(call), Markdown(text_after, open_links=False)])

    def update_call(self, call: ToolCall) -> None:
        for view in self.query_children(ToolCallView):
            if view.call.call_id == call.call_id:
                view.call = call
                view.redraw()
                return

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def on_unmount(self) -> None:
        await self._stop_stream()
