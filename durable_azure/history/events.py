"""History events and their value objects, numbered and named as the Durable Task Framework does.

See `durable_azure.history` for what each event means. Imports nothing from the project.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, ClassVar


class EventType(IntEnum):
    """DTFx `EventType`, same numbering (declaration order in DurableTask.Core)."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20
    ExecutionRewound = 21


class OrchestrationStatus(IntEnum):
    """DTFx `OrchestrationStatus`; its names are the RuntimeStatus strings in storage."""

    Running = 0
    Completed = 1
    ContinuedAsNew = 2
    Failed = 3
    Canceled = 4
    Terminated = 5
    Pending = 6
    Suspended = 7

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_running(self) -> bool:
        """Pending, Running or Suspended: the instance may still make progress."""
        return self in (OrchestrationStatus.Pending, OrchestrationStatus.Running, OrchestrationStatus.Suspended)


_TERMINAL = frozenset(
    {
        OrchestrationStatus.Completed,
        OrchestrationStatus.Failed,
        OrchestrationStatus.Canceled,
        OrchestrationStatus.Terminated,
    }
)


# -- value objects nested inside events (stored as JSON strings in table rows) --


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestrationInstance:
    instance_id: str
    execution_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"InstanceId": self.instance_id, "ExecutionId": self.execution_id}

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> OrchestrationInstance:
        return cls(instance_id=value.get("InstanceId") or "", execution_id=value.get("ExecutionId"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentInstance:
    """Who started a sub-orchestration, so its outcome can be sent back."""

    name: str | None
    orchestration_instance: OrchestrationInstance
    task_schedule_id: int
    version: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "OrchestrationInstance": self.orchestration_instance.to_wire(),
            "TaskScheduleId": self.task_schedule_id,
            "Version": self.version,
        }

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> ParentInstance:
        return cls(
            name=value.get("Name"),
            orchestration_instance=OrchestrationInstance.from_wire(value.get("OrchestrationInstance") or {}),
            task_schedule_id=int(value.get("TaskScheduleId", -1)),
            version=value.get("Version"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureDetails:
    error_type: str
    error_message: str
    stack_trace: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"ErrorType": self.error_type, "ErrorMessage": self.error_message, "StackTrace": self.stack_trace}

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> FailureDetails:
        return cls(
            error_type=value.get("ErrorType") or "",
            error_message=value.get("ErrorMessage") or "",
            stack_trace=value.get("StackTrace"),
        )


# -- the events --

# Field kinds drive both codecs; the wire name is the DTFx DataContract member name.
_STR, _INT, _BOOL, _TIME, _STATUS, _INSTANCE, _PARENT, _FAILURE, _TAGS = (
    "str",
    "int",
    "bool",
    "datetime",
    "status",
    "instance",
    "parent",
    "failure",
    "tags",
)
COMPLEX_KINDS = frozenset({_INSTANCE, _PARENT, _FAILURE, _TAGS})
"""Kinds that DTFx stores as JSON strings in table columns (`"null"` when absent)."""


def _wire(name: str, kind: str = _STR, default: Any = None) -> Any:
    return field(default=default, metadata={"wire": name, "kind": kind})


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEvent:
    """Base of every event. `event_id` is the task id for scheduling events, else -1."""

    event_type: ClassVar[EventType]
    event_id: int = _wire("EventId", _INT, -1)
    timestamp: datetime = _wire("Timestamp", _TIME, datetime(1, 1, 1, tzinfo=UTC))
    is_played: bool = _wire("IsPlayed", _BOOL, False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionStarted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionStarted
    orchestration_instance: OrchestrationInstance = _wire("OrchestrationInstance", _INSTANCE)
    parent_instance: ParentInstance | None = _wire("ParentInstance", _PARENT)
    name: str = _wire("Name", _STR, "")
    version: str | None = _wire("Version")
    input: str | None = _wire("Input")
    tags: dict[str, str] | None = _wire("Tags", _TAGS)
    scheduled_start_time: datetime | None = _wire("ScheduledStartTime", _TIME)
    generation: int = _wire("Generation", _INT, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCompleted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionCompleted
    orchestration_status: OrchestrationStatus = _wire("OrchestrationStatus", _STATUS, OrchestrationStatus.Completed)
    result: str | None = _wire("Result")
    failure_details: FailureDetails | None = _wire("FailureDetails", _FAILURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionTerminated(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionTerminated
    input: str | None = _wire("Input")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskScheduled(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.TaskScheduled
    name: str = _wire("Name", _STR, "")
    version: str | None = _wire("Version")
    input: str | None = _wire("Input")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCompleted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.TaskCompleted
    task_scheduled_id: int = _wire("TaskScheduledId", _INT, -1)
    result: str | None = _wire("Result")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFailed(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.TaskFailed
    task_scheduled_id: int = _wire("TaskScheduledId", _INT, -1)
    reason: str | None = _wire("Reason")
    details: str | None = _wire("Details")
    failure_details: FailureDetails | None = _wire("FailureDetails", _FAILURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceCreated(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.SubOrchestrationInstanceCreated
    name: str = _wire("Name", _STR, "")
    version: str | None = _wire("Version")
    instance_id: str = _wire("InstanceId", _STR, "")
    input: str | None = _wire("Input")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceCompleted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.SubOrchestrationInstanceCompleted
    task_scheduled_id: int = _wire("TaskScheduledId", _INT, -1)
    result: str | None = _wire("Result")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubOrchestrationInstanceFailed(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.SubOrchestrationInstanceFailed
    task_scheduled_id: int = _wire("TaskScheduledId", _INT, -1)
    reason: str | None = _wire("Reason")
    details: str | None = _wire("Details")
    failure_details: FailureDetails | None = _wire("FailureDetails", _FAILURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerCreated(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.TimerCreated
    fire_at: datetime = _wire("FireAt", _TIME, datetime(1, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.TimerFired
    timer_id: int = _wire("TimerId", _INT, -1)
    fire_at: datetime = _wire("FireAt", _TIME, datetime(1, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestratorStarted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.OrchestratorStarted


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestratorCompleted(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.OrchestratorCompleted


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSent(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.EventSent
    instance_id: str = _wire("InstanceId", _STR, "")
    name: str = _wire("Name", _STR, "")
    input: str | None = _wire("Input")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRaised(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.EventRaised
    name: str = _wire("Name", _STR, "")
    input: str | None = _wire("Input")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContinueAsNew(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ContinueAsNew
    orchestration_status: OrchestrationStatus = _wire(
        "OrchestrationStatus", _STATUS, OrchestrationStatus.ContinuedAsNew
    )
    result: str | None = _wire("Result")
    failure_details: FailureDetails | None = _wire("FailureDetails", _FAILURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericEvent(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.GenericEvent
    data: str | None = _wire("Data")


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryState(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.HistoryState
    state: str | None = _wire("State")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSuspended(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionSuspended
    reason: str | None = _wire("Reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResumed(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionResumed
    reason: str | None = _wire("Reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionRewound(HistoryEvent):
    event_type: ClassVar[EventType] = EventType.ExecutionRewound
    reason: str | None = _wire("Reason")


EVENT_CLASSES: dict[EventType, type[HistoryEvent]] = {
    cls.event_type: cls
    for cls in (
        ExecutionStarted,
        ExecutionCompleted,
        ExecutionTerminated,
        TaskScheduled,
        TaskCompleted,
        TaskFailed,
        SubOrchestrationInstanceCreated,
        SubOrchestrationInstanceCompleted,
        SubOrchestrationInstanceFailed,
        TimerCreated,
        TimerFired,
        OrchestratorStarted,
        OrchestratorCompleted,
        EventSent,
        EventRaised,
        ContinueAsNew,
        GenericEvent,
        HistoryState,
        ExecutionSuspended,
        ExecutionResumed,
        ExecutionRewound,
    )
}


def wire_fields(event_class: type[HistoryEvent]) -> tuple[tuple[str, str, str], ...]:
    """(attribute, wire name, kind) for every serialized member of an event class."""
    return _WIRE_FIELDS[event_class]


_WIRE_FIELDS: dict[type[HistoryEvent], tuple[tuple[str, str, str], ...]] = {
    cls: tuple((f.name, f.metadata["wire"], f.metadata["kind"]) for f in dataclasses.fields(cls))
    for cls in EVENT_CLASSES.values()
}
