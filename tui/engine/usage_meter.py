"""Counts each run's tokens: the provider's numbers when it sends them, an estimate when it does not.

A run that ends without usage (cancelled, timed out, interrupted, or a provider
that never reports it) is estimated at about four characters per token: the
system prompt, the request and (for a continued task) the text it already had
as input, the text and tool-call arguments received in that run as output. The
task's usage is then marked `estimated`. A failed run that received nothing is
not counted: providers do not bill refused requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine.task import Task, TaskStatus, Usage

CHARS_PER_TOKEN = 4


def estimate_tokens(chars: int) -> int:
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass
class _Run:
    start_chars: int
    start_arguments: int
    reported: bool = False


@dataclass(frozen=True)
class _Estimate:
    usage: Usage
    estimated_before: bool


def _argument_chars(task: Task) -> int:
    return sum(len(call.arguments) for call in task.tool_calls)


def _guess(task: Task, run: _Run, instructions: str | None) -> Usage:
    output_chars = max(0, task.chars - run.start_chars + _argument_chars(task) - run.start_arguments)
    input_chars = len(task.system or instructions or "") + len(task.request_text) + run.start_chars
    inputs, outputs = estimate_tokens(input_chars), estimate_tokens(output_chars)
    return Usage(input_tokens=inputs, output_tokens=outputs, total_tokens=inputs + outputs, estimated=True)


class UsageMeter:
    def __init__(self) -> None:
        self._runs: dict[int, _Run] = {}
        self._estimates: dict[int, _Estimate] = {}

    def begin(self, task: Task) -> None:
        self._runs[task.id] = _Run(task.chars, _argument_chars(task))
        self._estimates.pop(task.id, None)

    def report(self, task: Task, usage: Usage) -> None:
        """The provider's numbers for the run; an empty report leaves the run to be estimated."""
        run = self._runs.get(task.id)
        if usage.is_known:
            task.usage.add(usage)
            if run is not None:
                run.reported = True

    def running_estimate(self, task: Task, instructions: str | None) -> Usage | None:
        """What the run under way has used so far, by its text; None when no run is under way or it was reported."""
        run = self._runs.get(task.id)
        if run is None or run.reported:
            return None
        return _guess(task, run, instructions)

    def settle(self, task: Task, instructions: str | None) -> None:
        """The run ended: estimate it when the provider did not say what it used."""
        run = self._runs.pop(task.id, None)
        if run is None or run.reported:
            return
        guess = _guess(task, run, instructions)
        if task.status in (TaskStatus.FAILED, TaskStatus.QUEUED) and not guess.output_tokens:
            return  # refused (queued again to retry) or failed before any output: nothing was used
        self._estimates[task.id] = _Estimate(guess, task.usage.estimated)
        task.usage.add(guess)

    def replace_estimate(self, task: Task, usage: Usage) -> bool:
        """The provider told afterwards what the run used (a cancelled background response): it replaces the guess."""
        estimate = self._estimates.pop(task.id, None)
        if estimate is None or not usage.is_known:
            return False
        task.usage.subtract(estimate.usage)
        task.usage.estimated = estimate.estimated_before
        task.usage.add(usage)
        return True
