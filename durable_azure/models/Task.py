"""`azure.durable_functions.models.Task`'s path: the tasks an orchestrator yields (durable_azure.orchestration.tasks).

`TaskBase` is the SDK's name of the base class apps use in type hints; here it is `Task`. The SDK's other
task classes are internal to its replay and have no counterpart by name, except those below.
"""

from __future__ import annotations

from durable_azure.orchestration.tasks import Task, TimerTask, WhenAllTask, WhenAnyTask

TaskBase = Task

__all__ = ["TaskBase", "TimerTask", "WhenAllTask", "WhenAnyTask"]
