"""`agentdeck run`: the engine without a UI, for scripts, nohup and CI."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.cli import EXIT_USAGE
from tui.cli.demo_on_demand import DemoServerOnDemand
from tui.cli.options import apply_task_options, check_key, check_text
from tui.cli.prompts_file import read_prompt_lines
from tui.cli.providers_option import group_targets
from tui.config import Config, ConfigError
from tui.engine import ApprovalPolicy, AttachmentError, Engine, EngineError, Task, TaskStatus
from tui.safety import one_line, visible_controls
from tui.stop_report import exit_line

if TYPE_CHECKING:
    from tui.store import SessionStore

EXIT_OK, EXIT_NOT_ALL_DONE, EXIT_INTERRUPTED = 0, 1, 130


def collect_prompts(args: argparse.Namespace) -> list[str]:
    for number, prompt in enumerate(args.prompts, start=1):
        check_text(f"PROMPT {number}", prompt)
    prompts = [p for p in args.prompts if p.strip()]
    if args.file:
        prompts += read_prompt_lines(args.file)
    if not prompts:
        raise ConfigError("no prompt given: pass PROMPT arguments or -f FILE")
    return prompts


def run_command(args: argparse.Namespace, config: Config) -> int:
    config = apply_task_options(config, args)
    args.targets = group_targets(args, config)
    if args.targets is None:
        check_key(config.provider(None))
    args.tools = tool_servers(args.tools, config)
    prompts = collect_prompts(args)
    return asyncio.run(_run(args, config, prompts))


def tool_servers(value: str | None, config: Config) -> tuple[str, ...] | None:
    """`--tools a,b` / `--tools none`: the MCP servers offered, checked against the config; None = the provider's."""
    if value is None:
        return None
    check_text("--tools", value)
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["none"]:
        return ()
    if not names:
        raise ConfigError("--tools needs MCP server names separated by commas, or 'none'")
    for name in names:
        config.mcp_server(name)
    return tuple(dict.fromkeys(names))


async def _run(args: argparse.Namespace, config: Config, prompts: list[str]) -> int:
    policy = ApprovalPolicy.APPROVE if args.approve_all else ApprovalPolicy.DENY
    engine = Engine(config, local_server=DemoServerOnDemand(), approval_policy=policy)
    engine.wait_for_budget = False  # nobody can raise it: over budget, tasks stay queued and the run ends
    store = _open_store(args, engine)
    try:
        tasks = _add_tasks(engine, args, prompts)
    except (AttachmentError, EngineError) as exc:
        print(f"agentdeck: {exc}", file=sys.stderr)
        if store is not None:
            await store.aclose()
        return EXIT_USAGE
    unsaved = args.session if args.session and store is None else None
    return await drive(engine, tasks, as_json=args.json, store=store, unsaved_session=unsaved)


async def drive(engine: Engine, tasks: list[Task], *, as_json: bool, store: SessionStore | None = None,
                unsaved_session: str | None = None) -> int:
    """Run tasks to their end: progress on stderr, answers on stdout; a signal interrupts them (resumable).

    Exit code 1 also when the session asked for does not hold the run: it could not be
    opened (`unsaved_session`), or its last save failed (the store said what was lost).
    """
    # Rich's live display is imported here: `agentdeck` opening the app never needs it.
    from tui.cli.live import PlainProgress, TerminalProgress

    progress = TerminalProgress(engine) if sys.stderr.isatty() else PlainProgress(engine)
    stopped = asyncio.Event()
    restore = _install_stop_handlers(lambda: (stopped.set(), engine.interrupt_all()))
    try:
        with progress:
            runners = [engine.start(task) for task in tasks]
            await asyncio.gather(*runners, return_exceptions=True)
    finally:
        restore()
        await engine.aclose()
        saved = await store.aclose() if store is not None else True
    _report(tasks, as_json)
    _say_where_it_is(engine, store, saved=saved, unsaved_session=unsaved_session)
    if stopped.is_set():
        return EXIT_INTERRUPTED
    if not saved or unsaved_session is not None:
        return EXIT_NOT_ALL_DONE
    return EXIT_OK if all(t.status is TaskStatus.DONE for t in tasks) else EXIT_NOT_ALL_DONE


def _open_store(args: argparse.Namespace, engine: Engine) -> SessionStore | None:
    """`--session NAME`: save the run there as it streams (created if missing; earlier tasks are kept).

    When the disk refuses (read-only, full, not ours) the run goes on unsaved, as it
    would if saving failed halfway: the answers are printed all the same.
    """
    if not args.session:
        return None
    from tui.store import SessionStore, StorageUnavailable

    try:
        store = SessionStore.open(args.session, on_problem=report_store_problem)
    except StorageUnavailable as exc:
        print(f"agentdeck: cannot save session {args.session!r}: {visible_controls(str(exc))}; "
              "running without saving (the answers are still printed)", file=sys.stderr, flush=True)
        return None
    store.attach(engine)
    return store


def _say_where_it_is(engine: Engine, store: SessionStore | None, *, saved: bool,
                     unsaved_session: str | None) -> None:
    """The session to reopen or resume, or that nothing (or not everything) was kept."""
    if unsaved_session is not None:
        print(f"agentdeck: nothing of this run was saved in session {unsaved_session!r}", file=sys.stderr)
    elif store is None:
        print("agentdeck: not saved; add --session NAME to keep a run and resume it later", file=sys.stderr)
    else:
        print(exit_line(store.name, engine.tasks.values(), saved=saved), file=sys.stderr)


def report_store_problem(message: str | None) -> None:
    print(f"agentdeck: {visible_controls(message or 'saving the session works again')}", file=sys.stderr, flush=True)


def _add_tasks(engine: Engine, args: argparse.Namespace, prompts: list[str]) -> list[Task]:
    timeout = ... if args.timeout is None else (args.timeout or None)
    if args.targets is not None:
        options = {"timeout": timeout, "attachments": args.attach, "system": args.system, "tools": args.tools}
        return [task for p in prompts for task in engine.add_group(p, args.targets, **options)]
    return [
        engine.add_task(p, model=args.model, timeout=timeout, attachments=args.attach, system=args.system,
                        tools=args.tools)
        for p in prompts
    ]


def _install_stop_handlers(stop: Callable[[], object]) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, stop)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    return lambda: [loop.remove_signal_handler(sig) for sig in installed] and None


def _report(tasks: list[Task], as_json: bool) -> None:
    if as_json:
        for task in tasks:
            sys.stdout.write(json.dumps(task.summary(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    many = len(tasks) > 1
    for task in tasks:
        if many:
            where = f" ({task.group}: {task.provider}/{task.model})" if task.group else ""
            sys.stdout.write(f"\n== task {task.id}{where}: {task.status} — {one_line(task.prompt, 60)}\n")
        if task.chars:
            text = visible_controls(task.text) if sys.stdout.isatty() else task.text
            sys.stdout.write(text)
            if not text.endswith("\n"):
                sys.stdout.write("\n")
    sys.stdout.flush()
    done = sum(t.status is TaskStatus.DONE for t in tasks)
    print(f"agentdeck: {done}/{len(tasks)} done", file=sys.stderr)
    for task in tasks:
        if task.error:
            print(f"  task {task.id} {task.status}: {visible_controls(task.error)}", file=sys.stderr)
        if task.notice:
            print(f"  task {task.id}: {visible_controls(task.notice)}", file=sys.stderr)
