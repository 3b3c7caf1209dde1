"""purge_instance_history(_by): rows and blobs are gone, counts are returned, active instances are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import InstanceRunningError
from durable_azure.status import OrchestrationRuntimeStatus
from tests.client.conftest import Running, wait_for_status

LARGE_TEXT = "x" * 100_000  # beyond the 45 KB column limit: offloaded to blobs


async def stored_rows(hub: TaskHub, instance_id: str) -> int:
    history = await hub.history.load(instance_id)
    return len(history.events) + (history.etag is not None)


async def blob_names(hub: TaskHub) -> list[str]:
    return [blob.name for blob in await hub.account.blobs.list_blobs(hub.names.large_messages_container)]


async def test_purging_a_finished_instance_removes_history_row_and_blobs(running: Running) -> None:
    instance_id = await running.client.start_new("large_input_length", "big", LARGE_TEXT)
    assert (await running.client.wait_for_completion(instance_id, 60)).output == len(LARGE_TEXT)
    assert await stored_rows(running.hub, instance_id) > 0
    assert any(name.startswith(f"{instance_id}/") for name in await blob_names(running.hub))
    result = await running.client.purge_instance_history(instance_id)
    assert result.instances_deleted == 1
    assert await running.client.get_status(instance_id) is None
    assert await stored_rows(running.hub, instance_id) == 0
    assert not [name for name in await blob_names(running.hub) if name.startswith(f"{instance_id}/")]


async def test_purging_a_running_instance_is_refused_and_deletes_nothing(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await wait_for_status(running.client, instance_id, OrchestrationRuntimeStatus.Running)
    rows = await stored_rows(running.hub, instance_id)
    with pytest.raises(InstanceRunningError, match=f"cannot purge instance '{instance_id}': it is Running"):
        await running.client.purge_instance_history(instance_id)
    assert await stored_rows(running.hub, instance_id) == rows
    await running.client.raise_event(instance_id, "Approval", "still alive")
    assert (await running.client.wait_for_completion(instance_id, 60)).output == {"approved": "still alive"}


async def test_purging_an_unknown_instance_deletes_nothing(client: DurableOrchestrationClient) -> None:
    assert (await client.purge_instance_history("nobody")).instances_deleted == 0


async def test_purge_by_deletes_only_finished_instances_matching_the_filter(running: Running) -> None:
    client = running.client
    done = [await client.start_new("hello", f"done-{n}", n) for n in range(3)]
    for instance_id in done:
        await client.wait_for_completion(instance_id, 60)
    failed = await client.start_new("failing_step", "failed-one")
    await client.wait_for_completion(failed, 60)
    waiting = await client.start_new("approval", "waiting")
    await wait_for_status(client, waiting, OrchestrationRuntimeStatus.Running)
    only_failed = await client.purge_instance_history_by(runtime_status=[OrchestrationRuntimeStatus.Failed])
    assert only_failed.instances_deleted == 1
    assert await client.get_status(failed) is None
    future = await client.purge_instance_history_by(created_time_from=datetime.now(UTC))
    assert future.instances_deleted == 0
    everything = await client.purge_instance_history_by(
        runtime_status=[OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Running]
    )
    assert everything.instances_deleted == 3
    assert [status.instance_id for status in await client.get_status_all()] == ["waiting"]
    assert await stored_rows(running.hub, "done-0") == 0
