"""Entities end to end: a real worker runs them against Azurite; clients and orchestrations talk to them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from durable_azure import EntityId
from durable_azure.client import DurableOrchestrationClient
from durable_azure.entities import SchedulerState
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import TaskHubFactory
from tests.worker.conftest import Running

Completed = OrchestrationRuntimeStatus.Completed


async def state_of(running: Running, entity: EntityId, expected: Any, timeout: float = 30) -> Any:
    """Poll read_entity_state until it shows `expected` (or time out, returning the last state)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await running.client.read_entity_state(entity)
        if response.entity_state == expected or asyncio.get_running_loop().time() > deadline:
            return response.entity_state
        await asyncio.sleep(0.1)


async def test_client_signals_create_the_entity_and_are_applied_in_order(running: Running) -> None:
    entity = EntityId("Counter", "c1")
    assert (await running.client.read_entity_state(entity)).entity_exists is False
    for amount in (1, 2, 3):
        await running.client.signal_entity(entity, "add", amount)
    await running.client.signal_entity(entity, "reset")
    await running.client.signal_entity(entity, "add", 7)
    assert await state_of(running, entity, 7) == 7
    response = await running.client.read_entity_state(entity)
    assert response.entity_exists is True


async def test_an_orchestration_calls_an_entity_and_gets_its_result(running: Running) -> None:
    instance_id = await running.client.start_new("call_counter", client_input={"key": "c2", "amount": 5})
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.runtime_status == Completed
    assert status.output == 5


async def test_a_failing_operation_fails_only_its_call_and_its_change_is_rolled_back(running: Running) -> None:
    instance_id = await running.client.start_new("call_failing_operation", client_input="c3")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.runtime_status == Completed
    assert status.output == {"caught": "refused to add 100", "after": 5}


async def test_signals_from_an_orchestration_all_arrive(running: Running) -> None:
    instance_id = await running.client.start_new("signal_counter", client_input="c4")
    await running.client.wait_for_completion(instance_id, timeout=30)
    assert await state_of(running, EntityId("Counter", "c4"), 10) == 10


async def test_deleting_an_entity_leaves_no_state(running: Running) -> None:
    entity = EntityId("Counter", "c5")
    await running.client.signal_entity(entity, "add", 3)
    assert await state_of(running, entity, 3) == 3
    await running.client.signal_entity(entity, "delete")
    deadline = asyncio.get_running_loop().time() + 30
    while (await running.client.read_entity_state(entity)).entity_exists:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    record = await running.hub.instances.get(EntityId.get_scheduler_id(entity))
    assert record is not None
    stored = SchedulerState.from_text(record.input)
    assert stored.exists is False and stored.state is None


async def test_an_entity_signals_another_entity(running: Running) -> None:
    await running.client.signal_entity(EntityId("Counter", "c6"), "forward", "c7")
    assert await state_of(running, EntityId("Counter", "c7"), 1) == 1
    assert await state_of(running, EntityId("Counter", "c6"), 1) == 1


async def test_a_critical_section_moves_a_balance_between_two_locked_entities(running: Running) -> None:
    await running.client.signal_entity(EntityId("Counter", "from"), "add", 50)
    assert await state_of(running, EntityId("Counter", "from"), 50) == 50
    instance_id = await running.client.start_new("transfer")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.runtime_status == Completed, status.output
    assert status.output == 50
    assert await state_of(running, EntityId("Counter", "from"), 40) == 40
    assert await state_of(running, EntityId("Counter", "to"), 10) == 10
    for key in ("from", "to"):
        record = await running.hub.instances.get(f"@counter@{key}")
        assert record is not None
        assert SchedulerState.from_text(record.input).locked_by is None  # released when the section ended


async def test_the_stored_rows_are_the_extensions(running: Running) -> None:
    entity = EntityId("Counter", "Stored")
    await running.client.signal_entity(entity, "add", 2)
    assert await state_of(running, entity, 2) == 2
    record = await running.hub.instances.get("@counter@Stored")
    assert record is not None
    assert record.name == "@counter@Stored"
    assert record.runtime_status.name == "Running"
    assert json.loads(record.custom_status or "{}") == {"entityExists": True}
    scheduler = json.loads(record.input or "{}")
    assert scheduler["exists"] is True and scheduler["state"] == "2"
    history = await running.hub.history.load("@counter@Stored")
    assert [type(e).__name__ for e in history.events] == [
        "OrchestratorStarted",
        "ExecutionStarted",
        "OrchestratorCompleted",
    ]


async def test_signals_to_the_same_entity_in_another_task_hub_do_not_hold_this_ones_back(
    running: Running, make_task_hub: TaskHubFactory
) -> None:
    """One process is one sender per task hub: a signal to `@counter@k` in another hub is not this hub's
    predecessor, else this hub's entity would wait the whole reorder window (30 min) for it."""
    entity = EntityId("Counter", "two-hubs")
    async with DurableOrchestrationClient(await make_task_hub()) as other:
        await other.signal_entity(entity, "add", 1)  # nobody runs that hub: it stays queued there
    await running.client.signal_entity(entity, "add", 2)
    assert await state_of(running, entity, 2) == 2
