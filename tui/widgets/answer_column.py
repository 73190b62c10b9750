"""One answer of a group in the compare view: its figures on top, its text streaming below."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tui.engine import Task
from tui.safety import visible_controls
from tui.widgets.formatting import count, duration
from tui.widgets.raw_body import RawBody
from tui.widgets.status import ICONS, THEME_COLOURS
from tui.wording import UNKNOWN_COST, money

UNKNOWN = UNKNOWN_COST
"""A figure not known (yet): no first output, no usage reported, no price configured."""


def _known(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else duration(seconds)


def figures(task: Task, *, now: float, cost: float | None) -> Content:
    """The figures that tell answers apart besides their text: who answered, how fast, how much.

    chars/s is the whole run's average (characters over elapsed time), so a slow
    start shows in it as it does in the time to first output.
    """
    elapsed = task.elapsed(now)
    rate = f"{task.chars / elapsed:,.0f}" if task.chars and elapsed > 0 else UNKNOWN
    usage = task.usage
    guessed = "~" if usage.estimated else ""  # as in the table: some tokens were estimated from the text
    tokens = (
        f"{guessed}{count(usage.input_tokens or 0)} in, {count(usage.output_tokens or 0)} out"
        if usage.is_known else UNKNOWN
    )
    spent = guessed + money(cost) if cost is not None else UNKNOWN
    who = Content.styled(f"#{task.id} {task.provider} · {task.model}", "bold")
    status = Content.styled(f"{ICONS[task.status]} {task.status.word}", f"${THEME_COLOURS[task.status]}")
    return Content("\n").join([
        who,
        Content.assemble(status, f" · first output {_known(task.time_to_first_output)}"),
        Content(f"{count(task.chars)} chars · {rate} chars/s · {_known(elapsed if task.started_at else None)}"),
        Content(f"tokens {tokens} · cost {spent}"),
    ])


class AnswerColumn(Vertical):
    """Appends only the text that arrived since the last sync, as the output pane does, at the screen's pace."""

    def __init__(self, task: Task, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="answer")
        self.task_id = task.id
        self._shown_chars = 0
        self._shown_figures = ""

    def compose(self) -> ComposeResult:
        yield Static(classes="figures", markup=False)
        yield RawBody(classes="answer-text")

    @property
    def body(self) -> RawBody:
        return self.query_one(RawBody)

    async def sync(self, task: Task, *, now: float, cost: float | None) -> None:
        shown = figures(task, now=now, cost=cost)
        if shown.plain != self._shown_figures:  # an update lays the column out again: only when a figure changed
            self._shown_figures = shown.plain
            self.query_one(".figures", Static).update(shown)
        if task.chars < self._shown_chars:  # the text was replaced, not extended
            self._shown_chars = 0
            await self.body.load("")
        if task.status.is_active:
            self.body.auto_scroll = True
        elif not self._shown_chars:  # an ended answer is read from its start; a streaming one is followed
            self.body.auto_scroll = False
        if task.chars > self._shown_chars:
            new = task.output.since(self._shown_chars)
            self._shown_chars = task.chars
            await self.body.append(visible_controls(new))
