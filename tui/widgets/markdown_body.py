"""A task's output rendered as Markdown that grows by appending, never by re-rendering."""

from __future__ import annotations

import asyncio
import re

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Offset
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from tui.engine.tool_calls import ToolCall
from tui.widgets.tool_call_view import ToolCallView

PART_CHARS = 2_000
"""A streamed document this long ends at its next paragraph break, and the text after it goes into a new one.

Textual lays out every block of a document again when its last block grows,
so appends to one long document cost more and more (figures in
docs/performance.md); a new part keeps each append's layout to one short
document, and the body skips the parts scrolled out of view.
"""
FENCE = re.compile(r"^ {0,3}(?:```|~~~)", re.MULTILINE)


class MarkdownBody(VerticalScroll):
    """Streams fragments through `MarkdownStream`, which merges them when rendering falls behind.

    The container is anchored: it follows the end until the user scrolls up,
    and follows again once they scroll back to the bottom (Textual's anchor).
    A tool call ends the Markdown document it interrupts: the call's view and a
    new document for the text after it follow. A long streamed answer is split
    into parts the same way (`PART_CHARS`); once its task ends, the pane loads
    it again as one document.
    """

    DEFAULT_CSS = """
    MarkdownBody {
        height: 1fr;
        background: $surface;
        & > Markdown { padding: 0 1; background: $surface; min-height: 100%; }
        &.-parts > Markdown { min-height: 0; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._stream: MarkdownStream | None = None
        self._part: list[str] = []
        """The text of the last document since it was loaded or started."""

    def compose(self) -> ComposeResult:
        # Links in model output are untrusted: never opened on click, only reported.
        yield Markdown(open_links=False)

    @property
    def following(self) -> bool:
        """At the end, or the text is shorter than the view (nothing to scroll: new text stays in view)."""
        return self.max_scroll_y == 0 or self.scroll_y >= self.max_scroll_y - 1

    @property
    def scroll_offset(self) -> Offset:
        """Never above the top, where Textual's anchor can put a body shorter than its view (textual#6652).

        The anchor sets `scroll_y` to the content's bottom less the view's
        height, unchecked: a short answer after a tool call (its documents have
        no minimum height) was drawn against the pane's bottom edge, or, when
        the value went stale, out of sight, leaving the pane blank.
        """
        offset = super().scroll_offset
        return offset if offset.y >= 0 else Offset(offset.x, 0)

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
        if self.has_class("-parts"):
            documents = list(self.query_children(Markdown))
            await self.remove_children([*self.query_children(ToolCallView), *documents[1:]])
            self.remove_class("-parts")
        self._part = [text]
        await self._last_document().update(text)
        self.anchor()

    async def append(self, text: str) -> None:
        cut = _paragraph_break("".join(self._part), text) if sum(map(len, self._part)) >= PART_CHARS else None
        if cut is not None:
            await self._write(text[:cut])
            await self._start_part([])
            text = text[cut:]
        await self._write(text)

    async def _write(self, text: str) -> None:
        if not text:
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self._last_document())
        self._part.append(text)
        await self._stream.write(text)

    async def _start_part(self, widgets: list[Widget], text: str = "") -> None:
        """End the last document: `widgets` and a new document holding `text` follow it."""
        await self._stop_stream()
        self.add_class("-parts")
        self._part = [text]
        await self.mount_all([*widgets, Markdown(text, open_links=False)])

    async def add_call(self, call: ToolCall, text_after: str = "") -> None:
        """Show `call` after the text so far; `text_after` (and later appends) go below it."""
        await self._start_part([ToolCallView(call)], text_after)

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


def _paragraph_break(document: str, text: str) -> int | None:
    """Where in `text`, appended to `document`, the last paragraph break outside a code fence ends; None if none."""
    blank = text.rfind("\n\n")
    if blank < 0:
        return None
    cut = blank + 2
    return cut if len(FENCE.findall(document + text[:cut])) % 2 == 0 else None
