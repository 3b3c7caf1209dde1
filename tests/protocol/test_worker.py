"""Unmodified orchestrators on a real worker and Azurite: every client operation works on them.

Instances are started with their input as the official client stores it (JSON
text encoded once more), since an unmodified app starts them through the
official client; events are raised both ways.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.entities import EntityId
from durable_azure.status import OrchestrationRuntimeStatus
from tests.protocol import apps
from tests.worker.conftest import Running, worker_and_client


@pytest_asyncio.fixture
async def running(task_hub: TaskHub) -> AsyncIterator[Running]:
    async with worker_and_client(task_hub, apps.registry()) as running:
        yield running


def as_official_client_sends(value: object) -> str:
    """Passed as the input, our client stores this string's JSON: what the official client's RPC call stores."""
    return json.dumps(value)


async def test_chaining_completes_with_every_activity_result(running: Running) -> None:
    instance_id = await running.client.start_new("chaining", None, as_official_client_sends(["Tokyo", "London"]))
    status = await running.client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == ["Hello Tokyo", "Hello London"]


async def test_a_sub_orchestration_and_a_fan_out_complete_with_custom_status(running: Running) -> None:
    instance_id = await running.client.start_new("fan_out_fan_in")
    status = await running.client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed, status.output
    assert status.output == ["Hello Hello Tokyo", "Hello Hello Seattle"]
    assert status.custom_status == {"greeted": 2}


async def test_an_event_raised_before_the_timeout_wins(running: Running) -> None:
    instance_id = await running.client.start_new("approval", None, as_official_client_sends(60))
    await asyncio.sleep(1)
    await running.client.raise_event(instance_id, "Approval", True)
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == {"approved": True}


async def test_the_timeout_wins_when_no_event_comes(running: Running) -> None:
    instance_id = await running.client.start_new("approval", None, as_official_client_sends(1))
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == {"approved": None}


async def test_continue_as_new_runs_each_generation(running: Running) -> None:
    instance_id = await running.client.start_new("looping", None, as_official_client_sends(0))
    status = await running.client.wait_for_completion(instance_id, timeout=60)
    assert status.output == "looped to 3"


async def test_suspend_resume_and_terminate(running: Running) -> None:
    instance_id = await running.client.start_new("approval", None, as_official_client_sends(600))
    await asyncio.sleep(1)
    await running.client.suspend(instance_id, "hold on")
    await _wait_status(running, instance_id, OrchestrationRuntimeStatus.Suspended)
    await running.client.raise_event(instance_id, "Approval", "later")
    await asyncio.sleep(1)
    assert (await running.client.get_status(instance_id)).runtime_status == OrchestrationRuntimeStatus.Suspended
    await running.client.resume(instance_id, "go on")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == {"approved": "later"}
    other = await running.client.start_new("approval", None, as_official_client_sends(600))
    await asyncio.sleep(1)
    await running.client.terminate(other, "no longer needed")
    terminated = await running.client.wait_for_completion(other, timeout=30)
    assert terminated.runtime_status == OrchestrationRuntimeStatus.Terminated


async def test_a_failed_instance_rewinds_and_completes_then_purges(running: Running) -> None:
    instance_id = await running.client.start_new("rewindable", None, as_official_client_sends("rewind-key"))
    failed = await running.client.wait_for_completion(instance_id, timeout=30)
    assert failed.runtime_status == OrchestrationRuntimeStatus.Failed
    assert "first call for rewind-key fails" in json.dumps(failed.output)
    await running.client.rewind(instance_id, "try again")
    status = await _wait_status(running, instance_id, OrchestrationRuntimeStatus.Completed)
    assert status.output == "rewind-key worked on call 2"
    result = await running.client.purge_instance_history(instance_id)
    assert result.instances_deleted == 1
    assert await running.client.get_status(instance_id) is None


async def _wait_status(running: Running, instance_id: str, wanted: OrchestrationRuntimeStatus) -> object:
    for _ in range(300):
        status = await running.client.get_status(instance_id)
        if status is not None and status.runtime_status == wanted:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{instance_id} never became {wanted}")


async def test_an_unmodified_entity_takes_signals_and_calls_from_orchestrations_and_clients(running: Running) -> None:
    entity = EntityId("counter", "shared")
    await running.client.signal_entity(entity, "add", 5)
    instance_id = await running.client.start_new("counting_up", None, as_official_client_sends("shared"))
    status = await running.client.wait_for_completion(instance_id, timeout=60)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == 7  # the client's signal came first: the orchestration's own signal then its call
    state = await running.client.read_entity_state(entity)
    assert state.entity_exists and state.entity_state == 7


async def test_an_activity_retried_after_a_failure_succeeds_on_its_second_attempt(running: Running) -> None:
    instance_id = await running.client.start_new("retrying", None, as_official_client_sends("retry-key"))
    status = await running.client.wait_for_completion(instance_id, timeout=60)
    assert status.output == "retry-key worked on call 2"
    history = await running.client.get_status(instance_id, show_history=True)
    assert history is not None and history.history is not None
    kinds = [event["EventType"] for event in history.history]
    assert kinds == [
        "ExecutionStarted",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
