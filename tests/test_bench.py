"""The benchmark suite runs and reports every metric as a number (timings are never asserted).

Takes a few minutes; deselect with `-m "not bench"`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import REQUIRED

WORKER_KEYS = ("worker_rss_mb_per_output_mb", "worker_rss_kb_per_task")
"""The stream worker process's memory, reported beside the UI process's."""

REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.bench, pytest.mark.slow, pytest.mark.timeout(600)]


def test_quick_run_reports_every_metric_as_a_number() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=590,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for key in (*REQUIRED, *WORKER_KEYS):
        assert key in results, f"{key} missing from {sorted(results)}"
        value = results[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{key} = {value!r}"
        assert math.isfinite(value), f"{key} = {value!r}"
