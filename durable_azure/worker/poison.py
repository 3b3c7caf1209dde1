"""Failing an instance whose message is poison, without running its code.

A control message that can never be applied (undecodable, or dequeued more
than `maxDequeueCount` times) is moved aside; if its instance is running it
is ended as Failed with a `PoisonMessageError` naming the reason, so nobody
waits on it forever, and its parent (if any) is told.
"""

from __future__ import annotations

import logging
from datetime import datetime

from durable_azure import serialization
from durable_azure.azure_storage import TaskHub
from durable_azure.errors import StorageError
from durable_azure.history import ExecutionCompleted, FailureDetails, OrchestrationStatus, OrchestratorStarted
from durable_azure.orchestration import ExecutionResult, OrchestrationState
from durable_azure.worker.checkpoint import Checkpoint, execution_started, write_checkpoint
from durable_azure.worker.outbound import outbound_for

logger = logging.getLogger(__name__)


async def fail_instance(hub: TaskHub, instance_id: str, reason: str, now: datetime) -> None:
    """End a running instance as Failed. Best effort: a storage failure is logged, the message still moves aside."""
    try:
        history = await hub.history.load(instance_id)
        state = OrchestrationState(history.events)
        if state.status not in (OrchestrationStatus.Running, OrchestrationStatus.Suspended):
            return
        details = FailureDetails(error_type="PoisonMessageError", error_message=reason)
        output = serialization.dumps(f"PoisonMessageError: {reason}")
        ending = ExecutionCompleted(
            timestamp=now, orchestration_status=OrchestrationStatus.Failed, result=output, failure_details=details
        )
        new_history = (OrchestratorStarted(timestamp=now), ending)
        result = ExecutionResult(
            actions=(),
            new_history=new_history,
            status=OrchestrationStatus.Failed,
            output=output,
            custom_status=None,
            is_done=True,
            failure_details=details,
        )
        events = [*history.events, *new_history]
        checkpoint = Checkpoint(
            instance_id=instance_id,
            started=execution_started(events),
            history=events,
            start_index=len(history.events),
            etag=history.etag,
            result=result,
            outbound=outbound_for(hub, instance_id, events, result, now, state.episode + 1),
            now=now,
        )
        await write_checkpoint(hub, checkpoint)
        logger.error("instance.failed_by_poison instance=%s reason=%s", instance_id, reason)
    except StorageError as error:
        logger.error("instance.fail_failed instance=%s error=%s", instance_id, error)
