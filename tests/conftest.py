"""Shared fixtures: one Azurite per test session, and a fresh task hub per test.

Azurite runs in disk mode on tmpfs when there is one (as fast as in-memory mode,
without its garbage-collection freezes, azurite-probe G1), on free loopback
ports (never the shared defaults 10000-10002). Every task hub a test creates is
deleted afterwards, because queue receives slow down with every message left
anywhere in the account (probe G2).

Async fixtures use the default (function) event-loop scope, so they share the
loop of the test that requests them.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azurite import Azurite

TaskHubFactory = Callable[..., Awaitable[TaskHub]]


def unique_hub_name(prefix: str = "Test") -> str:
    """A valid, never-reused task hub name (letters and digits, <= 45 characters)."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """The session's Azurite; stopped (and its data removed) at the end, even after failures."""
    shared_memory = Path("/dev/shm")
    parent = shared_memory if shared_memory.is_dir() else tmp_path_factory.mktemp("azurite")
    location = Path(tempfile.mkdtemp(prefix="durable-azure-azurite-", dir=parent))
    server = Azurite(location)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="session")
def connection_string(azurite: Azurite) -> str:
    return azurite.connection_string


@pytest_asyncio.fixture
async def storage_account(connection_string: str) -> AsyncIterator[StorageAccount]:
    async with StorageAccount.from_connection_string(connection_string) as account:
        yield account


@pytest_asyncio.fixture
async def make_task_hub(storage_account: StorageAccount) -> AsyncIterator[TaskHubFactory]:
    """`await make_task_hub(partition_count=2)`: a created hub with a unique name, deleted after the test."""
    hubs: list[TaskHub] = []

    async def create(*, partition_count: int = 4, hub_name: str | None = None) -> TaskHub:
        hub = TaskHub(storage_account, hub_name or unique_hub_name(), partition_count=partition_count)
        hubs.append(hub)
        await hub.create_if_not_exists()
        return hub

    yield create
    for hub in hubs:
        await hub.delete()


@pytest_asyncio.fixture
async def task_hub(make_task_hub: TaskHubFactory) -> TaskHub:
    """A created task hub with 4 partitions and a unique name; deleted after the test."""
    return await make_task_hub()


class SdkClients:
    """The official Azure SDK clients on the test account: an independent look at what we wrote."""

    def __init__(self, connection_string: str) -> None:
        from azure.data.tables.aio import TableServiceClient
        from azure.storage.blob.aio import BlobServiceClient
        from azure.storage.queue.aio import QueueServiceClient

        self.queue_service = QueueServiceClient.from_connection_string(connection_string)
        self.table_service = TableServiceClient.from_connection_string(connection_string)
        self.blob_service = BlobServiceClient.from_connection_string(connection_string)

    async def close(self) -> None:
        await self.queue_service.close()
        await self.table_service.close()
        await self.blob_service.close()


@pytest_asyncio.fixture
async def sdk(connection_string: str) -> AsyncIterator[SdkClients]:
    """SDK clients for inspecting storage in assertions (never used by the code under test)."""
    clients = SdkClients(connection_string)
    yield clients
    await clients.close()
