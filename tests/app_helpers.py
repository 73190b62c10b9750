"""Driving the Textual app against the real demo server (no mocks of the SDK or the agent)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app.app import AgentDeckApp
from tui.config import parse_config
from tui.engine import Engine, Task, TaskStatus
from tui.screens.main import MainScreen
from tui.widgets.markdown_body import MarkdownBody

SIZE = (120, 36)
TIME_SERVER = str(Path(sys.executable).with_name("mcp-server-time"))
"""`mcp-server-time` (a test extra): a real MCP server nobody here wrote."""
SLOW_SERVER = str(Path(__file__).with_name("slow_mcp_server.py"))


class SharedDemoServer:
    """The test session's demo server lent to one engine: already started, and not the engine's to stop."""

    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> str:
        return self.url

    def stop(self) -> None:
        """The session fixture stops it after the last test."""


def demo_engine(demo_url: str, *, concurrency: int = 4, timeout: float | None = 600.0) -> Engine:
    """An engine whose built-in `demo` provider talks to the shared test server.

    Its streams are read on a thread (`streams = "thread"`): a worker process per app test would cost a
    second each, and tests/test_worker*.py cover the process; the real command uses the default."""
    config = parse_config({}, Path("test-config.toml"), environ={}).with_overrides(
        default_provider="demo", concurrency=concurrency, timeout=timeout, streams="thread"
    )
    return Engine(config, local_server=SharedDemoServer(demo_url))


def tools_engine(
    demo_url: str, *, approve: str = "auto", concurrency: int = 4, timeout: float | None = 600.0,
    providers: dict[str, Any] | None = None,
) -> Engine:
    """An engine on the demo server with two MCP servers over stdio: `time` (`approve` as given) and `slow`."""
    raw: dict[str, Any] = {
        "mcp": {
            "time": {"command": TIME_SERVER, "approve": approve},
            "slow": {"command": sys.executable, "args": [SLOW_SERVER]},
        },
        "providers": providers or {},
    }
    config = parse_config(raw, Path("test-config.toml"), environ={}).with_overrides(
        default_provider="demo", concurrency=concurrency, timeout=timeout, streams="thread"
    )
    return Engine(config, local_server=SharedDemoServer(demo_url))


@asynccontextmanager
async def running_app(
    demo_url: str,
    *,
    concurrency: int = 4,
    timeout: float | None = 600.0,
    size: tuple[int, int] = SIZE,
    toasts: bool = False,
    **options: Any,
) -> AsyncIterator[tuple[AgentDeckApp, Pilot[int]]]:
    """The app on the demo server; `toasts` draws notifications, which Textual's test runs leave out."""
    engine = demo_engine(demo_url, concurrency=concurrency, timeout=timeout)
    app = AgentDeckApp(engine, demo_notice=True, **options)
    async with app.run_test(size=size, notifications=toasts) as pilot:
        await pilot.pause()
        try:
            yield app, pilot
        finally:
            await app.shutdown()


