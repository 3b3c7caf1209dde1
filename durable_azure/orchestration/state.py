"""Runtime state of one execution, derived from its events (DTFx `OrchestrationRuntimeState`).

Status, name, input and output are read from the marker events
(ExecutionStarted, ExecutionCompleted / ContinueAsNew, suspend / resume) as
they arrive, never stored beside them. The worker also asks it whether an
incoming completion is out of order (its scheduling event is not in history
yet: keep the message for later) or a duplicate (already resolved: drop it).

Imports only the standard library and `history`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from durable_azure.history import (
    ContinueAsNew,
    EventSent,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    FailureDetails,
    HistoryEvent,
    OrchestrationStatus,
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
)

# Which scheduling event a completion refers back to.
_SCHEDULED_BY: dict[type[HistoryEvent], type[HistoryEvent]] = {
    TaskCompleted: TaskScheduled,
    TaskFailed: TaskScheduled,
    SubOrchestrationInstanceCompleted: SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed: SubOrchestrationInstanceCreated,
    TimerFired: TimerCreated,
}
_SCHEDULING_TYPES = frozenset({TaskScheduled, SubOrchestrationInstanceCreated, TimerCreated, EventSent})


class OrchestrationState:
    """The events of one execution plus what they imply. Append-only, like history itself."""

    def __init__(self, events: Iterable[HistoryEvent] = ()) -> None:
        self._events: list[HistoryEvent] = []
        self._started: ExecutionStarted | None = None
        self._completed: ExecutionCompleted | ContinueAsNew | None = None
        self._is_suspended = False
        self._episode = 0
        self._scheduled: dict[int, type[HistoryEvent]] = {}
        # Used as a set: an empty dict costs 64 bytes, an empty set 216, and a cached instance keeps two states.
        self._resolved: dict[int, None] = {}
        for event in events:
            self.append(event)

    def append(self, event: HistoryEvent) -> None:
        self._events.append(event)
        event_type = type(event)
        if event_type in _SCHEDULING_TYPES:
            self._scheduled[event.event_id] = event_type
        elif event_type in _SCHEDULED_BY:
            self._resolved[_completion_id(event)] = None
        elif isinstance(event, ExecutionStarted) and self._started is None:
            self._started = event
        elif isinstance(event, ExecutionCompleted | ContinueAsNew) and self._completed is None:
            self._completed = event
        elif isinstance(event, OrchestratorStarted):
            self._episode += 1
        elif isinstance(event, ExecutionSuspended | ExecutionResumed):
            self._is_suspended = isinstance(event, ExecutionSuspended)

    def __len__(self) -> int:
        return len(self._events)

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        return tuple(self._events)

    # -- derived from ExecutionStarted --

    @property
    def name(self) -> str | None:
        return self._started.name if self._started else None

    @property
    def instance_id(self) -> str | None:
        return self._started.orchestration_instance.instance_id if self._started else None

    @property
    def execution_id(self) -> str | None:
        return self._started.orchestration_instance.execution_id if self._started else None

    @property
    def input(self) -> str | None:
        return self._started.input if self._started else None

    @property
    def parent_instance(self) -> ParentInstance | None:
        return self._started.parent_instance if self._started else None

    @property
    def created_time(self) -> datetime | None:
        return self._started.timestamp if self._started else None

    # -- derived from the completion and suspension markers --

    @property
    def status(self) -> OrchestrationStatus:
        if self._started is None:
            return OrchestrationStatus.Pending
        if self._completed is not None:
            return self._completed.orchestration_status
        return OrchestrationStatus.Suspended if self._is_suspended else OrchestrationStatus.Running

    @property
    def output(self) -> str | None:
        return self._completed.result if self._completed else None

    @property
    def failure_details(self) -> FailureDetails | None:
        return self._completed.failure_details if self._completed else None

    @property
    def episode(self) -> int:
        """Number of OrchestratorStarted events: how many episodes have run."""
        return self._episode

    # -- checks the worker makes before handing events to the executor --

    def is_scheduled(self, task_id: int) -> bool:
        return self._scheduled.get(task_id) in (TaskScheduled, SubOrchestrationInstanceCreated)

    def is_timer_created(self, timer_id: int) -> bool:
        return self._scheduled.get(timer_id) is TimerCreated

    def has_completed_task(self, task_id: int) -> bool:
        return task_id in self._resolved

    def is_out_of_order(self, event: HistoryEvent) -> bool:
        """A completion whose scheduling event is not in history (yet)."""
        scheduled_by = _SCHEDULED_BY.get(type(event))
        return scheduled_by is not None and self._scheduled.get(_completion_id(event)) is not scheduled_by

    def is_duplicate(self, event: HistoryEvent) -> bool:
        """A completion for a task that history already resolved."""
        return type(event) in _SCHEDULED_BY and _completion_id(event) in self._resolved


def _completion_id(event: Any) -> int:
    return event.timer_id if isinstance(event, TimerFired) else event.task_scheduled_id
