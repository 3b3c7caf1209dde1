"""The history event model, numbered and named as the Durable Task Framework does.

An orchestration is event-sourced: its state is the list of these events, one
History-table row each. This module is the one place that knows their wire
shape (PascalCase member names, as DTFx's DataContract serializer writes
them); the queue envelope and the table rows are built from `to_wire` /
`from_wire`, the HTTP history JSON from `to_json` / `from_json`.

Imports nothing from the project but `errors`.

| EventType (int)                        | recorded when                                               |
|----------------------------------------|-------------------------------------------------------------|
| ExecutionStarted (0)                   | an execution begins: name, input, parent, execution id      |
| ExecutionCompleted (1)                 | the orchestrator returned, failed or was terminated         |
| ExecutionFailed (2)                    | (numbering only; DTFx has no such class)                    |
| ExecutionTerminated (3)                | a terminate request was applied; `input` is the reason       |
| TaskScheduled (4)                      | the orchestrator scheduled an activity (event_id = task id)  |
| TaskCompleted (5) / TaskFailed (6)     | the activity's outcome, `task_scheduled_id` points back      |
| SubOrchestrationInstanceCreated (7)    | a child orchestration was started (event_id = task id)      |
| SubOrchestrationInstanceCompleted (8)  | the child's result                                          |
| SubOrchestrationInstanceFailed (9)     | the child's failure                                         |
| TimerCreated (10) / TimerFired (11)    | a durable timer was created / came due (`timer_id` = id)    |
| OrchestratorStarted (12)               | an episode began; its timestamp is `current_utc_datetime`   |
| OrchestratorCompleted (13)             | an episode ended                                            |
| EventSent (14)                         | the orchestrator sent an event to another instance           |
| EventRaised (15)                       | an external event arrived (`name`, `input`)                  |
| ContinueAsNew (16)                     | the execution restarted itself with new input               |
| GenericEvent (17)                      | free-form marker (rewind)                                   |
| HistoryState (18)                      | (numbering only)                                            |
| ExecutionSuspended (19)                | suspended; new events wait for resume                       |
| ExecutionResumed (20)                  | resumed                                                     |
| ExecutionRewound (21)                  | a failed execution was rewound                              |
"""

from __future__ import annotations

from durable_azure.history.codec import (
    format_datetime,
    from_json,
    from_wire,
    parse_datetime,
    parse_event_type,
    parse_status,
    to_json,
    to_wire,
)
from durable_azure.history.events import (
    COMPLEX_KINDS,
    EVENT_CLASSES,
    ContinueAsNew,
    EventRaised,
    EventSent,
    EventType,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionRewound,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    GenericEvent,
    HistoryEvent,
    HistoryState,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorCompleted,
    OrchestratorStarted,
    ParentInstance,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    wire_fields,
)

__all__ = [
    "COMPLEX_KINDS",
    "EVENT_CLASSES",
    "ContinueAsNew",
    "EventRaised",
    "EventSent",
    "EventType",
    "ExecutionCompleted",
    "ExecutionResumed",
    "ExecutionRewound",
    "ExecutionStarted",
    "ExecutionSuspended",
    "ExecutionTerminated",
    "FailureDetails",
    "GenericEvent",
    "HistoryEvent",
    "HistoryState",
    "OrchestrationInstance",
    "OrchestrationStatus",
    "OrchestratorCompleted",
    "OrchestratorStarted",
    "ParentInstance",
    "SubOrchestrationInstanceCompleted",
    "SubOrchestrationInstanceCreated",
    "SubOrchestrationInstanceFailed",
    "TaskCompleted",
    "TaskFailed",
    "TaskScheduled",
    "TimerCreated",
    "TimerFired",
    "format_datetime",
    "from_json",
    "from_wire",
    "parse_datetime",
    "parse_event_type",
    "parse_status",
    "to_json",
    "to_wire",
    "wire_fields",
]
