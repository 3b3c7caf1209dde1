"""The replay engine: orchestrator code + history -> actions and status. Pure: no I/O, clock or randomness.

The worker creates one `OrchestrationExecutor` per live instance and calls
`execute(history, new_events)` once per episode; user code sees only
`DurableOrchestrationContext` and the tasks it returns.
"""

from __future__ import annotations

from durable_azure.orchestration.actions import (
    Action,
    ActionType,
    CompleteOrchestrationAction,
    CreateSubOrchestrationAction,
    CreateTimerAction,
    ScheduleTaskAction,
    SchedulingAction,
    SendEventAction,
)
from durable_azure.orchestration.context import DurableOrchestrationContext, OrchestrationRuntime
from durable_azure.orchestration.executor import ExecutionResult, OrchestrationExecutor
from durable_azure.orchestration.outcome import failed_orchestrator_reason
from durable_azure.orchestration.retry import RetryOptions
from durable_azure.orchestration.state import OrchestrationState
from durable_azure.orchestration.tasks import (
    ActivityTask,
    CompletableTask,
    CompositeTask,
    ExternalEventTask,
    RetryableTask,
    SubOrchestrationTask,
    Task,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

__all__ = [
    "Action",
    "ActionType",
    "ActivityTask",
    "CompletableTask",
    "CompleteOrchestrationAction",
    "CompositeTask",
    "CreateSubOrchestrationAction",
    "CreateTimerAction",
    "DurableOrchestrationContext",
    "ExecutionResult",
    "ExternalEventTask",
    "OrchestrationExecutor",
    "OrchestrationRuntime",
    "OrchestrationState",
    "RetryOptions",
    "RetryableTask",
    "ScheduleTaskAction",
    "SchedulingAction",
    "SendEventAction",
    "SubOrchestrationTask",
    "Task",
    "TimerTask",
    "WhenAllTask",
    "WhenAnyTask",
    "failed_orchestrator_reason",
]
