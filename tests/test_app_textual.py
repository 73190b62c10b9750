"""The app uses Textual as designed: text selection in the raw view, reactive view settings, messages with a control."""

from __future__ import annotations

from textual import events, on
from textual.app import App, ComposeResult

from tests.app_helpers import finished, main_screen, running_app, select, submit, submit_and_open, wait_for
from tui.demo.script import expected_answer
from tui.widgets.prompt_box import PromptBox
from tui.widgets.raw_body import RawBody, row_starts
from tui.widgets.task_rows import TaskFilter, TaskSort


async def test_a_drag_across_wrapped_rows_selects_and_copies_the_line_unbroken(demo_url: str) -> None:
    prompt = "select me [[len:1500]][[delay:0]]"
    async with running_app(demo_url) as (app, pilot):
        await submit_and_open(app, pilot, prompt)
        await pilot.press("m", "enter", "home")  # raw text, focused, from its top
        body = main_screen(app).output.panes[0].query_one(RawBody)
        await wait_for(pilot, lambda: body.scroll_y == 0)
        line = expected_answer(prompt).split("\n")[2]  # the first paragraph: three or more rows
        starts = row_starts(line, body.scrollable_content_region.width)
        assert len(starts) >= 3
        left = body.scrollable_content_region.x - body.region.x  # the padding
        await pilot.mouse_down(body, offset=(left + 4, 2))
        await pilot.hover(body, offset=(left + 10, 4))
        await pilot.mouse_up(body, offset=(left + 10, 4))
        await pilot.pause()
        wanted = line[starts[0] + 4 : starts[2] + 11]  # up to and including the cell under the pointer
        assert app.screen.get_selected_text() == wanted, "no line breaks where the rows wrap"
        background = body.rich_style.bgcolor
        selected = [
            segment.text for segment in body.render_line(3) if segment.style and segment.style.bgcolor != background
        ]
        assert "".join(selected).rstrip() == line[starts[1] : starts[2]].rstrip(), "the selected row is highlighted"
        await pilot.press("ctrl+c")
        assert app.clipboard == wanted


async def test_view_settings_set_from_code_update_the_table_header_and_panes(demo_url: str) -> None:
    """Grid, raw, filter and sort are the screen's reactive state: setting them is enough, whoever sets them."""
    async with running_app(demo_url) as (app, pilot):
        done = await submit(app, pilot, "short [[len:200]][[delay:0]]")
        await wait_for(pilot, finished(done))
        running = await submit(app, pilot, "long [[len:30000]][[delay:20]]")
        await wait_for(pilot, lambda: running.chars > 0)
        screen = main_screen(app)
        screen.task_filter = TaskFilter.DONE
        screen.task_sort = TaskSort.CHARS
        await pilot.pause()
        assert screen.table.shown_ids == [done.id]
        assert "done · by chars" in str(screen.query_one("#status").render())
        await select(app, pilot, done)
        screen.task_filter = TaskFilter.ALL
        screen.raw = True
        screen.grid = True
        await wait_for(pilot, lambda: sorted(screen.output.shown_ids) == sorted([done.id, running.id]))
        await wait_for(pilot, lambda: all(pane.showing_raw for pane in screen.output.panes))
        app.engine.cancel_all()


class _PromptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield PromptBox(id="first")
        yield PromptBox(id="second")

    @on(PromptBox.Submitted, "#second")
    def _second_submitted(self, event: PromptBox.Submitted) -> None:
        self.submitted.append(event.text)


async def test_a_handler_can_pick_its_prompt_box_by_id() -> None:
    app = _PromptApp()
    async with app.run_test() as pilot:
        for box_id in ("first", "second"):
            box = app.query_one(f"#{box_id}", PromptBox)
            box.focus()
            box.load_text(f"from {box_id}")
            await pilot.press("enter")
        await pilot.pause()
        assert app.submitted == ["from second"]


async def test_a_one_line_paste_goes_into_the_prompt(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        prompt = main_screen(app).prompt
        prompt.focus()
        await pilot.pause()
        app.post_message(events.Paste("ask about paste"))  # as the terminal driver posts it
        await pilot.pause()
        assert prompt.text == "ask about paste"
        assert len(app.engine.tasks) == 0


class _RawApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RawBody()


async def test_the_raw_view_follows_new_text_only_with_auto_scroll_on() -> None:
    app = _RawApp()
    async with app.run_test(size=(40, 10)) as pilot:
        body = app.query_one(RawBody)
        await body.load("\n".join(f"line {n}" for n in range(100)))
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y > 0
        body.auto_scroll = False
        end = body.scroll_y
        await body.append("\nmore" * 20)
        await pilot.pause()
        assert body.scroll_y == end < body.max_scroll_y, "the reader stays where they are"
        body.auto_scroll = True
        body.scroll_end(animate=False, immediate=True)
        await body.append("\nand more" * 20)
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        assert body.text.endswith("and more")


async def test_raw_text_growing_past_the_view_brings_its_scrollbar_and_shows_the_last_line() -> None:
    app = _RawApp()
    async with app.run_test(size=(40, 10)) as pilot:
        body = app.query_one(RawBody)
        await body.load("first")
        await pilot.pause()
        assert not body.show_vertical_scrollbar
        for n in range(30):
            await body.append(f"\nline {n}")
            await pilot.pause()
        assert body.show_vertical_scrollbar and body.scroll_y == body.max_scroll_y > 0
        assert "line&#160;29" in app.export_screenshot(), "the newest line is on screen"
