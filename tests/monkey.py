"""A careless, fast user: random keys in random states of the real app, against the demo server.

Seeded: the same seed presses the same keys in the same order (stream timing
still varies, which is the point: states differ run to run, keys do not).
Any exception inside the app fails the run with the seed and the last keys.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from textual.pilot import Pilot

from tests.app_helpers import demo_engine, main_screen, tools_engine, wait_for
from tui.app.app import AgentDeckApp
from tui.engine import Engine
from tui.screens.bindings import APP_BINDINGS, TASK_BINDINGS
from tui.store import SessionStore, SessionWatcher
from tui.widgets.prompt_box import PromptBox

SIZES = [(140, 40), (120, 36), (80, 24), (60, 20)]
BOUND_KEYS = sorted(
    {key.strip() for binding in [*TASK_BINDINGS, *APP_BINDINGS] for key in binding.key.split(",")} - {"ctrl+q"}
)
VIEW_KEYS = ["v", "s", "g", "m", "end", "home", "d", "y", "p", "l"]
"""Keys that reshape the table under the cursor (where index bugs live) or open a task's dialogs: pressed more often."""
MOVES = ["escape", "enter", "tab", "shift+tab", "up", "down", "pageup", "pagedown", "home", "end", "left", "right"]
ANSWERS = ["y", "n", "escape", "enter", "backspace", "+", "1", "0", "space"]
TYPED = list("abcdefghijklmnopqrstuvwxyzRC ?/.~")
PROMPTS = [
    "quick [[len:80]][[delay:0]]",
    "streams a while [[len:3000]][[delay:20]]",
    "long markdown [[len:20000]][[chunk:200]][[delay:5]]",
    "refused [[fault:401]]",
    "server error [[fault:500]]",
    "dropped [[len:900]][[drop:4]]",
    "cut [[len:900]][[cut:4]]",
    "goes silent [[silent:30]]",
    "line one\nline two\nline three",
]
TOOL_PROMPTS = [
    'asks first [[tool:get_current_time {"timezone": "UTC"}]] [[len:300]][[delay:2]]',
    'two asks [[tool:get_current_time {"timezone": "UTC"}]] [[tool:get_current_time {}]] [[tool_parallel]]',
    'slow tool [[tool:wait {"seconds": 3}]] [[len:500]][[delay:5]]',
    'noisy result [[tool:lines {"count": 40}]] [[len:300]][[delay:2]]',
    'no such tool [[tool:nothing {}]] [[len:100]]',
]
"""In the `tools` state: calls that wait for approval, run, run long, return many lines, or name no tool."""
ENDING_PROMPTS = [prompt for prompt in PROMPTS if "silent" not in prompt and "streams" not in prompt] * 2


@dataclass
class Monkey:
    seed: int
    rng: random.Random = field(init=False)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=30))
    prompts: list[str] = field(default_factory=lambda: PROMPTS)
    """What the monkey submits now and then (the `tools` state adds prompts that call tools)."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def failure(self, app: AgentDeckApp, error: BaseException | None) -> str:
        return (f"monkey seed {self.seed} broke the app ({error!r}; {app.unexpected_stop}); "
                f"last keys: {' '.join(self.recent)}")

    def next_key(self) -> str:
        roll = self.rng.random()
        if roll < 0.2:
            return self.rng.choice(VIEW_KEYS)
        if roll < 0.45:
            return self.rng.choice(BOUND_KEYS)
        if roll < 0.7:
            return self.rng.choice(MOVES)
        if roll < 0.85:
            return self.rng.choice(ANSWERS)
        return self.rng.choice(TYPED)

    async def step(self, app: AgentDeckApp, pilot: Pilot[int]) -> None:
        """One random thing a user (or the world) does: mostly a key, sometimes a prompt or a resize."""
        roll = self.rng.random()
        if roll < 0.04:
            width, height = self.rng.choice(SIZES)
            self.recent.append(f"<resize {width}x{height}>")
            await pilot.resize_terminal(width, height)
        elif roll < 0.12 and not app.read_only:
            prompt = self.rng.choice(self.prompts)
            self.recent.append(f"<submit {prompt.splitlines()[0]!r}>")
            screen = main_screen(app)
            if app.screen is screen:
                screen.set_focus(screen.prompt)
                await pilot.pause()
                if isinstance(app.focused, PromptBox):
                    app.focused.load_text(prompt)
                    await pilot.press("enter")
        else:
            key = self.next_key()
            self.recent.append(key)
            await pilot.press(key)

    async def run(self, app: AgentDeckApp, pilot: Pilot[int], steps: int) -> None:
        for _ in range(steps):
            if not app.is_running:
                return
            await self.step(app, pilot)
            assert app.unexpected_stop is None, self.failure(app, None)


@asynccontextmanager
async def app_in_state(
    state: str, demo_url: str, tmp_path: Path, size: tuple[int, int]
) -> AsyncIterator[tuple[AgentDeckApp, Pilot[int]]]:
    """The app in a named starting state.

    `empty`; `busy` (tasks of every kind starting, and a group); `ended` (every task, a group's too,
    already ended one way or another, as in a reopened session); `watch` (another engine
    writes the session, this app only shows it); `tools` (tasks calling MCP tools,
    some waiting for approval).
    """
    store = SessionStore.open(tmp_path / f"{state}.sqlite")
    writer: Engine | None = None
    watcher: SessionWatcher | None = None
    if state == "watch":
        writer = demo_engine(demo_url, concurrency=3)
        store.attach(writer)
        for prompt in PROMPTS[:6]:
            writer.start(writer.add_task(prompt))
        watcher = SessionWatcher.open(store.path)
        engine = demo_engine(demo_url)
        engine.adopt(watcher.tasks.values())
        app = AgentDeckApp(engine, session_name=watcher.name, watcher=watcher)
    else:
        if state == "tools":
            engine = tools_engine(demo_url, approve="ask", concurrency=3, timeout=20)
            engine.config.providers["demo"] = replace(engine.config.providers["demo"], tools=("time", "slow"))
        else:
            engine = demo_engine(demo_url, concurrency=3, timeout=20)
        store.attach(engine)
        app = AgentDeckApp(engine, demo_notice=True, session_name=store.name)
    try:
        async with app.run_test(size=size) as pilot:
            if state in ("busy", "ended", "tools"):
                main_screen(app).submit({"busy": PROMPTS, "ended": ENDING_PROMPTS, "tools": TOOL_PROMPTS}[state])
            if state in ("busy", "ended"):  # a group too: its follow-up and retry ask their own questions
                bar = main_screen(app).next_task
                bar.set_group_targets([("demo", None), ("demo-responses", None), ("demo", "second")])
                main_screen(app).submit([PROMPTS[0]])
                bar.set_group_targets(None)
            if state == "ended":
                await wait_for(pilot, lambda: all(task.status.is_final for task in engine.tasks.values()), 30)
            if state == "tools":  # the servers have started and a call asks for approval
                await wait_for(pilot, lambda: any(task.waiting_calls for task in engine.tasks.values()), 30)
            await pilot.pause(0.2)
            try:
                yield app, pilot
            finally:
                await app.shutdown()
    finally:
        if writer is not None:
            writer.interrupt_all()
            await writer.aclose()
        if watcher is not None:
            watcher.close()
        store.close()
