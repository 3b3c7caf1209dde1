"""Worker presence blobs: how balancing counts live workers, idle ones included."""

from __future__ import annotations

from durable_azure.azure_storage import TaskHub
from tests.conftest import SdkClients


async def test_announced_workers_are_live_until_they_withdraw(task_hub: TaskHub, sdk: SdkClients) -> None:
    first = await task_hub.presence.announce("host-a:1", 15)
    second = await task_hub.presence.announce("host-b:2", 15)
    assert await task_hub.presence.live_workers() == ["host-a:1", "host-b:2"]
    await task_hub.presence.renew("host-a:1", first)
    await task_hub.presence.withdraw("host-b:2", second)
    assert await task_hub.presence.live_workers() == ["host-a:1"]
    container = sdk.blob_service.get_container_client(task_hub.names.leases_container)
    names = {blob.name async for blob in container.list_blobs()}
    assert "workers/host-a:1" in names  # beside the partition leases
