"""What an orchestrator asks the worker to do, one dataclass per kind (DTFx `Command/`).

An episode of the executor turns user calls into these actions; the worker
carries them out (queue an activity, start a child, create a timer, send an
event, finish the execution). Each scheduling action is recorded in history
as one event whose `event_id` is the action's task id; `history_event` builds
that event and `matches_history_event` is the replay check that the
orchestrator still does what history says it did.

Imports only `durable_azure.history`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import ClassVar

from durable_azure.history import (
    EventSent,
    FailureDetails,
    HistoryEvent,
    OrchestrationStatus,
    SubOrchestrationInstanceCreated,
    TaskScheduled,
    TimerCreated,
)


class ActionType(IntEnum):
    """DTFx `OrchestratorActionType`, same numbering (ScheduleOrchestrator = schedule an activity)."""

    ScheduleTask = 0
    CreateSubOrchestration = 1
    CreateTimer = 2
    SendEvent = 3
    CompleteOrchestration = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base of every action."""

    action_type: ClassVar[ActionType]


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulingAction(Action):
    """An action that consumes a task id and is recorded as one scheduling event."""

    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleTaskAction(SchedulingAction):
    action_type: ClassVar[ActionType] = ActionType.ScheduleTask
    name: str
    input: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSubOrchestrationAction(SchedulingAction):
    action_type: ClassVar[ActionType] = ActionType.CreateSubOrchestration
    name: str
    instance_id: str
    input: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateTimerAction(SchedulingAction):
    action_type: ClassVar[ActionType] = ActionType.CreateTimer
    fire_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEventAction(SchedulingAction):
    action_type: ClassVar[ActionType] = ActionType.SendEvent
    instance_id: str
    name: str
    data: str | None = None
    execution_id: str | None = None  # only this execution of the target may take it (replies to callers)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteOrchestrationAction(Action):
    """The execution ended. `new_input` and `carryover_events` only matter for ContinuedAsNew:
    the worker starts the next execution with that input and hands it those unconsumed events."""

    action_type: ClassVar[ActionType] = ActionType.CompleteOrchestration
    status: OrchestrationStatus
    result: str | None = None
    failure_details: FailureDetails | None = None
    new_input: str | None = None
    carryover_events: tuple[HistoryEvent, ...] = ()


def activity_input(input_text: str | None) -> str | None:
    """An activity's stored input: DTFx's parameter array holding the input's JSON text (`["\\"Tokyo\\""]`).

    DTFx serializes the activity's parameters as an array, and the extension hands an out-of-process
    activity the one element, so the original host's work items look like this; ours do too, and both paths
    read each other's. No input stays null.
    """
    return None if input_text is None else json.dumps([input_text])


def activity_input_text(stored: str | None) -> str | None:
    """The input's JSON text back from a stored activity input (the inverse of `activity_input`).

    A stored value that is not a one-string array (a .NET caller's several parameters, or a work item an
    earlier version of this project wrote without the array) is taken as the input's JSON text itself.
    """
    if stored is None:
        return None
    try:
        parameters = json.loads(stored)
    except ValueError:
        return stored
    if parameters == []:
        return None
    if isinstance(parameters, list) and len(parameters) == 1 and isinstance(parameters[0], str):
        try:
            json.loads(parameters[0])
        except ValueError:
            return stored  # `["a"]` from before the array form: the list itself was the input
        return parameters[0]
    return stored


def history_event(action: SchedulingAction, timestamp: datetime) -> HistoryEvent:
    """The scheduling event the worker appends to history for `action`."""
    if isinstance(action, ScheduleTaskAction):
        return TaskScheduled(event_id=action.id, timestamp=timestamp, name=action.name, input=action.input)
    if isinstance(action, CreateTimerAction):
        return TimerCreated(event_id=action.id, timestamp=timestamp, fire_at=action.fire_at)
    if isinstance(action, CreateSubOrchestrationAction):
        return SubOrchestrationInstanceCreated(
            event_id=action.id,
            timestamp=timestamp,
            name=action.name,
            version=action.version,
            instance_id=action.instance_id,
            input=action.input,
        )
    if isinstance(action, SendEventAction):
        return EventSent(
            event_id=action.id, timestamp=timestamp, instance_id=action.instance_id, name=action.name, input=action.data
        )
    raise TypeError(f"{type(action).__name__} is not a scheduling action")


SCHEDULING_EVENT_TYPES: tuple[type[HistoryEvent], ...] = (
    TaskScheduled,
    TimerCreated,
    SubOrchestrationInstanceCreated,
    EventSent,
)

_ACTION_FOR_EVENT: dict[type[HistoryEvent], type[SchedulingAction]] = {
    TaskScheduled: ScheduleTaskAction,
    TimerCreated: CreateTimerAction,
    SubOrchestrationInstanceCreated: CreateSubOrchestrationAction,
    EventSent: SendEventAction,
}


def matches_history_event(action: SchedulingAction, event: HistoryEvent) -> bool:
    """Same kind and (where it has one) same name, without case as DTFx compares: the replay determinism check."""
    if _ACTION_FOR_EVENT.get(type(event)) is not type(action):
        return False
    action_name, event_name = getattr(action, "name", None), getattr(event, "name", None)
    if isinstance(action_name, str) and isinstance(event_name, str):
        return action_name.casefold() == event_name.casefold()
    return action_name == event_name


def describe_action(action: SchedulingAction) -> str:
    """Words for error messages, e.g. "activity 'Bye'"."""
    if isinstance(action, ScheduleTaskAction):
        return f"activity '{action.name}'"
    if isinstance(action, CreateSubOrchestrationAction):
        return f"sub-orchestration '{action.name}'"
    if isinstance(action, SendEventAction):
        return f"event '{action.name}' to '{action.instance_id}'"
    return "a timer"


def describe_history_event(event: HistoryEvent) -> str:
    """Words for error messages, e.g. "TaskScheduled 'Hello'"."""
    name = getattr(event, "name", None)
    return f"{type(event).__name__} '{name}'" if name is not None else type(event).__name__
