"""Turning an episode's actions into queue messages, routed as DTFx routes them.

Activity requests go to the work-item queue (claimed on the way by this
process's activity dispatcher when it has a free slot, see checkpoint.py);
timers to the instance's own control queue with a visibility delay;
sub-orchestration starts, sent events and a child's outcome to the target
instance's control queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from durable_azure.azure_storage import MessageData, TaskHub, TaskHubQueue
from durable_azure.entities import delivery_time_of, is_entity_instance
from durable_azure.history import (
    EventRaised,
    ExecutionStarted,
    FailureDetails,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    ParentInstance,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceFailed,
    TaskScheduled,
    TimerFired,
)
from durable_azure.orchestration import (
    CompleteOrchestrationAction,
    CreateSubOrchestrationAction,
    CreateTimerAction,
    ExecutionResult,
    ScheduleTaskAction,
    SendEventAction,
)
from durable_azure.worker.failure_text import sub_orchestration_failure


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    queue: TaskHubQueue
    data: MessageData
    visibility_delay: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EpisodeContext:
    """Who is sending: the instance, its current execution and how it was started."""

    instance: OrchestrationInstance
    started: ExecutionStarted
    episode: int
    now: datetime


def outbound_for(
    hub: TaskHub, instance_id: str, history: list[HistoryEvent], result: ExecutionResult, now: datetime, episode: int
) -> list[OutboundMessage]:
    """The messages of an episode of the execution `history` belongs to."""
    started = next(event for event in history if isinstance(event, ExecutionStarted))
    instance = OrchestrationInstance(instance_id=instance_id, execution_id=started.orchestration_instance.execution_id)
    context = EpisodeContext(instance=instance, started=started, episode=episode, now=now)
    return build_outbound(hub, result, context)


def build_outbound(hub: TaskHub, result: ExecutionResult, context: EpisodeContext) -> list[OutboundMessage]:
    messages: list[OutboundMessage] = []
    for action in result.actions:
        message = _for_action(hub, action, context)
        if message is not None:
            messages.append(message)
    notifies_parent = result.is_done and result.status != OrchestrationStatus.ContinuedAsNew
    if notifies_parent and context.started.parent_instance is not None:
        messages.append(_to_parent(hub, result, context))
    return messages


def _for_action(hub: TaskHub, action: object, context: EpisodeContext) -> OutboundMessage | None:
    sender = context.instance
    if isinstance(action, ScheduleTaskAction):
        request = TaskScheduled(event_id=action.id, timestamp=context.now, name=action.name, input=action.input)
        return OutboundMessage(hub.work_item_queue, _message(request, sender, context))
    if isinstance(action, CreateTimerAction):
        fired = TimerFired(timestamp=context.now, timer_id=action.id, fire_at=action.fire_at)
        delay = max(0.0, (action.fire_at - context.now).total_seconds())
        return OutboundMessage(hub.control_queue_for(sender.instance_id), _message(fired, sender, context), delay)
    if isinstance(action, CreateSubOrchestrationAction):
        start = child_start(
            context.started,
            sender,
            task_id=action.id,
            child_id=action.instance_id,
            name=action.name,
            version=action.version,
            input_text=action.input,
            now=context.now,
        )
        child = start.orchestration_instance
        return OutboundMessage(hub.control_queue_for(child.instance_id), _message(start, child, context))
    if isinstance(action, SendEventAction):
        target = OrchestrationInstance(instance_id=action.instance_id, execution_id=action.execution_id)
        raised = EventRaised(timestamp=context.now, name=action.name, input=action.data)
        # An entity request named `op@<time>` is delivered at that time: the provider's queue visibility delay.
        delivery = delivery_time_of(action.name) if is_entity_instance(action.instance_id) else None
        delay = max(0.0, (delivery - context.now).total_seconds()) if delivery is not None else 0.0
        return OutboundMessage(hub.control_queue_for(target.instance_id), _message(raised, target, context), delay)
    if isinstance(action, CompleteOrchestrationAction):
        return None  # recorded in history; the parent, if any, is told by `_to_parent`
    raise TypeError(f"unknown orchestration action {type(action).__name__}")


def child_start(
    parent_started: ExecutionStarted,
    parent: OrchestrationInstance,
    *,
    task_id: int,
    child_id: str,
    name: str,
    version: str | None,
    input_text: str | None,
    now: datetime,
) -> ExecutionStarted:
    """The ExecutionStarted of a sub-orchestration.

    Its execution id is derived from the parent's execution and the task id,
    not random: if the episode runs twice (crash before its checkpoint, split
    brain, or the repair sweep sending a start that was lost), the second start
    is recognised as a duplicate instead of running the child again.
    """
    child_execution = uuid.uuid5(uuid.NAMESPACE_OID, f"{parent.execution_id}:{task_id}").hex
    return ExecutionStarted(
        timestamp=now,
        orchestration_instance=OrchestrationInstance(instance_id=child_id, execution_id=child_execution),
        parent_instance=ParentInstance(
            name=parent_started.name,
            orchestration_instance=parent,
            task_schedule_id=task_id,
            version=parent_started.version,
        ),
        name=name,
        version=version,
        input=input_text,
    )


def parent_notification(
    *,
    task_id: int,
    name: str,
    status: OrchestrationStatus,
    output: str | None,
    failure_details: FailureDetails | None,
    now: datetime,
) -> SubOrchestrationInstanceCompleted | SubOrchestrationInstanceFailed:
    """What a finished sub-orchestration (orchestrator `name`) tells its parent: completed with its output,
    or failed with why, in the extension's words (failure_text.py)."""
    if status == OrchestrationStatus.Completed:
        return SubOrchestrationInstanceCompleted(timestamp=now, task_scheduled_id=task_id, result=output)
    reason, details = output or status.name, None
    if failure_details is not None:
        reason, details = sub_orchestration_failure(name, failure_details)
    return SubOrchestrationInstanceFailed(
        timestamp=now,
        task_scheduled_id=task_id,
        reason=reason,
        details=details,
        failure_details=failure_details,
    )


def _to_parent(hub: TaskHub, result: ExecutionResult, context: EpisodeContext) -> OutboundMessage:
    parent = context.started.parent_instance
    assert parent is not None
    event = parent_notification(
        task_id=parent.task_schedule_id,
        name=context.started.name,
        status=result.status,
        output=result.output,
        failure_details=result.failure_details,
        now=context.now,
    )
    target = parent.orchestration_instance
    return OutboundMessage(hub.control_queue_for(target.instance_id), _message(event, target, context))


def _message(event: HistoryEvent, target: OrchestrationInstance, context: EpisodeContext) -> MessageData:
    return MessageData(event=event, instance=target, episode=context.episode, sender=context.instance)
