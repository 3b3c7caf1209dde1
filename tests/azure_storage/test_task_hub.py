"""Task hub lifecycle: names on the service, idempotent and concurrent creation, complete deletion."""

from __future__ import annotations

import asyncio
import json

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConfigurationError
from tests.conftest import SdkClients


async def _resource_names(account: SdkClients, hub_lower: str) -> tuple[list[str], list[str], list[str]]:
    queues = sorted([q.name async for q in account.queue_service.list_queues(name_starts_with=hub_lower)])
    tables = sorted([t.name async for t in account.table_service.list_tables() if t.name.lower().startswith(hub_lower)])
    containers = sorted([c.name async for c in account.blob_service.list_containers(name_starts_with=hub_lower)])
    return queues, tables, containers


def test_invalid_settings_fail_before_any_io(storage_account: StorageAccount) -> None:
    with pytest.raises(ConfigurationError):
        TaskHub(storage_account, "bad-name")
    with pytest.raises(ConfigurationError):
        TaskHub(storage_account, "GoodName", partition_count=17)
    with pytest.raises(ConfigurationError):
        TaskHub(storage_account, "GoodName", partition_count=0)


async def test_create_twice_and_concurrently_then_delete_everything(
    storage_account: StorageAccount, sdk: SdkClients
) -> None:
    hub = TaskHub(storage_account, "LifeCycleHub", partition_count=3)
    assert not await hub.exists()
    await asyncio.gather(
        hub.create_if_not_exists(), TaskHub(storage_account, "LifeCycleHub", partition_count=3).create_if_not_exists()
    )
    await hub.create_if_not_exists()
    assert await hub.exists()
    queues, tables, containers = await _resource_names(sdk, "lifecyclehub")
    assert queues == [
        "lifecyclehub-control-00",
        "lifecyclehub-control-01",
        "lifecyclehub-control-02",
        "lifecyclehub-poison",
        "lifecyclehub-workitems",
    ]
    assert tables == ["LifeCycleHubHistory", "LifeCycleHubInstances"]
    assert containers == ["lifecyclehub-largemessages", "lifecyclehub-leases"]
    leases = sdk.blob_service.get_container_client("lifecyclehub-leases")
    blob_names = sorted([blob.name async for blob in leases.list_blobs()])
    assert blob_names == [f"default/lifecyclehub-control-0{n}" for n in range(3)] + ["taskhub.json"]
    info = json.loads(await (await leases.download_blob("taskhub.json")).readall())
    assert (info["TaskHubName"], info["PartitionCount"]) == ("LifeCycleHub", 3)

    await hub.delete()
    assert not await hub.exists()
    assert await _resource_names(sdk, "lifecyclehub") == ([], [], [])
    await hub.delete()  # nothing left: still fine


async def test_control_queue_for_uses_the_partition_hash(task_hub: TaskHub) -> None:
    # DTFx check values: FNV1a("foobar") = 3214735720, FNV1a("a") = 3826002220.
    assert task_hub.control_queue_for("foobar").name == task_hub.names.control_queue(3214735720 % 4)
    assert task_hub.control_queue_for("a").name == task_hub.names.control_queue(3826002220 % 4)
