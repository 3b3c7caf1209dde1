"""Partition lease blobs: acquire, conflict, renew, release, steal, and the recorded JSON."""

from __future__ import annotations

import json

import pytest

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConfigurationError, LeaseLostError
from tests.conftest import SdkClients


async def test_list_shows_one_available_lease_per_control_queue(task_hub: TaskHub) -> None:
    leases = await task_hub.leases.list()
    assert sorted(lease.partition_id for lease in leases) == [queue.name for queue in task_hub.control_queues]
    assert all(not lease.is_leased and lease.owner is None and lease.epoch == 0 for lease in leases)


async def test_acquire_conflict_renew_release(
    task_hub: TaskHub, storage_account: StorageAccount, sdk: SdkClients
) -> None:
    partition = task_hub.control_queues[2].name
    lease = await task_hub.leases.acquire(partition, "worker-a", 15)
    assert lease is not None and (lease.owner, lease.epoch, lease.is_leased) == ("worker-a", 1, True)
    assert await task_hub.leases.acquire(partition, "worker-b", 15) is None
    assert await task_hub.leases.renew(lease) == lease
    blob = sdk.blob_service.get_blob_client(task_hub.names.leases_container, f"default/{partition}")
    document = json.loads(await (await blob.download_blob()).readall())
    assert document == {"PartitionId": partition, "Owner": "worker-a", "Token": lease.token, "Epoch": 1}
    listed = {item.partition_id: item for item in await task_hub.leases.list()}
    assert listed[partition] == lease

    await task_hub.leases.release(lease)
    released = {item.partition_id: item for item in await task_hub.leases.list()}[partition]
    assert (released.owner, released.token, released.is_leased, released.epoch) == (None, None, False, 1)
    with pytest.raises(LeaseLostError):
        await task_hub.leases.renew(lease)
    await task_hub.leases.release(lease)  # already released: no error

    taken = await task_hub.leases.acquire(partition, "worker-b", 60)
    assert taken is not None and (taken.owner, taken.epoch) == ("worker-b", 2)


async def test_steal_takes_a_live_lease_and_the_victim_loses_it(task_hub: TaskHub) -> None:
    partition = task_hub.control_queues[0].name
    victim = await task_hub.leases.acquire(partition, "worker-a", 60)
    assert victim is not None
    thief = await task_hub.leases.steal(partition, "worker-b", 60)
    assert thief is not None and (thief.owner, thief.epoch) == ("worker-b", 2) and thief.token != victim.token
    with pytest.raises(LeaseLostError):
        await task_hub.leases.renew(victim)
    await task_hub.leases.release(victim)  # lost: logged, nothing changes
    assert {item.partition_id: item for item in await task_hub.leases.list()}[partition].owner == "worker-b"
    assert await task_hub.leases.renew(thief) == thief


async def test_steal_of_a_free_lease_just_acquires_it(task_hub: TaskHub) -> None:
    lease = await task_hub.leases.steal(task_hub.control_queues[1].name, "worker-c", 30)
    assert lease is not None and lease.owner == "worker-c" and lease.epoch == 1


async def test_lease_duration_is_validated(task_hub: TaskHub) -> None:
    with pytest.raises(ConfigurationError):
        await task_hub.leases.acquire(task_hub.control_queues[0].name, "w", 10)
