"""One sender of `add 1` signals to one counter entity, run as its own process by the entity kill test.

`python -m tests.fault.entity_sender HUB KEY COUNT PAUSE`: `AzureWebJobsStorage` names the account. Each
process is one sender to the entity's message sorter (the client stamps its signals per process), so four
of these are four senders whose signals the entity must apply once each, in each sender's order.
"""

from __future__ import annotations

import asyncio
import os
import sys

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.entities import EntityId


async def send(hub_name: str, key: str, count: int, pause: float) -> None:
    account = StorageAccount.from_connection_string(os.environ["AzureWebJobsStorage"])  # noqa: SIM112 (the Functions name)
    try:
        async with DurableOrchestrationClient(TaskHub(account, hub_name, partition_count=4)) as client:
            for _ in range(count):
                await client.signal_entity(EntityId("counter", key), "add", 1)
                await asyncio.sleep(pause)
    finally:
        await account.close()


if __name__ == "__main__":
    hub_name, key, count, pause = sys.argv[1:5]
    asyncio.run(send(hub_name, key, int(count), float(pause)))
