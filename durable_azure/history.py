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

import dataclasses
import json
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


# -- codecs --


def to_wire(event: HistoryEvent) -> dict[str, Any]:
    """PascalCase members with Python values: datetimes, enum members, nested dicts.

    Both storage codecs start from this: the queue envelope turns enums into
    ints, the History table turns them into names and nested dicts into JSON.
    """
    fields: dict[str, Any] = {"EventType": event.event_type}
    for attribute, wire_name, kind in _WIRE_FIELDS[type(event)]:
        value = getattr(event, attribute)
        if value is not None and kind in (_INSTANCE, _PARENT, _FAILURE):
            value = value.to_wire()
        elif value is not None and kind == _TAGS:
            value = dict(value)
        fields[wire_name] = value
    return fields


def from_wire(fields: dict[str, Any]) -> HistoryEvent:
    """Build an event from wire members; tolerant of the spellings both stores use.

    Accepts an EventType / OrchestrationStatus as int, name or enum member; a
    datetime as datetime or ISO-8601 string; a nested object as dict or JSON
    string (`"null"` meaning absent). Unknown members are ignored, as DTFx does.
    """
    event_type = parse_event_type(fields["EventType"])
    event_class = EVENT_CLASSES[event_type]
    values: dict[str, Any] = {}
    for attribute, wire_name, kind in _WIRE_FIELDS[event_class]:
        if wire_name in fields:
            values[attribute] = _parse_value(kind, fields[wire_name])
            if values[attribute] is None and kind in (_INT, _BOOL, _TIME, _STATUS):
                del values[attribute]  # keep the dataclass default
    return event_class(**values)


def to_json(event: HistoryEvent) -> dict[str, Any]:
    """The DTFx JSON shape: enums as ints, times as ISO-8601 with 7 digits and `Z`."""
    fields = to_wire(event)
    return {name: _json_value(value) for name, value in fields.items()}


def from_json(value: dict[str, Any]) -> HistoryEvent:
    return from_wire(value)


def format_datetime(value: datetime) -> str:
    """ISO-8601 UTC with 7 fractional digits, as .NET's round-trip format writes it."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{value.year:04d}-{value.strftime('%m-%dT%H:%M:%S.%f')}0Z"


def parse_datetime(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # Python 3.11 accepts at most 6 fractional digits
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_event_type(value: Any) -> EventType:
    if isinstance(value, str) and not value.isdigit():
        return EventType[value]
    return EventType(int(value))


def parse_status(value: Any) -> OrchestrationStatus:
    if isinstance(value, str) and not value.isdigit():
        return OrchestrationStatus[value]
    return OrchestrationStatus(int(value))


def _parse_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in COMPLEX_KINDS and isinstance(value, str):
        value = json.loads(value) if value else None
        if value is None:
            return None
    if kind == _TIME:
        return parse_datetime(value)
    if kind == _STATUS:
        return parse_status(value)
    if kind == _INT:
        return int(value)
    if kind == _BOOL:
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == _INSTANCE:
        return OrchestrationInstance.from_wire(value)
    if kind == _PARENT:
        return ParentInstance.from_wire(value)
    if kind == _FAILURE:
        return FailureDetails.from_wire(value)
    if kind == _TAGS:
        return {str(k): str(v) for k, v in value.items()}
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, IntEnum):
        return int(value)
    return value
