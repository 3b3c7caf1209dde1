"""A running worker on a fresh task hub, and a client sharing its storage connections."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.settings import DurableTaskSettings
from durable_azure.worker import Worker
from durable_azure.worker.registry import Registry
from tests.worker import apps

# Short polling and leases keep the tests quick; everything else is the default.
TEST_SETTINGS = DurableTaskSettings(
    hub_name="unused",
    max_queue_polling_interval=timedelta(seconds=1),
    lease_interval=timedelta(seconds=15),
    lease_renew_interval=timedelta(seconds=5),
    lease_acquire_interval=timedelta(seconds=2),
)


@dataclass
class Running:
    hub: TaskHub
    worker: Worker
    client: DurableOrchestrationClient


@contextlib.asynccontextmanager
async def worker_and_client(task_hub: TaskHub, registry: Registry) -> AsyncIterator[Running]:
    """A started worker for `registry` and a client on the same hub; both stopped afterwards."""
    worker = Worker(task_hub, registry, TEST_SETTINGS)
    await worker.start()
    client = DurableOrchestrationClient(task_hub)
    try:
        yield Running(task_hub, worker, client)
    finally:
        await client.close()
        await worker.stop(timeout=5)


@pytest_asyncio.fixture
async def running(task_hub: TaskHub) -> AsyncIterator[Running]:
    async with worker_and_client(task_hub, apps.registry()) as running:
        yield running
