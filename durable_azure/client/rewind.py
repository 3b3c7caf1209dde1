"""Rewind: turn a Failed history back into one a replay can go on from (DTFx's legacy algorithm).

The failed rows are rewritten in place as GenericEvent rows ("Rewound:
<reason>"), at the same positions, so the row count and every other task id
stay as they were. With the TaskScheduled of a failed activity gone, replay
finds the orchestrator's call unrecorded and schedules it again; with
ExecutionCompleted(Failed) gone, the execution is running again. A failed
sub-orchestration keeps its SubOrchestrationInstanceCreated (the child is not
started twice): the child is rewound too, and its completion reaches the
parent as before. Pure: events in, events out (dtfx-azure-storage.md §6.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from durable_azure.history import (
    ExecutionCompleted,
    GenericEvent,
    HistoryEvent,
    OrchestrationStatus,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskFailed,
    TaskScheduled,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RewoundHistory:
    """The rewritten history, and the failed children to rewind with it."""

    events: list[HistoryEvent]
    rewritten_count: int
    failed_sub_orchestration_ids: list[str]


def rewind_history(events: list[HistoryEvent], reason: str) -> RewoundHistory:
    """Replace every failure record (and a failed activity's scheduling record) with a GenericEvent marker."""
    failed_task_ids = {event.task_scheduled_id for event in events if isinstance(event, TaskFailed)}
    failed_child_task_ids = {
        event.task_scheduled_id for event in events if isinstance(event, SubOrchestrationInstanceFailed)
    }
    rewritten: list[HistoryEvent] = []
    count = 0
    children: list[str] = []
    for event in events:
        if _is_failure_record(event, failed_task_ids):
            rewritten.append(
                GenericEvent(event_id=event.event_id, timestamp=event.timestamp, data=f"Rewound: {reason}")
            )
            count += 1
            continue
        if isinstance(event, SubOrchestrationInstanceCreated) and event.event_id in failed_child_task_ids:
            children.append(event.instance_id)
        rewritten.append(event)
    return RewoundHistory(events=rewritten, rewritten_count=count, failed_sub_orchestration_ids=children)


def _is_failure_record(event: HistoryEvent, failed_task_ids: set[int]) -> bool:
    if isinstance(event, TaskFailed | SubOrchestrationInstanceFailed):
        return True
    if isinstance(event, TaskScheduled):
        return event.event_id in failed_task_ids
    return isinstance(event, ExecutionCompleted) and event.orchestration_status == OrchestrationStatus.Failed
