"""Search every saved session (`/`): results as you type, grouped by session; Enter opens the task at its match."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.safety import visible_controls
from tui.screens.bindings import SEARCH_BINDINGS
from tui.store import StoreError
from tui.store.search_index import SearchHit, SearchIndex, SearchSyntaxError
from tui.widgets.footer import DeckFooter
from tui.widgets.formatting import one_line, plural

DEBOUNCE_S = 0.15
"""Typing pauses this long before a search runs: a fast typist's every letter would otherwise be a query."""
RESULT_LIMIT = 100


@dataclass(frozen=True)
class SearchChoice:
    """The hit the user opened: which session and task, and what to highlight there."""

    session: str
    path: str
    task_id: int
    query: str


def hit_label(hit: SearchHit, width: int) -> Content:
    """Two lines: `#id status · prompt`, then the snippet with its matches highlighted."""
    head = Content.assemble((f"#{hit.task_id} ", "bold"), (hit.status_word, "$text-accent"),
                            f" · {one_line(visible_controls(hit.prompt), max(10, width - 20))}")
    snippet = Content(hit.snippet)
    for start, end in hit.marks:
        snippet = snippet.stylize("bold $text-warning on $warning-muted", start, end)
    where = Content.styled(f"{hit.field}: ", "$text-muted")
    return Content("\n").join([head, Content.assemble("  ", where, snippet)])


def ordered_groups(hits: list[SearchHit], by_rank: bool) -> list[tuple[str, list[SearchHit]]]:
    """Hits grouped by session: best match first with `by_rank`, else newest task first (both within and across)."""
    def key(hit: SearchHit) -> float:
        return hit.rank if by_rank else -hit.created_at

    ordered = sorted(hits, key=key)
    groups: dict[str, list[SearchHit]] = {}
    for hit in ordered:
        groups.setdefault(hit.session, []).append(hit)
    return list(groups.items())


class SearchScreen(ModalScreen[SearchChoice | None]):
    """The index is refreshed and searched in a worker thread, so typing never waits for the disk."""

    CSS_PATH = "search.tcss"
    BINDINGS = SEARCH_BINDINGS

    def __init__(self, index: SearchIndex | None = None) -> None:
        super().__init__()
        self._index = index or SearchIndex()
        self.by_rank = False
        self.hits: list[SearchHit] = []
        """The latest results, as the search returned them."""
        self.shown: list[SearchHit] = []
        """The hits in list order (session headers are not options)."""
        self.message = ""
        self._timer: Timer | None = None
        self._refreshed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Static("Search all sessions", id="search-title")
            yield Input(placeholder='words, "a phrase", prefix*, AND / OR / NOT', id="search-input")
            yield Static("", id="search-message", markup=False)
            yield OptionList(id="search-results")
        yield DeckFooter()

    @property
    def results(self) -> OptionList:
        return self.query_one(OptionList)

    @property
    def query_text(self) -> str:
        return self.query_one(Input).value

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._say("Type to search the prompts, answers, tool calls and errors of every saved session.")

    def on_unmount(self) -> None:
        self._index.close()

    def _say(self, message: str, *, error: bool = False) -> None:
        self.message = message
        line = self.query_one("#search-message", Static)
        line.update(message)
        line.set_class(error, "-error")

    @on(Input.Changed, "#search-input")
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self._search_now)

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open()

    def _search_now(self) -> None:
        query = self.query_text
        if not query.strip():
            self.hits = []
            self._fill()
            return
        self._search(query)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        """Refresh the index once per screen (the sessions changed since it was last used), then search."""
        try:
            if not self._refreshed:
                warnings = self._index.refresh()
                self._refreshed = True
                if warnings:
                    self.app.call_from_thread(self.notify, "\n".join(warnings), title="Search", severity="warning",
                                              markup=False)
            hits = self._index.search(query, limit=RESULT_LIMIT)
        except (SearchSyntaxError, StoreError) as exc:
            self.app.call_from_thread(self._failed, query, str(exc))
            return
        self.app.call_from_thread(self._found, query, hits)

    def _failed(self, query: str, message: str) -> None:
        if query == self.query_text:
            self.hits = []
            self._fill()
            self._say(message, error=True)

    def _found(self, query: str, hits: list[SearchHit]) -> None:
        if query != self.query_text:
            return  # a newer query is on its way
        self.hits = hits
        self._fill()

    def _fill(self) -> None:
        results = self.results
        results.clear_options()
        self.shown = []
        width = results.scrollable_content_region.width or 80
        for session, hits in ordered_groups(self.hits, self.by_rank):
            results.add_option(Option(Content.styled(visible_controls(session), "bold underline"), disabled=True))
            for hit in hits:
                results.add_option(Option(hit_label(hit, width), id=str(len(self.shown))))
                self.shown.append(hit)
        if self.shown:
            results.highlighted = 1  # the first hit: option 0 is its session's name
        order = "best match first" if self.by_rank else "newest first"
        if self.query_text.strip():
            sessions = len({hit.session for hit in self.hits})
            more = " (the best shown; add words to narrow)" if len(self.hits) >= RESULT_LIMIT else ""
            found = f"{plural(len(self.hits), 'task')} in {plural(sessions, 'session')}{more}" if self.hits \
                else "nothing found"
            self._say(f"{found} · {order} (Ctrl+R) · Enter opens")

    @property
    def selected(self) -> SearchHit | None:
        option = self.results.highlighted_option
        if option is None or option.id is None:
            return None
        return self.shown[int(option.id)]

    def action_open(self) -> None:
        hit = self.selected
        if hit is None and self.shown:
            hit = self.shown[0]
        if hit is not None:
            self.dismiss(SearchChoice(hit.session, str(hit.path), hit.task_id, self.query_text))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_order(self) -> None:
        self.by_rank = not self.by_rank
        self._fill()

    def action_results(self) -> None:
        if self.shown:
            self.results.focus()

    def action_close(self) -> None:
        self.dismiss(None)

