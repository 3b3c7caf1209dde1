"""raise_event: delivery to a waiter, buffering in order, the start race, JSON round trips, refusals."""

from __future__ import annotations

from datetime import datetime

import pytest

from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import InstanceCompletedError, InstanceNotFoundError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client import apps
from tests.client.conftest import Running, wait_for_status, wait_until_entered


async def test_an_event_reaches_an_instance_waiting_for_it(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    await running.client.raise_event(instance_id, "Approval", True)
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.output == {"approved": True}


async def test_events_raised_before_the_orchestrator_waits_are_kept_in_order(running: Running) -> None:
    instance_id = await running.client.start_new("gate_then_two_events")
    await wait_until_entered(instance_id)  # busy in its activity, not yet waiting for "Item"
    await running.client.raise_event(instance_id, "Item", "first")
    await running.client.raise_event(instance_id, "Item", "second")
    apps.gate_opened[instance_id].set()
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.output == ["first", "second"]


async def test_an_event_raised_right_after_start_is_delivered(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await running.client.raise_event(instance_id, "Approval", "at once")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.output == {"approved": "at once"}


async def test_event_data_round_trips_as_the_same_json_value(running: Running) -> None:
    instance_id = await running.client.start_new("three_events")
    values = ["plain text", '"already quoted"', {"nested": [1, 2.5, None, {"ok": True}]}]
    for value in values:
        await running.client.raise_event(instance_id, "Item", value)
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.output == values
    history = (await running.client.get_status(instance_id, show_history=True, show_input=True)).history
    raised = [entry["Input"] for entry in history if entry["EventType"] == "EventRaised"]
    assert raised == values


async def test_an_event_for_an_unknown_instance_is_reported(client: DurableOrchestrationClient) -> None:
    with pytest.raises(InstanceNotFoundError, match="nobody"):
        await client.raise_event("nobody", "Approval", 1)


async def test_an_event_for_a_finished_instance_is_reported(running: Running) -> None:
    instance_id = await running.client.start_new("hello", client_input="x")
    await running.client.wait_for_completion(instance_id, 60)
    with pytest.raises(InstanceCompletedError, match="it is Completed"):
        await running.client.raise_event(instance_id, "Approval", 1)


async def test_event_data_that_is_not_json_is_refused_before_sending(client: DurableOrchestrationClient) -> None:
    instance_id = await client.start_new("approval")
    with pytest.raises(TypeError, match="data of event 'Approval' is not JSON-serializable"):
        await client.raise_event(instance_id, "Approval", datetime.now())
