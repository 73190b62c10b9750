"""`agentdeck resume NAME`: continue every interrupted task of a saved session, headless.

Chat Completions tasks continue in their restored agent session from where
their text stops; Responses tasks that ran in native background mode are
re-attached with their continuation token (the engine picks the way from the
task's saved fields, and falls back to the session if the server forgot the
response, saying so in the task's notice).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tui.cli.demo_on_demand import DemoServerOnDemand
from tui.cli.options import apply_task_options, check_key
from tui.cli.run_command import EXIT_NOT_ALL_DONE, EXIT_OK, drive, report_store_problem
from tui.config import Config, ConfigError
from tui.engine import ApprovalPolicy, Engine, Task
from tui.store import SessionStore, load_text, resolve
from tui.wording import plural


def resume_command(args: argparse.Namespace, config: Config) -> int:
    config = apply_task_options(config, args)
    return asyncio.run(_resume(args, config))


def _runnable(config: Config, task: Task) -> bool:
    """A task resumes only with time left, on a provider that still exists and has its key, and with its MCP
    servers still configured; say why not."""
    if task.timeout is not None and task.elapsed() >= task.timeout:
        print(
            f"agentdeck: task {task.id} not resumed: it has used all of its {task.timeout:g} s timeout "
            f"(a timeout counts every run; it ran {task.elapsed():.1f} s); give it more time in the app (t, +N)",
            file=sys.stderr,
        )
        return False
    try:
        check_key(config.provider(task.provider))
        for server in task.tools:  # the MCP servers it was offered, by name
            config.mcp_server(server)
    except ConfigError as exc:
        hint = " (pass --base-url, --api and --model again)" if task.provider == "adhoc" else ""
        print(f"agentdeck: task {task.id} not resumed: {exc}{hint}", file=sys.stderr)
        return False
    return True


async def _resume(args: argparse.Namespace, config: Config) -> int:
    store = SessionStore.open(resolve(args.ref), create=False, on_problem=report_store_problem)
    policy = ApprovalPolicy.APPROVE if args.approve_all else ApprovalPolicy.DENY
    engine = Engine(config, local_server=DemoServerOnDemand(), approval_policy=policy)
    engine.wait_for_budget = False  # nobody can raise it: over budget, tasks stay queued and the run ends
    store.attach(engine)
    interrupted = store.interrupted()
    tasks = [task for task in interrupted if _runnable(config, task)]
    if not tasks:
        await store.aclose()
        await engine.aclose()
        print(f"agentdeck: session {store.name!r} has no interrupted task to resume", file=sys.stderr)
        return EXIT_NOT_ALL_DONE if interrupted else EXIT_OK
    await asyncio.gather(*(load_text(task) for task in tasks))
    for task in tasks:
        engine.prepare_continue(task.id)
    print(f"agentdeck: resuming {plural(len(tasks), 'task')} of session {store.name!r}", file=sys.stderr)
    code = await drive(engine, tasks, as_json=args.json, store=store)
    return EXIT_NOT_ALL_DONE if code == EXIT_OK and len(tasks) < len(interrupted) else code
