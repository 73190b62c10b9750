"""Running one task to a final status: its queue/run/retry loop, one attempt, and how each run ends.

A mixin of `Engine`, kept apart so the engine's task-management API reads on its own; it works on the
engine's state, declared below for readers and type checkers. What only a run needs (streaming, tools,
refusals, the stream worker's errors) is imported by `import_run_modules`, not with the engine: `agentdeck`
builds its engine before its first frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tui.config import Config, ProviderConfig
from tui.engine.approvals import Approvals
from tui.engine.budget import Budget
from tui.engine.clients import ClientFactory, MissingKeyError, NoServerError
from tui.engine.errors import Failure, describe_failure
from tui.engine.events import ProgressThrottle
from tui.engine.limits import Slot
from tui.engine.pricing import price_task
from tui.engine.redact import Redactor
from tui.engine.retention import settle
from tui.engine.scheduling import CUT_MESSAGE, Scheduler, StreamCut, TaskSlot
from tui.engine.stalls import IdleWatch, mark_output
from tui.engine.task import Task, TaskStatus
from tui.engine.tool_calls import ApprovalPolicy, ToolCall, ToolCallStatus
from tui.engine.usage_meter import UsageMeter

if TYPE_CHECKING:
    from tui.engine.runs import RunPlan

log = logging.getLogger("agentdeck.engine")
_T = TypeVar("_T")

STOP_MESSAGES = {
    TaskStatus.CANCELLED: "cancelled by user",
    TaskStatus.INTERRUPTED: "stopped when agentdeck exited; continue it to finish",
}
"""Only `cancel` makes a task `cancelled`: any other stop of its coroutine (an exit, a crash, a
signal, a framework tearing its workers down) leaves it `interrupted`, so it can be resumed."""


class RunLoop:
    """`Engine.run_task` and the steps of a run; the engine sets these attributes up."""

    config: Config
    clients: ClientFactory
    redactor: Redactor
    scheduler: Scheduler
    approvals: Approvals
    approval_policy: ApprovalPolicy
    wait_for_budget: bool
    _budget: Budget
    _usage: UsageMeter
    _throttle: ProgressThrottle
    _runners: dict[int, asyncio.Task[Any]]
    _scopes: dict[int, asyncio.Timeout]
    _stop_reasons: dict[int, TaskStatus]
    _stop_messages: dict[int, str]
    _side_jobs: set[asyncio.Task[None]]
    _changed: Callable[[Task], None]
    _tool_changed: Callable[[Task, ToolCall], None]

    async def run_task(self, task: Task) -> Task:
        """Run (or continue) one task to a final status. Cancelling the caller cancels the task."""
        runner = asyncio.current_task()
        assert runner is not None
        self._runners[task.id] = runner
        slot = self.scheduler.slot(task, self._changed)
        try:
            admitted = await self._queued(task, self._budget.admit(task, slot, wait=self.wait_for_budget))
        except asyncio.CancelledError:
            self._runners.pop(task.id, None)
            raise
        if not admitted:
            self._runners.pop(task.id, None)
            return task
        try:
            while (again := await self._run_started(task, slot)) is not None:
                await self._queued(task, slot.pause(*again))
                if self._budget.reached:  # spent while it waited: it starts again only as a new task would
                    slot.give_back()
                    if not await self._queued(task, self._budget.admit(task, slot, wait=self.wait_for_budget)):
                        return task
        finally:
            slot.give_back()
            self._runners.pop(task.id, None)
            self._scopes.pop(task.id, None)
        return task

    async def _queued(self, task: Task, waiting: Awaitable[_T]) -> _T:
        """Wait for a place (or out a provider's refusal) as `queued`; a stop meanwhile ends the task."""
        try:
            return await waiting
        except asyncio.CancelledError:
            reason = self._stop_reasons.pop(task.id, TaskStatus.INTERRUPTED)
            self._finish(task, reason, self._stop_messages.pop(task.id, STOP_MESSAGES[reason]))
            raise

    async def _run_started(self, task: Task, slot: TaskSlot) -> tuple[float, str] | None:
        """Run once; a refusal to wait out or a drop to continue gives (seconds, why) to run again after."""
        from tui.engine.mcp_servers import McpStartError, ToolNameClash
        from tui.engine.runs import plan_run
        from tui.engine.worker_errors import WorkerStopped

        spec = self.config.provider(task.provider)
        plan = plan_run(task)
        self._begin(task)
        budget = None if task.timeout is None else task.timeout - task.prior_elapsed
        if budget is not None and budget <= 0:
            ran = f"{task.prior_elapsed:.1f} s"
            limit = _seconds(task.timeout)
            self._finish(task, TaskStatus.TIMED_OUT, f"timed out: it had already run {ran} of its {limit}")
            self._cancel_server_side(task, spec)
            return None
        deadline = None if budget is None else asyncio.get_running_loop().time() + budget
        scope = asyncio.timeout_at(deadline)
        self._scopes[task.id] = scope
        idle = IdleWatch(task, self.config.idle_timeout_of(spec))
        try:
            async with scope, idle:
                await self._attempt(task, spec, plan, slot)
        except TimeoutError:
            if not (idle.fired or scope.expired()):
                raise
            why = idle.message if idle.fired else f"timed out after {_seconds(task.timeout)} of running time"
            self._finish(task, TaskStatus.TIMED_OUT, why)
            self._cancel_server_side(task, spec)
        except asyncio.CancelledError:
            reason = self._stop_reasons.pop(task.id, TaskStatus.INTERRUPTED)
            self._finish(task, reason, self._stop_messages.pop(task.id, STOP_MESSAGES[reason]))
            if reason is TaskStatus.CANCELLED:
                self._cancel_server_side(task, spec)
            raise
        except (MissingKeyError, NoServerError, McpStartError, ToolNameClash) as exc:
            self._finish(task, TaskStatus.FAILED, str(exc))
        except WorkerStopped as exc:  # the operator continues it: a worker that died may die again
            self._finish(task, TaskStatus.INTERRUPTED, str(exc))
        except Exception as exc:
            return self._after_failure(task, spec, slot, exc)
        if task.status is TaskStatus.DONE:
            slot.lanes.succeeded()
        return None

    def _after_failure(
        self, task: Task, spec: ProviderConfig, slot: TaskSlot, exc: Exception
    ) -> tuple[float, str] | None:
        """Wait out a refusal, continue a dropped stream (`auto_continue`), or end the task."""
        from tui.engine.rate_limits import refusal

        refused = refusal(exc, slot.retries, output_seen=task.chars > 0)
        if refused is not None and slot.retries < spec.max_retries:
            slot.retries += 1
            if refused.rate_limited:
                slot.lanes.rate_limited(slot.generation)
            self._finish(task, TaskStatus.QUEUED, None)
            return refused.wait, refused.reason
        if isinstance(exc, StreamCut):
            failure = Failure(CUT_MESSAGE, dropped=True)
        else:
            failure = describe_failure(exc, spec, task.model, self.redactor)
        resumable = failure.dropped and (task.chars > 0 or task.is_native_background)
        allowed = self.scheduler.auto_continue(spec)
        if resumable and slot.continues < allowed:
            slot.continues += 1
            self._finish(task, TaskStatus.QUEUED, None)
            task.notice = f"continued by itself after: {failure.message} ({slot.continues} of {allowed})"
            return 0.0, "continuing"
        self._finish(task, TaskStatus.INTERRUPTED if resumable else TaskStatus.FAILED, failure.message)
        return None

    async def _attempt(self, task: Task, spec: ProviderConfig, plan: RunPlan, slot: Slot) -> None:
        from tui.engine.runs import plan_run, stream_once
        from tui.engine.tool_recorder import ToolRecorder

        recorder = ToolRecorder(task, self.redactor, self._tool_changed, self._changed, self.approvals, slot)
        hooks: dict[str, Any] = {
            "on_text": self._throttle.touch, "on_tool": recorder.apply, "policy": self.approval_policy,
            "on_output": mark_output,
        }
        try:
            outcome = await stream_once(self.clients, spec, task, plan, **hooks)
            if outcome.fallback_notice:
                task.notice = self.redactor.hide(outcome.fallback_notice)
                fallback = plan_run(task, native_resume=False)
                outcome = await stream_once(self.clients, spec, task, fallback, **hooks)
        finally:
            recorder.withdraw()
        self._usage.report(task, outcome.usage)
        if outcome.notice:
            task.notice = outcome.notice
        if outcome.failure:
            self._finish(task, TaskStatus.FAILED, outcome.failure)
        elif outcome.finished:
            task.session_state = outcome.session_state
            self._finish(task, TaskStatus.DONE, None)
        else:
            raise StreamCut(CUT_MESSAGE)

    def _begin(self, task: Task) -> None:
        if task.started_at is not None and task.finished_at is not None:
            task.prior_elapsed += task.finished_at - task.started_at
        task.started_at = time.time()
        task.first_output_at = task.last_output_at = None
        task.finished_at = None
        self._usage.begin(task)
        self._budget.begin(task)
        task.status = TaskStatus.RUNNING
        task.error = None
        self._changed(task)

    def _finish(self, task: Task, status: TaskStatus, error: str | None) -> None:
        for call in task.tool_calls:
            if not call.status.is_final:  # the stream side may not have said so before it stopped
                call.finish(ToolCallStatus.CANCELLED, error=f"stopped with its task ({str(status).replace('_', ' ')})")
                self._tool_changed(task, call)
        task.status = status
        task.error = self.redactor.hide(error)
        task.finished_at = time.time()
        settle(task)
        spec = self.config.providers.get(task.provider)
        self._usage.settle(task, spec.instructions if spec else None)
        price_task(task, spec)
        self._budget.end(task)
        run_time = task.finished_at - (task.started_at or task.finished_at)
        if status is TaskStatus.DONE and run_time > 0:
            task.rate = task.chars / max(task.elapsed(), 1e-9)
        elif status.is_final:
            task.rate = 0.0
        self._changed(task)
        self._budget.check()

    def _cancel_server_side(self, task: Task, spec: ProviderConfig) -> None:
        token = task.continuation_token
        if not token or task.api != "responses":
            return

        async def cancel() -> None:
            try:
                used = await self.clients.cancel_background(spec, token["response_id"])
            except Exception as exc:
                log.info("could not cancel background response of task %s: %s", task.id, self.redactor.hide(str(exc)))
                return
            if self._usage.replace_estimate(task, used):
                price_task(task, spec)
                self._changed(task)

        task.continuation_token = None
        job = asyncio.create_task(cancel())
        self._side_jobs.add(job)
        job.add_done_callback(self._side_jobs.discard)


def import_run_modules() -> None:
    """Blocking: import what running a task needs, which the engine leaves until then (for a warm-up thread)."""
    import tui.engine.mcp_servers  # noqa: F401
    import tui.engine.rate_limits  # noqa: F401
    import tui.engine.runs  # noqa: F401
    import tui.engine.tool_recorder  # noqa: F401
    import tui.engine.worker_errors  # noqa: F401


def _seconds(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"
