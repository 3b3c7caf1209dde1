"""terminate: waiting instances end at once, a busy one at its next await; an unknown one is refused.

A finished instance: test_finished_instances.py.
"""

from __future__ import annotations

import asyncio

import pytest

from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import InstanceNotFoundError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client import apps
from tests.client.conftest import (
    WAIT_SECONDS,
    Running,
    eventually,
    queues_are_empty,
    wait_for_status,
    wait_until_entered,
)

Terminated = OrchestrationRuntimeStatus.Terminated


@pytest.mark.parametrize("name", ["approval", "long_timer"])
async def test_a_waiting_instance_is_terminated_with_the_reason_as_output(running: Running, name: str) -> None:
    instance_id = await running.client.start_new(name)
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    await running.client.terminate(instance_id, "no longer needed")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Terminated
    assert status.output == "no longer needed"


async def test_an_instance_busy_in_an_activity_is_terminated_and_the_late_result_discarded(running: Running) -> None:
    instance_id = await running.client.start_new("gated")
    await wait_until_entered(instance_id)
    await running.client.terminate(instance_id, "stop it")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Terminated
    apps.gate_opened[instance_id].set()
    assert await asyncio.to_thread(apps.gate_left[instance_id].wait, WAIT_SECONDS)
    await eventually(lambda: queues_are_empty(running.hub), bool, "the activity result to be consumed")
    final = await running.client.get_status(instance_id, show_history=True)
    assert final.runtime_status == Terminated
    assert final.output == "stop it"
    assert "TaskCompleted" not in [entry["EventType"] for entry in final.history]


async def test_terminating_right_after_start_ends_terminated(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await running.client.terminate(instance_id, "changed my mind")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Terminated
    assert status.output == "changed my mind"


async def test_terminating_an_unknown_instance_raises_not_found(client: DurableOrchestrationClient) -> None:
    with pytest.raises(InstanceNotFoundError, match="nobody"):
        await client.terminate("nobody", "why")
