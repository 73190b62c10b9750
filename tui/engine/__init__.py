"""The headless core of agentdeck: tasks, providers, runs. Never imports Textual."""

from tui.engine.attachments import AttachmentError
from tui.engine.engine import Engine, EngineError
from tui.engine.events import EventKind, Observer, TaskEvent
from tui.engine.task import RESUMABLE, Task, TaskOutput, TaskStatus, Usage
from tui.engine.tool_calls import ApprovalDecision, ApprovalPolicy, ToolCall, ToolCallStatus

__all__ = [
    "RESUMABLE",
    "ApprovalDecision",
    "ApprovalPolicy",
    "AttachmentError",
    "Engine",
    "EngineError",
    "EventKind",
    "Observer",
    "Task",
    "TaskEvent",
    "TaskOutput",
    "TaskStatus",
    "ToolCall",
    "ToolCallStatus",
    "Usage",
]
