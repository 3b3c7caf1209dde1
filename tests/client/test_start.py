"""start_new: ids, input checks, refusals before any write, replacing finished instances, unknown names."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import InstanceAlreadyExistsError, StorageError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import Running, wait_for_status

Pending = OrchestrationRuntimeStatus.Pending


async def test_without_an_id_a_random_32_hex_id_is_generated(client: DurableOrchestrationClient) -> None:
    first = await client.start_new("hello", client_input="Ana")
    second = await client.start_new("hello")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second
    status = await client.get_status(first, show_input=True)
    assert status.runtime_status == Pending
    assert status.name == "hello"
    assert status.input_ == "Ana"


async def test_input_that_is_not_json_raises_type_error_and_writes_nothing(client: DurableOrchestrationClient) -> None:
    with pytest.raises(TypeError, match=r"input of orchestration 'hello' is not JSON-serializable.*datetime"):
        await client.start_new("hello", "bad-input", {"when": datetime.now()})
    assert await client.get_status("bad-input") is None
    assert await client.get_status_all() == []


@pytest.mark.parametrize(
    "instance_id",
    ["", "x" * 257, "@entity", "a/b", "a\\b", "a#b", "a?b", "line\nbreak", "tab\there", "nul\x00", "c1\x85"],
)
async def test_ids_the_original_rejects_raise_value_error_and_write_nothing(
    client: DurableOrchestrationClient, instance_id: str
) -> None:
    with pytest.raises(ValueError, match="instance_id"):
        await client.start_new("hello", instance_id)
    assert await client.get_status_all() == []


async def test_an_id_of_256_characters_is_accepted(client: DurableOrchestrationClient) -> None:
    instance_id = "x" * 256
    assert await client.start_new("hello", instance_id) == instance_id
    assert (await client.get_status(instance_id)).instance_id == instance_id


async def test_starting_a_pending_id_again_names_the_instance_and_its_status(
    client: DurableOrchestrationClient,
) -> None:
    await client.start_new("hello", "singleton", "first")
    with pytest.raises(InstanceAlreadyExistsError, match="'singleton' already exists and is Pending"):
        await client.start_new("hello", "singleton", "second")
    assert (await client.get_status("singleton", show_input=True)).input_ == "first"


async def test_starting_a_running_id_again_is_refused(running: Running) -> None:
    await running.client.start_new("approval", "running-one")
    await wait_for_status(running.client, "running-one", OrchestrationRuntimeStatus.Running)
    with pytest.raises(InstanceAlreadyExistsError, match="'running-one' already exists and is Running") as caught:
        await running.client.start_new("hello", "running-one")
    assert caught.value.instance_id == "running-one"
    assert (await running.client.get_status("running-one")).name == "approval"


async def test_starting_a_finished_id_replaces_it(running: Running) -> None:
    await running.client.start_new("hello", "singleton", "first")
    first = await running.client.wait_for_completion("singleton", 60)
    assert first.output == "Hello first!"
    await running.client.start_new("hello_activity", "singleton", "second")
    second = await running.client.wait_for_completion("singleton", 60)
    assert second.runtime_status == OrchestrationRuntimeStatus.Completed
    assert second.name == "hello_activity"
    assert second.output == "Hello second!"
    assert second.created_time > first.created_time
    history = (await running.client.get_status("singleton", show_history=True)).history
    assert [entry["EventType"] for entry in history] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]


async def test_an_unregistered_orchestrator_is_pending_without_a_worker(client: DurableOrchestrationClient) -> None:
    instance_id = await client.start_new("no_such_orchestrator")
    assert (await client.get_status(instance_id)).runtime_status == Pending


async def test_an_unregistered_orchestrator_fails_clearly_once_a_worker_picks_it_up(running: Running) -> None:
    instance_id = await running.client.start_new("no_such_orchestrator")
    status = await running.client.wait_for_completion(instance_id, 60)
    assert status.runtime_status == OrchestrationRuntimeStatus.Failed
    assert "No orchestrator named 'no_such_orchestrator' is registered" in str(status.output)


async def test_a_storage_fault_while_starting_leaves_no_instance(task_hub: TaskHub) -> None:
    async with DurableOrchestrationClient(task_hub) as client:
        await client.start_new("hello", "warm-up")  # the hub exists now; the client will not create it again
        await task_hub.control_queue_for("victim").delete_queue()
        with pytest.raises(StorageError):
            await client.start_new("hello", "victim", "lost")
        assert await client.get_status("victim") is None


async def test_a_storage_fault_while_replacing_keeps_the_finished_instance(running: Running) -> None:
    await running.client.start_new("hello", "kept", "original")
    await running.client.wait_for_completion("kept", 60)
    await running.hub.control_queue_for("kept").delete_queue()
    with pytest.raises(StorageError):
        await running.client.start_new("hello", "kept", "replacement")
    status = await running.client.get_status("kept", show_input=True)
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.input_ == "original"
    assert status.output == "Hello original!"
