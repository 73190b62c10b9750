"""Regenerate the SVG screenshots of agentdeck's main states (the README shows them).

Run from the repository root:

    python screenshots/make_screenshots.py

It starts the local demo server, drives the app headless through the same
scenes as the snapshot tests (tests/app_helpers.py), and writes one SVG per
scene next to this file. Times and rates are frozen, so reruns give the same
pictures unless the UI changed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.app_helpers import SCENE_SIZES, SCENES, SIZE, snapshot_app  # noqa: E402
from tui.demo.server import DemoServerThread  # noqa: E402


async def shoot(base_url: str, scene: str) -> Path:
    drive, concurrency = SCENES[scene]
    app = snapshot_app(base_url, concurrency=concurrency)
    async with app.run_test(size=SCENE_SIZES.get(scene, SIZE)) as pilot:
        await pilot.pause()
        await drive(pilot)
        app.title = f"agentdeck: {scene}"
        return Path(app.save_screenshot(f"{scene}.svg", path=str(HERE)))


def main() -> int:
    server = DemoServerThread()
    base_url = server.start()
    try:
        for scene in SCENES:
            print(asyncio.run(shoot(base_url, scene)))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
