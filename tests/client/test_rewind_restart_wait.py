"""rewind (a Failed instance retries its failed work and goes on), restart, and wait_for_completion."""

from __future__ import annotations

import pytest

from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFailedError,
    InstanceNotFoundError,
    WaitTimeoutError,
)
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client import apps
from tests.client.conftest import Running, wait_for_status

Completed = OrchestrationRuntimeStatus.Completed
Failed = OrchestrationRuntimeStatus.Failed


async def test_a_rewound_instance_retries_the_failed_activity_and_completes(running: Running) -> None:
    instance_id = await running.client.start_new("failing_step")
    assert (await running.client.wait_for_completion(instance_id, 60)).runtime_status == Failed
    apps.allowed.add(instance_id)
    await running.client.rewind(instance_id, "fixed the bug")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Completed
    assert status.output == ["Hello before!", f"{instance_id} allowed after 2 calls"]
    history = (await running.client.get_status(instance_id, show_history=True)).history
    assert history[2] == {
        "EventType": "GenericEvent",
        "Timestamp": history[2]["Timestamp"],
        "Data": "Rewound: fixed the bug",
    }
    assert [entry["FunctionName"] for entry in history if entry["EventType"] == "TaskCompleted"] == [
        "say_hello",
        "fail_unless_allowed",
    ]


async def test_rewinding_a_parent_rewinds_its_failed_sub_orchestration(running: Running) -> None:
    instance_id = await running.client.start_new("parent_of_failing")
    assert (await running.client.wait_for_completion(instance_id, 60)).runtime_status == Failed
    child_id = f"{instance_id}-child"
    assert (await running.client.get_status(child_id)).runtime_status == Failed
    apps.allowed.add(child_id)
    await running.client.rewind(instance_id, "retry the child")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == Completed
    assert status.output == {"child": ["Hello before!", f"{child_id} allowed after 2 calls"]}
    assert (await running.client.get_status(child_id)).runtime_status == Completed


async def test_only_a_failed_instance_can_be_rewound(running: Running) -> None:
    instance_id = await running.client.start_new("hello", client_input="x")
    await running.client.wait_for_completion(instance_id, 60)
    with pytest.raises(InstanceNotFailedError, match="it is Completed, not Failed"):
        await running.client.rewind(instance_id, "why")
    with pytest.raises(InstanceNotFoundError):
        await running.client.rewind("nobody", "why")


async def test_restart_starts_a_new_instance_with_the_same_input(running: Running) -> None:
    first = await running.client.start_new("hello_activity", client_input="Ana")
    await running.client.wait_for_completion(first, 60)
    second = await running.client.restart(first)
    assert second != first
    await running.client.wait_for_completion(second, 60)
    status = await running.client.get_status(second, show_input=True)
    assert (status.name, status.input_, status.output) == ("hello_activity", "Ana", "Hello Ana!")


async def test_restart_under_the_same_id_needs_a_finished_instance(running: Running) -> None:
    await running.client.start_new("approval", "again", {"round": 1})
    await wait_for_status(running.client, "again", OrchestrationRuntimeStatus.Running)
    with pytest.raises(InstanceAlreadyExistsError, match="is Running"):
        await running.client.restart("again", restart_with_new_instance_id=False)
    await running.client.terminate("again", "restart it")
    await running.client.wait_for_completion("again", 60)
    assert await running.client.restart("again", restart_with_new_instance_id=False) == "again"
    await wait_for_status(running.client, "again", OrchestrationRuntimeStatus.Running)
    assert (await running.client.get_status("again", show_input=True)).input_ == {"round": 1}


async def test_restarting_an_unknown_instance_raises_not_found(client: DurableOrchestrationClient) -> None:
    with pytest.raises(InstanceNotFoundError):
        await client.restart("nobody")


async def test_wait_for_completion_raises_on_timeout_and_for_unknown_ids(client: DurableOrchestrationClient) -> None:
    instance_id = await client.start_new("hello")  # no worker: it stays Pending
    with pytest.raises(WaitTimeoutError, match="still Pending"):
        await client.wait_for_completion(instance_id, 0.2)
    with pytest.raises(InstanceNotFoundError):
        await client.wait_for_completion("nobody", 1)
