"""What each instance request does to a finished or unknown instance, decided from the official client.

azure.durable_functions reads the extension's answers so: terminate, suspend and resume take 410 (finished)
as success and 404 as an error; raise_event raises for both; rewind raises for both (410: "only supported on
failed orchestration instances"). `get_status` returns None for an unknown id (this project's contract).
The host's own clients, which answer the management API, keep the extension's 410 (`refuse_finished`).
"""

from __future__ import annotations

import pytest

from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import InstanceCompletedError, InstanceNotFailedError, InstanceNotFoundError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import Running, queues_are_empty

Completed = OrchestrationRuntimeStatus.Completed


async def _finished_instance(running: Running) -> str:
    instance_id = await running.client.start_new("hello", client_input="x")
    assert (await running.client.wait_for_completion(instance_id, 60)).runtime_status == Completed
    return instance_id


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
async def test_terminate_suspend_resume_leave_a_finished_instance_as_it_is(running: Running, operation: str) -> None:
    instance_id = await _finished_instance(running)
    before = await running.client.get_status(instance_id, show_history=True)
    await getattr(running.client, operation)(instance_id, "too late")
    after = await running.client.get_status(instance_id, show_history=True)
    assert after == before
    assert after.runtime_status == Completed and after.output == "Hello x!"
    assert await queues_are_empty(running.hub)  # nothing was sent


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume", "rewind"])
async def test_an_unknown_instance_is_an_error(client: DurableOrchestrationClient, operation: str) -> None:
    with pytest.raises(InstanceNotFoundError, match="nobody") as caught:
        await getattr(client, operation)("nobody", "why")
    assert caught.value.instance_id == "nobody"
    assert await client.get_status("nobody") is None


async def test_raise_event_refuses_a_finished_or_unknown_instance(running: Running) -> None:
    instance_id = await _finished_instance(running)
    with pytest.raises(InstanceCompletedError, match="it is Completed"):
        await running.client.raise_event(instance_id, "Approval", 1)
    with pytest.raises(InstanceNotFoundError, match="nobody"):
        await running.client.raise_event("nobody", "Approval", 1)
    assert await queues_are_empty(running.hub)


async def test_rewind_refuses_an_instance_that_did_not_fail(running: Running) -> None:
    instance_id = await _finished_instance(running)
    with pytest.raises(InstanceNotFailedError, match="not Failed"):
        await running.client.rewind(instance_id, "again")
    assert (await running.client.get_status(instance_id)).runtime_status == Completed


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
async def test_a_client_that_refuses_finished_instances_raises_as_the_extension_answers_410(
    running: Running, operation: str
) -> None:
    instance_id = await _finished_instance(running)
    strict = DurableOrchestrationClient(running.hub, refuse_finished=True)
    with pytest.raises(InstanceCompletedError, match=f"cannot {operation} instance '{instance_id}'") as caught:
        await getattr(strict, operation)(instance_id, "too late")
    assert caught.value.instance_id == instance_id
    await getattr(strict.with_management(None), operation)(instance_id, "too late")  # a function's view: the SDK's way
