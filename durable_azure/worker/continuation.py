"""Continue-as-new: the next execution's ExecutionStarted, and handing it to a later episode.

An orchestrator that calls `continue_as_new` ends its execution; the episode
starts the next one at once, with the events it carries over. One that keeps
continuing without ever awaiting is cut off after a number of executions per
episode and goes on in the next episode, through its own control queue, as
DTFx does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.history import EventRaised, ExecutionStarted, HistoryEvent, OrchestrationInstance
from durable_azure.orchestration import CompleteOrchestrationAction, ExecutionResult
from durable_azure.worker.checkpoint import execution_started
from durable_azure.worker.outbound import OutboundMessage

MAX_CONTINUE_AS_NEW_PER_EPISODE = 100
"""An orchestrator that continues as new without ever awaiting goes on in the next episode after this many."""


def next_execution(
    history: list[HistoryEvent], result: ExecutionResult, now: datetime
) -> tuple[ExecutionStarted, tuple[EventRaised, ...]]:
    """The ExecutionStarted of the execution that `continue_as_new` asked for, and the events it carries over."""
    previous = execution_started(history)
    action = next(a for a in result.actions if isinstance(a, CompleteOrchestrationAction))
    start = ExecutionStarted(
        timestamp=now,
        orchestration_instance=OrchestrationInstance(
            instance_id=previous.orchestration_instance.instance_id, execution_id=uuid.uuid4().hex
        ),
        parent_instance=previous.parent_instance,
        name=previous.name,
        version=previous.version,
        input=action.new_input,
        tags=previous.tags,
        generation=previous.generation,
    )
    return start, tuple(event for event in action.carryover_events if isinstance(event, EventRaised))


def continue_in_next_episode(
    hub: TaskHub, instance_id: str, history: list[HistoryEvent], result: ExecutionResult, now: datetime
) -> list[OutboundMessage]:
    """Too many continue-as-new in a row: hand the next execution to a later episode, as DTFx does."""
    start, carryover = next_execution(history, result, now)
    queue = hub.control_queue_for(instance_id)
    target = start.orchestration_instance
    messages = [MessageData(event=start, instance=target)]
    messages += [MessageData(event=event, instance=target) for event in carryover]
    return [OutboundMessage(queue, message) for message in messages]