def main_screen(app: App[Any]) -> MainScreen:
    screen = app.get_screen_stack()[1] if not isinstance(app.screen, MainScreen) else app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def wait_for(pilot: Pilot[int], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` is true; after `timeout`, fail with its name and the screen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            name = getattr(condition, "__name__", condition)
            screen = "\n".join(line.rstrip() for line in screen_lines(pilot.app))  # type: ignore[arg-type]
            raise AssertionError(f"timed out waiting for {name}; the screen:\n{screen}")
        await pilot.pause(0.05)


async def submit(app: AgentDeckApp, pilot: Pilot[int], prompt: str, *, timeout: str | None = None) -> Task:
    """Type into the prompt box and press Enter, as a user does; returns the new task."""
    screen = main_screen(app)
    if timeout is not None:
        screen.query_one("#timeout", Input).value = timeout
    screen.prompt.focus()
    screen.prompt.load_text(prompt)
    before = set(app.engine.tasks)
    await pilot.press("enter")
    new = [task for task_id, task in app.engine.tasks.items() if task_id not in before]
    assert len(new) == 1, f"expected one new task, got {new}"
    return new[0]


async def submit_and_open(app: AgentDeckApp, pilot: Pilot[int], prompt: str) -> Task:
    """Submit a prompt, wait for its task to end, and select its row: its answer is in the settled pane."""
    task = await submit(app, pilot, prompt)
    await wait_for(pilot, finished(task))
    await select(app, pilot, task)
    return task


def screen_lines(app: AgentDeckApp) -> list[str]:
    """The terminal as the user sees it now, one string per row (the active screen, modal or not)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def cell(app: AgentDeckApp, task: Task, column: str) -> str:
    return main_screen(app).table.cell_text(task.id, column)


async def select(app: AgentDeckApp, pilot: Pilot[int], task: Task) -> None:
    """Focus the table and highlight `task`'s row, then wait until its pane has settled past the raw preview."""
    screen = main_screen(app)
    screen.table.focus()
    screen.table.select(task.id)
    await pilot.pause()

    def settled() -> bool:
        return task.id in screen.output.shown_ids and panes_settled(app)

    await wait_for(pilot, settled)


def panes_settled(app: AgentDeckApp) -> bool:
    """No pane previews raw text or is still loading or appending."""
    return not any(pane.previewing or pane.busy for pane in main_screen(app).output.panes)


async def wait_still(pilot: Pilot[int]) -> None:
    """Wait until every Markdown body has stopped growing and scrolling (its streamed blocks all laid out)."""
    bodies = list(main_screen(pilot.app).output.query(MarkdownBody))  # type: ignore[arg-type]

    def shape() -> list[tuple[int, float, float]]:
        return [(body.virtual_size.height, body.scroll_y, body.max_scroll_y) for body in bodies]

    seen = [shape()]

    async def still() -> bool:
        await pilot.pause(0.1)
        seen.append(shape())
        return seen[-1] == seen[-2] == seen[-3] if len(seen) >= 3 else False

    deadline = time.monotonic() + 10
    while not await still():
        assert time.monotonic() < deadline, f"Markdown bodies kept changing: {seen[-3:]}"


def finished(*tasks: Task) -> Callable[[], bool]:
    def all_final() -> bool:
        return all(task.status.is_final for task in tasks)

    return all_final


def has_status(task: Task, status: TaskStatus) -> Callable[[], bool]:
    def check() -> bool:
        return task.status is status

    check.__name__ = f"task {task.id} {status}"
    return check


# -- fixed states for snapshot tests and the screenshots ------------------------

FROZEN_NOW = 1_800_000_000.0
"""The app's clock in snapshots, so elapsed and time-left cells never change."""


DEMO_PRICES = {"demo": {"price_input": 0.27, "price_output": 1.10}}
"""The demo provider priced like a paid one, so the screenshots show what tasks cost."""


def snapshot_app(demo_url: str, *, concurrency: int = 4) -> AgentDeckApp:
    """MCP servers are configured for the tools scene; the others never start them."""
    engine = tools_engine(demo_url, approve="ask", concurrency=concurrency, providers=DEMO_PRICES)
    return AgentDeckApp(engine, demo_notice=True, clock=lambda: FROZEN_NOW)


async def freeze(pilot: Pilot[int]) -> None:
    """Give every task fixed times and rates, redraw, and drop toasts: the screen no longer depends on timing."""
    app = pilot.app
    assert isinstance(app, AgentDeckApp)
    await pilot.pause(0.3)  # the engine's last throttled progress event (which sets the rate) lands first
    for task in app.engine.tasks.values():
        task.rate = 0.0
        if task.started_at is not None:
            task.started_at = FROZEN_NOW - 40 + 2 * task.id
            task.finished_at = task.started_at + 12.5 if task.status.is_final else None
        if task.first_output_at is not None:
            task.first_output_at = task.started_at + 0.5 + 0.3 * task.id  # type: ignore[operator]
            task.last_output_at = task.finished_at or FROZEN_NOW - 1
    screen = main_screen(app)
    await wait_for(pilot, lambda: panes_settled(app))
    await wait_still(pilot)
    screen.prompt.cursor_blink = False
    screen.table.sync(list(app.engine.tasks))
    screen.show_counts()
    await pilot.pause(0.3)
    app.clear_notifications()
    await pilot.pause()


async def scene_empty(pilot: Pilot[int]) -> None:
    await freeze(pilot)


async def scene_running(pilot: Pilot[int]) -> None:
    """One task is done (its tokens and cost show); two stream a first paragraph then go silent; a fourth
    waits for a slot (concurrency 2)."""
    screen = main_screen(pilot.app)
    screen.submit(["Summarise the design review [[len:600]][[delay:0]]"])
    await wait_for(pilot, finished(*screen.engine.tasks.values()))
    screen.submit([f"Compare consensus protocol {n} [[silent:600]][[silent_after:14]]" for n in (1, 2, 3)])
    tasks = list(screen.engine.tasks.values())[1:]
    await wait_for(pilot, lambda: [t.chars for t in tasks] == [168, 168, 0])
    await freeze(pilot)
    tasks[1].last_output_at = FROZEN_NOW - 23  # quiet for 23 s: it stands out
    screen.table.sync([tasks[1].id])
    await pilot.pause()


async def scene_finished(pilot: Pilot[int]) -> None:
    screen = main_screen(pilot.app)
    screen.submit(["Explain TCP slow start [[len:1800]][[delay:0]]"])
    await wait_for(pilot, finished(*screen.engine.tasks.values()))
    await freeze(pilot)


async def scene_failed(pilot: Pilot[int]) -> None:
    screen = main_screen(pilot.app)
    screen.submit(["Summarise the incident report [[fault:401]]"])
    await wait_for(pilot, finished(*screen.engine.tasks.values()))
    await freeze(pilot)


async def scene_help(pilot: Pilot[int]) -> None:
    await scene_finished(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def scene_grid(pilot: Pilot[int]) -> None:
    screen = main_screen(pilot.app)
    screen.submit([f"Review service {name} [[silent:600]][[silent_after:10]]" for name in "ABCD"])
    tasks = list(screen.engine.tasks.values())
    await wait_for(pilot, lambda: all(t.chars == 120 for t in tasks))
    screen.table.focus()
    await pilot.press("g")
    await wait_for(pilot, lambda: len(screen.output.panes) == 4 and None not in screen.output.shown_ids)
    await freeze(pilot)


async def scene_small(pilot: Pilot[int]) -> None:
    """Nine tasks on a small terminal: the newest (running, selected) row must stay in view."""
    screen = main_screen(pilot.app)
    screen.submit([f"Summarise chapter {n} of the design notes [[len:300]][[delay:0]]" for n in range(1, 8)])
    screen.submit(["Check the deploy log for errors [[fault:401]]"])
    screen.submit(["Compare consensus protocols for the new ledger [[silent:600]][[silent_after:14]]"])
    tasks = list(screen.engine.tasks.values())
    await wait_for(pilot, lambda: finished(*tasks[:8])() and tasks[8].chars == 168, timeout=20)
    screen.table.focus()
    await freeze(pilot)


async def scene_tools(pilot: Pilot[int]) -> None:
    """A task whose tool call is done (its result's first lines in the pane), and one waiting for approval."""
    screen = main_screen(pilot.app)  # type: ignore[arg-type]
    screen.next_task.set_tools(("slow",))
    screen.submit(['Count the lines of the release notes [[tool:lines {"count": 6}]] [[len:700]][[delay:0]]'])
    screen.next_task.set_tools(("time",))
    screen.submit(['Check the clock of the build farm [[tool:get_current_time {"timezone": "UTC"}]] [[silent:600]]'])
    done, waiting = list(screen.engine.tasks.values())
    await wait_for(pilot, lambda: done.status is TaskStatus.DONE and waiting.status is TaskStatus.WAITING, timeout=60)
    for call in done.tool_calls:
        call.started_at, call.finished_at = FROZEN_NOW - 20, FROZEN_NOW - 19.6
    await select(pilot.app, pilot, done)  # type: ignore[arg-type]
    await screen.output.sync({done.id}, screen.engine.tasks)
    await freeze(pilot)


COMPARE_PROMPT = "Compare B-tree and LSM storage for the ledger"


async def scene_compare(pilot: Pilot[int]) -> None:
    """A group of three finished answers in the compare view: one prompt, three models (`[[by_model]]`)."""
    app = pilot.app
    assert isinstance(app, AgentDeckApp)
    members = [("demo", None), ("demo-responses", None), ("demo", "demo-mini")]
    prompt = f"{COMPARE_PROMPT} [[len:900]][[delay:0]][[by_model]]"
    tasks = [app.engine.add_task(prompt, provider=name, model=model, group="g1") for name, model in members]
    for task in tasks:
        app.start_task(task)
    await wait_for(pilot, finished(*tasks), 30)
    await freeze(pilot)
    for task in tasks:  # freeze() fixed when each started
        assert task.started_at is not None
        task.first_output_at = task.started_at + 0.3 + 0.2 * task.id
    await select(app, pilot, tasks[0])
    await pilot.press("equals_sign")
    await wait_for(pilot, lambda: "Group g1" in "".join(screen_lines(app)))
    await pilot.pause(0.3)


async def scene_compare_diff(pilot: Pilot[int]) -> None:
    """The first two answers of the group diffed word by word."""
    await scene_compare(pilot)
    await pilot.press("d")
    await wait_for(pilot, lambda: "similarity" in "".join(screen_lines(pilot.app)))  # type: ignore[arg-type]
    await pilot.pause(0.3)

SEARCHED_SESSIONS = {
    "nightly-2026-11-28": ["Why did the deploy stall at 02:00? [[len:900]][[delay:0]]",
                           "Explain the retry storm in the payment service [[len:1500]][[delay:0]]"],
    "incident-review": ["Summarise the retry storm postmortem [[len:1200]][[delay:0]]",
                        "List the follow-up actions for the storage team [[len:600]][[delay:0]]"],
    "design-notes": ["How do circuit breakers stop a retry storm? [[len:1000]][[delay:0]]"],
}


async def scene_search(pilot: Pilot[int]) -> None:
    """Three saved sessions searched for `retry storm`: hits grouped by session, matches highlighted."""
    from tui.screens.search import SearchScreen
    from tui.store import SessionStore
    from tui.store.search_index import SearchIndex

    app = pilot.app
    assert isinstance(app, AgentDeckApp)
    folder = Path(tempfile.mkdtemp(prefix="agentdeck-search-scene-"))
    atexit.register(shutil.rmtree, folder, True)  # the screen reads it until the picture is taken
    for name, prompts in SEARCHED_SESSIONS.items():
        store = SessionStore.open(folder / "sessions" / f"{name}.sqlite")
        writer = Engine(app.engine.config, clients=app.engine.clients)  # the app's clients: closed with the app
        store.attach(writer)
        for prompt in prompts:
            task = writer.add_task(prompt)
            await writer.start(task)
        assert store.close()
    await freeze(pilot)
    screen = SearchScreen(SearchIndex(folder / "search.sqlite", folder / "sessions"))
    await app.push_screen(screen)
    screen.query_one(Input).cursor_blink = False
    await pilot.press(*"retry", "space", *"storm")
    await wait_for(pilot, lambda: len(screen.shown) == 3, timeout=20)
    await pilot.pause(0.2)


SCENES: dict[str, tuple[Callable[[Pilot[int]], Awaitable[None]], int]] = {
    "empty": (scene_empty, 4),
    "running": (scene_running, 2),
    "finished": (scene_finished, 4),
    "failed": (scene_failed, 4),
    "help": (scene_help, 4),
    "grid": (scene_grid, 4),
    "small-80x24": (scene_small, 4),
    "small-60x20": (scene_small, 4),
    "tools": (scene_tools, 4),
    "tools-80x24": (scene_tools, 4),
    "compare": (scene_compare, 4),
    "compare-diff": (scene_compare_diff, 4),
    "compare-80x24": (scene_compare, 4),
    "search": (scene_search, 4),
    "search-80x24": (scene_search, 4),
}
"""Scene name -> (what to do before the screenshot, concurrency)."""
SCENE_SIZES: dict[str, tuple[int, int]] = {
    "small-80x24": (80, 24), "small-60x20": (60, 20), "tools": (140, 40), "tools-80x24": (80, 24),
    "compare": (140, 40), "compare-diff": (140, 40), "compare-80x24": (80, 24),
    "search": (140, 40), "search-80x24": (80, 24),
}
"""Terminal size of the scenes not shown at SIZE."""
