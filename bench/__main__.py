"""`python -m bench [--quick] [--json] [--only NAME ...]`: agentdeck's benchmark suite.

Each metric runs in fresh processes (see its module), against one demo server
started here in its own process. Prints a table; with `--json`, one JSON
object whose keys are the metrics (numbers) plus context figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from bench.common import SERVER_ENV, ServerProcess, run_child

MODULES = (
    "startup", "throughput", "ui_lag", "persistence", "reopen", "table", "memory", "export", "search", "rate_limited",
)
"""The metric modules, run in this order, each in its own process."""
GOALS: dict[str, tuple[str, Any]] = {
    "engine_vs_framework_throughput": (">= 0.9", lambda v: v >= 0.9),
    "framework_vs_sdk_throughput": ("context", None),
    "ui_lag_p99_ms": ("<= 25", lambda v: v <= 25),
    "ui_lag_max_ms": ("<= 100", lambda v: v <= 100),
    "ui_lag_idle_p99_ms": ("baseline", None),
    "ui_lag_typical_p99_ms": ("<= 10", lambda v: v <= 10),
    "ui_delivered_ratio": (">= 0.95", lambda v: v >= 0.95),
    "write_amplification": ("<= 1.5", lambda v: v <= 1.5),
    "reopen_1000_vs_10": ("<= 3", lambda v: v <= 3),
    "table_10k_frame_ms": ("<= 16", lambda v: v <= 16),
    "table_10k_filter_ms": ("<= 50", lambda v: v <= 50),
    "table_10k_sort_ms": ("<= 50", lambda v: v <= 50),
    "startup_vs_bare_textual": ("<= 1.5", lambda v: v <= 1.5),
    "rss_mb_per_output_mb": ("<= 2.5", lambda v: v <= 2.5),
    "rss_kb_per_task": ("<= 20", lambda v: v <= 20),
    "export_100k_s": ("context (5k tasks with --quick)", None),
    "export_100k_vs_sqlite": ("<= 3", lambda v: v <= 3),
    "search_p50_ms": ("<= 50", lambda v: v <= 50),
    "search_vs_grep": ("<= 0.1", lambda v: v <= 0.1),
    "index_lag_s": ("<= 2", lambda v: v <= 2),
    "rate_limited_batch_ratio": ("<= 1.3", lambda v: v <= 1.3),
}
"""Every metric the issue asks for -> (goal as text, check); `None` marks a baseline or context figure."""
REQUIRED = tuple(GOALS)


def _table(results: dict[str, Any]) -> str:
    rows = [("metric", "value", "goal", "")]
    for key, (goal, check) in GOALS.items():
        value = results.get(key)
        verdict = "" if check is None or value is None else ("meets" if check(value) else "MISSES")
        rows.append((key, "-" if value is None else f"{value:g}", goal, verdict))
    context = [(k, f"{v:g}", "", "") for k, v in results.items() if k not in GOALS and isinstance(v, int | float)]
    widths = [max(len(r[i]) for r in rows + context) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    if context:
        lines += ["", "context:"] + ["  " + "  ".join(c.ljust(w) for c, w in zip(row[:2], widths)).rstrip()
                                     for row in context]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="agentdeck benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller runs (a few minutes in total)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--only", nargs="+", choices=MODULES, metavar="NAME", help=f"run only: {', '.join(MODULES)}")
    args = parser.parse_args(argv)
    flags = ["--quick"] if args.quick else []
    results: dict[str, Any] = {}
    started = time.monotonic()
    server = ServerProcess()
    os.environ[SERVER_ENV] = server.start()
    try:
        for module in args.only or MODULES:
            t = time.monotonic()
            if not args.json:
                print(f"running {module}...", file=sys.stderr, flush=True)
            result = run_child(module, flags, timeout=900)
            result.pop("seconds", None)
            results.update(result)
            results[f"seconds_{module}"] = round(time.monotonic() - t, 1)
    finally:
        server.stop()
        os.environ.pop(SERVER_ENV, None)
    results["seconds_total"] = round(time.monotonic() - started, 1)
    results["cpu_count"] = os.cpu_count() or 0
    if args.json:
        print(json.dumps(results))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
