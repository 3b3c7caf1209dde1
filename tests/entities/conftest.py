"""A running worker with the entity test app, and a client on the same task hub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from tests.entities import apps
from tests.worker.conftest import Running, worker_and_client


@pytest_asyncio.fixture
async def running(task_hub: TaskHub) -> AsyncIterator[Running]:
    async with worker_and_client(task_hub, apps.registry()) as running:
        yield running
