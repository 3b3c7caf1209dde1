"""A running worker with the entity test app, and a client on the same task hub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.worker import Worker
from tests.entities import apps
from tests.worker.conftest import TEST_SETTINGS, Running


@pytest_asyncio.fixture
async def running(task_hub: TaskHub) -> AsyncIterator[Running]:
    worker = Worker(task_hub, apps.registry(), TEST_SETTINGS)
    await worker.start()
    client = DurableOrchestrationClient(task_hub)
    try:
        yield Running(task_hub, worker, client)
    finally:
        await client.close()
        await worker.stop(timeout=5)
