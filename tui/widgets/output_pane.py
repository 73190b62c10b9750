"""One task's output pane: a title, the task's error or notice, and its text as it streams."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from tui.engine import Task, TaskStatus
from tui.engine.tool_calls import ToolCall
from tui.safety import visible_controls
from tui.widgets.find_bar import FindBar
from tui.widgets.formatting import cost_cell, one_line, plural, tokens_cell
from tui.widgets.pane_find import PaneFind
from tui.widgets.raw_body import RawBody
from tui.widgets.status import ICONS, THEME_COLOURS
from tui.widgets.tool_call_text import call_lines, shown_state
from tui.widgets.tool_call_view import ToolCallView

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from tui.widgets.markdown_body import MarkdownBody

MARKDOWN_LIMIT = 50_000
"""Characters above which a pane shows raw text: thousands of Markdown blocks would make scrolling slow."""
LIVE_MARKDOWN_LIMIT = 16_000
"""Above this a running task streams as raw text, and shows as Markdown once it ends.

Every append to a Markdown pane lays out all of its blocks again (Textual's
compositor walks every widget), so the cost of each append grows with the
answer, which froze keys while a long answer streamed (figures in
docs/performance.md).
"""

PLACEHOLDER = "No task selected. Type a prompt below and press Enter."



async def remove_whole(widget: Widget) -> None:
    """Remove `widget`, finishing even if the awaiting worker is cancelled (the app quitting mid-layout).

    Awaiting `remove()` gathers the widget's message loop; cancelling that
    gather cancels the loop too, and Textual's own shutdown, which waits for the
    same loop, then fails with `CancelledError`.
    """
    await asyncio.shield(asyncio.ensure_future(widget.remove()))


class OutputPane(PaneFind, Vertical):
    """Keeps an offset into the task's text and appends only what came after it.

    Opening a task loads its whole text once; after that every refresh costs
    the size of the new text, so a 1 MB answer streams as smoothly as a short one.
    Model text is shown literally: controls are made visible and nothing is
    read as markup.
    """

    DEFAULT_CSS = """
    OutputPane {
        height: 1fr;
        border: round $foreground 25%;
        border-title-color: $foreground;
        border-subtitle-color: $foreground-muted;
        background: $surface;
        &:focus-within { border: round $accent; }
        & > .problem {
            display: none;
            height: auto;
            max-height: 5;
            padding: 0 1;
            color: $text-error;
            background: $error-muted;
        }
        & > .problem.-notice { color: $text-warning; background: $warning-muted; }
        & > .problem.-shown { display: block; }
        & > .placeholder { color: $text-muted; padding: 1 2; height: auto; }
        &.-has-task > .placeholder { display: none; }
    }
    """

    def __init__(self, *, raw: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.task_id: int | None = None
        self.raw = raw
        """Raw text wanted by the user; large outputs are raw regardless, and so is a pane holding a find."""
        self._shown_task: Task | None = None
        self._offset = 0
        self._calls_shown = 0
        """How many of the task's tool calls the body shows (they come in order, each at its text offset)."""
        self._call_states: dict[str, tuple[object, ...]] = {}
        self._body: MarkdownBody | RawBody | None = None
        self._spare: MarkdownBody | RawBody | None = None
        """A Markdown body hidden during a preview, for the pane to reuse when it settles."""
        self._title: Content | None = None
        self._subtitle: Content | None = None
        self._problem: str | None = None
        self._draft = False
        """Previewed as raw text until the cursor rests (see `preview`)."""
        self._streamed = False
        """Markdown appended fragment by fragment since the text was last loaded whole (see `_reload`)."""
        self.awaited = False
        """Another task is about to be shown here (see `OutputArea.expect_change`)."""
        self._lock = asyncio.Lock()

    async def refresh_view(self) -> None:
        await self._show(self._shown_task, draft=False)

    def compose(self) -> ComposeResult:
        yield Static(classes="problem", markup=False)
        yield Static(PLACEHOLDER, classes="placeholder")
        yield FindBar()

    def focus_text(self) -> None:
        """Focus the scrolling text, so arrow keys and Page Up/Down scroll it."""
        if self._body is not None:
            self.screen.set_focus(self._body)

    @property
    def previewing(self) -> bool:
        """Showing a newly selected task as raw text until the cursor rests on it."""
        return self._draft

    @property
    def busy(self) -> bool:
        """Still loading or appending text, or waiting to show another task: what the pane shows is about to change."""
        return self.awaited or self._lock.locked()

    @property
    def showing_raw(self) -> bool:
        return isinstance(self._body, RawBody)

    async def show(self, task: Task | None) -> None:
        """Display `task` (loading its text once), or keep streaming it if it is already shown."""
        await self._show(task, draft=None)

    async def preview(self, task: Task | None) -> None:
        """Show a newly selected task at once as raw text; its Markdown waits for `settle`.

        Laying out a Markdown answer is slow and grows with its length, so
        moving the cursor row by row would wait for it at every row.
        """
        await self._show(task, draft=True)

    async def settle(self, task: Task | None) -> None:
        """Show `task` as it should look (Markdown unless raw is wanted or it is long)."""
        await self._show(task, draft=False)

    async def _show(self, task: Task | None, *, draft: bool | None) -> None:
        """`draft`: True previews a newly shown task, False settles, None keeps the pane's state."""
        async with self._lock:
            if not self.is_attached:
                return  # removed by a layout change while this refresh waited
            if task is None or task.id != self.task_id:
                self.forget_find()
            self._shown_task = task
            if task is None:
                await self._clear()
                return
            if draft is False or task.id != self.task_id:
                self._draft = bool(draft)
            limit = LIVE_MARKDOWN_LIMIT if task.status is TaskStatus.RUNNING else MARKDOWN_LIMIT
            want_raw = self.raw or self._draft or self.raw_for_find or task.chars > limit
            if task.id != self.task_id or want_raw != self.showing_raw or self._body is None:
                await self._open(task, want_raw)
            elif task.status.is_final and self._streamed:
                await self._reload(task)
            else:
                await self._append_new(task)
            self.reapply_find()
            self.show_find_count()
            self._describe(task)

    async def _open(self, task: Task, raw: bool) -> None:
        if self._body is None or isinstance(self._body, RawBody) != raw:
            await self._swap_body(raw)
        self.add_class("-has-task")
        self.task_id = task.id
        self._streamed = False
        text = task.output.since(0)
        self._offset = len(text)
        calls = list(task.tool_calls)
        self._calls_shown, self._call_states = len(calls), {}
        if not calls:
            await self._body.load(visible_controls(text))
            return
        cuts = [min(call.offset, len(text)) for call in calls] + [len(text)]
        await self._body.load(visible_controls(text[: cuts[0]]))
        for index, call in enumerate(calls):
            await self._add_call(call, text[cuts[index] : max(cuts[index], cuts[index + 1])])

    async def _reload(self, task: Task) -> None:
        """Parse a streamed Markdown answer once more, whole, when its task ends; the reader keeps their place.

        Markdown that arrives in fragments is parsed fragment by fragment, and
        where a fragment ends changes the result (a list or a code fence cut in
        two can stay literal text), so the ended answer is shown as one parse.
        """
        body = self._body
        assert body is not None
        following, place = body.following, body.scroll_y
        await self._open(task, raw=False)
        if not following:
            body.anchor(False)
            body.call_after_refresh(body.scroll_to, y=place, animate=False)

    async def _add_call(self, call: ToolCall, text_after: str = "") -> None:
        """Show `call` after the text so far, then the text that followed it."""
        assert self._body is not None
        self._call_states[call.call_id] = shown_state(call)
        if isinstance(self._body, RawBody):
            self._body.add_block(call.call_id, call_lines(call))
            if text_after:
                await self._body.append(visible_controls(text_after))
        else:
            await self._body.add_call(call, visible_controls(text_after))

    async def _sync_calls(self, task: Task) -> None:
        """New calls in order with the text before them; shown calls redrawn when their state changed."""
        assert self._body is not None
        calls = task.tool_calls
        for call in calls[self._calls_shown :]:
            if call.offset > self._offset:
                before = task.output.since(self._offset)[: call.offset - self._offset]
                self._offset += len(before)
                self._streamed = not self.showing_raw
                await self._body.append(visible_controls(before))
            await self._add_call(call)
        self._calls_shown = len(calls)
        for call in calls:
            state = shown_state(call)
            if self._call_states.get(call.call_id) != state:
                self._call_states[call.call_id] = state
                if isinstance(self._body, RawBody):
                    self._body.update_block(call.call_id, call_lines(call))
                else:
                    self._body.update_call(call)

    async def _swap_body(self, raw: bool) -> None:
        """Show a raw or a Markdown body in place of the current one, keeping the reader's focus.

        A preview only hides the Markdown body (kept as `_spare` and reused
        when the pane settles): removing its hundreds of widgets would delay
        the preview.
        """
        old = self._body
        focused = old is not None and old.has_focus_within
        if old is not None:
            if self._draft and not isinstance(old, RawBody):
                old.display = False
                self._spare = old
            else:
                await remove_whole(old)
        if not raw and self._spare is not None:
            self._body, self._spare = self._spare, None
            self._body.display = True
        else:
            if not self._draft and self._spare is not None:
                await remove_whole(self._spare)  # settled as raw text: the hidden Markdown is not coming back
                self._spare = None
            self._body = RawBody() if raw else _markdown_body()
            await self.mount(self._body)
        if focused:
            self._body.focus()

    async def _append_new(self, task: Task) -> None:
        if task.tool_calls:
            await self._sync_calls(task)
        new = task.output.since(self._offset)
        if not new:
            return
        self._offset += len(new)
        assert self._body is not None
        self._streamed = not self.showing_raw
        await self._body.append(visible_controls(new))

    async def _clear(self) -> None:
        self.task_id = None
        self._offset = 0
        self._calls_shown, self._call_states = 0, {}
        self.border_title = self.border_subtitle = self._title = self._subtitle = self._problem = None
        self.query_one(".problem", Static).set_class(False, "-shown")
        self.remove_class("-has-task")
        for body in (self._body, self._spare):
            if body is not None:
                await remove_whole(body)
        self._body = self._spare = None

    def _describe(self, task: Task) -> None:
        """Title, subtitle and problem line; each is touched only when it changed (a Static update costs a layout)."""
        colour = f"${THEME_COLOURS[task.status]}"
        title = Content.assemble(
            (f"#{task.id} ", "bold"),
            (f"{ICONS[task.status]} {task.status.word}", f"{colour} bold"),
            (f" · {one_line(task.prompt, 60)}", ""),
        )
        mode = "raw" if self.showing_raw else "markdown"
        if self._draft and not self.raw:
            mode = "raw preview"
        elif self.raw_for_find and not self.raw:
            mode = "raw while finding" if self.finder is not None else "raw after find"
        elif self.showing_raw and not self.raw:
            mode = "raw while streaming" if task.chars <= MARKDOWN_LIMIT else "raw (long output)"
        calls = f" · {plural(len(task.tool_calls), 'tool call')}" if task.tool_calls else ""
        spent = f" · {tokens_cell(task.usage)} tokens · {cost_cell(task.usage)}" if task.usage.is_known else ""
        subtitle = Content(f"{task.provider}/{task.model} · {task.chars:,} chars{calls}{spent} · {mode}")
        if title != self._title:
            self._title = self.border_title = title
        if subtitle != self._subtitle:
            self._subtitle = self.border_subtitle = subtitle
        message = task.error or task.notice
        problem = None
        if message:
            label = task.status.word if task.error else "note"
            text = message if message.startswith(label) else f"{label}: {message}"
            problem = visible_controls(text)
        if problem != self._problem:
            self._problem = problem
            line = self.query_one(".problem", Static)
            line.update(Content(problem or ""))
            line.set_class(bool(problem), "-shown")
            line.set_class(not task.error, "-notice")

    def on_tool_call_view_clicked(self, event: ToolCallView.Clicked) -> None:
        event.task_id = self.task_id  # the screen opens the call of this pane's task

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.notify(visible_controls(event.href), title="Link in the output (not opened)", markup=False)


def _markdown_body() -> MarkdownBody:
    """Imported on first use: Textual's Markdown brings markdown-it and pygments, which the first screen never needs."""
    from tui.widgets.markdown_body import MarkdownBody

    return MarkdownBody()
