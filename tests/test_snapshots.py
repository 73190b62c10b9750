"""Snapshots of the main states; times, rates and toasts are frozen so they match on every run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app_helpers import SCENE_SIZES, SCENES, SIZE, snapshot_app

pytestmark = pytest.mark.slow  # the app under a pilot: seconds per test


@pytest.mark.parametrize("scene", list(SCENES))
def test_snapshot(scene: str, snap_compare: Any, demo_url: str) -> None:
    drive, concurrency = SCENES[scene]
    app = snapshot_app(demo_url, concurrency=concurrency)
    assert snap_compare(app, terminal_size=SCENE_SIZES.get(scene, SIZE), run_before=drive)
