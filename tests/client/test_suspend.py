"""suspend and resume: a Suspended instance makes no progress, and its events wait for resume."""

from __future__ import annotations

import pytest

from durable_azure.client import DurableOrchestrationClient
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import Running, eventually, wait_for_status

Suspended = OrchestrationRuntimeStatus.Suspended


async def test_events_sent_while_suspended_wait_for_resume(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    await running.client.suspend(instance_id, "maintenance")
    await wait_for_status(running.client, instance_id, Suspended)
    await running.client.raise_event(instance_id, "Approval", "while suspended")
    arrived = await eventually(
        lambda: running.client.get_status(instance_id, show_history=True),
        lambda status: "EventRaised" in [entry["EventType"] for entry in status.history],
        "the event to be recorded",
    )
    assert arrived.runtime_status == Suspended
    assert arrived.output is None
    await running.client.resume(instance_id, "done")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == {"approved": "while suspended"}
    kinds = [entry["EventType"] for entry in (await running.client.get_status(instance_id, show_history=True)).history]
    assert kinds.index("ExecutionSuspended") < kinds.index("EventRaised") < kinds.index("ExecutionResumed")


async def test_resuming_an_instance_that_is_not_suspended_changes_nothing(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    await running.client.resume(instance_id, "no-op")
    await running.client.raise_event(instance_id, "Approval", 1)
    assert (await running.client.wait_for_completion(instance_id, 60)).output == {"approved": 1}


async def test_suspend_validates_the_id_before_anything_is_written(client: DurableOrchestrationClient) -> None:
    with pytest.raises(ValueError, match="instance_id"):
        await client.suspend("a/b", "bad id")
