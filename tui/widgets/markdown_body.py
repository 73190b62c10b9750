"""A task's output rendered as Markdown that grows by appending, never by re-rendering."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class MarkdownBody(VerticalScroll):
    """Streams fragments through `MarkdownStream`, which merges them when rendering falls behind.

    The container is anchored: it follows the end until the user scrolls up,
    and follows again once they scroll back to the bottom (Textual's anchor).
    """

    DEFAULT_CSS = """
    MarkdownBody {
        height: 1fr;
        background: $surface;
        & > Markdown { padding: 0 1; background: $surface; min-height: 100%; }
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

    async def load(self, text: str) -> None:
        """Replace everything at once (a task was opened): one parse, not one per chunk."""
        await self._stop_stream()
        await self.query_one(Markdown).update(text)
        self.anchor()

    async def append(self, text: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one(Markdown))
        await self._stream.write(text)

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def on_unmount(self) -> None:
        await self._stop_stream()
