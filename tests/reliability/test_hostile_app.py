"""Hostile model output in the app: shown literally in both views, never interpreted, never quits the app."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app_helpers import finished, main_screen, running_app, select, submit
from tui.app.app import AgentDeckApp
from tui.widgets.output_pane import OutputPane
from tui.widgets.raw_body import RawBody

# Everything before the 10,000-character line: markup, CSI/OSC (title, clipboard, link), C1, NUL, RTL.
PROMPT = "hostile [bold]prompt[/] too [[hostile]][[len:400]][[delay:0]]"
RAW_CONTROLS = ("\x1b", "\x9b", "\x9d", "\x9c", "\x00", "\x07", "\x08", "\x7f", "\u202e")


def screen_lines(app: AgentDeckApp) -> list[str]:
    """The characters on screen, row by row, as the terminal would get them (without styles)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def check_screen(app: AgentDeckApp) -> str:
    lines = screen_lines(app)
    text = "\n".join(lines)
    for control in RAW_CONTROLS:
        assert control not in text, f"raw {control!r} on screen"
    svg = app.export_screenshot()
    for control in RAW_CONTROLS:
        assert control not in svg, f"raw {control!r} in the screenshot"
    assert "[bold red]markup[/]" in text  # markup shown as typed, not applied
    assert "␛]52;c;ZWNobyBwd25lZA==␇" in text  # the clipboard write, defused and visible
    return text


async def click_on(app: AgentDeckApp, pilot: Pilot[int], needle: str) -> bool:
    for y, line in enumerate(screen_lines(app)):
        x = line.find(needle)
        if x >= 0:
            await pilot.click(offset=(x + len(needle) + 1, y))
            await pilot.pause(0.2)
            return True
    return False


async def test_hostile_output_is_literal_and_cannot_quit_the_app(demo_url: str) -> None:
    async with running_app(demo_url) as (app, pilot):
        task = await submit(app, pilot, PROMPT)
        for _ in range(200):
            if finished(task)():
                break
            await pilot.pause(0.05)
        assert task.status.value == "done"
        await select(app, pilot, task)
        await pilot.pause(0.3)
        pane = main_screen(app).query_one(OutputPane)
        assert not pane.showing_raw
        check_screen(app)
        clicked = await click_on(app, pilot, "[@click=app.quit]")
        assert clicked, "the [@click=...] text is not on screen"
        assert not app._exit and app.return_code is None  # still running

        await pilot.press("m")  # the raw view
        await pilot.pause(0.3)
        assert pane.query(RawBody)
        check_screen(app)
        assert await click_on(app, pilot, "[@click=app.quit]")
        assert not app._exit and app.return_code is None
        assert "[bold]prompt[/]" in "\n".join(screen_lines(app))  # the prompt (title, table) is literal too
