"""`azure.durable_functions.models.Task`'s path: the tasks an orchestrator yields (durable_azure.orchestration.tasks).

`TaskBase` is the SDK's name of the base class apps use in type hints; here it is `Task`. The SDK's other
task classes are internal to its replay and have no counterpart by name, except those below; `TaskState`
has the SDK's members (RUNNING, SUCCEEDED, FAILED).
"""

from __future__ import annotations

from durable_azure.orchestration.tasks import Task, TaskState, TimerTask, WhenAllTask, WhenAnyTask

TaskBase = Task

__all__ = ["TaskBase", "TaskState", "TimerTask", "WhenAllTask", "WhenAnyTask"]
