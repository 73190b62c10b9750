"""The engine: tasks, a concurrency limit, timeouts, cancel, and observers.

Running one task is the coroutine `run_task`; callers schedule it however
they like (plain asyncio tasks in the headless CLI, Textual workers in the
app) and the same concurrency limit, timeouts and events apply either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import count
from types import EllipsisType, MappingProxyType
from typing import Any

from tui.config import Config
from tui.engine.approvals import Approvals
from tui.engine.attachments import compose_request, read_attachment
from tui.engine.budget import Budget
from tui.engine.clients import ClientFactory, LocalServer
from tui.engine.events import EventKind, Observer, ProgressThrottle, TaskEvent
from tui.engine.groups import GroupError, Target, check_targets, latest_per_target, members, new_group_id
from tui.engine.limits import ConcurrencyLimit
from tui.engine.pricing import UsageTotal, cost_usd, price_task, prices_for
from tui.engine.redact import Redactor
from tui.engine.run_loop import RunLoop, import_run_modules
from tui.engine.scheduling import Scheduler
from tui.engine.task import RESUMABLE, Task, TaskStatus
from tui.engine.task_index import TaskIndex
from tui.engine.tool_calls import ApprovalDecision, ApprovalPolicy, ToolCall
from tui.engine.usage_meter import UsageMeter
from tui.timeouts import check_timeout

log = logging.getLogger("agentdeck.engine")


class EngineError(ValueError):
    """A request the engine cannot act on (unknown task, wrong state); shown to the user."""


class Engine(RunLoop):
    """Tasks, their observers and the operator's controls; running them is `RunLoop`'s part."""

    def __init__(
        self, config: Config, *, local_server: LocalServer | None = None, clients: ClientFactory | None = None,
        progress_hz: float = 10.0, approval_policy: ApprovalPolicy = ApprovalPolicy.OPERATOR,
    ) -> None:
        """`local_server` serves the providers with no `base_url` (the CLI passes the demo server); `clients`
        lends another engine's factory instead (its stream loop and MCP servers)."""
        self.config = config
        self.redactor = Redactor(config.secret_env_names)
        """Hides every provider's key and MCP header secret in what tasks are told (errors, notices, tool text)."""
        self.clients = clients or ClientFactory(local_server, streams=config.streams)
        self.clients.configure_mcp(config.mcp)
        self.approval_policy = approval_policy
        """What an `approve = "ask"` server's tool gets: the operator's answer, or a fixed one when nobody is there."""
        self._tasks: dict[int, Task] = {}
        self.tasks: Mapping[int, Task] = MappingProxyType(self._tasks)
        """Every task by id, read-only: tasks come and go through the engine's methods, which tell observers."""
        self._index = TaskIndex()
        self._ids = count(1)
        self._observers: list[Observer] = []
        self._limit = ConcurrencyLimit(config.concurrency)
        self.scheduler = Scheduler(config, self._limit)
        """Each provider's lanes under the global limit, lowered by 429s (`tui.engine.scheduling`)."""
        self._throttle = ProgressThrottle(self._emit_progress, progress_hz)
        self._runners: dict[int, asyncio.Task[Any]] = {}
        self._scopes: dict[int, asyncio.Timeout] = {}
        self._stop_reasons: dict[int, TaskStatus] = {}
        self._side_jobs: set[asyncio.Task[None]] = set()
        self.approvals = Approvals()
        self._usage = UsageMeter()
        self._stop_messages: dict[int, str] = {}
        """Why a task was stopped, when not the operator's cancel (e.g. the budget)."""
        self.wait_for_budget = True
        """Over budget, queued tasks wait for the budget to be raised (the app); False: they stay queued (`run`)."""
        self._budget = Budget(
            config.budget_usd, spent=self.spent_usd, tasks=self._tasks.values, changed=self._changed,
            stop=lambda task_id, why: self._stop(task_id, TaskStatus.CANCELLED, why),
        )

    # -- observers -------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def _emit(self, kind: EventKind, task: Task, call: ToolCall | None = None) -> None:
        self._index.usage_changed(task)  # every change of a task's usage is told (and made before it is told)
        event = TaskEvent(kind, task, call)
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("observer failed on %s of task %s", kind, task.id)

    def publish(self, event: TaskEvent) -> None:
        """Relay an event that happened elsewhere (a watched session written by another process)."""
        if event.kind is EventKind.ADDED:
            self._hold(event.task)
        elif event.kind is EventKind.REMOVED:
            self._let_go(event.task)
        self._emit(event.kind, event.task, event.call)

    def _emit_progress(self, task: Task) -> None:
        self._emit(EventKind.PROGRESS, task)

    def _changed(self, task: Task) -> None:
        self._throttle.flush(task)
        self._emit(EventKind.STATUS, task)

    def _tool_changed(self, task: Task, call: ToolCall) -> None:
        """A tool call started, waits, or ended: observers get the call (text before it is flushed first)."""
        self._throttle.flush(task)
        self._emit(EventKind.TOOL, task, call)

    # -- creating tasks --------------------------------------------------

    @property
    def concurrency(self) -> int:
        return self._limit.limit

    def set_concurrency(self, limit: int) -> None:
        self.scheduler.set_concurrency(limit)

    def adopt(self, tasks: Iterable[Task]) -> None:
        """Take over tasks loaded from a saved session, keeping their ids."""
        for task in tasks:
            if task.usage.cost_usd is None:  # saved before prices were set, or by an older agentdeck
                price_task(task, self.config.providers.get(task.provider))
            self._hold(task)
        self._ids = count(max(self.tasks, default=0) + 1)

    def _hold(self, task: Task) -> None:
        """The one way in: the task joins `tasks` and the index of statuses (in place of another with its id)."""
        held = self._tasks.get(task.id)
        if held is not None and held is not task:
            self._index.discard(held)
        self._tasks[task.id] = task
        self._index.add(task)

    def _let_go(self, task: Task) -> None:
        if self._tasks.get(task.id) is task:
            del self._tasks[task.id]
            self._index.discard(task)

    def add_task(
        self,
        prompt: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        timeout: float | None | EllipsisType = ...,
        attachments: Iterable[str] = (),
        system: str | None = None,
        parent: Task | None = None,
        like: Task | None = None,
        tools: Iterable[str] | None = None,
        group: str | None = None,
    ) -> Task:
        """Create a queued task; attachments are read and checked now, before anything is sent.

        `like` copies another task's exact request (retry), so observers see it complete at ADDED.
        `tools` names the MCP servers offered (None: the provider's `tools`).
        """
        if not prompt.strip():
            raise EngineError("the prompt is empty")
        spec = self.config.provider(provider)
        servers = spec.tools if tools is None else tuple(dict.fromkeys(tools))
        for name in servers:
            self.config.mcp_server(name)
        files = [read_attachment(path, self.config.max_attachment_bytes) for path in attachments]
        if timeout is ...:
            timeout = spec.timeout if spec.timeout is not None else self.config.timeout
        task = Task(
            id=next(self._ids),
            prompt=prompt,
            provider=spec.name,
            model=model or spec.model,
            api=spec.api,
            timeout=timeout or None,
            system=system,
            attachments=[str(f.path) for f in files],
            request_text=compose_request(prompt, files),
            parent_id=parent.id if parent else None,
            base_session=parent.session_state if parent else None,
            tools=servers,
            group=group,
        )
        if like is not None:
            task.attachments = list(like.attachments)
            task.request_text = like.request_text
            task.base_session = like.base_session
            task.parent_id = like.parent_id
        self._hold(task)
        self._emit(EventKind.ADDED, task)
        return task

    def add_group(self, prompt: str, targets: Sequence[Target], **options: Any) -> list[Task]:
        """One prompt asked of each (provider, model or None) target: queued tasks sharing a new group id."""
        if not prompt.strip():
            raise EngineError("the prompt is empty")
        try:
            targets = check_targets(self.config, targets)
        except GroupError as exc:
            raise EngineError(str(exc)) from None
        group = new_group_id(self._tasks.values())
        return [self.add_task(prompt, provider=p, model=m, group=group, **options) for p, m in targets]

    def group(self, group_id: str) -> list[Task]:
        """The group's tasks, in creation order."""
        try:
            return members(self._tasks, group_id)
        except GroupError as exc:
            raise EngineError(str(exc)) from None

    def follow_up(self, task_id: int, prompt: str, *, group: str | None = None) -> Task:
        """A new turn in the same agent session, as a new task."""
        parent = self.get(task_id)
        if parent.status is not TaskStatus.DONE or parent.session_state is None:
            raise EngineError(f"task {task_id} has no finished session to follow up on")
        return self.add_task(
            prompt, provider=parent.provider, model=parent.model, timeout=parent.timeout,
            system=parent.system, parent=parent, tools=parent.tools, group=group,
        )

    def follow_up_group(self, group_id: str, prompt: str) -> list[Task]:
        """Every finished member asked the same follow-up in its own session; the new tasks form a new group."""
        done = [task for task in self.group(group_id) if task.status is TaskStatus.DONE and task.session_state]
        if not done:
            raise EngineError(f"group {group_id} has no finished answer to follow up on")
        if not prompt.strip():
            raise EngineError("the prompt is empty")
        group = new_group_id(self._tasks.values())
        return [self.follow_up(task.id, prompt, group=group) for task in done]

    def retry(self, task_id: int, *, group: str | None | EllipsisType = ...) -> Task:
        """The same request run afresh as a new task; the old one is kept as it was (a member's stays in its group)."""
        old = self.get(task_id)
        if old.status.is_active:
            raise EngineError(f"task {task_id} is still {old.status}")
        return self.add_task(
            old.prompt, provider=old.provider, model=old.model, timeout=old.timeout, system=old.system, like=old,
            tools=old.tools, group=old.group if group is ... else group,
        )

    def retry_group(self, group_id: str) -> list[Task]:
        """The whole group asked again (each provider/model once), as a new group; the old answers are kept."""
        old = latest_per_target(self.group(group_id))
        busy = next((task for task in old if task.status.is_active), None)
        if busy is not None:
            raise EngineError(f"task {busy.id} of group {group_id} is still {busy.status}")
        group = new_group_id(self._tasks.values())
        return [self.retry(task.id, group=group) for task in old]

    def prepare_continue(self, task_id: int) -> Task:
        """Queue an unfinished task to continue where its text stops (or re-attach natively)."""
        task = self.get(task_id)
        if task.status not in RESUMABLE:
            raise EngineError(f"task {task_id} is {task.status}; only unfinished tasks can be continued")
        missing = [name for name in task.tools if name not in self.config.mcp]
        if missing:
            raise EngineError(f"task {task_id} was offered MCP server {missing[0]!r}, which is not configured now")
        task.status = TaskStatus.QUEUED
        task.error = None
        self._changed(task)
        return task

    def remove(self, task_id: int) -> Task:
        task = self.get(task_id)
        if task.status.is_active:
            raise EngineError(f"task {task_id} is {task.status}; cancel it first")
        self._let_go(task)
        self._throttle.forget(task)
        self.approvals.forget(task_id)
        self._emit(EventKind.REMOVED, task)
        return task

    def get(self, task_id: int) -> Task:
        try:
            return self._tasks[task_id]
        except KeyError:
            raise EngineError(f"no task {task_id}") from None

    # -- what the tasks are doing ----------------------------------------

    def find(self, task_id: int | None) -> Task | None:
        """The task, or None when it is gone (a table row or a pane can outlive its task by a moment)."""
        return None if task_id is None else self._tasks.get(task_id)

    def by_status(self, *statuses: TaskStatus) -> list[Task]:
        """Tasks in any of these statuses, oldest first; read from the index, not a scan of every task."""
        return self._index.by_status(*statuses)

    @property
    def running(self) -> list[Task]:
        return self.by_status(TaskStatus.RUNNING)

    @property
    def active(self) -> list[Task]:
        """Queued, running or waiting: what a quit or `cancel all` would stop."""
        return self.by_status(TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.WAITING)

    def counts(self) -> Counter[TaskStatus]:
        return self._index.counts()

    def usage_total(self) -> UsageTotal:
        """The tokens and cost of every task, as `UsageTotal.of(tasks)` sums them, at the cost of the active ones."""
        return self._index.usage_total()

    def cost_of(self, task: Task) -> float | None:
        """USD the task has cost (estimated usage included, a running task's by its text so far); None when its
        model has no price."""
        spec = self.config.providers.get(task.provider)
        live = self._usage.running_estimate(task, spec.instructions if spec else None)
        if live is None and task.usage.cost_usd is not None:
            return task.usage.cost_usd
        used = replace(task.usage)
        if live is not None:
            used.add(live)
        return cost_usd(used, prices_for(spec, task.model))

    def spent_usd(self) -> float:
        """What all tasks have cost so far; a task whose cost is unknown counts 0."""
        return sum(self.cost_of(task) or 0.0 for task in self._tasks.values())

    @property
    def budget_usd(self) -> float | None:
        return self._budget.limit

    def set_budget(self, usd: float | None) -> None:
        """A new spending limit for the session (None: none): raising it lets queued tasks start."""
        if usd is not None and not usd > 0:
            raise EngineError(f"a budget is more than $0, not {usd:g}")
        self._budget.set_limit(usd)

    # -- controlling running tasks ---------------------------------------

    def set_timeout(self, task_id: int, seconds: float | None) -> None:
        """Change a task's timeout: a limit on its running time over all its runs, earlier ones included."""
        if seconds is not None:
            try:
                check_timeout(seconds)
            except ValueError as exc:
                raise EngineError(f"timeout: {exc}") from None
        task = self.get(task_id)
        task.timeout = seconds or None
        scope = self._scopes.get(task_id)
        if scope is not None and task.started_at is not None:
            if task.timeout is None:
                scope.reschedule(None)
            else:
                remaining = task.timeout - task.elapsed()
                scope.reschedule(asyncio.get_running_loop().time() + remaining)
        self._changed(task)

    def cancel(self, task_id: int) -> bool:
        return self._stop(task_id, TaskStatus.CANCELLED)

    def cancel_all(self) -> int:
        return sum(self._stop(task_id, TaskStatus.CANCELLED) for task_id in list(self._runners))

    def interrupt_all(self) -> int:
        """Stop everything for shutdown: tasks become `interrupted`, resumable later."""
        return sum(self._stop(task_id, TaskStatus.INTERRUPTED) for task_id in list(self._runners))

    def _stop(self, task_id: int, reason: TaskStatus, message: str | None = None) -> bool:
        runner = self._runners.get(task_id)
        if runner is None or runner.done():
            return False
        self._stop_reasons[task_id] = reason
        if message is not None:
            self._stop_messages[task_id] = message
        runner.cancel()
        return True

    def answer_approval(self, task_id: int, call_id: str, decision: ApprovalDecision | str) -> None:
        """The operator's answer to a waiting tool call: run it once, run this tool for the whole task, or deny it."""
        task = self.get(task_id)
        call = task.tool_call(call_id)
        if call is None:
            raise EngineError(f"task {task_id} has no tool call {call_id!r}")
        try:
            decision = ApprovalDecision(decision)
        except ValueError:
            raise EngineError(f"an approval is once, always or deny, not {decision!r}") from None
        if not self.approvals.answer(task_id, call_id, decision):
            raise EngineError(f"tool call {call.name} of task {task_id} is {call.status}, not waiting for approval")

    def start(self, task: Task) -> asyncio.Task[Task]:
        """Schedule `run_task` as a plain asyncio task (the headless way)."""
        return asyncio.create_task(self.run_task(task), name=f"agentdeck-task-{task.id}")

    async def wait_side_jobs(self) -> None:
        if self._side_jobs:
            await asyncio.wait(self._side_jobs, timeout=5)

    def prepare(self) -> None:
        """Blocking, for a thread: import what a run needs and start the stream worker (`ClientFactory.prepare`),
        so the first task neither waits for that nor freezes its loop importing."""
        import_run_modules()
        self.clients.prepare()

    async def aclose(self) -> None:
        await self.wait_side_jobs()
        await self.clients.close()
