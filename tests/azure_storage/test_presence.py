"""Worker presence blobs: how balancing counts live workers, idle ones included."""

from __future__ import annotations

from azure.storage.blob import BlobServiceClient

from durable_azure.azure_storage import TaskHub


async def test_announced_workers_are_live_until_they_withdraw(task_hub: TaskHub, connection_string: str) -> None:
    first = await task_hub.presence.announce("host-a:1", 15)
    second = await task_hub.presence.announce("host-b:2", 15)
    assert await task_hub.presence.live_workers() == ["host-a:1", "host-b:2"]
    await task_hub.presence.renew("host-a:1", first)
    await task_hub.presence.withdraw("host-b:2", second)
    assert await task_hub.presence.live_workers() == ["host-a:1"]
    container = BlobServiceClient.from_connection_string(connection_string).get_container_client(
        task_hub.names.leases_container
    )
    assert "workers/host-a:1" in {blob.name for blob in container.list_blobs()}  # beside the partition leases
